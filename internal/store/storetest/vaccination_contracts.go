package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vaxport/vaxport/internal/vax"
)

// Staff, lots, doses, adverse events and the centre queue.

// staffID returns the n-th test staff id.
func staffID(n int) string { return fmt.Sprintf("40000000-0000-4000-8000-%012d", n) }

// doseID returns the n-th test dose record id.
func doseID(n int) string { return fmt.Sprintf("50000000-0000-4000-8000-%012d", n) }

// eventID returns the n-th test adverse event id.
func eventID(n int) string { return fmt.Sprintf("60000000-0000-4000-8000-%012d", n) }

// staffMember returns an active staff member n with role and no scope;
// callers set the scope the role needs.
func staffMember(n int, role vax.Role) vax.Staff {
	return vax.Staff{
		ID:           staffID(n),
		Name:         fmt.Sprintf("Staff %d", n),
		MobileHash:   fmt.Sprintf("pii-00000001:staff-%d", n),
		MobileSealed: []byte{6, 6, byte(n)},
		MobileLast4:  fmt.Sprintf("%04d", 9000+n),
		Role:         role,
		Status:       vax.StaffActive,
		CreatedBy:    staffID(0),
		CreatedAt:    authT0,
		UpdatedAt:    authT0,
	}
}

// vaccinator returns vaccinator n scoped to centres.
func vaccinator(n int, centres ...int64) vax.Staff {
	s := staffMember(n, vax.RoleVaccinator)
	s.CentreIDs = centres
	return s
}

// districtAdmin returns district admin n of d.
func districtAdmin(n int, d vax.District) vax.Staff {
	s := staffMember(n, vax.RoleDistrictAdmin)
	s.DistrictID, s.StateID = d.ID, d.StateID
	return s
}

// stateAdmin returns state admin n of st.
func stateAdmin(n int, st vax.State) vax.Staff {
	s := staffMember(n, vax.RoleStateAdmin)
	s.StateID = st.ID
	return s
}

// storedStaff is s as a store returns it: whole-second UTC times, centres
// ascending.
func storedStaff(s vax.Staff) vax.Staff {
	s.CreatedAt, s.UpdatedAt = whole(s.CreatedAt), whole(s.UpdatedAt)
	s.CentreIDs = slices.Sorted(slices.Values(s.CentreIDs))
	return s
}

func createStaff(t *testing.T, s vax.Store, ss ...vax.Staff) {
	t.Helper()
	insertAll(t, s, ss, func(tx vax.Tx, st vax.Staff) error {
		if err := tx.CreateStaff(t.Context(), st); err != nil {
			return fmt.Errorf("create staff %s: %w", st.ID, err)
		}
		return nil
	})
}

func readStaff(t *testing.T, s vax.Store, id string) (vax.Staff, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.Staff, error) { return tx.Staff(t.Context(), id) })
}

func listStaff(t *testing.T, s vax.Store, q vax.StaffQuery) []vax.Staff {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.Staff, error) { return tx.StaffList(t.Context(), q) })
}

func staffIDs(ss []vax.Staff) []string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

// staffStore opens a seeded store with two Ernakulam centres, one in
// Thrissur and one in New Delhi, and returns their ids in that order.
func staffStore(t *testing.T, open Opener) (vax.Store, []int64) {
	t.Helper()
	s := seeded(t, open)
	ids := createCentres(t, s, centre(0, ernakulam, 682001), centre(0, ernakulam, 682002),
		centre(0, thrissur, 680001), centre(0, newDelhi, 110001))
	return s, ids
}

func testCreateStaff(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	v := vaccinator(1, cs[1], cs[0])
	v.CreatedBy = "" // the bootstrap
	da := districtAdmin(2, ernakulam)
	createStaff(t, s, v, da)
	for _, want := range []vax.Staff{v, da} {
		got, err := readStaff(t, s, want.ID)
		if err != nil {
			t.Fatalf("Staff(%s): %v", want.ID, err)
		}
		if d := cmp.Diff(storedStaff(want), got, cmpEmpty); d != "" {
			t.Errorf("stored staff %s (-want +got):\n%s", want.ID, d)
		}
	}
	if got, _ := readStaff(t, s, v.ID); !slices.Equal(got.CentreIDs, []int64{cs[0], cs[1]}) {
		t.Errorf("centres: got %v, want ascending %v", got.CentreIDs, []int64{cs[0], cs[1]})
	}

	sameID := vaccinator(3, cs[2])
	sameID.ID = v.ID
	sameMobile := stateAdmin(4, kerala)
	sameMobile.MobileHash = da.MobileHash
	for name, c := range map[string]struct {
		s    vax.Staff
		want vax.Code
	}{
		"id taken":          {sameID, vax.Conflict},
		"mobile hash taken": {sameMobile, vax.Conflict},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CreateStaff(ctx, c.s) })
		wantCode(t, name, err, c.want)
	}
	if _, err := readStaff(t, s, sameMobile.ID); vax.ErrorCode(err) != vax.NotFound {
		t.Errorf("refused staff: got %v, want NotFound", err)
	}
	if got, _ := readStaff(t, s, v.ID); !slices.Equal(got.CentreIDs, []int64{cs[0], cs[1]}) {
		t.Errorf("after a refused duplicate id: centres %v, want %v", got.CentreIDs, []int64{cs[0], cs[1]})
	}
}

