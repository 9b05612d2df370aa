package changefeed_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/changefeed"
	"github.com/vaxport/vaxport/internal/vax"
)

// feed is an in-memory change table where the test decides which seqs are
// committed, so it can commit them out of order as PostgreSQL does. Only the
// change-feed methods of vax.Store are implemented.
type feed struct {
	vax.Store
	mu   sync.Mutex
	rows map[int64]vax.Change
	wake chan struct{}
}

func newFeed() *feed { return &feed{rows: map[int64]vax.Change{}, wake: make(chan struct{}, 1)} }

func (f *feed) commit(seqs ...int64) {
	f.mu.Lock()
	for _, s := range seqs {
		f.rows[s] = vax.Change{Seq: s, Kind: vax.ChangeSession, Key: "k"}
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *feed) Changes(_ context.Context, after int64, limit int) ([]vax.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []vax.Change
	for _, s := range slices.Sorted(maps.Keys(f.rows)) {
		if s > after && len(out) < limit {
			out = append(out, f.rows[s])
		}
	}
	return out, nil
}

func (f *feed) Wakeups() <-chan struct{} { return f.wake }

func (f *feed) PruneChanges(context.Context, time.Time) (int64, error) { return 0, nil }

// collector gathers delivered seqs.
type collector struct {
	mu   sync.Mutex
	seqs []int64
	got  chan struct{}
}

func (c *collector) add(b []vax.Change) {
	c.mu.Lock()
	for _, ch := range b {
		c.seqs = append(c.seqs, ch.Seq)
	}
	c.mu.Unlock()
	select {
	case c.got <- struct{}{}:
	default:
	}
}

// waitFor waits until want seqs were delivered (or fails after 5 s).
func (c *collector) waitFor(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		c.mu.Lock()
		if len(c.seqs) >= n {
			out := slices.Clone(c.seqs)
			c.mu.Unlock()
			return out
		}
		c.mu.Unlock()
		select {
		case <-c.got:
		case <-deadline:
			t.Fatalf("timed out waiting for %d changes", n)
		}
	}
}

func start(t *testing.T, st vax.Store, opts changefeed.Options) (*changefeed.Follower, *collector) {
	t.Helper()
	opts.Poll = 10 * time.Millisecond
	f := changefeed.New(st, opts)
	c := &collector{got: make(chan struct{}, 1)}
	f.Subscribe(c.add)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-f.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("follower never became ready")
	}
	return f, c
}

func TestSkipsHistoryDeliversNew(t *testing.T) {
	st := newFeed()
	st.commit(1, 2, 3)
	f, c := start(t, st, changefeed.Options{Batch: 2})
	st.commit(4, 5)
	if got, want := c.waitFor(t, 2), []int64{4, 5}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	waitPosition(t, f, 5)
}

func TestHoleFilledLater(t *testing.T) {
	st := newFeed()
	f, c := start(t, st, changefeed.Options{GapWait: time.Hour})
	// Seq 1 is allocated first but commits after 2 and 3.
	st.commit(2, 3)
	c.waitFor(t, 2)
	if p := f.Status().Position; p != 0 {
		t.Errorf("position = %d while seq 1 is missing, want 0", p)
	}
	st.commit(1)
	if got, want := c.waitFor(t, 3), []int64{2, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	waitPosition(t, f, 3)
}

func TestHoleGivenUp(t *testing.T) {
	st := newFeed()
	clock := vax.NewManualClock(time.Unix(1_700_000_000, 0))
	f, c := start(t, st, changefeed.Options{GapWait: 5 * time.Second, Clock: clock})
	st.commit(2) // seq 1 rolled back
	c.waitFor(t, 1)
	clock.Advance(6 * time.Second)
	waitPosition(t, f, 2)
	st.commit(3)
	if got, want := c.waitFor(t, 2), []int64{2, 3}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func TestManyPages(t *testing.T) {
	st := newFeed()
	_, c := start(t, st, changefeed.Options{Batch: 3})
	var want []int64
	for s := int64(1); s <= 20; s++ {
		want = append(want, s)
	}
	st.commit(want...)
	if got := c.waitFor(t, 20); !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func waitPosition(t *testing.T, f *changefeed.Follower, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.Status().Position != want {
		if time.Now().After(deadline) {
			t.Fatalf("position = %d, want %d", f.Status().Position, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHoleAtStartupFilledLater(t *testing.T) {
	// Seq 2 committed before the follower started; seq 1 was allocated
	// earlier but commits only after a consumer loaded its state.
	st := newFeed()
	st.commit(2)
	f, c := start(t, st, changefeed.Options{GapWait: time.Hour})
	if p := f.Status().Position; p != 0 {
		t.Errorf("position = %d while seq 1 is in flight, want 0", p)
	}
	st.commit(1)
	if got, want := c.waitFor(t, 1), []int64{1}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	waitPosition(t, f, 2)
}
