package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vaxport/vaxport/internal/vax"
)

func testMeta(t *testing.T, open Opener) {
	s := newStore(t, open)
	for _, run := range []struct {
		name string
		fn   func(context.Context, func(vax.Tx) error) error
	}{{"InTx", s.InTx}, {"View", s.View}} {
		err := run.fn(t.Context(), func(tx vax.Tx) error {
			_, err := tx.Meta(t.Context(), "absent")
			return err
		})
		wantCode(t, "Meta(absent) in "+run.name, err, vax.NotFound)
	}
	inTx(t, s, func(tx vax.Tx) error { return tx.SetMeta(t.Context(), "keyring", "fp1") })
	view(t, s, func(tx vax.Tx) error {
		got, err := tx.Meta(t.Context(), "keyring")
		if err == nil && got != "fp1" {
			t.Errorf("Meta(keyring) = %q, want fp1", got)
		}
		return err
	})
}

func testSetMeta(t *testing.T, open Opener) {
	s := newStore(t, open)
	for _, v := range []string{"first", "second", "", "ഒന്ന് 🙂"} {
		inTx(t, s, func(tx vax.Tx) error { return tx.SetMeta(t.Context(), "k", v) })
		view(t, s, func(tx vax.Tx) error {
			got, err := tx.Meta(t.Context(), "k")
			if err == nil && got != v {
				t.Errorf("Meta(k) after SetMeta(k, %q) = %q", v, got)
			}
			return err
		})
	}
	// Within one transaction the write is visible at once.
	inTx(t, s, func(tx vax.Tx) error {
		if err := tx.SetMeta(t.Context(), "other", "x"); err != nil {
			return err
		}
		got, err := tx.Meta(t.Context(), "other")
		if err == nil && got != "x" {
			t.Errorf("Meta(other) in the writing transaction = %q, want x", got)
		}
		return err
	})
}

func states(t *testing.T, s vax.Store) []vax.State {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.State, error) { return tx.States(t.Context()) })
}

func testPutState(t *testing.T, open Opener) {
	s := newStore(t, open)
	inTx(t, s, func(tx vax.Tx) error { return tx.PutState(t.Context(), kerala) })
	if diff := cmp.Diff([]vax.State{kerala}, states(t, s)); diff != "" {
		t.Errorf("after insert (-want +got):\n%s", diff)
	}
	renamed := vax.State{ID: kerala.ID, Name: "Keralam", LocalNames: map[string]string{"ml": "കേരളം", "hi": "केरल"}}
	inTx(t, s, func(tx vax.Tx) error { return tx.PutState(t.Context(), renamed) })
	if diff := cmp.Diff([]vax.State{renamed}, states(t, s)); diff != "" {
		t.Errorf("after replace (-want +got):\n%s", diff)
	}
	// Empty local names come back as nil.
	bare := vax.State{ID: kerala.ID, Name: "Kerala", LocalNames: map[string]string{}}
	inTx(t, s, func(tx vax.Tx) error { return tx.PutState(t.Context(), bare) })
	if diff := cmp.Diff([]vax.State{{ID: kerala.ID, Name: "Kerala"}}, states(t, s)); diff != "" {
		t.Errorf("after replace with empty local names (-want +got):\n%s", diff)
	}
	// Replacing a state keeps the districts that refer to it.
	inTx(t, s, func(tx vax.Tx) error { return tx.PutDistrict(t.Context(), ernakulam) })
	inTx(t, s, func(tx vax.Tx) error { return tx.PutState(t.Context(), kerala) })
	view(t, s, func(tx vax.Tx) error {
		got, err := tx.District(t.Context(), ernakulam.ID)
		if err == nil {
			if diff := cmp.Diff(ernakulam, got); diff != "" {
				t.Errorf("district after its state was replaced (-want +got):\n%s", diff)
			}
		}
		return err
	})
}