func testUpdateStaff(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	v := vaccinator(1, cs[0], cs[1])
	createStaff(t, s, v)

	// Promote to facility admin elsewhere, suspended; the id, mobile and
	// creation fields in the argument are ignored.
	up := v
	up.Name = "Renamed"
	up.Role = vax.RoleFacilityAdmin
	up.CentreIDs = []int64{cs[2]}
	up.Status = vax.StaffSuspended
	up.UpdatedAt = authT0.Add(time.Hour)
	up.MobileHash, up.MobileSealed, up.MobileLast4 = "pii-00000001:other", []byte{1}, "0000"
	up.CreatedBy, up.CreatedAt = staffID(7), authT0.Add(-time.Hour)
	inTx(t, s, func(tx vax.Tx) error { return tx.UpdateStaff(t.Context(), up) })
	want := v
	want.Name, want.Role, want.CentreIDs, want.Status, want.UpdatedAt = up.Name, up.Role, up.CentreIDs, up.Status, up.UpdatedAt
	got, err := readStaff(t, s, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(storedStaff(want), got, cmpEmpty); d != "" {
		t.Errorf("updated staff (-want +got):\n%s", d)
	}
	if ids := staffIDs(listStaff(t, s, vax.StaffQuery{CentreID: cs[0]})); len(ids) != 0 {
		t.Errorf("staff of a centre removed from the scope: got %v, want none", ids)
	}

	// A district admin has no centres left.
	up2 := want
	up2.Role, up2.CentreIDs, up2.DistrictID, up2.StateID = vax.RoleDistrictAdmin, nil, thrissur.ID, thrissur.StateID
	inTx(t, s, func(tx vax.Tx) error { return tx.UpdateStaff(t.Context(), up2) })
	got, _ = readStaff(t, s, v.ID)
	if d := cmp.Diff(storedStaff(up2), got, cmpEmpty); d != "" {
		t.Errorf("district admin (-want +got):\n%s", d)
	}
	if ids := staffIDs(listStaff(t, s, vax.StaffQuery{CentreID: cs[2]})); len(ids) != 0 {
		t.Errorf("centre staff after scope became a district: got %v, want none", ids)
	}

	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.UpdateStaff(ctx, vaccinator(9, cs[0])) })
	wantCode(t, "absent", err, vax.NotFound)
}

func testStaff(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	createStaff(t, s, vaccinator(1, cs[0]))
	for _, id := range []string{staffID(9), "not-a-uuid"} {
		_, err := readStaff(t, s, id)
		wantCode(t, "unknown "+id, err, vax.NotFound)
	}
}

func testStaffByMobile(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	a, b := vaccinator(1, cs[0]), stateAdmin(2, kerala)
	createStaff(t, s, a, b)
	find := func(hashes []string) (vax.Staff, error) {
		var got vax.Staff
		err := s.View(t.Context(), func(tx vax.Tx) (err error) { got, err = tx.StaffByMobile(t.Context(), hashes); return err })
		return got, err
	}
	got, err := find([]string{"pii-99999999:newer", a.MobileHash})
	if err != nil {
		t.Fatalf("StaffByMobile: %v", err)
	}
	if d := cmp.Diff(storedStaff(a), got, cmpEmpty); d != "" {
		t.Errorf("StaffByMobile (-want +got):\n%s", d)
	}
	if got, err := find([]string{b.MobileHash}); err != nil || got.ID != b.ID {
		t.Errorf("StaffByMobile(b) = %q, %v; want %q", got.ID, err, b.ID)
	}
	for _, hashes := range [][]string{nil, {}, {"pii-99999999:absent"}} {
		_, err := find(hashes)
		wantCode(t, fmt.Sprintf("hashes %q", hashes), err, vax.NotFound)
	}
	// Citizens' mobile hashes are another namespace.
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateAccount(t.Context(), account(1)) })
	_, err = find([]string{account(1).MobileHash})
	wantCode(t, "a citizen's hash", err, vax.NotFound)
}

