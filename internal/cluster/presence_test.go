package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/changefeed"
	"github.com/vaxport/vaxport/internal/cluster"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// counts returns a channel of the counts p reports through OnChange.
func counts(p *cluster.Presence) <-chan int {
	ch := make(chan int, 16)
	p.OnChange(func(n int) { ch <- n })
	return ch
}

// await waits for n on ch.
func await(t *testing.T, name string, ch <-chan int, want int) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case n := <-ch:
			if n == want {
				return
			}
		case <-timeout:
			t.Fatalf("%s never counted %d nodes", name, want)
		}
	}
}

func TestPresence(t *testing.T) {
	st := backendtest.SQLite(t)
	clock := vax.NewManualClock(time.Date(2021, 5, 1, 16, 0, 0, 0, time.UTC))
	feed := changefeed.New(st, changefeed.Options{Poll: 10 * time.Millisecond, Retain: -1})
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		feed.Run(ctx)
	}()
	t.Cleanup(func() { stop(); <-done })
	<-feed.Ready()

	a := cluster.New(st, clock, nil, nil)
	b := cluster.New(st, clock, nil, nil)
	if a.ID() == b.ID() {
		t.Fatalf("two nodes drew the same id %s", a.ID())
	}
	feed.Subscribe(a.Changed)
	feed.Subscribe(b.Changed)
	aCounts, bCounts := counts(a), counts(b)
	if n := <-aCounts; n != 1 {
		t.Errorf("before any heartbeat: got %d nodes, want 1", n)
	}
	<-bCounts

	runA, stopA := context.WithCancel(ctx)
	runB, stopB := context.WithCancel(ctx)
	aDone, bDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(aDone); a.Run(runA) }()
	go func() { defer close(bDone); b.Run(runB) }()
	defer func() { stopA(); <-aDone }()
	await(t, "a", aCounts, 2)
	await(t, "b", bCounts, 2)

	// b stops; a keeps counting it until Expiry has passed since its
	// last heartbeat.
	stopB()
	<-bDone
	clock.Advance(cluster.Expiry)
	if n := a.Nodes(); n != 2 {
		t.Errorf("%v after b's last heartbeat: got %d nodes, want 2", cluster.Expiry, n)
	}
	clock.Advance(time.Second)
	if n := a.Nodes(); n != 1 {
		t.Errorf("%v after b's last heartbeat: got %d nodes, want 1", cluster.Expiry+time.Second, n)
	}
	await(t, "a after b stopped", aCounts, 1)

	// Another node's heartbeat counts at once; this node's own and other
	// kinds of change never do.
	a.Changed([]vax.Change{{Kind: vax.ChangeNode, Key: a.ID()}, {Kind: vax.ChangeSession, Key: "x"}})
	if n := a.Nodes(); n != 1 {
		t.Errorf("after its own heartbeat and a session change: got %d nodes, want 1", n)
	}
	a.Changed([]vax.Change{{Kind: vax.ChangeNode, Key: "c"}, {Kind: vax.ChangeNode, Key: "d"}})
	if n := a.Nodes(); n != 3 {
		t.Errorf("after heartbeats of c and d: got %d nodes, want 3", n)
	}
}