func testStates(t *testing.T, open Opener) {
	s := newStore(t, open)
	if got := states(t, s); len(got) != 0 {
		t.Errorf("States of a new store = %v, want none", got)
	}
	andaman := vax.State{ID: 1, Name: "Andaman and Nicobar Islands"}
	inTx(t, s, func(tx vax.Tx) error {
		for _, st := range []vax.State{kerala, andaman, delhi} {
			if err := tx.PutState(t.Context(), st); err != nil {
				return err
			}
		}
		return nil
	})
	if diff := cmp.Diff([]vax.State{andaman, delhi, kerala}, states(t, s)); diff != "" {
		t.Errorf("States, by id (-want +got):\n%s", diff)
	}
}

func district(t *testing.T, s vax.Store, id int) (vax.District, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.District, error) { return tx.District(t.Context(), id) })
}

func testPutDistrict(t *testing.T, open Opener) {
	s := seeded(t, open)
	alappuzha := vax.District{ID: 301, StateID: kerala.ID, Name: "Alappuzha", LocalNames: map[string]string{"ml": "ആലപ്പുഴ"}}
	inTx(t, s, func(tx vax.Tx) error { return tx.PutDistrict(t.Context(), alappuzha) })
	got, err := district(t, s, alappuzha.ID)
	if err != nil {
		t.Fatalf("District(%d): %v", alappuzha.ID, err)
	}
	if diff := cmp.Diff(alappuzha, got); diff != "" {
		t.Errorf("after insert (-want +got):\n%s", diff)
	}

	// Replace, with a centre referring to the district.
	createCentres(t, s, centre(0, ernakulam, 682001))
	renamed := vax.District{ID: ernakulam.ID, StateID: kerala.ID, Name: "Ernakulam (Kochi)", LocalNames: map[string]string{}}
	inTx(t, s, func(tx vax.Tx) error { return tx.PutDistrict(t.Context(), renamed) })
	got, err = district(t, s, ernakulam.ID)
	if err != nil {
		t.Fatalf("District(%d): %v", ernakulam.ID, err)
	}
	renamed.LocalNames = nil // empty comes back as nil
	if diff := cmp.Diff(renamed, got); diff != "" {
		t.Errorf("after replace (-want +got):\n%s", diff)
	}

	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		return tx.PutDistrict(ctx, vax.District{ID: 999, StateID: 99, Name: "Nowhere"})
	})
	wantCode(t, "PutDistrict with an unknown state", err, vax.NotFound)
	if _, err := district(t, s, 999); !errors.Is(err, vax.ErrNotFound) {
		t.Errorf("District(999) after a refused put: got %v, want NotFound", err)
	}
}

func testDistrict(t *testing.T, open Opener) {
	s := seeded(t, open)
	for _, want := range []vax.District{ernakulam, thrissur, newDelhi} {
		got, err := district(t, s, want.ID)
		if err != nil {
			t.Errorf("District(%d): %v", want.ID, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("District(%d) (-want +got):\n%s", want.ID, diff)
		}
	}
	_, err := district(t, s, 12345)
	wantCode(t, "District(12345)", err, vax.NotFound)
}

func testDistricts(t *testing.T, open Opener) {
	s := seeded(t, open)
	tests := []struct {
		state int
		want  []vax.District
	}{
		{kerala.ID, []vax.District{thrissur, ernakulam}},
		{delhi.ID, []vax.District{newDelhi}},
		{99, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.state), func(t *testing.T) {
			view(t, s, func(tx vax.Tx) error {
				got, err := tx.Districts(t.Context(), tt.state)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(tt.want, got, cmpEmpty); diff != "" {
					t.Errorf("Districts(%d), by id (-want +got):\n%s", tt.state, diff)
				}
				return nil
			})
		})
	}
}

func vaccines(t *testing.T, s vax.Store) []vax.Vaccine {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.Vaccine, error) { return tx.Vaccines(t.Context()) })
}

func testPutVaccine(t *testing.T, open Opener) {
	s := newStore(t, open)
	inTx(t, s, func(tx vax.Tx) error { return tx.PutVaccine(t.Context(), covishield) })
	if diff := cmp.Diff([]vax.Vaccine{covishield}, vaccines(t, s)); diff != "" {
		t.Errorf("after insert (-want +got):\n%s", diff)
	}
	changed := covishield
	changed.IntervalDays = 112
	changed.DCCProduct = "EU/1/21/1529"
	inTx(t, s, func(tx vax.Tx) error { return tx.PutVaccine(t.Context(), changed) })
	if diff := cmp.Diff([]vax.Vaccine{changed}, vaccines(t, s)); diff != "" {
		t.Errorf("after replace (-want +got):\n%s", diff)
	}
}

