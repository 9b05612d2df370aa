package sms

import (
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// BreakerConfig tunes the per-provider circuit breakers. Zero fields take
// the defaults.
type BreakerConfig struct {
	// Failures is how many transient failures in a row open the breaker
	// (default 5: at a 1% error rate that happens about once in 10^10
	// sends, while an outage opens it after 5).
	Failures int
	// Cooldown is how long an open breaker refuses before letting one
	// probe through (default 2s); each failed probe doubles it, up to
	// MaxCooldown (default 30s).
	Cooldown    time.Duration
	MaxCooldown time.Duration
}

func (c BreakerConfig) withDefaults() BreakerConfig {
	if c.Failures <= 0 {
		c.Failures = 5
	}
	if c.Cooldown <= 0 {
		c.Cooldown = 2 * time.Second
	}
	if c.MaxCooldown < c.Cooldown {
		c.MaxCooldown = max(30*time.Second, c.Cooldown)
	}
	return c
}

// breakerState is closed (sending), open (refusing) or half-open (one probe
// in flight).
type breakerState int

const (
	closed breakerState = iota
	open
	halfOpen
)

// breaker is one provider's circuit breaker. Safe for concurrent use.
type breaker struct {
	cfg   BreakerConfig
	clock vax.Clock
	// onChange reports the breaker opening (true) or closing (false).
	onChange func(open bool)

	mu       sync.Mutex
	state    breakerState
	fails    int           // transient failures in a row while closed
	cooldown time.Duration // the current open period
	openTill time.Time     // open: when a probe may go
}

func newBreaker(cfg BreakerConfig, clock vax.Clock, onChange func(bool)) *breaker {
	cfg = cfg.withDefaults()
	return &breaker{cfg: cfg, clock: clock, onChange: onChange, cooldown: cfg.Cooldown}
}

// allow reports whether a send may go to the provider now. In the open
// state, once the cooldown has passed, exactly one caller is let through
// as a probe (half-open) until it reports.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case closed:
		return true
	case open:
		if b.clock.Now().Before(b.openTill) {
			return false
		}
		b.state = halfOpen
		return true
	}
	return false // half-open: the probe is out
}

// reopensAt is when an open breaker next lets a probe through; zero when
// it is not open.
func (b *breaker) reopensAt() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == open {
		return b.openTill
	}
	return time.Time{}
}

// success records a send the provider accepted (or refused for good:
// either way it answered).
func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	was := b.state
	b.state, b.fails, b.cooldown = closed, 0, b.cfg.Cooldown
	if was != closed && b.onChange != nil {
		b.onChange(false)
	}
}

// failure records a transient failure.
func (b *breaker) failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	switch b.state {
	case closed:
		b.fails++
		if b.fails < b.cfg.Failures {
			return
		}
		b.state, b.openTill = open, now.Add(b.cooldown)
		if b.onChange != nil {
			b.onChange(true)
		}
	case halfOpen:
		b.cooldown = min(2*b.cooldown, b.cfg.MaxCooldown)
		b.state, b.openTill = open, now.Add(b.cooldown)
	case open:
		// A send let through before the breaker opened failed late:
		// the breaker is open already.
	}
}
