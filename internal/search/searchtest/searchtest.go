// Package searchtest runs a search index over a real store for tests: it
// opens a migrated SQLite or PostgreSQL store and starts a change-feed
// follower and an index that follows it, stopped at the test's cleanup.
//
// It is for tests only; nothing in a vaxport binary imports it.
package searchtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/changefeed"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// Opener returns an empty, migrated store stamping changes with clock,
// closed at the test's cleanup.
type Opener func(t testing.TB, clock vax.Clock) vax.Store

// Store is a named Opener.
type Store struct {
	Name string
	Open Opener
}

// Stores lists SQLite and PostgreSQL; PostgreSQL skips its test unless
// VAXPORT_TEST_POSTGRES is set (and fails it when set but unreachable).
func Stores() []Store {
	return []Store{{"sqlite", backendtest.OpenSQLite}, {"postgres", backendtest.OpenPostgres}}
}

// Start starts a follower of st and an index following it (checking the
// date every 10ms; opts may change its Config), waits until the index is
// loaded and returns it. Both stop, and are waited for, at the test's
// cleanup (registered after the store's, so they stop first).
func Start(t testing.TB, st vax.Store, clock vax.Clock, loc *time.Location, opts ...func(*search.Config)) *search.Index {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	feed := changefeed.New(st, changefeed.Options{Poll: 50 * time.Millisecond, Retain: -1})
	cfg := search.Config{Store: st, Feed: feed, Clock: clock, Location: loc, Tick: 10 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	ix := search.New(cfg)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := feed.Run(ctx); err != nil {
			t.Errorf("change feed: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := ix.Run(ctx); err != nil {
			t.Errorf("search index: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	select {
	case <-ix.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("search index not ready after 30s")
	}
	return ix
}

// Eventually polls cond every few milliseconds until it holds, failing the
// test with what after timeout (a generous bound for a loaded machine, not
// a performance claim).
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not true after %v: %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
