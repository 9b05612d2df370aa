package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vaxport/vaxport/internal/vax"
)

// The outbox. Its times keep milliseconds.

// ms is t as the outbox keeps it: UTC, whole milliseconds.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// outboxT0 has a sub-millisecond fraction, which stores drop.
var outboxT0 = time.Date(2021, time.May, 1, 12, 0, 0, 123_456_789, ist)

// messageID returns the n-th test message id.
func messageID(n int) string { return fmt.Sprintf("30000000-0000-4000-8000-%012d", n) }

// message returns a pending, unclaimed message n created at created.
func message(n int, created time.Time) vax.OutboxMessage {
	return vax.OutboxMessage{
		ID:            messageID(n),
		Kind:          vax.MessageOTP,
		Payload:       []byte(fmt.Sprintf("sealed-%d", n)),
		CreatedAt:     created,
		ExpiresAt:     created.Add(3 * time.Minute),
		Status:        vax.MessagePending,
		NextAttemptAt: created,
	}
}

// storedMessage is m as a store returns it.
func storedMessage(m vax.OutboxMessage) vax.OutboxMessage {
	m.ID = strings.ToLower(m.ID)
	for _, p := range []*time.Time{&m.CreatedAt, &m.ExpiresAt, &m.NextAttemptAt, &m.ClaimedUntil, &m.SentAt, &m.DoneAt} {
		if !p.IsZero() {
			*p = ms(*p)
		}
	}
	return m
}

func enqueue(t *testing.T, s vax.Store, ms ...vax.OutboxMessage) {
	t.Helper()
	insertAll(t, s, ms, func(tx vax.Tx, m vax.OutboxMessage) error { return tx.EnqueueMessage(t.Context(), m) })
}

// readMessage reads one message; NotFound when absent.
func readMessage(t *testing.T, s vax.Store, id string) (vax.OutboxMessage, error) {
	t.Helper()
	got, err := get(t, s, func(tx vax.Tx) ([]vax.OutboxMessage, error) { return tx.Messages(t.Context(), []string{id}) })
	if err != nil {
		return vax.OutboxMessage{}, err
	}
	if len(got) != 1 {
		return vax.OutboxMessage{}, vax.Errorf(vax.NotFound, "message %s: %d found", id, len(got))
	}
	return got[0], nil
}

// updateMessages runs UpdateMessages in its own transaction.
func updateMessages(t *testing.T, s vax.Store, ms ...vax.OutboxMessage) error {
	t.Helper()
	return s.InTx(t.Context(), func(tx vax.Tx) error { return tx.UpdateMessages(t.Context(), ms) })
}

func claim(t *testing.T, s vax.Store, c vax.MessageClaim) []vax.OutboxMessage {
	t.Helper()
	var got []vax.OutboxMessage
	inTx(t, s, func(tx vax.Tx) (err error) {
		got, err = tx.ClaimMessages(t.Context(), c)
		return err
	})
	return got
}

func messageIDs(ms []vax.OutboxMessage) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func testEnqueueMessage(t *testing.T, open Opener) {
	s := newStore(t, open)
	m := message(1, outboxT0)
	enqueue(t, s, m)
	got, err := readMessage(t, s, m.ID)
	if err != nil {
		t.Fatalf("Message: %v", err)
	}
	if diff := cmp.Diff(storedMessage(m), got); diff != "" {
		t.Errorf("message read back (-want +got):\n%s", diff)
	}
	if got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond() != 123_000_000 {
		t.Errorf("CreatedAt = %v, want UTC with milliseconds kept", got.CreatedAt)
	}

	// Every field round-trips, and no expiry stays zero.
	full := message(2, outboxT0)
	full.ExpiresAt = time.Time{}
	full.Status, full.Attempts = vax.MessageSent, 2
	full.NextAttemptAt = outboxT0.Add(3 * time.Second)
	full.ClaimedBy, full.ClaimedUntil = "node-a", outboxT0.Add(30*time.Second)
	full.Provider, full.ProviderRef = "sim1", "ref-77"
	full.SentAt = outboxT0.Add(time.Second)
	full.ID = strings.ToUpper(full.ID)
	enqueue(t, s, full)
	if got, err := readMessage(t, s, strings.ToLower(full.ID)); err != nil || !cmp.Equal(storedMessage(full), got) {
		t.Errorf("full message read back: got %+v, %v; want %+v", got, err, storedMessage(full))
	}

	badID, badStatus, empty := message(3, outboxT0), message(4, outboxT0), message(5, outboxT0)
	badID.ID = "x"
	badStatus.Status = "queued"
	empty.Payload = nil
	for _, tc := range []struct {
		name string
		m    vax.OutboxMessage
		want vax.Code
	}{
		{"taken id", message(1, outboxT0.Add(time.Hour)), vax.Conflict},
		{"id not a UUID", badID, vax.Invalid},
		{"unknown status", badStatus, vax.Invalid},
		{"empty payload", empty, vax.Invalid},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.EnqueueMessage(ctx, tc.m) })
		wantCode(t, "EnqueueMessage, "+tc.name, err, tc.want)
	}
	if got, err := readMessage(t, s, m.ID); err != nil || !got.CreatedAt.Equal(ms(outboxT0)) {
		t.Errorf("after a refused duplicate: got %v, %v; want the first message unchanged", got.CreatedAt, err)
	}
}

