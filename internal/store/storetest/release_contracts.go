package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/vax"
)

// Fair release. Stores keep a release's ReleaseAt and an entry's ArrivedAt
// to the millisecond (truncated) and a release's CreatedAt and DrawnAt in
// whole seconds (truncated); ids come back in lower case.

// relT0 is the first test release time.
var relT0 = time.Date(2021, 6, 1, 16, 0, 0, 0, time.UTC)

// releaseID returns the n-th test release id.
func releaseID(n int) string { return fmt.Sprintf("70000000-0000-4000-8000-%012d", n) }

// entryID returns the n-th test release entry id.
func entryID(n int) string { return fmt.Sprintf("80000000-0000-4000-8000-%012d", n) }

// newRelease returns scheduled release n of sessions sids, released n
// minutes after relT0 plus a fraction of a millisecond the store drops.
func newRelease(n int, sids ...string) vax.Release {
	seed := sha256.Sum256(fmt.Appendf(nil, "seed %d", n))
	hash := sha256.Sum256(seed[:])
	return vax.Release{
		ID:         releaseID(n),
		SessionIDs: sids,
		ReleaseAt:  relT0.Add(time.Duration(n)*time.Minute + 250*time.Millisecond + 700*time.Microsecond),
		Window:     10 * time.Second,
		Seed:       seed[:],
		SeedHash:   hex.EncodeToString(hash[:]),
		Status:     vax.ReleaseScheduled,
		CreatedBy:  staffID(1),
		CreatedAt:  relT0.Add(-time.Hour + 600*time.Millisecond),
	}
}

// storedRelease is r as a store returns it.
func storedRelease(r vax.Release) vax.Release {
	r.ReleaseAt, r.CreatedAt = ms(r.ReleaseAt), whole(r.CreatedAt)
	if !r.DrawnAt.IsZero() {
		r.DrawnAt = whole(r.DrawnAt)
	}
	return r
}

// newEntry returns pooled entry n of account acct in release rel for
// session sid and the beneficiaries refs, arriving n milliseconds (and a
// fraction the store drops) after relT0.
func newEntry(n int, rel string, acct int, sid string, refs ...string) vax.ReleaseEntry {
	return vax.ReleaseEntry{
		ID: entryID(n), ReleaseID: rel, AccountID: accountID(acct), SessionID: sid, Dose: 1,
		Slot: "09:00AM-11:00AM", Refs: refs, ArrivedAt: relT0.Add(time.Duration(n)*time.Millisecond + 400*time.Microsecond),
		Node: "node-a", Status: vax.EntryPooled,
	}
}

// storedEntry is e as a store returns it.
func storedEntry(e vax.ReleaseEntry) vax.ReleaseEntry {
	e.ArrivedAt = ms(e.ArrivedAt)
	return e
}

// releaseStore opens a seeded store with n open sessions (1..n).
func releaseStore(t *testing.T, open Opener, n int) vax.Store {
	t.Helper()
	s := seeded(t, open)
	createReleaseSessions(t, s, n)
	return s
}

func createReleaseSessions(t *testing.T, s vax.Store, n int) {
	t.Helper()
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]
	ss := make([]vax.Session, n)
	for i := range ss {
		ss[i] = session(i+1, cid, day0.AddDays(i%7))
	}
	createSessions(t, s, ss...)
}

func createReleases(t *testing.T, s vax.Store, rs ...vax.Release) {
	t.Helper()
	insertAll(t, s, rs, func(tx vax.Tx, r vax.Release) error { return tx.CreateRelease(t.Context(), r) })
}

func readRelease(t *testing.T, s vax.Store, id string) (vax.Release, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.Release, error) { return tx.Release(t.Context(), id) })
}

func listReleases(t *testing.T, s vax.Store, status vax.ReleaseStatus) []vax.Release {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.Release, error) { return tx.Releases(t.Context(), status) })
}

func drawRelease(t *testing.T, s vax.Store, id string, at time.Time) {
	t.Helper()
	inTx(t, s, func(tx vax.Tx) error { return tx.DrawRelease(t.Context(), id, at) })
}

