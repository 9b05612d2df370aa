package booking_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestIdempotent(t *testing.T) {
	for _, be := range stores {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.Open, booking.Rules{})
			acct := e.account(t, 1)
			runs := 0
			ok := func() booking.Answer { runs++; return booking.Answer{Status: 200, Body: []byte(`{"n":1}`)} }
			a, replayed, err := e.svc.Idempotent(t.Context(), acct, "key-1", "h1", ok)
			if err != nil || replayed || a.Status != 200 || runs != 1 {
				t.Fatalf("first: %+v %v %v, runs %d", a, replayed, err, runs)
			}
			a, replayed, err = e.svc.Idempotent(t.Context(), acct, "key-1", "h1", ok)
			if err != nil || !replayed || a.Status != 200 || string(a.Body) != `{"n":1}` || runs != 1 {
				t.Errorf("retry: %+v %v %v, runs %d; want the first answer replayed", a, replayed, err, runs)
			}
			_, _, err = e.svc.Idempotent(t.Context(), acct, "key-1", "h2", ok)
			wantReason(t, "same key, other request", err, vax.Invalid, booking.ReasonKeyReused)
			if _, replayed, err := e.svc.Idempotent(t.Context(), e.account(t, 2), "key-1", "h2", ok); err != nil || replayed {
				t.Errorf("same key, other account: replayed %v, %v", replayed, err)
			}
			// A retry while the first runs.
			var inner error
			e.svc.Idempotent(t.Context(), acct, "key-2", "h", func() booking.Answer {
				_, _, inner = e.svc.Idempotent(t.Context(), acct, "key-2", "h", ok)
				return booking.Answer{Status: 204}
			})
			wantReason(t, "retry in flight", inner, vax.Conflict, booking.ReasonKeyRunning)
			// A 5xx is not kept: the retry runs.
			e.svc.Idempotent(t.Context(), acct, "key-3", "h", func() booking.Answer { return booking.Answer{Status: 503} })
			before := runs
			if _, replayed, err := e.svc.Idempotent(t.Context(), acct, "key-3", "h", ok); err != nil || replayed || runs != before+1 {
				t.Errorf("retry after 503: replayed %v, %v, ran %d", replayed, err, runs-before)
			}
			for _, bad := range []string{"", strings.Repeat("k", 256), "has space"} {
				_, _, err := e.svc.Idempotent(t.Context(), acct, bad, "h", ok)
				wantReason(t, "key "+bad, err, vax.Invalid, booking.ReasonBadKey)
			}
			// Expiry after 24 h.
			e.clock.Advance(booking.KeyTTL + time.Second)
			if _, replayed, err := e.svc.Idempotent(t.Context(), acct, "key-1", "h2", ok); err != nil || replayed {
				t.Errorf("after 24 h: replayed %v, %v; want a fresh run", replayed, err)
			}
		})
	}
}

// TestIdempotentTakeover: a key whose first request never finished (its
// node died) is taken over after InFlightLease.
func TestIdempotentTakeover(t *testing.T) {
	e := newEnv(t, backendtest.SQLite, booking.Rules{})
	acct := e.account(t, 1)
	var inner error
	e.svc.Idempotent(t.Context(), acct, "k", "h", func() booking.Answer {
		e.clock.Advance(booking.InFlightLease + time.Second)
		_, _, inner = e.svc.Idempotent(t.Context(), acct, "k", "h", func() booking.Answer { return booking.Answer{Status: 200} })
		return booking.Answer{Status: 200}
	})
	if inner != nil {
		t.Errorf("takeover after the lease: %v", inner)
	}
}
