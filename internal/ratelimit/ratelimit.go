// Package ratelimit holds per-key token buckets in memory: how one node
// protects itself (its CPU, its share of a limit) from one client.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/vaxport/vaxport/internal/vax"
)

// PerKey is a token bucket per key (a client address, an account), in
// memory on this node: each node allows its share. A nil *PerKey allows
// everything.
type PerKey struct {
	limit rate.Limit
	burst int
	clock vax.Clock

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// idleAfter is how long an address's bucket is kept unused: by then it is
// full again, so forgetting it changes nothing.
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
	return &PerKey{limit: rate.Limit(perMinute / 60), burst: burst, clock: clock, buckets: map[string]*bucket{}}
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
	if now.Sub(l.lastSweep) > time.Minute {
		idle := l.idleAfter()
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idle {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