// enter runs EnterRelease in its own transaction.
func enter(t *testing.T, s vax.Store, e vax.ReleaseEntry) (vax.ReleaseEntry, bool) {
	t.Helper()
	var got vax.ReleaseEntry
	var ok bool
	inTx(t, s, func(tx vax.Tx) (err error) { got, ok, err = tx.EnterRelease(t.Context(), e); return err })
	return got, ok
}

func readEntry(t *testing.T, s vax.Store, id string) (vax.ReleaseEntry, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.ReleaseEntry, error) { return tx.ReleaseEntry(t.Context(), id) })
}

func listEntries(t *testing.T, s vax.Store, rel string) []vax.ReleaseEntry {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.ReleaseEntry, error) { return tx.ReleaseEntries(t.Context(), rel) })
}

// lastSeq is the newest change's Seq (0 when none).
func lastSeq(t *testing.T, s vax.Store) int64 {
	t.Helper()
	cs := allChanges(t, s)
	if len(cs) == 0 {
		return 0
	}
	return cs[len(cs)-1].Seq
}

// changesSince returns the changes after seq as sorted "kind key" strings.
func changesSince(t *testing.T, s vax.Store, seq int64) []string {
	t.Helper()
	cs, err := s.Changes(t.Context(), seq, vax.MaxLimit)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c.Kind) + " " + c.Key
	}
	slices.Sort(out)
	return out
}

// statuses returns the status of each session.
func statuses(t *testing.T, s vax.Store, ids ...string) []vax.SessionStatus {
	t.Helper()
	out := make([]vax.SessionStatus, len(ids))
	for i, id := range ids {
		out[i] = readSession(t, s, id).Status
	}
	return out
}

func testCreateRelease(t *testing.T, open Opener) {
	s := releaseStore(t, open, 8)
	before := lastSeq(t, s)
	r := newRelease(1, sessionID(3), sessionID(1)) // not in id order: the order given is kept
	createReleases(t, s, r)
	got, err := readRelease(t, s, r.ID)
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	if d := cmp.Diff(storedRelease(r), got); d != "" {
		t.Errorf("created release (-want +got):\n%s", d)
	}
	held, open2 := vax.SessionHeld, vax.SessionOpen
	if d := cmp.Diff([]vax.SessionStatus{held, open2, held}, statuses(t, s, sessionID(1), sessionID(2), sessionID(3))); d != "" {
		t.Errorf("session statuses 1-3 (-want +got):\n%s", d)
	}
	wantChanges := []string{"release " + r.ID, "session " + sessionID(1), "session " + sessionID(3)}
	if d := cmp.Diff(wantChanges, changesSince(t, s, before)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}

	// Session 4 is cancelled, 5 has a dose-1 seat booked, 6 a dose-2 seat.
	inTx(t, s, func(tx vax.Tx) error {
		se, err := tx.Session(t.Context(), sessionID(4))
		if err != nil {
			return err
		}
		se.Status = vax.SessionCancelled
		return tx.UpdateSession(t.Context(), se)
	})
	second := appointment(2, 2, sessionID(6), benRef(2))
	second.Dose = 2
	book(t, s, appointment(1, 1, sessionID(5), benRef(1)), second)

	sameID := newRelease(1, sessionID(2))
	noWindow := newRelease(2, sessionID(2))
	noWindow.Window = 0
	for name, c := range map[string]struct {
		r    vax.Release
		want vax.Code
	}{
		"id taken":                   {sameID, vax.Conflict},
		"session in another release": {newRelease(2, sessionID(2), sessionID(1)), vax.Conflict},
		"session cancelled":          {newRelease(2, sessionID(2), sessionID(4)), vax.Conflict},
		"dose 1 booked":              {newRelease(2, sessionID(2), sessionID(5)), vax.Conflict},
		"dose 2 booked":              {newRelease(2, sessionID(2), sessionID(6)), vax.Conflict},
		"unknown session":            {newRelease(2, sessionID(2), sessionID(99)), vax.NotFound},
		"session id not a UUID":      {newRelease(2, "x"), vax.NotFound},
		"no sessions":                {newRelease(2), vax.Invalid},
		"no window":                  {noWindow, vax.Invalid},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CreateRelease(ctx, c.r) })
		wantCode(t, name, err, c.want)
	}
	// A refused release writes nothing, even when the caller commits.
	before = lastSeq(t, s)
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		wantCode(t, "refused, committed", tx.CreateRelease(ctx, newRelease(3, sessionID(2), sessionID(4))), vax.Conflict)
		wantCode(t, "id taken, committed", tx.CreateRelease(ctx, sameID), vax.Conflict)
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if _, err := readRelease(t, s, releaseID(3)); vax.ErrorCode(err) != vax.NotFound {
		t.Errorf("refused release 3: Release gave %v, want NotFound", err)
	}
	if got := statuses(t, s, sessionID(2)); got[0] != vax.SessionOpen {
		t.Errorf("session 2 after refusals: %s, want open", got[0])
	}
	if cs := changesSince(t, s, before); len(cs) != 0 {
		t.Errorf("changes after refusals: %v, want none", cs)
	}
	// A session stays in its release once drawn.
	drawRelease(t, s, r.ID, relT0)
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		return tx.CreateRelease(ctx, newRelease(4, sessionID(1)))
	})
	wantCode(t, "session of a drawn release", err, vax.Conflict)
	err = s.View(t.Context(), func(tx vax.Tx) error { return tx.CreateRelease(t.Context(), newRelease(5, sessionID(7))) })
	if err == nil {
		t.Error("CreateRelease in View: got no error")
	}
	t.Run("held sessions refuse bookings", func(t *testing.T) { testHeldRefusesBookings(t, open) })
}