func testStaffList(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	eka1, eka2, tsr, del := cs[0], cs[1], cs[2], cs[3]
	fa := staffMember(2, vax.RoleFacilityAdmin)
	fa.CentreIDs = []int64{tsr, eka2, eka1} // two centres in Ernakulam: listed once
	all := []vax.Staff{
		vaccinator(1, eka1),
		fa,
		vaccinator(3, del),
		districtAdmin(4, ernakulam),
		districtAdmin(5, thrissur),
		stateAdmin(6, kerala),
		stateAdmin(7, delhi),
		staffMember(8, vax.RoleNationalAdmin),
	}
	// Created out of id order.
	createStaff(t, s, all[7], all[2], all[0], all[5], all[1], all[4], all[3], all[6])
	var want []vax.Staff
	for _, st := range all {
		want = append(want, storedStaff(st))
	}
	if d := cmp.Diff(want, listStaff(t, s, vax.StaffQuery{}), cmpEmpty); d != "" {
		t.Errorf("everyone (-want +got):\n%s", d)
	}
	tests := []struct {
		name string
		q    vax.StaffQuery
		want []int
	}{
		{"centre", vax.StaffQuery{CentreID: eka1}, []int{1, 2}},
		{"centre of one", vax.StaffQuery{CentreID: del}, []int{3}},
		{"unknown centre", vax.StaffQuery{CentreID: 999}, nil},
		{"district", vax.StaffQuery{DistrictID: ernakulam.ID}, []int{1, 2, 4}},
		{"other district", vax.StaffQuery{DistrictID: thrissur.ID}, []int{2, 5}},
		{"state", vax.StaffQuery{StateID: kerala.ID}, []int{1, 2, 4, 5, 6}},
		{"other state", vax.StaffQuery{StateID: delhi.ID}, []int{3, 7}},
		{"role", vax.StaffQuery{Role: vax.RoleVaccinator}, []int{1, 3}},
		{"role and state", vax.StaffQuery{Role: vax.RoleVaccinator, StateID: kerala.ID}, []int{1}},
		{"role and district", vax.StaffQuery{Role: vax.RoleDistrictAdmin, DistrictID: ernakulam.ID}, []int{4}},
		{"national", vax.StaffQuery{Role: vax.RoleNationalAdmin}, []int{8}},
		{"first page", vax.StaffQuery{Limit: 3}, []int{1, 2, 3}},
		{"next page", vax.StaffQuery{AfterID: staffID(3), Limit: 3}, []int{4, 5, 6}},
		{"page of a filter", vax.StaffQuery{StateID: kerala.ID, AfterID: staffID(2), Limit: 2}, []int{4, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var wantIDs []string
			for _, n := range tc.want {
				wantIDs = append(wantIDs, staffID(n))
			}
			got := listStaff(t, s, tc.q)
			if d := cmp.Diff(wantIDs, staffIDs(got), cmpEmpty); d != "" {
				t.Errorf("ids (-want +got):\n%s", d)
			}
			for _, st := range got {
				n := slices.Index(staffIDs(all), st.ID)
				if n >= 0 && !cmp.Equal(want[n], st, cmpEmpty) {
					t.Errorf("listed %s: got %+v, want %+v", st.ID, st, want[n])
				}
			}
		})
	}
}

// Lots.

// lot returns a COVISHIELD lot at centre with received doses.
func lot(centre int64, number string, received int) vax.Lot {
	return vax.Lot{
		CentreID:     centre,
		Number:       number,
		Vaccine:      "COVISHIELD",
		Manufacturer: "Serum Institute of India",
		Expiry:       day0.AddDays(180),
		Received:     received,
		CreatedAt:    authT0,
	}
}

func storedLot(l vax.Lot) vax.Lot {
	l.CreatedAt = whole(l.CreatedAt)
	return l
}

func createLots(t *testing.T, s vax.Store, ls ...vax.Lot) {
	t.Helper()
	insertAll(t, s, ls, func(tx vax.Tx, l vax.Lot) error {
		if err := tx.CreateLot(t.Context(), l); err != nil {
			return fmt.Errorf("create lot %s: %w", l.Number, err)
		}
		return nil
	})
}

func readLot(t *testing.T, s vax.Store, centre int64, number string) (vax.Lot, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.Lot, error) { return tx.Lot(t.Context(), centre, number) })
}

func testCreateLot(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	l := lot(cs[0], "4121Z001", 500)
	l.Used = 20 // stock carried over from another register
	other := lot(cs[1], "4121Z001", 10)
	other.Vaccine = "COVAXIN"
	createLots(t, s, l, other)
	for _, want := range []vax.Lot{l, other} {
		got, err := readLot(t, s, want.CentreID, want.Number)
		if err != nil {
			t.Fatalf("Lot: %v", err)
		}
		if d := cmp.Diff(storedLot(want), got); d != "" {
			t.Errorf("stored lot (-want +got):\n%s", d)
		}
	}
	unknownVaccine := lot(cs[0], "X1", 10)
	unknownVaccine.Vaccine = "SPUTNIK"
	for name, c := range map[string]struct {
		l    vax.Lot
		want vax.Code
	}{
		"number taken at the centre": {lot(cs[0], "4121Z001", 5), vax.Conflict},
		"unknown centre":             {lot(999, "X1", 10), vax.NotFound},
		"unknown vaccine":            {unknownVaccine, vax.NotFound},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CreateLot(ctx, c.l) })
		wantCode(t, name, err, c.want)
	}
	if got, _ := readLot(t, s, cs[0], "4121Z001"); got.Received != 500 {
		t.Errorf("after a refused duplicate: received %d, want 500", got.Received)
	}
}

