// Package changefeed tells every part of a node what changed anywhere in the
// deployment: it follows the store's change table (woken by the store's
// wakeups, polling as a fallback) and hands each change to subscribers once.
//
// It is the one mechanism for search freshness, token revocation, partner
// status, alerts and live dashboards; do not invent a second. It never
// interprets changes: subscribers do.
package changefeed

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Options tune a Follower. Zero values pick the defaults.
type Options struct {
	// Poll is how often the store is polled when no wakeup arrives
	// (default 250ms): the worst-case delay when wakeups are lost.
	Poll time.Duration
	// GapWait is how long a hole in the sequence is waited for before it is
	// taken to be a rolled-back transaction (default 10s). Changes after a
	// hole are delivered at once; only the hole's own number waits.
	GapWait time.Duration
	// Batch is the page size read from the store (default 1000).
	Batch int
	// Retain is how long changes are kept before this node prunes them
	// (default 1h); 0 keeps the default, negative disables pruning.
	Retain time.Duration
	// Clock is for pruning and received times (default the system clock).
	Clock  vax.Clock
	Logger *slog.Logger
}

// Received is a change as this node received it.
type Received struct {
	vax.Change
	ReceivedAt time.Time
}

// Status describes how far a node has followed the feed.
type Status struct {
	Position int64      // every change up to and including this seq was handled
	Recent   []Received // the last changes received, newest last
}

// Follower follows a store's change feed for one node.
type Follower struct {
	st   vax.Store
	opts Options

	mu     sync.Mutex
	subs   map[int]func([]vax.Change)
	nextID int
	status Status
	ready  chan struct{}
}

const recentLen = 100

// New returns a Follower of st; call Run to start it.
func New(st vax.Store, opts Options) *Follower {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.GapWait <= 0 {
		opts.GapWait = 10 * time.Second
	}
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if opts.Retain == 0 {
		opts.Retain = time.Hour
	}
	if opts.Clock == nil {
		opts.Clock = vax.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Follower{st: st, opts: opts, subs: map[int]func([]vax.Change){}, ready: make(chan struct{})}
}

// Subscribe registers fn to receive every change committed after the
// Follower became ready, in batches, on the Follower's goroutine: fn must be
// quick and must not block. Within a batch changes are in seq order; a change
// that fills a gap may arrive after higher seqs. The returned func
// unsubscribes.
func (f *Follower) Subscribe(fn func([]vax.Change)) (unsubscribe func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextID
	f.nextID++
	f.subs[id] = fn
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.subs, id)
	}
}

// Ready is closed once the Follower has caught up with the changes that
// existed when it started; from then on every new change is delivered.
func (f *Follower) Ready() <-chan struct{} { return f.ready }

// Status returns the follower's position and recent changes.
func (f *Follower) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Status{Position: f.status.Position, Recent: slices.Clone(f.status.Recent)}
}

// Run follows the feed until ctx ends. Changes recorded before Run started
// are skipped, not delivered: a consumer loads current state first and then
// follows.
func (f *Follower) Run(ctx context.Context) error {
	cur := cursor{holes: map[int64]time.Time{}}
	// Catch up silently. Holes near the tail may be transactions still in
	// flight, which consumers loading their state now cannot have seen:
	// wait for those as for any hole. Older holes are history.
	for {
		n, err := cur.readNew(ctx, f, false)
		if err != nil {
			return fmt.Errorf("change feed catch-up: %w", err)
		}
		if n < f.opts.Batch {
			break
		}
	}
	for h := range cur.holes {
		if h <= cur.hi-tailHoles {
			delete(cur.holes, h)
		}
	}
	f.setPosition(cur.position())
	close(f.ready)

	tick := time.NewTicker(f.opts.Poll)
	defer tick.Stop()
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	wake := f.st.Wakeups()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-wake:
			if !ok {
				return nil // store closed
			}
		case <-tick.C:
		case <-prune.C:
			f.prune(ctx)
			continue
		}
		if err := cur.poll(ctx, f); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			f.opts.Logger.Warn("change feed poll failed", "err", err)
		}
		f.setPosition(cur.position())
	}
}

func (f *Follower) prune(ctx context.Context) {
	if f.opts.Retain < 0 {
		return
	}
	n, err := f.st.PruneChanges(ctx, f.opts.Clock.Now().Add(-f.opts.Retain))
	if err != nil {
		f.opts.Logger.Warn("change feed prune failed", "err", err)
		return
	}
	if n > 0 {
		f.opts.Logger.Debug("change feed pruned", "rows", n)
	}
}

func (f *Follower) setPosition(p int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status.Position = p
}

func (f *Follower) deliver(batch []vax.Change) {
	now := f.opts.Clock.Now()
	f.mu.Lock()
	for _, c := range batch {
		f.status.Recent = append(f.status.Recent, Received{Change: c, ReceivedAt: now})
	}
	if n := len(f.status.Recent); n > recentLen {
		f.status.Recent = slices.Delete(f.status.Recent, 0, n-recentLen)
	}
	subs := make([]func([]vax.Change), 0, len(f.subs))
	for _, fn := range f.subs {
		subs = append(subs, fn)
	}
	f.mu.Unlock()
	for _, fn := range subs {
		fn(batch)
	}
}

// cursor tracks which seqs have been handled. Sequence numbers are allocated
// before commit, so a transaction that commits late can fill a hole below
// seqs already seen, and a rolled-back one leaves its hole forever. hi is the
// highest seq seen; holes are the seqs below hi not seen yet, with when each
// was noticed. Holes are rare and short-lived, so each is checked on its own.
type cursor struct {
	hi    int64
	holes map[int64]time.Time
}

// maxHoles bounds the holes tracked; past it, older holes are given up.
const maxHoles = 10000

// tailHoles is how far below the newest seq a hole found while catching up
// is still waited for.
const tailHoles = 1000

// position is the seq up to which every change has been handled.
func (c *cursor) position() int64 {
	p := c.hi
	for h := range c.holes {
		p = min(p, h-1)
	}
	return p
}

// poll delivers new changes and any that filled holes, and gives up on
// holes older than GapWait.
func (c *cursor) poll(ctx context.Context, f *Follower) error {
	for {
		n, err := c.readNew(ctx, f, true)
		if err != nil {
			return err
		}
		if n < f.opts.Batch {
			break
		}
	}
	if len(c.holes) == 0 {
		return nil
	}
	now := f.opts.Clock.Now()
	for _, h := range slices.Sorted(maps.Keys(c.holes)) {
		rows, err := f.st.Changes(ctx, h-1, 1)
		if err != nil {
			return err
		}
		switch {
		case len(rows) == 1 && rows[0].Seq == h:
			delete(c.holes, h)
			f.deliver(rows)
		case now.Sub(c.holes[h]) >= f.opts.GapWait:
			delete(c.holes, h) // rolled back: it will never come
		}
	}
	return nil
}

// readNew reads one page of changes above hi, records the holes it jumps
// over and delivers the page (when deliver is true). It returns the number
// of rows read.
func (c *cursor) readNew(ctx context.Context, f *Follower, deliver bool) (int, error) {
	rows, err := f.st.Changes(ctx, c.hi, f.opts.Batch)
	if err != nil {
		return 0, err
	}
	now := f.opts.Clock.Now()
	for _, ch := range rows {
		for s := c.hi + 1; s < ch.Seq; s++ {
			if len(c.holes) >= maxHoles {
				break
			}
			c.holes[s] = now
		}
		c.hi = ch.Seq
	}
	if deliver && len(rows) > 0 {
		f.deliver(rows)
	}
	return len(rows), nil
}