// testHeldRefusesBookings checks that a held session is booked by nothing
// but its draw: BookAppointment, BookAppointments and MoveAppointment
// treat it as a session that is not open.
func testHeldRefusesBookings(t *testing.T, open Opener) {
	s := releaseStore(t, open, 2)
	book(t, s, appointment(1, 1, sessionID(2), benRef(1)))
	createReleases(t, s, newRelease(1, sessionID(1)))
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		return tx.BookAppointment(ctx, appointment(2, 2, sessionID(1), benRef(2)))
	})
	wantCode(t, "BookAppointment", err, vax.Full)
	var booked []bool
	inTx(t, s, func(tx vax.Tx) (err error) {
		booked, err = tx.BookAppointments(t.Context(), []vax.Appointment{appointment(3, 3, sessionID(1), benRef(3))}, nil)
		return err
	})
	if d := cmp.Diff([]bool{false}, booked); d != "" {
		t.Errorf("BookAppointments (-want +got):\n%s", d)
	}
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		return tx.MoveAppointment(ctx, apptID(1), sessionID(1), "09:00AM-11:00AM")
	})
	wantCode(t, "MoveAppointment", err, vax.Full)
	if se := readSession(t, s, sessionID(1)); se.Booked1 != 0 || se.Status != vax.SessionHeld {
		t.Errorf("held session: booked1 %d, status %s; want 0, held", se.Booked1, se.Status)
	}
	// Once drawn it books as any open session.
	drawRelease(t, s, releaseID(1), relT0)
	book(t, s, appointment(2, 2, sessionID(1), benRef(2)))
	if se := readSession(t, s, sessionID(1)); se.Booked1 != 1 {
		t.Errorf("drawn session: booked1 %d, want 1", se.Booked1)
	}
}

