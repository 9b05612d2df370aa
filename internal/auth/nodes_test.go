package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/changefeed"
	"github.com/vaxport/vaxport/internal/vax"
)

// startNode starts a node on its own store handle: a change-feed follower
// and a sign-in service following it. Everything stops at cleanup.
func startNode(t *testing.T, b backend, e0 *env) *env {
	t.Helper()
	st := b.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	f := changefeed.New(st, changefeed.Options{Poll: 50 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := f.Run(ctx); err != nil {
			t.Errorf("follower: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return newEnvOn(t, st, e0.keys, e0.clock, auth.Rules{}, f)
}

// TestLogoutOnEveryNode signs in on node A, logs out on node A, and checks
// that node B (its own store handle and change feed) refuses the token
// soon after, and that node C, started later, refuses it from the start.
func TestLogoutOnEveryNode(t *testing.T) {
	for name, mk := range map[string]func(testing.TB, vax.Clock) backend{"sqlite": sqliteBackend, "postgres": postgresBackend} {
		t.Run(name, func(t *testing.T) {
			clock := vax.NewManualClock(t0)
			b := mk(t, clock)
			proto := &env{keys: newKeys(t), clock: clock}
			a, bNode := startNode(t, b, proto), startNode(t, b, proto)
			c := a.signIn(t, mobile)
			if _, err := bNode.svc.Authenticate(c.Token.Token); err != nil {
				t.Fatalf("node B before logout: %v", err)
			}
			if err := a.svc.Logout(t.Context(), c.Token.Token); err != nil {
				t.Fatalf("Logout on A: %v", err)
			}
			start := time.Now()
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, err := bNode.svc.Authenticate(c.Token.Token)
				if vax.ErrorCode(err) == vax.Unauthorized {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node B still accepts the token 5s after the logout on A: %v", err)
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Logf("node B refused the logged-out token %v after the logout", time.Since(start).Round(time.Millisecond))

			late := startNode(t, b, proto)
			_, err := late.svc.Authenticate(c.Token.Token)
			wantRefusal(t, "node started after the logout", err, vax.Unauthorized, auth.ReasonInvalidToken)
		})
	}
}

func TestPrune(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	c := e.signIn(t, mobile)
	if err := e.svc.Logout(t.Context(), c.Token.Token); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	count := func() (txns, revs int) {
		err := e.store.View(t.Context(), func(tx vax.Tx) error {
			ts, err := tx.OTPTxnsByMobile(t.Context(), hashesOf(e, mobile), time.Time{})
			if err != nil {
				return err
			}
			rs, err := tx.Revocations(t.Context(), time.Time{})
			txns, revs = len(ts), len(rs)
			return err
		})
		if err != nil {
			t.Fatalf("count: %v", err)
		}
		return txns, revs
	}
	e.clock.Set(t0.Add(24 * time.Hour))
	if err := e.svc.Prune(t.Context()); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	// The daily cap still needs the txn; the session ended after 12 h.
	if txns, revs := count(); txns != 1 || revs != 0 {
		t.Errorf("after a day: %d txns, %d revocations; want 1, 0", txns, revs)
	}
	e.clock.Set(t0.Add(26 * time.Hour))
	if err := e.svc.Prune(t.Context()); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if txns, _ := count(); txns != 0 {
		t.Errorf("after 26 hours: %d txns, want 0", txns)
	}
}

func hashesOf(e *env, number string) []string {
	var out []string
	for _, h := range e.keys.Hashes("mobile v1|" + number) {
		out = append(out, h.String())
	}
	return out
}
