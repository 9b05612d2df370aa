package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vaxport/vaxport/internal/vax"
)

// Master data the tests share. Ids are Co-WIN's.
var (
	kerala = vax.State{ID: 17, Name: "Kerala", LocalNames: map[string]string{"ml": "കേരളം"}}
	delhi  = vax.State{ID: 9, Name: "Delhi", LocalNames: map[string]string{"hi": "दिल्ली"}}

	ernakulam = vax.District{ID: 307, StateID: 17, Name: "Ernakulam", LocalNames: map[string]string{"ml": "എറണാകുളം"}}
	thrissur  = vax.District{ID: 303, StateID: 17, Name: "Thrissur"}
	newDelhi  = vax.District{ID: 140, StateID: 9, Name: "New Delhi"}

	covishield = vax.Vaccine{Name: "COVISHIELD", Doses: 2, IntervalDays: 84,
		DCCProduct: "Covishield", DCCManufacturer: "ORG-100001981", DCCProphylaxis: "J07BX03"}
	covaxin = vax.Vaccine{Name: "COVAXIN", Doses: 2, IntervalDays: 28,
		DCCProduct: "Covaxin", DCCManufacturer: "ORG-100020693", DCCProphylaxis: "J07BX03"}
)

// day0 is the first session date the tests use.
var day0 = vax.Date{Year: 2021, Month: time.June, Day: 1}

// ignoreUpdatedAt compares sessions without the store-stamped time.
var ignoreUpdatedAt = cmpopts.IgnoreFields(vax.Session{}, "UpdatedAt")

// errStop is what test transactions return to force a rollback.
var errStop = errors.New("storetest: stop")

// newStore opens an isolated store.
func newStore(t *testing.T, open Opener) vax.Store {
	t.Helper()
	h := open(t)
	if h.Store == nil {
		t.Fatal("Opener returned no store")
	}
	return h.Store
}

// seeded opens an isolated store holding the shared master data.
func seeded(t *testing.T, open Opener) vax.Store {
	t.Helper()
	s := newStore(t, open)
	seed(t, s)
	return s
}