func testRelease(t *testing.T, open Opener) {
	h := open(t)
	s := h.Store
	seed(t, s)
	createReleaseSessions(t, s, 2)
	r := newRelease(1, sessionID(1), sessionID(2))
	createReleases(t, s, r)
	for _, id := range []string{releaseID(9), "not-a-uuid"} {
		_, err := readRelease(t, s, id)
		wantCode(t, "release "+id, err, vax.NotFound)
	}
	// Read in a read-write transaction, a release is locked until that
	// transaction ends: an entry from another handle waits, then finds it
	// drawn.
	second := h.Second(t)
	entered := make(chan error, 1)
	early := false
	err := s.InTx(t.Context(), func(tx vax.Tx) error {
		got, err := tx.Release(t.Context(), r.ID)
		if err != nil {
			return err
		}
		if d := cmp.Diff(storedRelease(r), got); d != "" {
			t.Errorf("release in InTx (-want +got):\n%s", d)
		}
		go func() {
			entered <- second.InTx(t.Context(), func(tx vax.Tx) error {
				_, _, err := tx.EnterRelease(t.Context(), newEntry(1, r.ID, 1, sessionID(1), benRef(1)))
				return err
			})
		}()
		// A store that failed to lock would let the entry in while the
		// draw is pending; give it a moment to show that. A store that
		// locks passes however long this is.
		select {
		case err := <-entered:
			early = true
			t.Errorf("EnterRelease returned %v while the release was locked", err)
		case <-time.After(100 * time.Millisecond):
		}
		return tx.DrawRelease(t.Context(), r.ID, relT0)
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if !early {
		wantCode(t, "entry waiting for the draw", <-entered, vax.Conflict)
	}
	if es := listEntries(t, s, r.ID); len(es) != 0 {
		t.Errorf("entries of a release drawn under lock: %d, want 0", len(es))
	}
}

func testReleaseOfSession(t *testing.T, open Opener) {
	s := releaseStore(t, open, 3)
	r1, r2 := newRelease(1, sessionID(1)), newRelease(2, sessionID(2))
	createReleases(t, s, r1, r2)
	drawRelease(t, s, r2.ID, relT0.Add(time.Hour))
	r2.Status, r2.DrawnAt = vax.ReleaseDrawn, relT0.Add(time.Hour)
	for _, c := range []struct {
		session string
		want    vax.Release
	}{{sessionID(1), r1}, {sessionID(2), r2}} {
		var got vax.Release
		view(t, s, func(tx vax.Tx) (err error) { got, err = tx.ReleaseOfSession(t.Context(), c.session); return err })
		if d := cmp.Diff(storedRelease(c.want), got); d != "" {
			t.Errorf("release of session %s (-want +got):\n%s", c.session, d)
		}
	}
	for _, id := range []string{sessionID(3), sessionID(99), "x"} {
		err := s.View(t.Context(), func(tx vax.Tx) error { _, err := tx.ReleaseOfSession(t.Context(), id); return err })
		wantCode(t, "release of session "+id, err, vax.NotFound)
	}
}

func testReleases(t *testing.T, open Opener) {
	s := releaseStore(t, open, 4)
	if got := listReleases(t, s, ""); len(got) != 0 {
		t.Errorf("Releases of an empty store: %d, want none", len(got))
	}
	// Release 3 comes first; 1 and 4 share a release time, so by id.
	r1, r2 := newRelease(1, sessionID(1)), newRelease(2, sessionID(2))
	r3, r4 := newRelease(3, sessionID(3)), newRelease(4, sessionID(4))
	r3.ReleaseAt = relT0
	r4.ReleaseAt = r1.ReleaseAt
	createReleases(t, s, r4, r2, r1, r3)
	drawRelease(t, s, r2.ID, relT0.Add(time.Hour))
	r2.Status, r2.DrawnAt = vax.ReleaseDrawn, relT0.Add(time.Hour)
	stored := func(rs ...vax.Release) []vax.Release {
		for i := range rs {
			rs[i] = storedRelease(rs[i])
		}
		return rs
	}
	for _, c := range []struct {
		status vax.ReleaseStatus
		want   []vax.Release
	}{
		{"", stored(r3, r1, r4, r2)},
		{vax.ReleaseScheduled, stored(r3, r1, r4)},
		{vax.ReleaseDrawn, stored(r2)},
	} {
		if d := cmp.Diff(c.want, listReleases(t, s, c.status)); d != "" {
			t.Errorf("Releases(%q) (-want +got):\n%s", c.status, d)
		}
	}
}

func testEnterRelease(t *testing.T, open Opener) {
	s := releaseStore(t, open, 3)
	r, other := newRelease(1, sessionID(1)), newRelease(2, sessionID(2))
	createReleases(t, s, r, other)
	first := newEntry(1, r.ID, 1, sessionID(1), benRef(1), benRef(2))
	got, ok := enter(t, s, first)
	if !ok {
		t.Error("first entry: inserted false, want true")
	}
	if d := cmp.Diff(storedEntry(first), got); d != "" {
		t.Errorf("first entry returned (-want +got):\n%s", d)
	}
	if stored, err := readEntry(t, s, first.ID); err != nil || !cmp.Equal(storedEntry(first), stored) {
		t.Errorf("first entry stored: %+v, %v; want %+v", stored, err, storedEntry(first))
	}

	// An entry sharing a beneficiary gets the entry holding it and inserts
	// nothing: its other beneficiary stays free.
	sharing := newEntry(2, r.ID, 2, sessionID(1), benRef(3), benRef(2))
	if got, ok := enter(t, s, sharing); ok || got.ID != first.ID {
		t.Errorf("entry sharing a beneficiary: got %s, %v; want %s, false", got.ID, ok, first.ID)
	}
	if _, err := readEntry(t, s, sharing.ID); vax.ErrorCode(err) != vax.NotFound {
		t.Errorf("refused entry: ReleaseEntry gave %v, want NotFound", err)
	}
	third := newEntry(3, r.ID, 2, sessionID(1), benRef(3))
	if _, ok := enter(t, s, third); !ok {
		t.Error("entry for the refused entry's other beneficiary: inserted false, want true")
	}
	// With beneficiaries held by two entries, the first held one decides.
	for _, c := range []struct {
		refs []string
		want string
	}{{[]string{benRef(3), benRef(1)}, third.ID}, {[]string{benRef(1), benRef(3)}, first.ID}} {
		if got, ok := enter(t, s, newEntry(4, r.ID, 3, sessionID(1), c.refs...)); ok || got.ID != c.want {
			t.Errorf("entry for %v: got %s, %v; want %s, false", c.refs, got.ID, ok, c.want)
		}
	}
	// A retried entry is answered with itself.
	if got, ok := enter(t, s, first); ok || !cmp.Equal(storedEntry(first), got) {
		t.Errorf("retried entry: got %+v, %v; want itself, false", got, ok)
	}
	// Each release has its own entries.
	if _, ok := enter(t, s, newEntry(5, other.ID, 1, sessionID(2), benRef(1))); !ok {
		t.Error("same beneficiary in another release: inserted false, want true")
	}

	drawn := newRelease(3, sessionID(3))
	createReleases(t, s, drawn)
	drawRelease(t, s, drawn.ID, relT0)
	sameID := newEntry(1, r.ID, 1, sessionID(1), benRef(6))
	notPooled := newEntry(8, r.ID, 1, sessionID(1), benRef(7))
	notPooled.Status = vax.EntryWon
	for name, c := range map[string]struct {
		e    vax.ReleaseEntry
		want vax.Code
	}{
		"id taken":        {sameID, vax.Conflict},
		"release drawn":   {newEntry(6, drawn.ID, 1, sessionID(3), benRef(6)), vax.Conflict},
		"unknown release": {newEntry(7, releaseID(9), 1, sessionID(1), benRef(6)), vax.NotFound},
		"not pooled":      {notPooled, vax.Invalid},
		"no refs":         {newEntry(9, r.ID, 1, sessionID(1)), vax.Invalid},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
			_, _, err := tx.EnterRelease(ctx, c.e)
			return err
		})
		wantCode(t, name, err, c.want)
	}
	// The refused id-taken entry claimed none of its beneficiaries.
	if _, ok := enter(t, s, newEntry(10, r.ID, 1, sessionID(1), benRef(6))); !ok {
		t.Error("beneficiary of a refused entry: inserted false, want true")
	}
	err := s.View(t.Context(), func(tx vax.Tx) error {
		_, _, err := tx.EnterRelease(t.Context(), newEntry(11, r.ID, 1, sessionID(1), benRef(8)))
		return err
	})
	if err == nil {
		t.Error("EnterRelease in View: got no error")
	}
	t.Run("race", func(t *testing.T) { testEnterReleaseRace(t, open) })
}

