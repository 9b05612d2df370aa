package booking_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/release"
	"github.com/vaxport/vaxport/internal/vax"
)

// The release of the pool tests: at 11:00 IST on the day before the
// sessions, pooling for 10 s.
var (
	releaseAt = t0.Add(time.Hour)
	window    = 10 * time.Second
)

// service returns another booking service on e's store and clock (another
// node, or the same one without batching), drawn for by a release service.
func (e *env) service(t *testing.T, maxBatch int, node string) *booking.Service {
	t.Helper()
	svc, err := booking.New(booking.Config{Store: e.store, Keys: e.keys, Clock: e.clock, Rules: booking.Rules{Location: ist},
		MaxBatch: maxBatch, Node: node,
		Mobile: func(a vax.Account) (string, error) {
			b, err := e.keys.OpenSealed(a.MobileSealed, mobileAAD(a.ID))
			return string(b), err
		}})
	if err != nil {
		t.Fatalf("booking.New: %v", err)
	}
	if _, err := release.New(release.Config{Store: e.store, Booking: svc, Clock: e.clock}); err != nil {
		t.Fatalf("release.New: %v", err)
	}
	return svc
}

// hold publishes sessions in a release at releaseAt (created straight in
// the store: the release service has its own tests).
func (e *env) hold(t *testing.T, sessions ...string) vax.Release {
	t.Helper()
	seed := []byte(strings.Repeat("s", 32))
	sum := sha256.Sum256(seed)
	r := vax.Release{ID: "20000000-0000-4000-8000-000000000001", SessionIDs: sessions, ReleaseAt: releaseAt,
		Window: window, Seed: seed, SeedHash: hex.EncodeToString(sum[:]), Status: vax.ReleaseScheduled,
		CreatedBy: "test", CreatedAt: t0}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return tx.CreateRelease(ctx, r) })
	return r
}

func (e *env) entries(t *testing.T, releaseID string) []vax.ReleaseEntry {
	t.Helper()
	var out []vax.ReleaseEntry
	e.inTx(t, func(ctx context.Context, tx vax.Tx) (err error) {
		out, err = tx.ReleaseEntries(ctx, releaseID)
		return err
	})
	return out
}

// pooled fails unless err is a pooled answer, and returns its detail.
func pooled(t *testing.T, what string, err error) *booking.Pooled {
	t.Helper()
	wantReason(t, what, err, vax.Conflict, booking.ReasonPooled)
	var p *booking.Pooled
	if !errors.As(err, &p) {
		t.Fatalf("%s: got %v, want a booking.Pooled detail", what, err)
	}
	return p
}

// modes are the two ways a request reaches the store: batched with other
// requests for its session, or in a transaction of its own.
var modes = []struct {
	name     string
	maxBatch int
}{{"batched", 0}, {"single", 1}}