func testVaccines(t *testing.T, open Opener) {
	s := newStore(t, open)
	if got := vaccines(t, s); len(got) != 0 {
		t.Errorf("Vaccines of a new store = %v, want none", got)
	}
	sputnik := vax.Vaccine{Name: "SPUTNIK V", Doses: 2, IntervalDays: 21}
	inTx(t, s, func(tx vax.Tx) error {
		for _, v := range []vax.Vaccine{sputnik, covishield, covaxin} {
			if err := tx.PutVaccine(t.Context(), v); err != nil {
				return err
			}
		}
		return nil
	})
	if diff := cmp.Diff([]vax.Vaccine{covaxin, covishield, sputnik}, vaccines(t, s)); diff != "" {
		t.Errorf("Vaccines, by name (-want +got):\n%s", diff)
	}
}

func getCentre(t *testing.T, s vax.Store, id int64) (vax.Centre, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.Centre, error) { return tx.Centre(t.Context(), id) })
}

func testCreateCentre(t *testing.T, open Opener) {
	t.Run("round trip", func(t *testing.T) {
		s := seeded(t, open)
		free := centre(0, ernakulam, 682001)
		paid := paidCentre(0, newDelhi, 110001)
		emptyFees := centre(0, thrissur, 680001)
		emptyFees.Fees = []vax.Fee{}
		ids := createCentres(t, s, free, paid, emptyFees)
		free.ID, paid.ID, emptyFees.ID = ids[0], ids[1], ids[2]
		emptyFees.Fees = nil // empty comes back as nil
		for _, want := range []vax.Centre{free, paid, emptyFees} {
			got, err := getCentre(t, s, want.ID)
			if err != nil {
				t.Errorf("Centre(%d): %v", want.ID, err)
				continue
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Centre(%d) (-want +got):\n%s", want.ID, diff)
			}
		}
	})

	t.Run("ids", func(t *testing.T) {
		s := seeded(t, open)
		auto := createCentres(t, s, centre(0, ernakulam, 682001), centre(0, ernakulam, 682002))
		if auto[0] <= 0 || auto[1] <= 0 || auto[0] == auto[1] {
			t.Errorf("assigned ids %v: want distinct positive ids", auto)
		}
		explicit := max(auto[0], auto[1]) + 100
		got := createCentres(t, s, centre(explicit, ernakulam, 682003))
		if got[0] != explicit {
			t.Errorf("CreateCentre with id %d returned %d", explicit, got[0])
		}
		later := createCentres(t, s, centre(0, ernakulam, 682004))
		if later[0] <= explicit {
			t.Errorf("id assigned after explicit id %d = %d, want above it", explicit, later[0])
		}
		for _, taken := range []int64{auto[0], explicit} {
			err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
				_, err := tx.CreateCentre(ctx, centre(taken, thrissur, 680001))
				return err
			})
			wantCode(t, fmt.Sprintf("CreateCentre with taken id %d", taken), err, vax.Conflict)
			c, err := getCentre(t, s, taken)
			if err != nil {
				t.Fatalf("Centre(%d): %v", taken, err)
			}
			if c.DistrictID != ernakulam.ID {
				t.Errorf("centre %d overwritten by a refused create: district %d", taken, c.DistrictID)
			}
		}
	})

	t.Run("references", func(t *testing.T) {
		s := seeded(t, open)
		unknown := centre(0, ernakulam, 682001)
		unknown.DistrictID = 999
		wrongState := centre(0, ernakulam, 682001)
		wrongState.StateID = delhi.ID
		unknownState := centre(0, ernakulam, 682001)
		unknownState.StateID = 99
		tests := []struct {
			name string
			c    vax.Centre
			want vax.Code
		}{
			{"unknown district", unknown, vax.NotFound},
			{"district of another state", wrongState, vax.Invalid},
			{"unknown state", unknownState, vax.Invalid},
		}
		for _, tt := range tests {
			err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
				_, err := tx.CreateCentre(ctx, tt.c)
				return err
			})
			wantCode(t, "CreateCentre with "+tt.name, err, tt.want)
		}
		view(t, s, func(tx vax.Tx) error {
			cs, err := tx.Centres(t.Context(), vax.CentreQuery{})
			if err == nil && len(cs) != 0 {
				t.Errorf("centres after refused creates = %v, want none", cs)
			}
			return err
		})
	})
}