// testEnterReleaseRace has many entries naming the same beneficiaries (in
// either order) enter at once through two handles: exactly one is
// recorded, and every other caller is answered with it.
func testEnterReleaseRace(t *testing.T, open Opener) {
	const workers = 16
	h := open(t)
	s := h.Store
	seed(t, s)
	createReleaseSessions(t, s, 1)
	r := newRelease(1, sessionID(1))
	createReleases(t, s, r)
	handles := []vax.Store{s, h.Second(t)}
	type result struct {
		e   vax.ReleaseEntry
		ok  bool
		err error
	}
	results := make([]result, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		refs := []string{benRef(1), benRef(2)}
		if w%4 >= 2 {
			refs = []string{benRef(2), benRef(1)}
		}
		e := newEntry(w+1, r.ID, w+1, sessionID(1), refs...)
		wg.Go(func() {
			<-start
			results[w].err = handles[w%2].InTx(t.Context(), func(tx vax.Tx) (err error) {
				results[w].e, results[w].ok, err = tx.EnterRelease(t.Context(), e)
				return err
			})
		})
	}
	close(start)
	wg.Wait()
	es := listEntries(t, s, r.ID)
	if len(es) != 1 {
		t.Fatalf("entries recorded: %d, want 1", len(es))
	}
	inserted := 0
	for w, res := range results {
		switch {
		case res.err != nil:
			t.Errorf("worker %d: %v", w, res.err)
		case res.ok:
			inserted++
			if res.e.ID != es[0].ID {
				t.Errorf("worker %d inserted %s, but %s is stored", w, res.e.ID, es[0].ID)
			}
		case !cmp.Equal(es[0], res.e):
			t.Errorf("worker %d answered with %+v, want the stored %+v", w, res.e, es[0])
		}
	}
	if inserted != 1 {
		t.Errorf("callers told they inserted: %d, want 1", inserted)
	}
}