func testLot(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	createLots(t, s, lot(cs[0], "A1", 10))
	for name, c := range map[string]struct {
		centre int64
		number string
	}{
		"unknown number":    {cs[0], "A2"},
		"number of another": {cs[1], "A1"},
		"unknown centre":    {999, "A1"},
	} {
		_, err := readLot(t, s, c.centre, c.number)
		wantCode(t, name, err, vax.NotFound)
	}
}

func testLots(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	createLots(t, s, lot(cs[0], "B", 1), lot(cs[0], "A", 2), lot(cs[1], "AA", 3), lot(cs[0], "C", 4))
	var got, none []vax.Lot
	view(t, s, func(tx vax.Tx) (err error) {
		if got, err = tx.Lots(t.Context(), cs[0]); err != nil {
			return err
		}
		none, err = tx.Lots(t.Context(), cs[2])
		return err
	})
	want := []vax.Lot{storedLot(lot(cs[0], "A", 2)), storedLot(lot(cs[0], "B", 1)), storedLot(lot(cs[0], "C", 4))}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lots (-want +got):\n%s", d)
	}
	if len(none) != 0 {
		t.Errorf("a centre without lots: got %d, want 0", len(none))
	}
}

func testUseLot(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	createLots(t, s, lot(cs[0], "A1", 2), lot(cs[0], "EMPTY", 0))
	use := func(centre int64, number string) error {
		return txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.UseLot(ctx, centre, number) })
	}
	for i := range 2 {
		if err := use(cs[0], "A1"); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	wantCode(t, "exhausted", use(cs[0], "A1"), vax.Full)
	wantCode(t, "nothing received", use(cs[0], "EMPTY"), vax.Full)
	wantCode(t, "unknown lot", use(cs[0], "A2"), vax.NotFound)
	wantCode(t, "unknown centre", use(999, "A1"), vax.NotFound)
	if got, _ := readLot(t, s, cs[0], "A1"); got.Used != 2 || got.Received != 2 {
		t.Errorf("used %d of %d, want 2 of 2", got.Used, got.Received)
	}
	// A rolled-back use takes nothing.
	createLots(t, s, lot(cs[1], "B1", 5))
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		if err := tx.UseLot(ctx, cs[1], "B1"); err != nil {
			return err
		}
		return errStop
	})
	if err == nil {
		t.Fatal("rolled-back use: got no error")
	}
	if got, _ := readLot(t, s, cs[1], "B1"); got.Used != 0 {
		t.Errorf("after a rollback: used %d, want 0", got.Used)
	}
}

// Doses.

// dose returns dose record n: dose number of ref given at centre in
// appointment apptID(n).
func dose(n int, ref string, number int, centre int64) vax.Dose {
	return vax.Dose{
		ID:             doseID(n),
		Ref:            ref,
		Dose:           number,
		Vaccine:        "COVISHIELD",
		Lot:            "4121Z001",
		CentreID:       centre,
		AppointmentID:  apptID(n),
		VaccinatorID:   staffID(1),
		AdministeredAt: authT0,
		RecordedAt:     authT0.Add(90 * time.Second),
	}
}

func storedDose(d vax.Dose) vax.Dose {
	d.AdministeredAt, d.RecordedAt = whole(d.AdministeredAt), whole(d.RecordedAt)
	return d
}

func recordDoses(t *testing.T, s vax.Store, ds ...vax.Dose) {
	t.Helper()
	insertAll(t, s, ds, func(tx vax.Tx, d vax.Dose) error {
		if err := tx.RecordDose(t.Context(), d); err != nil {
			return fmt.Errorf("record dose %s: %w", d.ID, err)
		}
		return nil
	})
}

func readDose(t *testing.T, s vax.Store, id string) (vax.Dose, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.Dose, error) { return tx.Dose(t.Context(), id) })
}

func dosesOf(t *testing.T, s vax.Store, ref string) []vax.Dose {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.Dose, error) { return tx.DosesOf(t.Context(), ref) })
}

