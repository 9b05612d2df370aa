// Package cluster tells a node how many nodes serve the deployment, so that
// limits meant for the whole deployment can be split between them.
//
// Every node appends a heartbeat (a vax.ChangeNode change keyed by a random
// node id) to the change feed every 10 s and counts the distinct node ids it
// has received in the last 30 s, itself included. It needs no table of its
// own and no configuration; it never decides anything but the count.
package cluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

const (
	// Heartbeat is how often a node announces itself.
	Heartbeat = 10 * time.Second
	// Expiry is how long a node counts as live after its last heartbeat:
	// three heartbeats, so one slow or lost transaction does not halve
	// every other node's share.
	Expiry = 3 * Heartbeat
)

// Presence counts the live nodes, this one included.
type Presence struct {
	st    vax.Store
	clock vax.Clock
	log   *slog.Logger
	id    string

	// notify is held while the hooks run, so they see the counts in order.
	notify sync.Mutex
	mu     sync.Mutex
	seen   map[string]time.Time // node id → when its last heartbeat arrived
	n      int                  // the count last reported to the hooks
	hooks  []func(n int)
}

// New returns the Presence of this node, with an id drawn from random
// (nil: crypto/rand). Call Run to announce it and subscribe Changed to the
// change feed to learn of the others. It panics if random fails: a node
// without an id cannot start.
func New(st vax.Store, clock vax.Clock, random io.Reader, logger *slog.Logger) *Presence {
	if clock == nil {
		clock = vax.SystemClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if random == nil {
		random = rand.Reader
	}
	id, err := vax.NewUUID(random)
	if err != nil {
		panic(fmt.Sprintf("cluster: draw a node id: %v", err))
	}
	return &Presence{st: st, clock: clock, log: logger, id: id, seen: map[string]time.Time{}, n: 1}
}

// ID is this node's id, as its heartbeats carry it.
func (p *Presence) ID() string { return p.id }

// Run announces this node at once and then every Heartbeat until ctx
// ends. A failed heartbeat is logged and tried again at the next one.
func (p *Presence) Run(ctx context.Context) {
	t := time.NewTicker(Heartbeat)
	defer t.Stop()
	for {
		if err := p.beat(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("cluster heartbeat failed", "err", err)
		}
		p.recount()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Presence) beat(ctx context.Context) error {
	err := p.st.InTx(ctx, func(tx vax.Tx) error { return tx.AppendChange(ctx, vax.ChangeNode, p.id) })
	if err != nil {
		return fmt.Errorf("append heartbeat of node %s: %w", p.id, err)
	}
	return nil
}

// Changed takes the heartbeats among changes; subscribe it to the change
// feed (changefeed.Follower.Subscribe).
func (p *Presence) Changed(changes []vax.Change) {
	now := p.clock.Now()
	var any bool
	p.mu.Lock()
	for _, c := range changes {
		if c.Kind == vax.ChangeNode && c.Key != p.id {
			p.seen[c.Key] = now
			any = true
		}
	}
	p.mu.Unlock()
	if any {
		p.recount()
	}
}

// Nodes is the number of live nodes, at least 1 (this one).
func (p *Presence) Nodes() int {
	return p.recount()
}

// OnChange registers fn to be called with the new count whenever it
// changes, and once now with the current count. fn must be quick; it runs
// on the goroutine that noticed the change.
func (p *Presence) OnChange(fn func(n int)) {
	p.notify.Lock()
	defer p.notify.Unlock()
	p.mu.Lock()
	p.hooks = append(p.hooks, fn)
	n := p.n
	p.mu.Unlock()
	fn(n)
}

// recount forgets nodes silent for longer than Expiry, tells the hooks if
// the count changed and returns it.
func (p *Presence) recount() int {
	p.notify.Lock()
	defer p.notify.Unlock()
	now := p.clock.Now()
	p.mu.Lock()
	for id, at := range p.seen {
		if now.Sub(at) > Expiry {
			delete(p.seen, id)
		}
	}
	n := len(p.seen) + 1
	if n == p.n {
		p.mu.Unlock()
		return n
	}
	p.n = n
	hooks := p.hooks
	p.mu.Unlock()
	p.log.Info("cluster size changed", "nodes", n)
	for _, fn := range hooks {
		fn(n)
	}
	return n
}
