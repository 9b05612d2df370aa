// Package outboxtest reads a store's outbox in clear, as a dispatcher
// would, for tests that check what was texted.
package outboxtest

import (
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// Pending is a pending message in clear, with when it is due.
type Pending struct {
	outbox.Message
	Due time.Time
}

// All returns the pending messages due by `by`, earliest due first, opened
// with o. They stay pending and claimable: the claim that reads them ends
// when it starts.
func All(t testing.TB, st vax.Store, o outbox.Opener, by time.Time) []Pending {
	t.Helper()
	var ms []vax.OutboxMessage
	err := st.InTx(t.Context(), func(tx vax.Tx) (err error) {
		ms, err = tx.ClaimMessages(t.Context(), vax.MessageClaim{By: "outboxtest", Now: by, Until: by, Limit: vax.MaxLimit})
		return err
	})
	if err != nil {
		t.Fatalf("read the outbox: %v", err)
	}
	out := make([]Pending, 0, len(ms))
	for _, m := range ms {
		msg, err := outbox.Open(o, m)
		if err != nil {
			t.Fatalf("open message %s: %v", m.ID, err)
		}
		out = append(out, Pending{Message: msg, Due: m.NextAttemptAt})
	}
	return out
}

// Newest returns the newest pending message to the number to that is due
// by `by` (zero when there is none).
func Newest(t testing.TB, st vax.Store, o outbox.Opener, by time.Time, to string) outbox.Message {
	t.Helper()
	var newest outbox.Message
	for _, m := range All(t, st, o, by) {
		if m.To == to && !m.CreatedAt.Before(newest.CreatedAt) {
			newest = m.Message
		}
	}
	return newest
}