func testUpdateCentre(t *testing.T, open Opener) {
	s := seeded(t, open)
	ids := createCentres(t, s, centre(0, ernakulam, 682001))
	id := ids[0]

	want := paidCentre(id, thrissur, 680001)
	want.Name = "Taluk Hospital"
	want.Address = "Station Road"
	want.BlockName = "Chalakudy"
	want.Lat, want.Long = 10.3, 76.33
	want.From, want.To = "08:30:00", "20:00:00"
	inTx(t, s, func(tx vax.Tx) error { return tx.UpdateCentre(t.Context(), want) })
	got, err := getCentre(t, s, id)
	if err != nil {
		t.Fatalf("Centre(%d): %v", id, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}
	view(t, s, func(tx vax.Tx) error {
		old, err := tx.Centres(t.Context(), vax.CentreQuery{DistrictID: ernakulam.ID})
		if err == nil && len(old) != 0 {
			t.Errorf("Centres in the old district = %v, want none", centreIDs(old))
		}
		return err
	})

	// Back to Free: the fees go.
	free := centre(id, thrissur, 680001)
	inTx(t, s, func(tx vax.Tx) error { return tx.UpdateCentre(t.Context(), free) })
	if got, err := getCentre(t, s, id); err != nil || got.Fees != nil || got.FeeType != vax.Free {
		t.Errorf("after update to Free: got %+v, %v; want Free with nil fees", got, err)
	}

	unknown := free
	unknown.DistrictID = 999
	wrongState := free
	wrongState.StateID = delhi.ID
	absent := free
	absent.ID = id + 1000
	tests := []struct {
		name string
		c    vax.Centre
		want vax.Code
	}{
		{"absent centre", absent, vax.NotFound},
		{"unknown district", unknown, vax.NotFound},
		{"district of another state", wrongState, vax.Invalid},
	}
	for _, tt := range tests {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.UpdateCentre(ctx, tt.c) })
		wantCode(t, "UpdateCentre of "+tt.name, err, tt.want)
	}
	if got, err := getCentre(t, s, id); err != nil || got.DistrictID != thrissur.ID || got.StateID != kerala.ID {
		t.Errorf("centre after refused updates: got %+v, %v; want it unchanged", got, err)
	}
	if _, err := getCentre(t, s, absent.ID); !errors.Is(err, vax.ErrNotFound) {
		t.Errorf("Centre(%d) after updating an absent centre: got %v, want NotFound", absent.ID, err)
	}
}

func testCentre(t *testing.T, open Opener) {
	s := seeded(t, open)
	want := paidCentre(0, ernakulam, 682016)
	want.ID = createCentres(t, s, want)[0]
	got, err := getCentre(t, s, want.ID)
	if err != nil {
		t.Fatalf("Centre(%d): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Centre(%d) (-want +got):\n%s", want.ID, diff)
	}
	for _, id := range []int64{want.ID + 1, 0, -1} {
		_, err := getCentre(t, s, id)
		wantCode(t, fmt.Sprintf("Centre(%d)", id), err, vax.NotFound)
	}
}

func listCentres(t *testing.T, s vax.Store, q vax.CentreQuery) []vax.Centre {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.Centre, error) { return tx.Centres(t.Context(), q) })
}