func testReleaseEntry(t *testing.T, open Opener) {
	s := releaseStore(t, open, 1)
	createReleases(t, s, newRelease(1, sessionID(1)))
	enter(t, s, newEntry(1, releaseID(1), 1, sessionID(1), benRef(1)))
	for _, id := range []string{entryID(9), releaseID(1), "not-a-uuid"} {
		_, err := readEntry(t, s, id)
		wantCode(t, "entry "+id, err, vax.NotFound)
	}
}

func testReleaseEntries(t *testing.T, open Opener) {
	s := releaseStore(t, open, 2)
	createReleases(t, s, newRelease(1, sessionID(1)), newRelease(2, sessionID(2)))
	if got := listEntries(t, s, releaseID(1)); len(got) != 0 {
		t.Errorf("entries before any: %d, want none", len(got))
	}
	// Entry 3 arrives first; 1 and 2 in the same millisecond, so by id.
	e1 := newEntry(1, releaseID(1), 1, sessionID(1), benRef(1))
	e2 := newEntry(2, releaseID(1), 2, sessionID(1), benRef(2), benRef(3))
	e3 := newEntry(3, releaseID(1), 3, sessionID(1), benRef(4))
	e2.ArrivedAt = e1.ArrivedAt.Add(300 * time.Microsecond)
	e3.ArrivedAt = relT0
	for _, e := range []vax.ReleaseEntry{e2, e3, e1, newEntry(4, releaseID(2), 1, sessionID(2), benRef(1))} {
		enter(t, s, e)
	}
	want := []vax.ReleaseEntry{storedEntry(e3), storedEntry(e1), storedEntry(e2)}
	if d := cmp.Diff(want, listEntries(t, s, releaseID(1))); d != "" {
		t.Errorf("ReleaseEntries (-want +got):\n%s", d)
	}
	for _, id := range []string{releaseID(9), "x"} {
		if got := listEntries(t, s, id); len(got) != 0 {
			t.Errorf("entries of release %s: %d, want none", id, len(got))
		}
	}
}