func testRecordDose(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	d := dose(1, benRef(1), 1, cs[0])
	walkIn := dose(2, benRef(2), 1, cs[1])
	walkIn.AppointmentID = ""
	walkIn.Vaccine = "COVAXIN"
	recordDoses(t, s, d, walkIn)
	for _, want := range []vax.Dose{d, walkIn} {
		got, err := readDose(t, s, want.ID)
		if err != nil {
			t.Fatalf("Dose(%s): %v", want.ID, err)
		}
		if diff := cmp.Diff(storedDose(want), got); diff != "" {
			t.Errorf("stored dose (-want +got):\n%s", diff)
		}
	}
	sameID := dose(3, benRef(3), 1, cs[0])
	sameID.ID = d.ID
	sameDose := dose(4, benRef(1), 1, cs[1])
	for name, c := range map[string]struct {
		d    vax.Dose
		want vax.Code
	}{
		"id taken":                    {sameID, vax.Conflict},
		"beneficiary has that dose":   {sameDose, vax.Conflict},
		"walk-in has that dose again": {func() vax.Dose { w := dose(5, benRef(2), 1, cs[0]); w.AppointmentID = ""; return w }(), vax.Conflict},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.RecordDose(ctx, c.d) })
		wantCode(t, name, err, c.want)
	}
	if ds := dosesOf(t, s, benRef(3)); len(ds) != 0 {
		t.Errorf("refused dose of %s: stored %d records", benRef(3), len(ds))
	}
	// The next dose of the same beneficiary is another record.
	recordDoses(t, s, dose(6, benRef(1), 2, cs[0]))
}

func testDose(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	recordDoses(t, s, dose(1, benRef(1), 1, cs[0]))
	for _, id := range []string{doseID(9), "not-a-uuid"} {
		_, err := readDose(t, s, id)
		wantCode(t, "unknown "+id, err, vax.NotFound)
	}
}

func testDosesOf(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	second, first, precaution := dose(1, benRef(1), 2, cs[0]), dose(2, benRef(1), 1, cs[1]), dose(3, benRef(1), 3, cs[0])
	recordDoses(t, s, second, dose(4, benRef(2), 1, cs[0]), precaution, first)
	want := []vax.Dose{storedDose(first), storedDose(second), storedDose(precaution)}
	if d := cmp.Diff(want, dosesOf(t, s, benRef(1))); d != "" {
		t.Errorf("doses (-want +got):\n%s", d)
	}
	if ds := dosesOf(t, s, benRef(9)); len(ds) != 0 {
		t.Errorf("unknown beneficiary: got %d doses, want 0", len(ds))
	}
}

func testBeneficiaryAppointments(t *testing.T, open Opener) {
	s := bookingStore(t, open, 10)
	a1 := appointment(1, 1, sessionID(1), benRef(1), benRef(2))
	book(t, s, a1)
	inTx(t, s, func(tx vax.Tx) error { _, err := tx.CancelPlaces(t.Context(), a1.ID, []string{benRef(1)}); return err })
	// Rebooked after cancelling, but stamped earlier: listed first.
	a2 := appointment(2, 1, sessionID(2), benRef(1))
	a2.CreatedAt = a1.CreatedAt.Add(-time.Minute)
	book(t, s, a2, appointment(3, 2, sessionID(1), benRef(3)))
	inTx(t, s, func(tx vax.Tx) error { _, err := tx.CodeFailure(t.Context(), a1.ID); return err })

	var want []vax.Appointment
	for _, id := range []string{a2.ID, a1.ID} {
		a, err := readAppointment(t, s, id)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, a)
	}
	var got, only, none []vax.Appointment
	view(t, s, func(tx vax.Tx) (err error) {
		if got, err = tx.BeneficiaryAppointments(t.Context(), benRef(1)); err != nil {
			return err
		}
		if only, err = tx.BeneficiaryAppointments(t.Context(), benRef(2)); err != nil {
			return err
		}
		none, err = tx.BeneficiaryAppointments(t.Context(), benRef(9))
		return err
	})
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("appointments of %s (-want +got):\n%s", benRef(1), d)
	}
	if len(got) == 2 && (len(got[1].Beneficiaries) != 2 || got[1].CodeFailures != 1) {
		t.Errorf("cancelled place's appointment: %d places, %d code failures; want 2 (all), 1", len(got[1].Beneficiaries), got[1].CodeFailures)
	}
	if d := cmp.Diff(want[1:], only); d != "" {
		t.Errorf("appointments of %s (-want +got):\n%s", benRef(2), d)
	}
	if len(none) != 0 {
		t.Errorf("unknown beneficiary: got %d appointments, want 0", len(none))
	}
}

func codeFailure(t *testing.T, s vax.Store, id string) (int, error) {
	t.Helper()
	var n int
	err := s.InTx(t.Context(), func(tx vax.Tx) (err error) { n, err = tx.CodeFailure(t.Context(), id); return err })
	return n, err
}