func testCentres(t *testing.T, open Opener) {
	s := seeded(t, open)
	// 25 centres: even ones in Ernakulam, alternating two PIN codes; odd
	// ones in Thrissur; every fifth in New Delhi instead.
	var all []vax.Centre
	for i := range 25 {
		var c vax.Centre
		switch {
		case i%5 == 4:
			c = centre(0, newDelhi, 110001)
		case i%2 == 0:
			c = centre(0, ernakulam, 682001+i%4)
		default:
			c = paidCentre(0, thrissur, 680001)
		}
		all = append(all, c)
	}
	ids := createCentres(t, s, all...)
	for i := range all {
		all[i].ID = ids[i]
	}
	filter := func(keep func(vax.Centre) bool) []int64 {
		var out []int64
		for _, c := range all {
			if keep(c) {
				out = append(out, c.ID)
			}
		}
		return out
	}

	tests := []struct {
		name string
		q    vax.CentreQuery
		want []int64
	}{
		{"all", vax.CentreQuery{}, filter(func(vax.Centre) bool { return true })},
		{"district", vax.CentreQuery{DistrictID: ernakulam.ID},
			filter(func(c vax.Centre) bool { return c.DistrictID == ernakulam.ID })},
		{"pincode", vax.CentreQuery{Pincode: 682003},
			filter(func(c vax.Centre) bool { return c.Pincode == 682003 })},
		{"district and pincode", vax.CentreQuery{DistrictID: ernakulam.ID, Pincode: 682001},
			filter(func(c vax.Centre) bool { return c.DistrictID == ernakulam.ID && c.Pincode == 682001 })},
		{"pincode of another district", vax.CentreQuery{DistrictID: thrissur.ID, Pincode: 682001}, nil},
		{"unknown district", vax.CentreQuery{DistrictID: 999}, nil},
		{"after", vax.CentreQuery{AfterID: ids[19]}, ids[20:]},
		{"limit", vax.CentreQuery{Limit: 3}, ids[:3]},
		{"district after", vax.CentreQuery{DistrictID: thrissur.ID, AfterID: ids[10]},
			filter(func(c vax.Centre) bool { return c.DistrictID == thrissur.ID && c.ID > ids[10] })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listCentres(t, s, tt.q)
			if diff := cmp.Diff(tt.want, centreIDs(got), cmpEmpty); diff != "" {
				t.Errorf("Centres(%+v) ids (-want +got):\n%s", tt.q, diff)
			}
		})
	}

	t.Run("whole records", func(t *testing.T) {
		if diff := cmp.Diff(all, listCentres(t, s, vax.CentreQuery{})); diff != "" {
			t.Errorf("Centres (-want +got):\n%s", diff)
		}
	})

	t.Run("keyset pages", func(t *testing.T) {
		var got []int64
		q := vax.CentreQuery{Limit: 10}
		for page := 0; ; page++ {
			cs := listCentres(t, s, q)
			if want := min(10, len(ids)-len(got)); len(cs) != want {
				t.Fatalf("page %d: got %d centres, want %d", page, len(cs), want)
			}
			if len(cs) == 0 {
				break
			}
			got = append(got, centreIDs(cs)...)
			q.AfterID = cs[len(cs)-1].ID
		}
		if diff := cmp.Diff(ids, got); diff != "" {
			t.Errorf("paged ids (-want +got):\n%s", diff)
		}
	})

	t.Run("default limit", func(t *testing.T) {
		s := seeded(t, open)
		many := make([]vax.Centre, vax.DefaultLimit+1)
		for i := range many {
			many[i] = centre(0, ernakulam, 682001)
		}
		ids := createCentres(t, s, many...)
		if got := listCentres(t, s, vax.CentreQuery{}); len(got) != vax.DefaultLimit {
			t.Errorf("Centres with Limit 0: got %d, want %d", len(got), vax.DefaultLimit)
		}
		if got := listCentres(t, s, vax.CentreQuery{Limit: -5}); len(got) != vax.DefaultLimit {
			t.Errorf("Centres with Limit -5: got %d, want %d", len(got), vax.DefaultLimit)
		}
		got := listCentres(t, s, vax.CentreQuery{Limit: vax.MaxLimit + 1})
		if diff := cmp.Diff(ids, centreIDs(got)); diff != "" {
			t.Errorf("Centres with a large limit (-want +got):\n%s", diff)
		}
	})
}

