package booking_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// countingStore counts the calls that reach the store: transactions,
// reads outside them and batch bookings.
type countingStore struct {
	vax.Store
	calls atomic.Int64
}

func (c *countingStore) InTx(ctx context.Context, fn func(vax.Tx) error) error {
	c.calls.Add(1)
	return c.Store.InTx(ctx, fn)
}

func (c *countingStore) View(ctx context.Context, fn func(vax.Tx) error) error {
	c.calls.Add(1)
	return c.Store.View(ctx, fn)
}

func (c *countingStore) Read(ctx context.Context, fn func(vax.Tx) error) error {
	c.calls.Add(1)
	return c.Store.Read(ctx, fn)
}

func (c *countingStore) BookAppointments(ctx context.Context, as []vax.Appointment, msgs []vax.OutboxMessage) ([]bool, error) {
	c.calls.Add(1)
	return c.Store.BookAppointments(ctx, as, msgs)
}

// TestSoldOutFromMemory: once the store refused a session as full, this
// node refuses it without asking the store until the session changes or
// SoldOutTTL passes.
func TestSoldOutFromMemory(t *testing.T) {
	var cs *countingStore
	e := newEnv(t, func(t testing.TB) vax.Store { cs = &countingStore{Store: backendtest.SQLite(t)}; return cs }, booking.Rules{})
	se := e.session(t, 1, 1, 0)
	var refs []string
	for n := 1; n <= 3; n++ {
		refs = append(refs, e.beneficiary(t, e.account(t, n), n))
	}
	try := func(n int) error {
		_, err := e.svc.Schedule(t.Context(), acctID(n), booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[0], Refs: []string{refs[n-1]}})
		return err
	}
	if err := try(1); err != nil {
		t.Fatal(err)
	}
	wantReason(t, "second", try(2), vax.Full, booking.ReasonFull)
	before := cs.calls.Load()
	wantReason(t, "from memory", try(3), vax.Full, booking.ReasonFull)
	if got := cs.calls.Load() - before; got != 0 {
		t.Errorf("sold-out answer made %d store calls, want 0", got)
	}
	// Dose 2 is another counter: not refused from memory.
	before = cs.calls.Load()
	e.svc.Schedule(t.Context(), acctID(3), booking.ScheduleRequest{Dose: 2, SessionID: se.ID, Slot: se.Slots[0], Refs: []string{refs[2]}})
	if cs.calls.Load() == before {
		t.Error("dose 2 was answered from dose 1's sold-out entry")
	}
	// A cancellation elsewhere reaches this node through the change feed.
	e.svc.SessionsChanged([]vax.Change{{Kind: vax.ChangeSession, Key: se.ID}})
	before = cs.calls.Load()
	wantReason(t, "after a change", try(3), vax.Full, booking.ReasonFull)
	if cs.calls.Load() == before {
		t.Error("after a change the store was not asked")
	}
	e.clock.Advance(booking.SoldOutTTL + time.Millisecond)
	before = cs.calls.Load()
	try(3)
	if cs.calls.Load() == before {
		t.Error("after SoldOutTTL the store was not asked")
	}
}