func testClaimMessages(t *testing.T, open Opener) {
	h := open(t)
	s := h.Store
	now := outboxT0.Add(time.Minute)
	due1 := message(1, outboxT0)
	due2 := message(2, outboxT0.Add(-time.Second)) // due earlier: claimed first
	later := message(3, outboxT0)
	later.NextAttemptAt = now.Add(time.Millisecond) // not due yet
	sent := message(4, outboxT0)
	sent.Status = vax.MessageSent
	held := message(5, outboxT0)
	held.ClaimedBy, held.ClaimedUntil = "node-b", now.Add(time.Second) // a live claim
	lapsed := message(6, outboxT0)
	lapsed.ClaimedBy, lapsed.ClaimedUntil = "node-b", now // its lease ends now: claimable
	dueNow := message(7, outboxT0)
	dueNow.NextAttemptAt = now // due exactly now
	enqueue(t, s, due1, due2, later, sent, held, lapsed, dueNow)

	until := now.Add(30 * time.Second)
	got := claim(t, s, vax.MessageClaim{By: "node-a", Now: now, Until: until, Limit: 2})
	if diff := cmp.Diff([]string{messageID(2), messageID(1)}, messageIDs(got)); diff != "" {
		t.Errorf("first claim, limit 2 (-want +got):\n%s", diff)
	}
	for _, m := range got {
		if m.ClaimedBy != "node-a" || !m.ClaimedUntil.Equal(ms(until)) {
			t.Errorf("claimed %s: got by %q until %v, want node-a until %v", m.ID, m.ClaimedBy, m.ClaimedUntil, ms(until))
		}
	}
	want := storedMessage(due2)
	want.ClaimedBy, want.ClaimedUntil = "node-a", until
	if diff := cmp.Diff(storedMessage(want), got[0]); diff != "" {
		t.Errorf("claimed message (-want +got):\n%s", diff)
	}
	if stored, err := readMessage(t, s, messageID(1)); err != nil || stored.ClaimedBy != "node-a" {
		t.Errorf("claim stored: got %q, %v; want node-a", stored.ClaimedBy, err)
	}

	got = claim(t, s, vax.MessageClaim{By: "node-a", Now: now, Until: until})
	if diff := cmp.Diff([]string{messageID(6), messageID(7)}, messageIDs(got)); diff != "" {
		t.Errorf("second claim (-want +got):\n%s", diff)
	}
	if got := claim(t, s, vax.MessageClaim{By: "node-a", Now: now, Until: until}); len(got) != 0 {
		t.Errorf("third claim: got %v, want none", messageIDs(got))
	}
	// Once the leases lapse everything pending and due is claimable again.
	got = claim(t, s, vax.MessageClaim{By: "node-c", Now: until, Until: until.Add(time.Minute)})
	if diff := cmp.Diff([]string{messageID(2), messageID(1), messageID(5), messageID(6), messageID(7), messageID(3)}, messageIDs(got)); diff != "" {
		t.Errorf("claim after the leases lapsed (-want +got):\n%s", diff)
	}

	t.Run("disjoint across handles", func(t *testing.T) {
		s := open(t)
		const n, claimers = 60, 4
		var all []vax.OutboxMessage
		for i := range n {
			all = append(all, message(100+i, outboxT0))
		}
		enqueue(t, s.Store, all...)
		handles := []vax.Store{s.Store, s.Second(t)}
		var (
			mu  sync.Mutex
			ids []string
			wg  sync.WaitGroup
		)
		errs := make(chan error, claimers)
		for c := range claimers {
			wg.Go(func() {
				for {
					var got []vax.OutboxMessage
					err := handles[c%2].InTx(t.Context(), func(tx vax.Tx) (err error) {
						got, err = tx.ClaimMessages(t.Context(), vax.MessageClaim{
							By: fmt.Sprintf("node-%d", c), Now: now, Until: until, Limit: 7})
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					ids = append(ids, messageIDs(got)...)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("ClaimMessages: %v", err)
		}
		slices.Sort(ids)
		if diff := cmp.Diff(messageIDs(all), ids); diff != "" {
			t.Errorf("claimed by %d concurrent claimers: want each message exactly once (-want +got):\n%s", claimers, diff)
		}
	})
}

func testMessages(t *testing.T, open Opener) {
	s := newStore(t, open)
	list := func(ids ...string) ([]string, error) {
		var got []vax.OutboxMessage
		err := s.View(t.Context(), func(tx vax.Tx) (err error) {
			got, err = tx.Messages(t.Context(), ids)
			return err
		})
		return messageIDs(got), err
	}
	if got, err := list(messageID(1), "x"); err != nil || len(got) != 0 {
		t.Errorf("Messages in an empty store = %v, %v; want none", got, err)
	}
	ms := []vax.OutboxMessage{message(3, outboxT0), message(1, outboxT0), message(2, outboxT0)}
	enqueue(t, s, ms...)
	// By id, whatever the order asked; unknown and malformed ids left out;
	// an id asked twice comes once; upper case finds the message.
	got, err := list(messageID(3), "not-a-uuid", messageID(9), strings.ToUpper(messageID(1)), messageID(3))
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	if diff := cmp.Diff([]string{messageID(1), messageID(3)}, got); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
	if got, err := list(); err != nil || len(got) != 0 {
		t.Errorf("Messages() = %v, %v; want none", got, err)
	}
	// In a read-write transaction too (where the rows are locked), whole.
	inTx(t, s, func(tx vax.Tx) error {
		got, err := tx.Messages(t.Context(), []string{messageID(2)})
		if err == nil && (len(got) != 1 || !cmp.Equal(storedMessage(ms[2]), got[0])) {
			t.Errorf("Messages in InTx = %+v, want %+v", got, storedMessage(ms[2]))
		}
		return err
	})

	// Two transactions locking overlapping sets, through two handles, in
	// opposite orders, and each updating what it read: both commit (no
	// deadlock survives the store's retries) and no update is lost.
	t.Run("concurrent read-modify-write", func(t *testing.T) {
		h := open(t)
		enqueue(t, h.Store, message(1, outboxT0), message(2, outboxT0))
		handles := []vax.Store{h.Store, h.Second(t)}
		const workers, each = 4, 5
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				ids := []string{messageID(1), messageID(2)}
				if w%2 == 1 {
					ids = []string{messageID(2), messageID(1)}
				}
				for range each {
					err := handles[w%2].InTx(t.Context(), func(tx vax.Tx) error {
						got, err := tx.Messages(t.Context(), ids)
						if err != nil {
							return err
						}
						for i := range got {
							got[i].Attempts++
						}
						return tx.UpdateMessages(t.Context(), got)
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("read-modify-write: %v", err)
		}
		for _, id := range []string{messageID(1), messageID(2)} {
			if m, err := readMessage(t, h.Store, id); err != nil || m.Attempts != workers*each {
				t.Errorf("message %s attempts = %d, %v; want %d (an update was lost)", id, m.Attempts, err, workers*each)
			}
		}
	})
}

func testUpdateMessages(t *testing.T, open Opener) {
	s := newStore(t, open)
	m := message(1, outboxT0)
	m.ClaimedBy, m.ClaimedUntil = "node-a", outboxT0.Add(30*time.Second)
	other := message(2, outboxT0)
	enqueue(t, s, m, other)
	upd := m
	upd.Status, upd.Attempts = vax.MessageSent, 1
	upd.NextAttemptAt = outboxT0.Add(5 * time.Second)
	upd.ClaimedBy, upd.ClaimedUntil = "", time.Time{}
	upd.Provider, upd.ProviderRef = "sim1", "ref-1"
	upd.SentAt = outboxT0.Add(1500 * time.Millisecond)
	// Immutable fields in the argument are ignored.
	changed := upd
	changed.Kind, changed.Payload = "other", []byte("other")
	changed.CreatedAt, changed.ExpiresAt = outboxT0.Add(time.Hour), time.Time{}
	done := other
	done.Status, done.DoneAt, done.Attempts = vax.MessageDropped, outboxT0.Add(4*time.Second), 3
	if err := updateMessages(t, s, changed, done); err != nil {
		t.Fatalf("UpdateMessages: %v", err)
	}
	for _, want := range []vax.OutboxMessage{upd, done} {
		got, err := readMessage(t, s, want.ID)
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		if diff := cmp.Diff(storedMessage(want), got); diff != "" {
			t.Errorf("after UpdateMessages (-want +got):\n%s", diff)
		}
	}
	delivered := upd
	delivered.Status, delivered.DoneAt = vax.MessageDelivered, outboxT0.Add(4*time.Second)
	delivered.ID = strings.ToUpper(delivered.ID)
	if err := updateMessages(t, s, delivered); err != nil {
		t.Fatalf("UpdateMessages (upper-case id): %v", err)
	}
	delivered.ID = m.ID
	if got, err := readMessage(t, s, m.ID); err != nil || !cmp.Equal(storedMessage(delivered), got) {
		t.Errorf("after delivery: got %+v, %v; want %+v", got, err, storedMessage(delivered))
	}
	if err := updateMessages(t, s); err != nil {
		t.Errorf("UpdateMessages of nothing: %v", err)
	}

	missing, bad := message(3, outboxT0), delivered
	bad.Status = "lost"
	for _, tc := range []struct {
		name string
		ms   []vax.OutboxMessage
		want vax.Code
	}{
		{"unknown", []vax.OutboxMessage{delivered, missing}, vax.NotFound},
		{"not a UUID", []vax.OutboxMessage{func() vax.OutboxMessage { x := missing; x.ID = "x"; return x }()}, vax.NotFound},
		{"unknown status", []vax.OutboxMessage{bad}, vax.Invalid},
		{"same id twice", []vax.OutboxMessage{delivered, delivered}, vax.Invalid},
	} {
		wantCode(t, "UpdateMessages, "+tc.name, updateMessages(t, s, tc.ms...), tc.want)
	}
	// The refused batches changed nothing.
	if got, err := readMessage(t, s, m.ID); err != nil || got.Status != vax.MessageDelivered {
		t.Errorf("after refused updates: %v, %v; want delivered", got.Status, err)
	}
}

func testDeleteMessages(t *testing.T, open Opener) {
	s := newStore(t, open)
	old := []vax.OutboxMessage{message(1, outboxT0), message(2, outboxT0), message(3, outboxT0), message(4, outboxT0)}
	old[1].Status, old[2].Status, old[3].Status = vax.MessageDelivered, vax.MessageDropped, vax.MessageFailed
	recent := message(5, outboxT0.Add(time.Second))
	recent.Status = vax.MessageDelivered
	enqueue(t, s, append(old, recent)...)
	var n int64
	// Before outboxT0 + 0.5 ms: the 12:00:00.123 messages (stored to the
	// millisecond), not the one a second later.
	inTx(t, s, func(tx vax.Tx) (err error) {
		n, err = tx.DeleteMessages(t.Context(), ms(outboxT0).Add(500*time.Microsecond))
		return err
	})
	if n != 3 {
		t.Errorf("DeleteMessages = %d, want 3 (finished and old only)", n)
	}
	for i, keep := range []bool{true, false, false, false, true} {
		_, err := readMessage(t, s, messageID(i+1))
		switch {
		case keep && err != nil:
			t.Errorf("message %d: got %v, want kept", i+1, err)
		case !keep:
			wantCode(t, fmt.Sprintf("deleted message %d", i+1), err, vax.NotFound)
		}
	}
}
