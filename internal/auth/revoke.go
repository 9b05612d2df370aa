package auth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// revocations is this node's in-memory set of revoked session ids, each
// until the time after which its tokens have expired anyway.
type revocations struct {
	mu    sync.RWMutex
	until map[string]time.Time
}

func newRevocations() *revocations { return &revocations{until: map[string]time.Time{}} }

func (r *revocations) add(id string, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.until[id]; !ok || until.After(cur) {
		r.until[id] = until
	}
}

func (r *revocations) has(id string, now time.Time) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	until, ok := r.until[id]
	return ok && now.Before(until)
}

// prune forgets revocations that ended before now.
func (r *revocations) prune(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, until := range r.until {
		if !now.Before(until) {
			delete(r.until, id)
		}
	}
}

// Feed is the change feed revocations arrive by (changefeed.Follower
// implements it).
type Feed interface {
	Subscribe(fn func([]vax.Change)) (unsubscribe func())
	Ready() <-chan struct{}
}

// FollowRevocations makes this node honour logouts made on any node: it
// subscribes to feed, waits until the feed is ready, then loads the
// revocations in force from the store. A revocation committed before the
// feed was ready is in the load, one committed after arrives by the feed,
// so none is missed. It returns once loaded (tokens are accepted from then
// on); the subscription lasts until ctx ends. The feed must be running.
func (s *Service) FollowRevocations(ctx context.Context, feed Feed) error {
	unsubscribe := feed.Subscribe(func(cs []vax.Change) {
		// The revocation row says until when; the feed does not. Hold it
		// for the longest any session lasts: it is pruned after that.
		until := s.clock.Now().Add(s.rules.SessionMax)
		for _, c := range cs {
			if c.Kind == vax.ChangeTokenRevoked {
				s.revoked.add(c.Key, until)
			}
		}
	})
	context.AfterFunc(ctx, unsubscribe)
	select {
	case <-feed.Ready():
	case <-ctx.Done():
		return fmt.Errorf("follow revocations: %w", vax.Wrap(vax.Unavailable, ctx.Err(), "stopped before the change feed was ready"))
	}
	if err := s.loadRevocations(ctx); err != nil {
		return fmt.Errorf("follow revocations: %w", err)
	}
	s.ready.Store(true)
	return nil
}

func (s *Service) loadRevocations(ctx context.Context) error {
	var rs []vax.Revocation
	err := s.store.View(ctx, func(tx vax.Tx) (err error) {
		rs, err = tx.Revocations(ctx, s.clock.Now())
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range rs {
		s.revoked.add(r.ID, r.Until)
	}
	return nil
}

// PruneEvery is how often Run prunes (with ±10% jitter, so nodes spread).
const PruneEvery = 10 * time.Minute

// otpRetention is how long OTP transactions are kept: the daily cap looks
// back 24 hours.
const otpRetention = 25 * time.Hour

// Prune deletes OTP transactions older than the daily cap's window and
// revocations that have ended, and forgets ended revocations in memory.
func (s *Service) Prune(ctx context.Context) error {
	now := s.clock.Now()
	s.revoked.prune(now)
	var otps, revs int64
	err := s.store.InTx(ctx, func(tx vax.Tx) (err error) {
		if otps, err = tx.DeleteOTPTxns(ctx, now.Add(-otpRetention)); err != nil {
			return err
		}
		revs, err = tx.DeleteRevocations(ctx, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("prune sign-in data: %w", err)
	}
	if otps > 0 || revs > 0 {
		s.log.Debug("pruned sign-in data", "otp_txns", otps, "revocations", revs)
	}
	return nil
}

// Run prunes every PruneEvery until ctx ends. Every node may run it.
func (s *Service) Run(ctx context.Context) error {
	for {
		wait := time.Duration(float64(PruneEvery) * (0.9 + 0.2*rand.Float64()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if err := s.Prune(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sign-in prune failed", "err", err)
		}
	}
}