func testCodeFailure(t *testing.T, open Opener) {
	s := bookingStore(t, open, 10)
	a := appointment(1, 1, sessionID(1), benRef(1))
	book(t, s, a, appointment(2, 2, sessionID(1), benRef(2)))
	for want := 1; want <= 3; want++ {
		if n, err := codeFailure(t, s, a.ID); err != nil || n != want {
			t.Errorf("failure %d: got %d, %v; want %d", want, n, err, want)
		}
	}
	_, err := codeFailure(t, s, apptID(9))
	wantCode(t, "unknown", err, vax.NotFound)
	// A rolled-back failure does not count.
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		if _, err := tx.CodeFailure(ctx, a.ID); err != nil {
			return err
		}
		return errStop
	})
	if err == nil {
		t.Fatal("rolled-back failure: got no error")
	}

	// Every read of an appointment carries the count.
	want := storedAppointment(a)
	want.CodeFailures = 3
	got, err := readAppointment(t, s, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Appointment (-want +got):\n%s", d)
	}
	var of, inSession []vax.Appointment
	view(t, s, func(tx vax.Tx) (err error) {
		if of, err = tx.AppointmentsOf(t.Context(), accountID(1)); err != nil {
			return err
		}
		inSession, err = tx.SessionAppointments(t.Context(), sessionID(1))
		return err
	})
	if len(of) != 1 || of[0].CodeFailures != 3 {
		t.Errorf("AppointmentsOf: got %+v, want one with 3 code failures", of)
	}
	if len(inSession) != 2 || inSession[0].CodeFailures != 3 || inSession[1].CodeFailures != 0 {
		t.Errorf("SessionAppointments: got %+v, want code failures 3 and 0", inSession)
	}
}

// The centre queue.

func testCentreQueue(t *testing.T, open Opener) {
	s := seeded(t, open)
	cs := createCentres(t, s, centre(0, ernakulam, 682001), centre(0, ernakulam, 682002))
	c1, c2 := cs[0], cs[1]
	covaxinSession := session(2, c1, day0)
	covaxinSession.Vaccine = "COVAXIN"
	createSessions(t, s, session(1, c1, day0), covaxinSession, session(3, c1, day0.AddDays(1)),
		session(4, c2, day0), session(5, c1, day0))
	var bs []vax.Beneficiary
	for n := 1; n <= 10; n++ {
		b := beneficiary(n, n)
		b.BirthYear = 1950 + n
		bs = append(bs, b)
	}
	createBeneficiaries(t, s, bs...)
	at := func(a vax.Appointment, slot string, after time.Duration) vax.Appointment {
		a.Slot, a.CreatedAt = slot, authT0.Add(after)
		return a
	}
	const am, noon = "09:00AM-11:00AM", "11:00AM-01:00PM"
	second := appointment(3, 4, sessionID(2), benRef(4))
	second.Dose = 2
	book(t, s,
		at(appointment(1, 1, sessionID(1), benRef(2), benRef(1)), noon, 0),
		at(appointment(2, 3, sessionID(1), benRef(3)), am, 2*time.Second),
		at(second, am, time.Second),
		at(appointment(4, 5, sessionID(1), benRef(5)), am, 0),                        // cancelled
		at(appointment(5, 6, sessionID(1), benRef(6), benRef(7)), am, 3*time.Second), // one place cancelled
		at(appointment(6, 8, sessionID(3), benRef(8)), am, 0),                        // another day
		at(appointment(7, 9, sessionID(4), benRef(9)), am, 0),                        // another centre
		at(appointment(8, 10, sessionID(5), benRef(10)), am, 0),                      // session cancelled
	)
	inTx(t, s, func(tx vax.Tx) error {
		ctx := t.Context()
		if _, err := tx.CancelPlaces(ctx, apptID(4), nil); err != nil {
			return err
		}
		if _, err := tx.CancelPlaces(ctx, apptID(5), []string{benRef(7)}); err != nil {
			return err
		}
		se, err := tx.Session(ctx, sessionID(5))
		if err != nil {
			return err
		}
		se.Status = vax.SessionCancelled
		return tx.UpdateSession(ctx, se)
	})
	// Ref 3 has had the dose of its appointment; ref 4 only an earlier
	// dose, not the second its appointment is for.
	recordDoses(t, s, dose(2, benRef(3), 1, c1), dose(9, benRef(4), 1, c2))

	entry := func(appt, session int, slot string, doseNum, n int, doseRecord string) vax.QueueEntry {
		b := bs[n-1]
		return vax.QueueEntry{AppointmentID: apptID(appt), SessionID: sessionID(session), Slot: slot, Dose: doseNum,
			Ref: b.Ref, Name: b.Name, BirthYear: b.BirthYear, GenderID: b.GenderID, DoseID: doseRecord}
	}
	want := []vax.QueueEntry{
		entry(3, 2, am, 2, 4, ""),
		entry(2, 1, am, 1, 3, doseID(2)),
		entry(5, 1, am, 1, 6, ""),
		entry(1, 1, noon, 1, 1, ""),
		entry(1, 1, noon, 1, 2, ""),
	}
	queue := func(centre int64, date vax.Date) []vax.QueueEntry {
		var got []vax.QueueEntry
		view(t, s, func(tx vax.Tx) (err error) { got, err = tx.CentreQueue(t.Context(), centre, date); return err })
		return got
	}
	if d := cmp.Diff(want, queue(c1, day0)); d != "" {
		t.Errorf("queue (-want +got):\n%s", d)
	}
	for name, got := range map[string][]vax.QueueEntry{
		"day without sessions": queue(c1, day0.AddDays(2)),
		"unknown centre":       queue(999, day0),
	} {
		if len(got) != 0 {
			t.Errorf("%s: got %d entries, want 0", name, len(got))
		}
	}
}