func TestHeldSession(t *testing.T) {
	for _, be := range stores {
		for _, m := range modes {
			t.Run(be.Name+"/"+m.name, func(t *testing.T) {
				e := newEnv(t, be.Open, booking.Rules{})
				svc := e.service(t, m.maxBatch, "node-a")
				se := e.session(t, 1, 3, 0)
				r := e.hold(t, se.ID)
				acct := e.account(t, 1)
				r1, r2, r3 := e.beneficiary(t, acct, 1), e.beneficiary(t, acct, 2), e.beneficiary(t, acct, 3)
				ask := func(refs ...string) error {
					_, err := svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[0], Refs: refs})
					return err
				}

				e.clock.Set(releaseAt.Add(-time.Millisecond))
				err := ask(r1)
				wantReason(t, "before the release", err, vax.Conflict, booking.ReasonHeld)
				if want := "open at 11:00:00 on 01-06-2021 by a fair draw among the requests of its first 10 seconds"; !strings.Contains(vax.ErrorMessage(err), want) {
					t.Errorf("before the release: got message %q, want it to contain %q", vax.ErrorMessage(err), want)
				}

				e.clock.Set(releaseAt.Add(1500 * time.Millisecond))
				p := pooled(t, "in the window", ask(r1, r2))
				if p.ReleaseID != r.ID || !p.DrawAt.Equal(r.WindowEnd()) || !vax.ValidUUID(p.EntryID) {
					t.Errorf("in the window: got %+v, want release %s drawn at %s", p, r.ID, r.WindowEnd())
				}
				e.clock.Advance(time.Second)
				if again := pooled(t, "retry", ask(r2, r1)); again.EntryID != p.EntryID {
					t.Errorf("retry: got request id %s, want %s", again.EntryID, p.EntryID)
				}
				err = ask(r3, r2)
				if shared := pooled(t, "sharing a beneficiary", err); shared.EntryID != p.EntryID ||
					!strings.Contains(vax.ErrorMessage(err), "already in the draw with request "+p.EntryID) {
					t.Errorf("sharing a beneficiary: got %v, want it to name request %s", err, p.EntryID)
				}
				got := e.entries(t, r.ID)
				if len(got) != 1 {
					t.Fatalf("got %d entries, want 1", len(got))
				}
				if g := got[0]; g.ID != p.EntryID || g.Node != "node-a" || !g.ArrivedAt.Equal(releaseAt.Add(1500*time.Millisecond)) ||
					g.Status != vax.EntryPooled || g.AccountID != acct || len(g.Refs) != 2 {
					t.Errorf("got entry %+v", g)
				}

				e.clock.Set(r.WindowEnd())
				a, err := svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[1], Refs: []string{r3}})
				if err != nil {
					t.Fatalf("after the window: %v", err)
				}
				if len(a.Beneficiaries) != 1 || a.Beneficiaries[0].Ref != r3 {
					t.Errorf("after the window: got appointment %+v, want one for %s", a, r3)
				}
				got = e.entries(t, r.ID)
				if g := got[0]; g.Status != vax.EntryWon || g.Rank != 1 || g.AppointmentID == "" {
					t.Errorf("after the draw: got entry %+v, want won with rank 1", g)
				}
				// The pooled request again, now that its draw is done: no
				// remembered pooled answer, but the booking rules.
				wantReason(t, "the pooled request after the draw", ask(r1, r2), vax.Conflict, booking.ReasonLiveAppointment)
				if s := e.readSession(t, se.ID); s.Status != vax.SessionOpen || s.Booked1 != 3 {
					t.Errorf("after the draw: got session %s with %d booked, want open with 3", s.Status, s.Booked1)
				}
			})
		}
	}
}

func TestHeldSessionRefusals(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t, stores[0].Open, booking.Rules{})
			svc := e.service(t, m.maxBatch, "node-a")
			se, other := e.session(t, 1, 5, 5), e.session(t, 2, 5, 5)
			r := e.hold(t, se.ID)
			acct := e.account(t, 1)
			young := e.beneficiary(t, acct, 1)
			old := person(2)
			old.BirthYear = 1950
			b, err := svc.AddBeneficiary(t.Context(), acct, old)
			if err != nil {
				t.Fatal(err)
			}
			booked, err := svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: other.ID, Slot: other.Slots[0], Refs: []string{young}})
			if err != nil {
				t.Fatal(err)
			}

			e.clock.Set(releaseAt.Add(time.Second))
			_, err = svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[0], Refs: []string{b.Ref}})
			wantReason(t, "too old for the session", err, vax.Invalid, booking.ReasonAge)
			_, err = svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[0], Refs: []string{young}})
			wantReason(t, "booked elsewhere for the dose", err, vax.Conflict, booking.ReasonLiveAppointment)
			_, err = svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: "01:00PM-02:00PM", Refs: []string{b.Ref}})
			wantReason(t, "slot not offered", err, vax.Invalid, booking.ReasonSlot)
			if got := e.entries(t, r.ID); len(got) != 0 {
				t.Errorf("got %d entries, want none: refused requests are not pooled", len(got))
			}

			err = svc.Reschedule(t.Context(), acct, booked.ID, se.ID, se.Slots[0])
			wantReason(t, "reschedule into a held session", err, vax.Conflict, booking.ReasonHeld)
			if want := "go by a draw at 11:00:10 on 01-06-2021; reschedule after it"; !strings.Contains(vax.ErrorMessage(err), want) {
				t.Errorf("reschedule: got message %q, want it to contain %q", vax.ErrorMessage(err), want)
			}
		})
	}
}

