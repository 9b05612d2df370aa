package booking

import (
	"strings"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// SoldOutTTL bounds how long this node answers "full" for a session from
// memory after the store last refused it. A change-feed entry for the
// session (a cancellation, a reschedule, a capacity change on any node)
// clears it sooner.
const SoldOutTTL = time.Second

// soldOut remembers, per node, the sessions the store refused as full, so
// the rush of attempts on a sold-out session is answered without a
// transaction. It never admits anyone: a stale entry can only refuse a seat
// freed less than SoldOutTTL ago (as stale as search), never overbook.
type soldOut struct {
	mu sync.RWMutex
	m  map[soldKey]soldEntry
}

type soldKey struct {
	session string
	counter int // 1: dose 1; 2: later doses (Capacity2)
}

type soldEntry struct {
	need  int // requests for this many seats or more were refused
	until time.Time
}

func counterOf(dose int) int { return min(max(dose, 1), 2) }

// refuses reports whether a request for n seats of dose in session was
// refused as full less than SoldOutTTL ago.
func (c *soldOut) refuses(session string, dose, n int, now time.Time) bool {
	c.mu.RLock()
	e, ok := c.m[soldKey{strings.ToLower(session), counterOf(dose)}]
	c.mu.RUnlock()
	return ok && n >= e.need && now.Before(e.until)
}

// mark records that the store refused n seats of dose in session.
func (c *soldOut) mark(session string, dose, n int, now time.Time) {
	k := soldKey{strings.ToLower(session), counterOf(dose)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[soldKey]soldEntry{}
	}
	if e, ok := c.m[k]; ok && now.Before(e.until) && e.need < n {
		n = e.need
	}
	c.m[k] = soldEntry{need: n, until: now.Add(SoldOutTTL)}
	// Bound the map: drop expired entries when it grows.
	if len(c.m) > 4096 {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
	}
}

// forget clears the sessions changes name.
func (c *soldOut) forget(changes []vax.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range changes {
		if ch.Kind == vax.ChangeSession {
			s := strings.ToLower(ch.Key)
			delete(c.m, soldKey{s, 1})
			delete(c.m, soldKey{s, 2})
		}
	}
}

// SessionsChanged takes change-feed batches (changefeed.Follower.Subscribe):
// a changed session is no longer answered "full" from memory.
func (s *Service) SessionsChanged(changes []vax.Change) { s.full.forget(changes) }