func testDrawRelease(t *testing.T, open Opener) {
	s := releaseStore(t, open, 4)
	r := newRelease(1, sessionID(1), sessionID(2), sessionID(3))
	createReleases(t, s, r, newRelease(2, sessionID(4)))
	// Session 2 is cancelled while held: the draw leaves it so.
	inTx(t, s, func(tx vax.Tx) error {
		se, err := tx.Session(t.Context(), sessionID(2))
		if err != nil {
			return err
		}
		se.Status = vax.SessionCancelled
		return tx.UpdateSession(t.Context(), se)
	})
	before := lastSeq(t, s)
	at := relT0.Add(10*time.Second + 700*time.Millisecond)
	drawRelease(t, s, r.ID, at)
	got, err := readRelease(t, s, r.ID)
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	r.Status, r.DrawnAt = vax.ReleaseDrawn, at
	if d := cmp.Diff(storedRelease(r), got); d != "" {
		t.Errorf("drawn release (-want +got):\n%s", d)
	}
	want := []vax.SessionStatus{vax.SessionOpen, vax.SessionCancelled, vax.SessionOpen, vax.SessionHeld}
	if d := cmp.Diff(want, statuses(t, s, sessionID(1), sessionID(2), sessionID(3), sessionID(4))); d != "" {
		t.Errorf("session statuses after the draw (-want +got):\n%s", d)
	}
	wantChanges := []string{"release " + r.ID, "session " + sessionID(1), "session " + sessionID(3)}
	if d := cmp.Diff(wantChanges, changesSince(t, s, before)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	for name, c := range map[string]struct {
		id   string
		want vax.Code
	}{
		"drawn already":   {r.ID, vax.Conflict},
		"unknown release": {releaseID(9), vax.NotFound},
		"not a UUID":      {"x", vax.NotFound},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.DrawRelease(ctx, c.id, at) })
		wantCode(t, name, err, c.want)
	}
	err = s.View(t.Context(), func(tx vax.Tx) error { return tx.DrawRelease(t.Context(), releaseID(2), at) })
	if err == nil {
		t.Error("DrawRelease in View: got no error")
	}
}

func testSetEntryOutcomes(t *testing.T, open Opener) {
	s := releaseStore(t, open, 1)
	createReleases(t, s, newRelease(1, sessionID(1)))
	es := []vax.ReleaseEntry{
		newEntry(1, releaseID(1), 1, sessionID(1), benRef(1)),
		newEntry(2, releaseID(1), 2, sessionID(1), benRef(2)),
		newEntry(3, releaseID(1), 3, sessionID(1), benRef(3)),
	}
	for _, e := range es {
		enter(t, s, e)
	}
	want := make([]vax.ReleaseEntry, len(es))
	for i, e := range es {
		want[i] = storedEntry(e)
	}
	want[0].Rank, want[0].Status, want[0].AppointmentID = 2, vax.EntryWon, apptID(1)
	want[1].Rank, want[1].Status, want[1].Reason = 3, vax.EntryLost, "APPOIN0040"
	want[2].Rank, want[2].Status, want[2].Reason = 1, vax.EntryRefused, "APPOIN0044"
	// Only the outcome fields are stored, whatever else the caller passes.
	outcomes := slices.Clone(want)
	outcomes[0].Slot, outcomes[1].Node, outcomes[2].Refs = "other slot", "node-b", []string{benRef(9)}
	inTx(t, s, func(tx vax.Tx) error { return tx.SetEntryOutcomes(t.Context(), outcomes) })
	if d := cmp.Diff(want, listEntries(t, s, releaseID(1))); d != "" {
		t.Errorf("entries after SetEntryOutcomes (-want +got):\n%s", d)
	}
	inTx(t, s, func(tx vax.Tx) error { return tx.SetEntryOutcomes(t.Context(), nil) })

	changed := want[0]
	changed.Status, changed.Rank = vax.EntryLost, 9
	unknown := newEntry(9, releaseID(1), 1, sessionID(1), benRef(1))
	for name, c := range map[string]struct {
		es   []vax.ReleaseEntry
		want vax.Code
	}{
		"unknown entry":  {[]vax.ReleaseEntry{changed, unknown}, vax.NotFound},
		"id not a UUID":  {[]vax.ReleaseEntry{changed, {ID: "x"}}, vax.NotFound},
		"entry twice":    {[]vax.ReleaseEntry{changed, changed}, vax.Invalid},
		"only an absent": {[]vax.ReleaseEntry{unknown}, vax.NotFound},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.SetEntryOutcomes(ctx, c.es) })
		wantCode(t, name, err, c.want)
	}
	// A refused call changes nothing, even when the caller commits.
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		wantCode(t, "unknown entry, committed", tx.SetEntryOutcomes(ctx, []vax.ReleaseEntry{changed, unknown}), vax.NotFound)
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if d := cmp.Diff(want, listEntries(t, s, releaseID(1))); d != "" {
		t.Errorf("entries after refused calls (-want +got):\n%s", d)
	}
	err = s.View(t.Context(), func(tx vax.Tx) error { return tx.SetEntryOutcomes(t.Context(), want) })
	if err == nil {
		t.Error("SetEntryOutcomes in View: got no error")
	}
}
