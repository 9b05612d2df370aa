package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/vaxport/vaxport/internal/vax"
)

// ipLimiter is a per-IP token bucket, in memory on this node. Limits
// across nodes come later (a shared store); until then each node allows
// its share.
type ipLimiter struct {
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
func (l *ipLimiter) idleAfter() time.Duration {
	if l.limit <= 0 {
		return time.Hour
	}
	return time.Duration(float64(l.burst)/float64(l.limit)*float64(time.Second)) + time.Minute
}

func newIPLimiter(perMinute float64, burst int, clock vax.Clock) *ipLimiter {
	if perMinute < 0 {
		return nil
	}
	return &ipLimiter{limit: rate.Limit(perMinute / 60), burst: burst, clock: clock, buckets: map[string]*bucket{}}
}

// allow takes a token for ip, or reports how long until one is free. A nil
// limiter and an empty ip always allow.
func (l *ipLimiter) allow(ip string) (bool, time.Duration) {
	if l == nil || ip == "" {
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
	b := l.buckets[ip]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[ip] = b
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
