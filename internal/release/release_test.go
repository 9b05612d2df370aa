package release_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/release"
	"github.com/vaxport/vaxport/internal/sms/outbox/outboxtest"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// TestOrder checks the lottery against values computed independently
// (Python's hmac and hashlib, the rule as Order's comment states it).
func TestOrder(t *testing.T) {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	ids := []string{"00000000-0000-4000-8000-000000000002", "ffffffff-ffff-4fff-bfff-ffffffffffff",
		"6F9619FF-8B86-4011-B42D-00C04FC964FF", "00000000-0000-4000-8000-000000000003",
		"00000000-0000-4000-8000-000000000001"}
	want := []string{"00000000-0000-4000-8000-000000000001", "6F9619FF-8B86-4011-B42D-00C04FC964FF",
		"00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000002",
		"ffffffff-ffff-4fff-bfff-ffffffffffff"}
	if diff := cmp.Diff(want, release.Order(seed, ids)); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
	reversed := slices.Clone(ids)
	slices.Reverse(reversed)
	if diff := cmp.Diff(want, release.Order(seed, reversed)); diff != "" {
		t.Errorf("Order of the ids reversed (-want +got):\n%s", diff)
	}
	if got := release.Order(seed, ids); &got[0] == &ids[0] || ids[0] != "00000000-0000-4000-8000-000000000002" {
		t.Error("Order changed or returned its input")
	}
	seed[0] ^= 1
	if slices.Equal(want, release.Order(seed, ids)) {
		t.Error("another seed gave the same order")
	}
}

