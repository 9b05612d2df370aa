// Package ratelimit holds per-key token buckets in memory: how one node
// protects itself (its CPU, its share of a limit) from one client.
package ratelimit

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/vaxport/vaxport/internal/vax"
)

// PerKey is a token bucket per key (a client address, an account), in
// memory on this node: each node allows its share. A nil *PerKey allows
// everything.
type PerKey struct {
	perMinute float64 // as configured, for the whole deployment
	fullBurst int
	clock     vax.Clock

	mu    sync.Mutex
	limit rate.Limit // this node's share of perMinute, per second
	burst int        // this node's share of fullBurst
	// The buckets in two generations: a key is looked up in cur, then in
	// prev (and moved to cur). Every idleAfter cur becomes prev and the old
	// prev is dropped whole, so a bucket unused for a generation — full
	// again by then — is forgotten without a sweep holding the lock.
	cur, prev map[string]*bucket
	rotated   time.Time
}

type bucket struct {
	lim     *rate.Limiter
	retryAt time.Time // when the key was last told to come back (Check)
}

// idleAfter is how long an address's bucket is kept unused at least: by
// then it is full again, so forgetting it changes nothing.
func (l *PerKey) idleAfter() time.Duration {
	if l.limit <= 0 {
		return time.Hour
	}
	return time.Duration(float64(l.burst)/float64(l.limit)*float64(time.Second)) + time.Minute
}

// New returns a limiter allowing perMinute requests a minute per key, up to
// burst at once; nil (no limit) when perMinute is negative.
func New(perMinute float64, burst int, clock vax.Clock) *PerKey {
	if perMinute < 0 {
		return nil
	}
	return &PerKey{perMinute: perMinute, fullBurst: burst, clock: clock,
		limit: rate.Limit(perMinute / 60), burst: burst, cur: map[string]*bucket{}}
}

// Share makes this node allow its share of the limit when n nodes serve
// it: each key's rate and burst become the configured ones divided by n
// (a burst of at least 1), for keys already seen too. However a load
// balancer spreads one client's requests, the n nodes then allow at most
// about the configured limit in total. n below 1 counts as 1; a nil
// limiter ignores it.
func (l *PerKey) Share(n int) {
	if l == nil {
		return
	}
	n = max(n, 1)
	limit := rate.Limit(l.perMinute / 60 / float64(n))
	burst := max(l.fullBurst/n, 1)
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if limit == l.limit && burst == l.burst {
		return
	}
	l.limit, l.burst = limit, burst
	for _, m := range []map[string]*bucket{l.cur, l.prev} {
		for _, b := range m {
			b.lim.SetLimitAt(now, limit)
			b.lim.SetBurstAt(now, burst)
		}
	}
}

// Allow takes a token for key, or reports how long until one is free. A
// nil limiter and an empty key always allow.
func (l *PerKey) Allow(key string) (bool, time.Duration) {
	if l == nil || key == "" {
		return true, 0
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	lim := l.bucket(key).lim
	if lim.AllowN(now, 1) { // no allocation on either path
		return true, 0
	}
	return false, l.waitFor(1 - lim.TokensAt(now))
}

// Check is Allow for clients that may ignore Retry-After. A refused key is
// told to come back after wait, rounded up to whole seconds as the
// Retry-After header says; asked again before that moment, Check reports
// hold, the time left until it (and the next moment moves on by the new
// wait, so a client asking in a loop is held on every request but the
// first), never more than MaxHold ahead. See Holder. A nil limiter and an empty key always allow.
func (l *PerKey) Check(key string) (ok bool, wait, hold time.Duration) {
	if l == nil || key == "" {
		return true, 0, 0
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	b := l.bucket(key)
	if b.lim.AllowN(now, 1) {
		return true, 0, 0
	}
	wait = l.waitFor(1 - b.lim.TokensAt(now))
	told := (wait + time.Second - 1).Truncate(time.Second)
	if now.Before(b.retryAt) {
		hold = b.retryAt.Sub(now)
		b.retryAt = minTime(b.retryAt.Add(told), now.Add(MaxHold))
		return false, wait, hold
	}
	b.retryAt = now.Add(told)
	return false, wait, 0
}

// AllowAll takes a token for each distinct non-empty key, or, if any is
// refused, none, and reports the longest wait. A nil limiter allows.
func (l *PerKey) AllowAll(keys []string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	// A few keys are compared pairwise, without allocating; many are
	// sorted once, so a long list costs n log n, not n².
	dup := func(i int) bool { return slices.Contains(keys[:i], keys[i]) }
	if len(keys) > 8 {
		keys = slices.Compact(slices.Sorted(slices.Values(keys)))
		dup = func(int) bool { return false }
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	// Every bucket is used under l.mu only, so checking them all and then
	// taking from each is atomic.
	var wait time.Duration
	for i, k := range keys {
		if k == "" || dup(i) {
			continue
		}
		if missing := 1 - l.bucket(k).lim.TokensAt(now); missing > 0 {
			wait = max(wait, l.waitFor(missing))
		}
	}
	if wait > 0 {
		return false, wait
	}
	for i, k := range keys {
		if k != "" && !dup(i) {
			l.cur[k].lim.AllowN(now, 1)
		}
	}
	return true, 0
}

// waitFor is how long missing tokens take to come back; l.mu is held.
func (l *PerKey) waitFor(missing float64) time.Duration {
	if l.limit <= 0 || l.burst < 1 {
		return time.Minute
	}
	return max(time.Duration(missing/float64(l.limit)*float64(time.Second)), time.Millisecond)
}

// rotate starts a new generation of buckets when the current one is
// idleAfter old; l.mu is held.
func (l *PerKey) rotate(now time.Time) {
	if now.Sub(l.rotated) >= l.idleAfter() {
		l.prev, l.cur, l.rotated = l.cur, make(map[string]*bucket, len(l.cur)), now
	}
}

// bucket returns key's bucket, moved to or made in the current generation;
// l.mu is held.
func (l *PerKey) bucket(key string) *bucket {
	b := l.cur[key]
	if b == nil {
		if b = l.prev[key]; b == nil {
			b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		}
		l.cur[key] = b
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// MaxHold is the longest Holder.Hold holds a request.
const MaxHold = 2 * time.Second

// Holder delays the refusals of clients that ignore Retry-After (Check's
// hold). Answering a client that asks in a tight loop at once lets it take
// as much of the node's CPU as it likes, 429s being almost as dear to
// write as cached answers; held, each of its connections gets about one
// answer per Retry-After and the CPU goes to everyone else. At most max
// requests are held at once; beyond that they are answered at once. A nil
// Holder never holds.
type Holder struct {
	slots chan struct{}
}

// NewHolder returns a Holder of at most max requests at once.
func NewHolder(max int) *Holder {
	return &Holder{slots: make(chan struct{}, max)}
}

// Hold waits d (at most MaxHold) or until ctx ends, unless max requests
// are held already; it reports whether it held.
func (h *Holder) Hold(ctx context.Context, d time.Duration) bool {
	if h == nil || d <= 0 {
		return false
	}
	select {
	case h.slots <- struct{}{}:
	default:
		return false
	}
	defer func() { <-h.slots }()
	t := time.NewTimer(min(d, MaxHold))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return true
}