func getSession(t *testing.T, s vax.Store, id string) (vax.Session, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.Session, error) { return tx.Session(t.Context(), id) })
}

func testCreateSession(t *testing.T, open Opener) {
	s := seeded(t, open)
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]

	plain := session(1, cid, day0)
	booked := session(2, cid, day0.AddDays(1))
	booked.Vaccine = "COVAXIN"
	booked.MinAge, booked.MaxAge, booked.AllowAllAge = 45, 0, true
	booked.Booked1, booked.Booked2 = 30, 7 // an import carries its bookings
	booked.Status = vax.SessionCancelled
	noSlots := session(3, cid, day0)
	noSlots.Slots = []string{}
	createSessions(t, s, plain, booked, noSlots)
	noSlots.Slots = nil // empty comes back as nil

	for _, want := range []vax.Session{plain, booked, noSlots} {
		got, err := getSession(t, s, want.ID)
		if err != nil {
			t.Errorf("Session(%s): %v", want.ID, err)
			continue
		}
		if diff := cmp.Diff(want, got, ignoreUpdatedAt); diff != "" {
			t.Errorf("Session(%s) (-want +got):\n%s", want.ID, diff)
		}
		checkStamp(t, "UpdatedAt of "+want.ID, got.UpdatedAt)
	}

	dup := session(1, cid, day0.AddDays(5))
	unknownCentre := session(4, cid+100, day0)
	unknownVaccine := session(5, cid, day0)
	unknownVaccine.Vaccine = "NOVAVAX"
	tests := []struct {
		name string
		s    vax.Session
		want vax.Code
	}{
		{"taken id", dup, vax.Conflict},
		{"unknown centre", unknownCentre, vax.NotFound},
		{"unknown vaccine", unknownVaccine, vax.NotFound},
	}
	for _, tt := range tests {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CreateSession(ctx, tt.s) })
		wantCode(t, "CreateSession with "+tt.name, err, tt.want)
	}
	if got, err := getSession(t, s, plain.ID); err != nil || got.Date != plain.Date {
		t.Errorf("session %s after a refused duplicate: got %v, %v; want it unchanged", plain.ID, got, err)
	}
	for _, id := range []string{unknownCentre.ID, unknownVaccine.ID} {
		if _, err := getSession(t, s, id); !errors.Is(err, vax.ErrNotFound) {
			t.Errorf("Session(%s) after a refused create: got %v, want NotFound", id, err)
		}
	}
}

func testUpdateSession(t *testing.T, open Opener) {
	s := seeded(t, open)
	cids := createCentres(t, s, centre(0, ernakulam, 682001), centre(0, thrissur, 680001))
	orig := session(1, cids[0], day0)
	orig.Booked1, orig.Booked2 = 40, 10
	createSessions(t, s, orig)
	before, err := getSession(t, s, orig.ID)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}

	upd := vax.Session{
		ID:          orig.ID,
		CentreID:    cids[1], // ignored: a session stays at its centre
		Date:        day0.AddDays(3),
		Vaccine:     "COVAXIN",
		MinAge:      45,
		MaxAge:      0,
		AllowAllAge: true,
		Capacity1:   40, // exactly what is booked: allowed
		Capacity2:   200,
		Booked1:     0, // ignored: only seat admission moves booked counts
		Booked2:     99,
		Slots:       []string{"10:00AM-12:00PM"},
		Status:      vax.SessionCancelled,
	}
	inTx(t, s, func(tx vax.Tx) error { return tx.UpdateSession(t.Context(), upd) })
	got, err := getSession(t, s, orig.ID)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	want := upd
	want.CentreID = orig.CentreID
	want.Booked1, want.Booked2 = orig.Booked1, orig.Booked2
	if diff := cmp.Diff(want, got, ignoreUpdatedAt); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}
	checkStamp(t, "UpdatedAt", got.UpdatedAt)
	if got.UpdatedAt.Before(before.UpdatedAt) {
		t.Errorf("UpdatedAt went back from %v to %v", before.UpdatedAt, got.UpdatedAt)
	}

	below1 := upd
	below1.Capacity1 = 39
	below2 := upd
	below2.Capacity2 = 9
	unknownVaccine := upd
	unknownVaccine.Vaccine = "NOVAVAX"
	absent := upd
	absent.ID = sessionID(99)
	tests := []struct {
		name string
		s    vax.Session
		want vax.Code
	}{
		{"dose-1 capacity below booked", below1, vax.Conflict},
		{"dose-2 capacity below booked", below2, vax.Conflict},
		{"unknown vaccine", unknownVaccine, vax.NotFound},
		{"absent session", absent, vax.NotFound},
	}
	for _, tt := range tests {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.UpdateSession(ctx, tt.s) })
		wantCode(t, "UpdateSession with "+tt.name, err, tt.want)
	}
	after, err := getSession(t, s, orig.ID)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if diff := cmp.Diff(got, after); diff != "" {
		t.Errorf("session changed by refused updates (-want +got):\n%s", diff)
	}
	if _, err := getSession(t, s, absent.ID); !errors.Is(err, vax.ErrNotFound) {
		t.Errorf("Session(%s) after updating an absent session: got %v, want NotFound", absent.ID, err)
	}
}

