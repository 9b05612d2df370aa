package release_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/release"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

var ist = time.FixedZone("IST", 5*3600+1800)

// t0 is 10:00 IST on 1 June 2021, when the tests begin; their sessions
// are the next day.
var t0 = time.Date(2021, time.June, 1, 10, 0, 0, 0, ist)

// env is a store with master data and one centre, shared by the nodes of
// a test.
type env struct {
	store  vax.Store
	keys   *keyring.Keyring
	clock  vax.Clock
	centre int64
}

func newEnv(t testing.TB, store vax.Store, clock vax.Clock) *env {
	t.Helper()
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, t0)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	e := &env{store: store, keys: keys, clock: clock}
	e.centre = backendtest.KochiCentre(t, e.store)
	return e
}

// sqliteEnv is an env on a fresh SQLite store with a manual clock at t0.
func sqliteEnv(t testing.TB) (*env, *vax.ManualClock) {
	clock := vax.NewManualClock(t0)
	return newEnv(t, backendtest.SQLite(t), clock), clock
}

func (e *env) inTx(t testing.TB, fn func(ctx context.Context, tx vax.Tx) error) {
	t.Helper()
	if err := e.store.InTx(t.Context(), func(tx vax.Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// node is one node's booking and release services.
type node struct {
	book *booking.Service
	rel  *release.Service
}

// mobile is every test account's number: 98765 and the last five digits
// of its id.
func mobile(a vax.Account) (string, error) { return "98765" + a.ID[len(a.ID)-5:], nil }

// node returns services named name on store (nil: e.store); random nil is
// crypto/rand.
func (e *env) node(t testing.TB, store vax.Store, name string, random io.Reader) node {
	t.Helper()
	if store == nil {
		store = e.store
	}
	book, err := booking.New(booking.Config{Store: store, Keys: e.keys, Clock: e.clock, Random: random,
		Rules: booking.Rules{Location: ist}, Node: name, Mobile: mobile})
	if err != nil {
		t.Fatalf("booking.New: %v", err)
	}
	rel, err := release.New(release.Config{Store: store, Booking: book, Clock: e.clock, Random: random})
	if err != nil {
		t.Fatalf("release.New: %v", err)
	}
	return node{book: book, rel: rel}
}

func sessID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
func acctID(n int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", n) }

// session creates open COVISHIELD session n on day with cap1 dose-1 seats.
func (e *env) session(t testing.TB, n, cap1 int, day vax.Date) vax.Session {
	t.Helper()
	se := vax.Session{ID: sessID(n), CentreID: e.centre, Date: day, Vaccine: "COVISHIELD", MinAge: 18, MaxAge: 44,
		Capacity1: cap1, Capacity2: 10, Slots: []string{"09:00AM-11:00AM", "11:00AM-01:00PM"}, Status: vax.SessionOpen}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return tx.CreateSession(ctx, se) })
	return se
}

// tomorrow is the day after t0.
var tomorrow = vax.DateOf(t0, ist).AddDays(1)

// person is an account with one beneficiary.
type person struct{ acct, ref string }

// people creates accounts from … from+n-1, each with one beneficiary born
// in 1990, in one transaction.
func (e *env) people(t testing.TB, from, n int) []person {
	t.Helper()
	out := make([]person, n)
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error {
		for i := range out {
			k := from + i
			body := fmt.Sprintf("%013d", 1_000_000_000_000+k)
			p := person{acct: acctID(k), ref: body + string(vax.VerhoeffDigit(body))}
			if err := tx.CreateAccount(ctx, vax.Account{ID: p.acct, MobileHash: fmt.Sprintf("test:%d", k), MobileSealed: []byte{0}, CreatedAt: t0}); err != nil {
				return err
			}
			if err := tx.CreateBeneficiary(ctx, vax.Beneficiary{Ref: p.ref, AccountID: p.acct, Name: "Test Person",
				BirthYear: 1990, GenderID: 1, PhotoIDType: 1, PhotoIDHash: fmt.Sprintf("test:%d", k),
				PhotoIDSealed: []byte{0}, PhotoIDLast4: "0000", CreatedAt: t0}); err != nil {
				return err
			}
			out[i] = p
		}
		return nil
	})
	return out
}

// ask schedules p for dose 1 in se through n.
func (n node) ask(ctx context.Context, p person, se vax.Session, refs ...string) (vax.Appointment, error) {
	if len(refs) == 0 {
		refs = []string{p.ref}
	}
	return n.book.Schedule(ctx, p.acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[0], Refs: refs})
}

// offsetClock is the system clock moved to t0: time flows, so timers
// meet it, and the tests' dates still hold.
type offsetClock struct{ d time.Duration }

func newOffsetClock() offsetClock { return offsetClock{d: time.Until(t0)} }

func (c offsetClock) Now() time.Time { return time.Now().Add(c.d) }

// outcomes collects the entries a node's OnOutcome is told, by release.
type outcomes struct {
	mu  sync.Mutex
	got map[string][]vax.ReleaseEntry
}

func (o *outcomes) add(e vax.ReleaseEntry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.got == nil {
		o.got = map[string][]vax.ReleaseEntry{}
	}
	o.got[e.ReleaseID] = append(o.got[e.ReleaseID], e)
}

func (o *outcomes) of(id string) []vax.ReleaseEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]vax.ReleaseEntry(nil), o.got[id]...)
}

// eventually polls cond every 10 ms until it holds, failing after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// releaseOf reads a release as stored (with its seed).
func (e *env) releaseOf(t testing.TB, id string) vax.Release {
	t.Helper()
	var r vax.Release
	err := e.store.View(t.Context(), func(tx vax.Tx) (err error) { r, err = tx.Release(t.Context(), id); return err })
	if err != nil {
		t.Fatalf("read release: %v", err)
	}
	return r
}

// entries reads a release's entries as stored.
func (e *env) entries(t testing.TB, id string) []vax.ReleaseEntry {
	t.Helper()
	var out []vax.ReleaseEntry
	err := e.store.View(t.Context(), func(tx vax.Tx) (err error) { out, err = tx.ReleaseEntries(t.Context(), id); return err })
	if err != nil {
		t.Fatalf("read entries: %v", err)
	}
	return out
}

func (e *env) readSession(t testing.TB, id string) vax.Session {
	t.Helper()
	var se vax.Session
	err := e.store.View(t.Context(), func(tx vax.Tx) (err error) { se, err = tx.Session(t.Context(), id); return err })
	if err != nil {
		t.Fatalf("read session: %v", err)
	}
	return se
}