// Adverse events.

// event returns adverse event n after dose n of ref at centre in district,
// reported after t0 by after.
func event(n int, ref string, centre int64, district int, sev vax.Severity, after time.Duration) vax.AdverseEvent {
	return vax.AdverseEvent{
		ID:         eventID(n),
		DoseID:     doseID(n),
		Ref:        ref,
		CentreID:   centre,
		DistrictID: district,
		Severity:   sev,
		Symptoms:   []string{"fever", "pain at the injection site", fmt.Sprintf("symptom %d", n)},
		Onset:      authT0.Add(after - time.Hour),
		ReporterID: staffID(1),
		ReportedAt: authT0.Add(after),
	}
}

func storedEvent(e vax.AdverseEvent) vax.AdverseEvent {
	e.Onset, e.ReportedAt = whole(e.Onset), whole(e.ReportedAt)
	return e
}

func recordEvents(t *testing.T, s vax.Store, es ...vax.AdverseEvent) {
	t.Helper()
	insertAll(t, s, es, func(tx vax.Tx, e vax.AdverseEvent) error {
		if err := tx.RecordAdverseEvent(t.Context(), e); err != nil {
			return fmt.Errorf("record event %s: %w", e.ID, err)
		}
		return nil
	})
}

func adverseEvents(t *testing.T, s vax.Store, q vax.AdverseEventQuery) []vax.AdverseEvent {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.AdverseEvent, error) { return tx.AdverseEvents(t.Context(), q) })
}

func testRecordAdverseEvent(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	e := event(1, benRef(1), cs[0], ernakulam.ID, vax.SeveritySerious, 0)
	e.Symptoms = []string{"seizure", "fever, high", "rash\tand itching"} // separators survive
	one := event(2, benRef(2), cs[0], ernakulam.ID, vax.SeverityMinor, time.Second)
	one.Symptoms = []string{"headache"}
	recordEvents(t, s, e, one)
	want := []vax.AdverseEvent{storedEvent(one), storedEvent(e)}
	if d := cmp.Diff(want, adverseEvents(t, s, vax.AdverseEventQuery{})); d != "" {
		t.Errorf("stored events (-want +got):\n%s", d)
	}
	sameID := event(3, benRef(3), cs[1], ernakulam.ID, vax.SeverityMinor, 0)
	sameID.ID = e.ID
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.RecordAdverseEvent(ctx, sameID) })
	wantCode(t, "id taken", err, vax.Conflict)
	if got := adverseEvents(t, s, vax.AdverseEventQuery{}); len(got) != 2 {
		t.Errorf("after a refused duplicate: %d events, want 2", len(got))
	}
}

func testAdverseEvents(t *testing.T, open Opener) {
	s, cs := staffStore(t, open)
	eka1, eka2, tsr := cs[0], cs[1], cs[2]
	all := []vax.AdverseEvent{
		event(1, benRef(1), eka1, ernakulam.ID, vax.SeverityMinor, 0),
		event(2, benRef(2), eka2, ernakulam.ID, vax.SeveritySerious, time.Minute),
		event(3, benRef(3), eka1, ernakulam.ID, vax.SeverityMinor, time.Minute), // same time as 2
		event(4, benRef(4), tsr, thrissur.ID, vax.SeveritySerious, 2*time.Minute),
		event(5, benRef(5), eka1, ernakulam.ID, vax.SeveritySevere, 3*time.Minute),
	}
	recordEvents(t, s, all[3], all[0], all[4], all[2], all[1])
	t2 := all[1].ReportedAt
	tests := []struct {
		name string
		q    vax.AdverseEventQuery
		want []int
	}{
		{"all, newest first", vax.AdverseEventQuery{}, []int{5, 4, 3, 2, 1}},
		{"district", vax.AdverseEventQuery{DistrictID: ernakulam.ID}, []int{5, 3, 2, 1}},
		{"centre", vax.AdverseEventQuery{CentreID: eka1}, []int{5, 3, 1}},
		{"severity", vax.AdverseEventQuery{Severity: vax.SeveritySerious}, []int{4, 2}},
		{"district and severity", vax.AdverseEventQuery{DistrictID: ernakulam.ID, Severity: vax.SeveritySerious}, []int{2}},
		{"unknown district", vax.AdverseEventQuery{DistrictID: newDelhi.ID}, nil},
		{"limit", vax.AdverseEventQuery{Limit: 2}, []int{5, 4}},
		{"after a page", vax.AdverseEventQuery{BeforeTime: all[3].ReportedAt, BeforeID: eventID(4), Limit: 2}, []int{3, 2}},
		{"within a tie", vax.AdverseEventQuery{BeforeTime: t2, BeforeID: eventID(3)}, []int{2, 1}},
		{"after the tie", vax.AdverseEventQuery{BeforeTime: t2, BeforeID: eventID(2)}, []int{1}},
		{"page of a filter", vax.AdverseEventQuery{CentreID: eka1, BeforeTime: all[4].ReportedAt, BeforeID: eventID(5)}, []int{3, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []vax.AdverseEvent
			for _, n := range tc.want {
				want = append(want, storedEvent(all[n-1]))
			}
			if d := cmp.Diff(want, adverseEvents(t, s, tc.q), cmpEmpty); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
		})
	}
}