func TestNew(t *testing.T) {
	e, _ := sqliteEnv(t)
	book := e.node(t, nil, "a", nil).book
	for name, cfg := range map[string]release.Config{
		"no store":          {Booking: book},
		"no booking":        {Store: e.store},
		"window in ms":      {Store: e.store, Booking: book, Window: 1500 * time.Millisecond},
		"window too long":   {Store: e.store, Booking: book, Window: time.Minute + time.Second},
		"negative sessions": {Store: e.store, Booking: book, MaxSessions: -1},
	} {
		if _, err := release.New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestCreate(t *testing.T) {
	e, clock := sqliteEnv(t)
	n := e.node(t, nil, "a", nil)
	rel, err := release.New(release.Config{Store: e.store, Booking: n.book, Clock: clock, MaxSessions: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	open, booked, cancelled, past := e.session(t, 1, 5, tomorrow), e.session(t, 2, 5, tomorrow),
		e.session(t, 3, 5, tomorrow), e.session(t, 4, 5, tomorrow.AddDays(-2))
	today := e.session(t, 5, 5, tomorrow.AddDays(-1))
	p := e.people(t, 0, 1)[0]
	if _, err := n.ask(ctx, p, booked); err != nil {
		t.Fatal(err)
	}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error {
		cancelled.Status = vax.SessionCancelled
		return tx.UpdateSession(ctx, cancelled)
	})
	at := t0.Add(time.Hour)
	refusals := []struct {
		name string
		req  release.CreateRequest
		code vax.Code
	}{
		{"no sessions", release.CreateRequest{ReleaseAt: at}, vax.Invalid},
		{"too many sessions", release.CreateRequest{SessionIDs: []string{sessID(1), sessID(2), sessID(3), sessID(4)}, ReleaseAt: at}, vax.Invalid},
		{"no release time", release.CreateRequest{SessionIDs: []string{open.ID}}, vax.Invalid},
		{"release time past", release.CreateRequest{SessionIDs: []string{open.ID}, ReleaseAt: t0.Add(-time.Millisecond)}, vax.Invalid},
		{"window in ms", release.CreateRequest{SessionIDs: []string{open.ID}, ReleaseAt: at, Window: 2500 * time.Millisecond}, vax.Invalid},
		{"window too long", release.CreateRequest{SessionIDs: []string{open.ID}, ReleaseAt: at, Window: 61 * time.Second}, vax.Invalid},
		{"session twice", release.CreateRequest{SessionIDs: []string{open.ID, strings.ToUpper(open.ID)}, ReleaseAt: at}, vax.Invalid},
		{"unknown session", release.CreateRequest{SessionIDs: []string{open.ID, sessID(99)}, ReleaseAt: at}, vax.NotFound},
		{"not a session id", release.CreateRequest{SessionIDs: []string{"42"}, ReleaseAt: at}, vax.NotFound},
		{"booked session", release.CreateRequest{SessionIDs: []string{open.ID, booked.ID}, ReleaseAt: at}, vax.Conflict},
		{"cancelled session", release.CreateRequest{SessionIDs: []string{cancelled.ID}, ReleaseAt: at}, vax.Conflict},
		{"past session", release.CreateRequest{SessionIDs: []string{past.ID}, ReleaseAt: at}, vax.Invalid},
		{"session over before the draw", release.CreateRequest{SessionIDs: []string{today.ID}, ReleaseAt: t0.Add(24 * time.Hour)}, vax.Invalid},
	}
	for _, tt := range refusals {
		if _, err := rel.Create(ctx, "staff-1", tt.req); vax.ErrorCode(err) != tt.code {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.code)
		}
	}
	if s := e.readSession(t, open.ID); s.Status != vax.SessionOpen {
		t.Fatalf("refusals left session %s", s.Status)
	}

	r, err := rel.Create(ctx, "staff-1", release.CreateRequest{SessionIDs: []string{strings.ToUpper(open.ID), today.ID}, ReleaseAt: at})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	want := vax.Release{ID: r.ID, SessionIDs: []string{open.ID, today.ID}, ReleaseAt: at, Window: 10 * time.Second,
		SeedHash: r.SeedHash, Status: vax.ReleaseScheduled, CreatedBy: "staff-1", CreatedAt: t0}
	if diff := cmp.Diff(want, r, cmp.Comparer(time.Time.Equal)); diff != "" {
		t.Errorf("created release (-want +got):\n%s", diff)
	}
	stored := e.releaseOf(t, r.ID)
	if sum := sha256.Sum256(stored.Seed); len(stored.Seed) != 32 || hex.EncodeToString(sum[:]) != r.SeedHash {
		t.Errorf("seed hash %s is not the SHA-256 of the %d-byte seed", r.SeedHash, len(stored.Seed))
	}
	for _, id := range r.SessionIDs {
		if s := e.readSession(t, id); s.Status != vax.SessionHeld {
			t.Errorf("session %s is %s, want held", id, s.Status)
		}
	}
	if _, err := rel.Create(ctx, "staff-1", release.CreateRequest{SessionIDs: []string{open.ID}, ReleaseAt: at}); vax.ErrorCode(err) != vax.Conflict {
		t.Errorf("a session in another release: got %v, want Conflict", err)
	}
	r2, err := rel.Create(ctx, "staff-2", release.CreateRequest{SessionIDs: []string{e.session(t, 6, 5, tomorrow).ID},
		ReleaseAt: at.Add(time.Minute), Window: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Window != 30*time.Second || r2.SeedHash == r.SeedHash {
		t.Errorf("second release: got window %s, seed hash %s; want 30s and another seed", r2.Window, r2.SeedHash)
	}
	list, err := rel.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != r2.ID || list[1].ID != r.ID || list[0].Seed != nil || list[1].Seed != nil {
		t.Errorf("List: got %+v, want the two releases, newest first, without seeds", list)
	}
}

// outcome is what a test expects of an entry after the draw.
type outcome struct {
	status vax.EntryStatus
	reason string
}

func TestDraw(t *testing.T) {
	for _, be := range backendtest.All {
		t.Run(be.Name, func(t *testing.T) {
			ctx := t.Context()
			clock := vax.NewManualClock(t0)
			e := newEnv(t, be.Open(t), clock)
			n := e.node(t, nil, "a", nil)
			a, b, elsewhere := e.session(t, 1, 3, tomorrow), e.session(t, 2, 2, tomorrow), e.session(t, 3, 10, tomorrow)
			r, err := n.rel.Create(ctx, "staff-1", release.CreateRequest{SessionIDs: []string{a.ID, b.ID}, ReleaseAt: t0.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			ps := e.people(t, 0, 12)
			// ps[0] asks for two: its own beneficiary and ps[11]'s, moved to
			// its account.
			e.inTx(t, func(ctx context.Context, tx vax.Tx) error {
				if err := tx.DeleteBeneficiary(ctx, ps[11].ref); err != nil {
					return err
				}
				return tx.CreateBeneficiary(ctx, vax.Beneficiary{Ref: ps[11].ref, AccountID: ps[0].acct, Name: "Test Person",
					BirthYear: 1991, GenderID: 2, PhotoIDType: 1, PhotoIDHash: "test:family", PhotoIDSealed: []byte{0}, PhotoIDLast4: "0000", CreatedAt: t0})
			})

			clock.Set(r.ReleaseAt.Add(time.Second))
			sessionOf := map[string]vax.Session{}
			ask := func(p person, se vax.Session, refs ...string) {
				t.Helper()
				_, err := n.ask(ctx, p, se, refs...)
				var pooled *booking.Pooled
				if !errors.As(err, &pooled) {
					t.Fatalf("ask: got %v, want pooled", err)
				}
				sessionOf[pooled.EntryID] = se
			}
			ask(ps[0], a, ps[0].ref, ps[11].ref)
			for _, p := range ps[1:6] {
				ask(p, a)
			}
			for _, p := range ps[6:10] {
				ask(p, b)
			}
			ask(ps[10], a)
			// ps[10] then books elsewhere for the same dose: the draw must
			// refuse its entry.
			if _, err := n.ask(ctx, ps[10], elsewhere); err != nil {
				t.Fatal(err)
			}

			audit, entries, err := n.rel.Audit(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if audit.Seed != nil || len(entries) != 11 {
				t.Fatalf("audit before the draw: got seed %x and %d entries, want no seed and 11", audit.Seed, len(entries))
			}
			if err := n.rel.Draw(ctx, r.ID); vax.ErrorCode(err) != vax.Conflict {
				t.Errorf("draw before the window ends: got %v, want Conflict", err)
			}
			if got := e.releaseOf(t, r.ID); got.Status != vax.ReleaseScheduled {
				t.Fatalf("draw before the window ends left the release %s", got.Status)
			}

			clock.Set(r.WindowEnd())
			if err := n.rel.Draw(ctx, r.ID); err != nil {
				t.Fatalf("Draw: %v", err)
			}
			if err := n.rel.Draw(ctx, r.ID); err != nil {
				t.Fatalf("second Draw: %v", err)
			}
			if err := n.rel.Draw(ctx, sessID(99)); vax.ErrorCode(err) != vax.NotFound {
				t.Errorf("draw of an unknown release: got %v, want NotFound", err)
			}
			drawn := e.releaseOf(t, r.ID)
			if drawn.Status != vax.ReleaseDrawn || drawn.DrawnAt.IsZero() {
				t.Errorf("got release %s drawn at %s, want drawn", drawn.Status, drawn.DrawnAt)
			}

			// Expected: in rank order, per session, each entry that passes
			// the rules wins while its seats fit.
			got := e.entries(t, r.ID)
			slices.SortFunc(got, func(x, y vax.ReleaseEntry) int { return x.Rank - y.Rank })
			ids := make([]string, len(got))
			for i, en := range got {
				ids[i] = en.ID
				if en.Rank != i+1 {
					t.Errorf("entry %d has rank %d, want ranks 1..%d", i, en.Rank, len(got))
				}
			}
			if diff := cmp.Diff(release.Order(drawn.Seed, ids), ids); diff != "" {
				t.Errorf("ranks are not the lottery order (-order +ranks):\n%s", diff)
			}
			seats := map[string]int{a.ID: a.Capacity1, b.ID: b.Capacity1}
			won := map[string]int{}
			for _, en := range got {
				var want outcome
				switch {
				case slices.Contains(en.Refs, ps[10].ref):
					want = outcome{vax.EntryRefused, booking.ReasonLiveAppointment}
				case seats[en.SessionID] >= len(en.Refs):
					seats[en.SessionID] -= len(en.Refs)
					won[en.SessionID] += len(en.Refs)
					want = outcome{vax.EntryWon, ""}
				default:
					want = outcome{vax.EntryLost, booking.ReasonFull}
				}
				if g := (outcome{en.Status, en.Reason}); g != want || (en.Status == vax.EntryWon) != (en.AppointmentID != "") {
					t.Errorf("entry of rank %d: got %+v (appointment %q), want %+v", en.Rank, g, en.AppointmentID, want)
				}
			}

			var texts []string
			for _, m := range outboxtest.All(t, e.store, e.keys, t0.Add(48*time.Hour)) {
				if m.Kind == booking.MessageBooked {
					texts = append(texts, m.To+" "+m.Text)
				}
			}
			for _, se := range []vax.Session{a, b} {
				s := e.readSession(t, se.ID)
				var live []vax.Appointment
				err := e.store.View(ctx, func(tx vax.Tx) (err error) { live, err = tx.SessionAppointments(ctx, se.ID); return err })
				if err != nil {
					t.Fatal(err)
				}
				places := 0
				for _, ap := range live {
					places += len(ap.Live())
				}
				if s.Status != vax.SessionOpen || s.Booked1 != won[se.ID] || places != s.Booked1 || s.Booked1 > s.Capacity1 {
					t.Errorf("session %s: got %s, %d booked of %d, %d live places; want open with %d booked",
						se.ID, s.Status, s.Booked1, s.Capacity1, places, won[se.ID])
				}
			}
			for _, en := range got {
				if en.Status != vax.EntryWon {
					continue
				}
				acct, _ := mobile(vax.Account{ID: en.AccountID})
				if !slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, acct) && strings.Contains(s, en.AppointmentID) }) {
					t.Errorf("no booking SMS to the winner of rank %d for appointment %s", en.Rank, en.AppointmentID)
				}
			}

			t.Run("audit", func(t *testing.T) {
				audit, public, err := n.rel.Audit(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if sum := sha256.Sum256(audit.Seed); hex.EncodeToString(sum[:]) != audit.SeedHash {
					t.Errorf("the published seed does not hash to the seed hash")
				}
				var pubIDs []string
				for _, en := range public {
					pubIDs = append(pubIDs, en.ID)
					if en.AccountID != "" || en.Refs != nil || en.Slot != "" || en.AppointmentID != "" {
						t.Errorf("audit entry %s carries personal data: %+v", en.ID, en)
					}
					if en.Rank == 0 || en.Status == vax.EntryPooled || en.Node != "a" || en.ArrivedAt.IsZero() {
						t.Errorf("audit entry %s lacks its draw: %+v", en.ID, en)
					}
				}
				byRank := slices.Clone(public)
				slices.SortFunc(byRank, func(x, y vax.ReleaseEntry) int { return x.Rank - y.Rank })
				for i, id := range release.Order(audit.Seed, pubIDs) {
					if byRank[i].ID != id {
						t.Fatalf("the order recomputed from the audit differs at rank %d", i+1)
					}
				}
				if _, _, err := n.rel.Audit(ctx, sessID(99)); vax.ErrorCode(err) != vax.NotFound {
					t.Errorf("audit of an unknown release: got %v, want NotFound", err)
				}
			})

			t.Run("entry", func(t *testing.T) {
				first := got[0]
				en, rel, err := n.rel.Entry(ctx, strings.ToUpper(first.AccountID), strings.ToUpper(first.ID))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(first, en, cmp.Comparer(time.Time.Equal)); diff != "" {
					t.Errorf("Entry (-want +got):\n%s", diff)
				}
				if rel.ID != r.ID || rel.Seed == nil {
					t.Errorf("Entry's release: got %s (seed %x), want %s with its seed", rel.ID, rel.Seed, r.ID)
				}
				for name, id := range map[string]string{"unknown": sessID(99), "not an id": "42"} {
					if _, _, err := n.rel.Entry(ctx, first.AccountID, id); vax.ErrorCode(err) != vax.NotFound {
						t.Errorf("%s entry: got %v, want NotFound", name, err)
					}
				}
				other := got[1].AccountID
				if other == first.AccountID {
					other = got[2].AccountID
				}
				if _, _, err := n.rel.Entry(ctx, other, first.ID); vax.ErrorCode(err) != vax.NotFound {
					t.Errorf("another account's entry: got %v, want NotFound", err)
				}
			})
		})
	}
}

// TestDrawRace has two nodes on two store handles draw one release at
// once, while late requests find the draw due: one draw, and the late
// requests come after it.
func TestDrawRace(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			open := backendtest.Handles(t, backend, nil)
			clock := vax.NewManualClock(t0)
			e := newEnv(t, open(), clock)
			nodes := []node{e.node(t, nil, "a", nil), e.node(t, open(), "b", nil)}
			se := e.session(t, 1, 5, tomorrow)
			r, err := nodes[0].rel.Create(ctx, "staff-1", release.CreateRequest{SessionIDs: []string{se.ID}, ReleaseAt: t0.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			ps := e.people(t, 0, 30)
			clock.Set(r.ReleaseAt)
			for i, p := range ps[:20] {
				if _, err := nodes[i%2].ask(ctx, p, se); vax.ErrorReason(err) != booking.ReasonPooled {
					t.Fatalf("ask %d: got %v, want pooled", i, err)
				}
			}
			clock.Set(r.WindowEnd())
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					if err := nodes[i%2].rel.Draw(ctx, r.ID); err != nil {
						t.Errorf("Draw on node %d: %v", i%2, err)
					}
				})
			}
			for i, p := range ps[20:] {
				wg.Go(func() {
					_, err := nodes[i%2].ask(ctx, p, se)
					if vax.ErrorReason(err) != booking.ReasonFull {
						t.Errorf("late request %d: got %v, want APPOIN0040: the draw took every seat first", i, err)
					}
				})
			}
			wg.Wait()

			won := 0
			for _, en := range e.entries(t, r.ID) {
				if en.Status == vax.EntryWon {
					won++
				}
			}
			s := e.readSession(t, se.ID)
			if won != 5 || s.Booked1 != 5 {
				t.Errorf("got %d won, %d booked; want 5 and 5", won, s.Booked1)
			}
			cs, err := e.store.Changes(ctx, 0, vax.MaxLimit)
			if err != nil {
				t.Fatal(err)
			}
			draws := 0
			for _, c := range cs {
				if c.Kind == vax.ChangeRelease && c.Key == r.ID {
					draws++
				}
			}
			if draws != 2 {
				t.Errorf("got %d release changes, want 2: its creation and one draw", draws)
			}
		})
	}
}

// TestRunDrawsAtWindowEnd runs a node's Run on a clock that flows: it
// draws the release when its window ends, before its 5 s poll would.
func TestRunDrawsAtWindowEnd(t *testing.T) {
	clock := newOffsetClock()
	e := newEnv(t, backendtest.SQLite(t), clock)
	n := e.node(t, nil, "a", nil)
	se := e.session(t, 1, 5, tomorrow)
	r, err := n.rel.Create(t.Context(), "staff-1", release.CreateRequest{SessionIDs: []string{se.ID},
		ReleaseAt: clock.Now().Add(300 * time.Millisecond), Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := e.people(t, 0, 1)[0]
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error {
		_, _, err := tx.EnterRelease(ctx, vax.ReleaseEntry{ID: sessID(50), ReleaseID: r.ID, AccountID: p.acct, SessionID: se.ID,
			Dose: 1, Slot: se.Slots[0], Refs: []string{p.ref}, ArrivedAt: r.ReleaseAt, Node: "a", Status: vax.EntryPooled})
		return err
	})

	leaks := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.rel.Run(ctx)
	}()
	// Polling alone would draw 5 s after Run starts.
	eventually(t, r.WindowEnd().Sub(clock.Now())+3*time.Second, "draw", func() bool {
		return e.releaseOf(t, r.ID).Status == vax.ReleaseDrawn
	})
	if en := e.entries(t, r.ID); en[0].Status != vax.EntryWon {
		t.Errorf("got entry %+v, want won", en[0])
	}
	cancel()
	<-done
	goleak.VerifyNone(t, leaks)
}

// TestRunWakesOnChange: a release change wakes Run at once, and it draws a
// release whose window has ended (here on a clock moved by hand).
func TestRunWakesOnChange(t *testing.T) {
	e, clock := sqliteEnv(t)
	n := e.node(t, nil, "a", nil)
	se := e.session(t, 1, 5, tomorrow)
	r, err := n.rel.Create(t.Context(), "staff-1", release.CreateRequest{SessionIDs: []string{se.ID}, ReleaseAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.rel.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	clock.Set(r.WindowEnd())
	n.rel.Changed([]vax.Change{{Kind: vax.ChangeRelease, Key: r.ID}})
	// Polling alone would draw 5 s after Run starts.
	eventually(t, 4*time.Second, "draw", func() bool { return e.releaseOf(t, r.ID).Status == vax.ReleaseDrawn })
}

// TestOutcomesOnEveryNode: each node's OnOutcome hears every entry of a
// draw once, whichever node drew it, however often the change comes.
func TestOutcomesOnEveryNode(t *testing.T) {
	e, clock := sqliteEnv(t)
	nodes := []node{e.node(t, nil, "a", nil), e.node(t, nil, "b", nil)}
	heard := []*outcomes{{}, {}}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i, n := range nodes {
		n.rel.OnOutcome(heard[i].add)
		wg.Go(func() { n.rel.Run(ctx) })
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	feed := func() {
		t.Helper()
		cs, err := e.store.Changes(t.Context(), 0, vax.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			n.rel.Changed(cs)
		}
	}
	ps := e.people(t, 0, 7)
	draw := func(session int, ps []person) vax.Release {
		t.Helper()
		se := e.session(t, session, 3, tomorrow)
		r, err := nodes[0].rel.Create(t.Context(), "staff-1", release.CreateRequest{SessionIDs: []string{se.ID}, ReleaseAt: clock.Now().Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		clock.Set(r.ReleaseAt)
		for i, p := range ps {
			if _, err := nodes[i%2].ask(t.Context(), p, se); vax.ErrorReason(err) != booking.ReasonPooled {
				t.Fatalf("ask: got %v, want pooled", err)
			}
		}
		clock.Set(r.WindowEnd())
		if err := nodes[1].rel.Draw(t.Context(), r.ID); err != nil {
			t.Fatal(err)
		}
		return r
	}
	check := func(r vax.Release) {
		t.Helper()
		want := e.entries(t, r.ID)
		for i, h := range heard {
			eventually(t, 10*time.Second, "outcomes", func() bool { return len(h.of(r.ID)) >= len(want) })
			got := h.of(r.ID)
			slices.SortFunc(got, func(x, y vax.ReleaseEntry) int { return strings.Compare(x.ID, y.ID) })
			slices.SortFunc(want, func(x, y vax.ReleaseEntry) int { return strings.Compare(x.ID, y.ID) })
			if diff := cmp.Diff(want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("node %d heard (-want +got):\n%s", i, diff)
			}
		}
	}

	r1 := draw(1, ps[:5])
	feed()
	feed()
	check(r1)
	// Release 1's change again, then release 2's: by the time release 2 is
	// heard, release 1's repeat has been seen (in order) and ignored.
	feed()
	r2 := draw(2, ps[5:])
	feed()
	check(r2)
	check(r1)
}