func seed(t *testing.T, s vax.Store) {
	t.Helper()
	inTx(t, s, func(tx vax.Tx) error {
		ctx := t.Context()
		for _, st := range []vax.State{kerala, delhi} {
			if err := tx.PutState(ctx, st); err != nil {
				return err
			}
		}
		for _, d := range []vax.District{ernakulam, thrissur, newDelhi} {
			if err := tx.PutDistrict(ctx, d); err != nil {
				return err
			}
		}
		for _, v := range []vax.Vaccine{covishield, covaxin} {
			if err := tx.PutVaccine(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// inTx runs fn in s.InTx and fails the test on an error. fn reports
// errors by returning them, never with t.Fatal, so the transaction ends.
func inTx(t *testing.T, s vax.Store, fn func(vax.Tx) error) {
	t.Helper()
	if err := s.InTx(t.Context(), fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// view runs fn in s.View and fails the test on an error.
func view(t *testing.T, s vax.Store, fn func(vax.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// get runs read in its own View and returns what it read.
func get[T any](t *testing.T, s vax.Store, read func(tx vax.Tx) (T, error)) (T, error) {
	t.Helper()
	var v T
	err := s.View(t.Context(), func(tx vax.Tx) (err error) { v, err = read(tx); return err })
	return v, err
}

// mustGet is get, failing the test on an error.
func mustGet[T any](t *testing.T, s vax.Store, read func(tx vax.Tx) (T, error)) T {
	t.Helper()
	v, err := get(t, s, read)
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return v
}

// txErr runs fn in its own InTx and returns the error, for the cases that
// expect one.
func txErr(t *testing.T, s vax.Store, fn func(ctx context.Context, tx vax.Tx) error) error {
	t.Helper()
	return s.InTx(t.Context(), func(tx vax.Tx) error { return fn(t.Context(), tx) })
}

// wantCode fails unless err has the code want (errors.Is on the sentinel).
func wantCode(t *testing.T, what string, err error, want vax.Code) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want %s", what, want)
		return
	}
	if !errors.Is(err, &vax.Error{Code: want}) {
		t.Errorf("%s: got %v (code %s), want code %s", what, err, vax.ErrorCode(err), want)
	}
}

// centre returns a Free centre in d; pass ID 0 to have one assigned.
func centre(id int64, d vax.District, pincode int) vax.Centre {
	return vax.Centre{
		ID:         id,
		Name:       fmt.Sprintf("PHC %d", pincode),
		Address:    "Main Road",
		StateID:    d.StateID,
		DistrictID: d.ID,
		BlockName:  "Block " + d.Name,
		Pincode:    pincode,
		Lat:        9.981636,
		Long:       76.299884,
		From:       "09:00:00",
		To:         "17:00:00",
		FeeType:    vax.Free,
	}
}

// paidCentre returns a Paid centre in d.
func paidCentre(id int64, d vax.District, pincode int) vax.Centre {
	c := centre(id, d, pincode)
	c.Name = fmt.Sprintf("Hospital %d", pincode)
	c.FeeType = vax.Paid
	c.Fees = []vax.Fee{{Vaccine: "COVISHIELD", Amount: 780}, {Vaccine: "COVAXIN", Amount: 1410}}
	return c
}

// sessionID returns the n-th test session id, a UUID that sorts by n.
func sessionID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// session returns an open COVISHIELD session n at centre on date.
func session(n int, centre int64, date vax.Date) vax.Session {
	return vax.Session{
		ID:        sessionID(n),
		CentreID:  centre,
		Date:      date,
		Vaccine:   "COVISHIELD",
		MinAge:    18,
		MaxAge:    44,
		Capacity1: 100,
		Capacity2: 50,
		Slots:     []string{"09:00AM-11:00AM", "11:00AM-01:00PM"},
		Status:    vax.SessionOpen,
	}
}

// insertAll writes xs with put in one transaction, failing the test on
// the first error.
func insertAll[T any](t *testing.T, s vax.Store, xs []T, put func(vax.Tx, T) error) {
	t.Helper()
	inTx(t, s, func(tx vax.Tx) error {
		for _, x := range xs {
			if err := put(tx, x); err != nil {
				return err
			}
		}
		return nil
	})
}

// createCentres creates cs and returns their ids.
func createCentres(t *testing.T, s vax.Store, cs ...vax.Centre) []int64 {
	t.Helper()
	ids := make([]int64, len(cs))
	inTx(t, s, func(tx vax.Tx) error {
		for i, c := range cs {
			id, err := tx.CreateCentre(t.Context(), c)
			if err != nil {
				return fmt.Errorf("create centre %d: %w", i, err)
			}
			ids[i] = id
		}
		return nil
	})
	return ids
}

// createSessions creates ss.
func createSessions(t *testing.T, s vax.Store, ss ...vax.Session) {
	t.Helper()
	insertAll(t, s, ss, func(tx vax.Tx, se vax.Session) error { return tx.CreateSession(t.Context(), se) })
}

// appendChanges appends one change per key, all of kind, in one transaction.
func appendChanges(t *testing.T, s vax.Store, kind vax.ChangeKind, keys ...string) {
	t.Helper()
	insertAll(t, s, keys, func(tx vax.Tx, k string) error { return tx.AppendChange(t.Context(), kind, k) })
}

// allChanges reads the whole feed.
func allChanges(t *testing.T, s vax.Store) []vax.Change {
	t.Helper()
	cs, err := s.Changes(t.Context(), 0, vax.MaxLimit)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	return cs
}

// changeKeys returns the keys of cs in order.
func changeKeys(cs []vax.Change) []string {
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key
	}
	return keys
}

// checkStamp fails unless ts is a store time: set, UTC, whole seconds.
func checkStamp(t *testing.T, what string, ts time.Time) {
	t.Helper()
	if ts.IsZero() || ts.Location() != time.UTC || ts.Nanosecond() != 0 {
		t.Errorf("%s = %v (%s): want a non-zero UTC time in whole seconds", what, ts, ts.Location())
	}
}

// sessionIDs returns the ids of ss in order.
func sessionIDs(ss []vax.Session) []string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

// centreIDs returns the ids of cs in order.
func centreIDs(cs []vax.Centre) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// waitFor polls cond every 10 ms until it holds or 2 s pass.
func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.NewTimer(2 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%s: not seen within 2s", what)
		case <-tick.C:
		}
	}
}

// cmpEmpty treats nil and empty slices as equal where only the elements
// matter.
var cmpEmpty = cmpopts.EquateEmpty()