// Races.

// testDoseRace has pairs of transactions on two handles record the same
// (ref, dose) at once: each pair leaves exactly one record, and the other
// gets Conflict.
func testDoseRace(t *testing.T, open Opener) {
	const refs = 20
	h := open(t)
	s := h.Store
	seed(t, s)
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]
	handles := []vax.Store{s, h.Second(t)}
	errs := make([][2]error, refs)
	var wg sync.WaitGroup
	for n := range refs {
		for i := range 2 {
			wg.Go(func() {
				d := dose(2*n+i+1, benRef(n+1), 1, cid)
				errs[n][i] = handles[i].InTx(t.Context(), func(tx vax.Tx) error { return tx.RecordDose(t.Context(), d) })
			})
		}
	}
	wg.Wait()
	for n, pair := range errs {
		ok, conflict := 0, 0
		for _, err := range pair {
			switch {
			case err == nil:
				ok++
			case vax.ErrorCode(err) == vax.Conflict:
				conflict++
			default:
				t.Errorf("ref %d: unexpected error %v", n+1, err)
			}
		}
		if ok != 1 || conflict != 1 {
			t.Errorf("ref %d: %d recorded, %d conflicts; want 1, 1", n+1, ok, conflict)
		}
		if ds := dosesOf(t, s, benRef(n+1)); len(ds) != 1 {
			t.Errorf("ref %d: %d records, want 1", n+1, len(ds))
		}
	}
}

// testLotRace draws more doses than a lot holds, through two handles: the
// lot gives exactly what it received and never more.
func testLotRace(t *testing.T, open Opener) {
	const received, attempts = 25, 60
	h := open(t)
	s := h.Store
	seed(t, s)
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]
	createLots(t, s, lot(cid, "A1", received))
	handles := []vax.Store{s, h.Second(t)}
	var mu sync.Mutex
	ok, full := 0, 0
	var other []error
	var wg sync.WaitGroup
	for n := range attempts {
		wg.Go(func() {
			err := handles[n%2].InTx(t.Context(), func(tx vax.Tx) error { return tx.UseLot(t.Context(), cid, "A1") })
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case vax.ErrorCode(err) == vax.Full:
				full++
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("%d unexpected errors, first: %v", len(other), other[0])
	}
	if ok != received || full != attempts-received {
		t.Errorf("got %d used, %d full; want %d, %d", ok, full, received, attempts-received)
	}
	if got, err := readLot(t, s, cid, "A1"); err != nil || got.Used != received {
		t.Errorf("lot used %d (%v), want %d", got.Used, err, received)
	}
}

// testCodeFailureRace counts wrong codes entered at once through two
// handles: every failure counts, and each caller sees a distinct count.
func testCodeFailureRace(t *testing.T, open Opener) {
	const failures = 20
	h := open(t)
	s := bookingStore(t, func(*testing.T) Handles { return h }, 10)
	book(t, s, appointment(1, 1, sessionID(1), benRef(1)))
	handles := []vax.Store{s, h.Second(t)}
	counts := make([]int, failures)
	errs := make([]error, failures)
	var wg sync.WaitGroup
	for i := range failures {
		wg.Go(func() {
			errs[i] = handles[i%2].InTx(t.Context(), func(tx vax.Tx) (err error) {
				counts[i], err = tx.CodeFailure(t.Context(), apptID(1))
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	slices.Sort(counts)
	var want []int
	for n := 1; n <= failures; n++ {
		want = append(want, n)
	}
	if d := cmp.Diff(want, counts); d != "" {
		t.Errorf("counts seen, sorted (-want +got):\n%s", d)
	}
	if a, err := readAppointment(t, s, apptID(1)); err != nil || a.CodeFailures != failures {
		t.Errorf("code failures %d (%v), want %d", a.CodeFailures, err, failures)
	}
}