// TestHeldSessionRush sends many requests for a held session at once: the
// batches enter them all, one entry each, none lost.
func TestHeldSessionRush(t *testing.T) {
	for _, be := range stores {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.Open, booking.Rules{})
			se := e.session(t, 1, 10, 0)
			r := e.hold(t, se.ID)
			const n = 40
			refs := make([]string, n)
			accts := make([]string, n)
			for i := range n {
				accts[i] = e.account(t, i)
				refs[i] = e.beneficiary(t, accts[i], i)
			}
			e.clock.Set(releaseAt)
			ids := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					_, err := e.svc.Schedule(t.Context(), accts[i], booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[0], Refs: []string{refs[i]}})
					var p *booking.Pooled
					if vax.ErrorReason(err) != booking.ReasonPooled || !errors.As(err, &p) {
						t.Errorf("request %d: got %v, want pooled", i, err)
						return
					}
					ids[i] = p.EntryID
				})
			}
			wg.Wait()
			got := map[string]string{}
			for _, en := range e.entries(t, r.ID) {
				got[en.ID] = en.Refs[0]
			}
			for i, id := range ids {
				if got[id] != refs[i] {
					t.Errorf("request %d: entry %s holds %q, want its beneficiary", i, id, got[id])
				}
			}
			if len(got) != n {
				t.Errorf("got %d entries, want %d", len(got), n)
			}
		})
	}
}

// TestDrawDueWithoutDrawer: a booking service no release service draws for
// asks the caller to try again rather than book a held session.
func TestDrawDueWithoutDrawer(t *testing.T) {
	e := newEnv(t, stores[0].Open, booking.Rules{})
	se := e.session(t, 1, 5, 5)
	e.hold(t, se.ID)
	acct := e.account(t, 1)
	ref := e.beneficiary(t, acct, 1)
	e.clock.Set(releaseAt.Add(window))
	_, err := e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[0], Refs: []string{ref}})
	if vax.ErrorCode(err) != vax.Unavailable {
		t.Errorf("got %v, want Unavailable", err)
	}
	if s := e.readSession(t, se.ID); s.Status != vax.SessionHeld {
		t.Errorf("got session %s, want held", s.Status)
	}
}

// TestRetryingGainsNothing: however often a beneficiary asks in the
// window, from however many nodes, it has one entry.
func TestRetryingGainsNothing(t *testing.T) {
	e := newEnv(t, stores[0].Open, booking.Rules{})
	nodes := []*booking.Service{e.service(t, 0, "a"), e.service(t, 1, "b")}
	se := e.session(t, 1, 5, 5)
	r := e.hold(t, se.ID)
	acct := e.account(t, 1)
	ref := e.beneficiary(t, acct, 1)
	var first string
	for i := range 20 {
		e.clock.Set(releaseAt.Add(time.Duration(i) * 400 * time.Millisecond))
		_, err := nodes[i%2].Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[i%2], Refs: []string{ref}})
		p := pooled(t, fmt.Sprintf("ask %d", i), err)
		if first == "" {
			first = p.EntryID
		} else if p.EntryID != first {
			t.Errorf("ask %d: got request id %s, want %s", i, p.EntryID, first)
		}
	}
	if got := e.entries(t, r.ID); len(got) != 1 || got[0].Node != "a" || !got[0].ArrivedAt.Equal(releaseAt) {
		t.Errorf("got entries %+v, want one from node a at the release time", got)
	}
}