func testSession(t *testing.T, open Opener) {
	s := seeded(t, open)
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]
	want := session(7, cid, day0)
	createSessions(t, s, want)
	got, err := getSession(t, s, want.ID)
	if err != nil {
		t.Fatalf("Session(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got, ignoreUpdatedAt); diff != "" {
		t.Errorf("Session(%s) (-want +got):\n%s", want.ID, diff)
	}
	for _, id := range []string{sessionID(8), "", "not-a-uuid"} {
		_, err := getSession(t, s, id)
		wantCode(t, fmt.Sprintf("Session(%q)", id), err, vax.NotFound)
	}
}

func listSessions(t *testing.T, s vax.Store, q vax.SessionQuery) []vax.Session {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.Session, error) { return tx.Sessions(t.Context(), q) })
}

func testSessions(t *testing.T, open Opener) {
	s := seeded(t, open)
	centres := []vax.Centre{
		centre(0, ernakulam, 682001),
		centre(0, ernakulam, 682002),
		centre(0, thrissur, 680001),
		centre(0, newDelhi, 682001), // same PIN as an Ernakulam centre, other district
	}
	cids := createCentres(t, s, centres...)
	for i := range centres {
		centres[i].ID = cids[i]
	}
	byID := map[int64]vax.Centre{}
	for _, c := range centres {
		byID[c.ID] = c
	}
	// 25 sessions created out of id order, spread over centres and 5 days.
	var all []vax.Session
	for i := range 25 {
		n := (i*7)%25 + 1
		all = append(all, session(n, cids[n%len(cids)], day0.AddDays(n%5)))
	}
	createSessions(t, s, all...)
	filter := func(keep func(vax.Session) bool) []string {
		var out []string
		for n := 1; n <= 25; n++ {
			for _, se := range all {
				if se.ID == sessionID(n) && keep(se) {
					out = append(out, se.ID)
				}
			}
		}
		return out
	}
	inDistrict := func(d int) func(vax.Session) bool {
		return func(se vax.Session) bool { return byID[se.CentreID].DistrictID == d }
	}

	tests := []struct {
		name string
		q    vax.SessionQuery
		want []string
	}{
		{"all", vax.SessionQuery{}, filter(func(vax.Session) bool { return true })},
		{"centre", vax.SessionQuery{CentreID: cids[2]},
			filter(func(se vax.Session) bool { return se.CentreID == cids[2] })},
		{"district", vax.SessionQuery{DistrictID: ernakulam.ID}, filter(inDistrict(ernakulam.ID))},
		{"pincode", vax.SessionQuery{Pincode: 682001},
			filter(func(se vax.Session) bool { return byID[se.CentreID].Pincode == 682001 })},
		{"district and pincode", vax.SessionQuery{DistrictID: ernakulam.ID, Pincode: 682001},
			filter(func(se vax.Session) bool {
				return inDistrict(ernakulam.ID)(se) && byID[se.CentreID].Pincode == 682001
			})},
		{"from", vax.SessionQuery{From: day0.AddDays(3)},
			filter(func(se vax.Session) bool { return !se.Date.Before(day0.AddDays(3)) })},
		{"to", vax.SessionQuery{To: day0.AddDays(1)},
			filter(func(se vax.Session) bool { return !se.Date.After(day0.AddDays(1)) })},
		{"one day", vax.SessionQuery{From: day0.AddDays(2), To: day0.AddDays(2)},
			filter(func(se vax.Session) bool { return se.Date == day0.AddDays(2) })},
		{"district and dates", vax.SessionQuery{DistrictID: ernakulam.ID, From: day0.AddDays(1), To: day0.AddDays(3)},
			filter(func(se vax.Session) bool {
				return inDistrict(ernakulam.ID)(se) && !se.Date.Before(day0.AddDays(1)) && !se.Date.After(day0.AddDays(3))
			})},
		{"no dates match", vax.SessionQuery{From: day0.AddDays(10)}, nil},
		{"unknown centre", vax.SessionQuery{CentreID: 9999}, nil},
		{"after", vax.SessionQuery{AfterID: sessionID(20)},
			[]string{sessionID(21), sessionID(22), sessionID(23), sessionID(24), sessionID(25)}},
		{"limit", vax.SessionQuery{Limit: 2}, []string{sessionID(1), sessionID(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listSessions(t, s, tt.q)
			if diff := cmp.Diff(tt.want, sessionIDs(got), cmpEmpty); diff != "" {
				t.Errorf("Sessions(%+v) ids (-want +got):\n%s", tt.q, diff)
			}
		})
	}

	t.Run("whole records", func(t *testing.T) {
		got := listSessions(t, s, vax.SessionQuery{CentreID: cids[0]})
		var want []vax.Session
		for n := 1; n <= 25; n++ {
			for _, se := range all {
				if se.ID == sessionID(n) && se.CentreID == cids[0] {
					want = append(want, se)
				}
			}
		}
		if diff := cmp.Diff(want, got, ignoreUpdatedAt); diff != "" {
			t.Errorf("Sessions (-want +got):\n%s", diff)
		}
	})

	t.Run("keyset pages", func(t *testing.T) {
		var got []string
		q := vax.SessionQuery{Limit: 10}
		for page := 0; ; page++ {
			ss := listSessions(t, s, q)
			if want := min(10, 25-len(got)); len(ss) != want {
				t.Fatalf("page %d: got %d sessions, want %d", page, len(ss), want)
			}
			if len(ss) == 0 {
				break
			}
			got = append(got, sessionIDs(ss)...)
			q.AfterID = ss[len(ss)-1].ID
		}
		if diff := cmp.Diff(filter(func(vax.Session) bool { return true }), got); diff != "" {
			t.Errorf("paged ids (-want +got):\n%s", diff)
		}
	})
}

func testAppendChange(t *testing.T, open Opener) {
	s := newStore(t, open)
	keys := []struct {
		kind vax.ChangeKind
		key  string
	}{
		{vax.ChangeCentre, "42"},
		{vax.ChangeSession, sessionID(1)},
		{vax.ChangeKind("partner"), "ക-🙂"}, // kinds are open: later capabilities add them
		{vax.ChangeCentre, "42"},           // the same key again is a new change
	}
	inTx(t, s, func(tx vax.Tx) error {
		for _, k := range keys {
			if err := tx.AppendChange(t.Context(), k.kind, k.key); err != nil {
				return err
			}
		}
		// Not in the feed before the transaction commits.
		cs, err := s.Changes(t.Context(), 0, 100)
		if err == nil && len(cs) != 0 {
			t.Errorf("Changes before commit = %v, want none", cs)
		}
		return err
	})
	got := allChanges(t, s)
	if len(got) != len(keys) {
		t.Fatalf("got %d changes, want %d: %v", len(got), len(keys), got)
	}
	for i, k := range keys {
		if got[i].Kind != k.kind || got[i].Key != k.key {
			t.Errorf("change %d = %s %q, want %s %q", i, got[i].Kind, got[i].Key, k.kind, k.key)
		}
		checkStamp(t, fmt.Sprintf("change %d At", i), got[i].At)
	}
}
