package sms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// Config configures a Dispatcher. Store, Keys and at least one provider
// are required; zero durations and counts take the defaults shown.
type Config struct {
	Store     vax.Store
	Keys      outbox.Opener // the keyring: opens sealed messages
	Providers []Provider    // failover order
	Clock     vax.Clock     // nil: the system clock
	Logger    *slog.Logger  // nil: discard
	// Registerer receives the delivery metrics; nil: none registered.
	Registerer prometheus.Registerer
	// Node names this dispatcher's claims (default host-pid-random).
	Node string

	Batch int           // messages claimed at once (200)
	Lease time.Duration // a claim's lease: a dead node's claims return after it (30s)
	Poll  time.Duration // how often the outbox is polled without a Notify (250ms)
	// Linger is the least time between two claims when messages trickle
	// in (5ms): under a storm one claim then takes a batch, not one
	// message, at the cost of at most Linger of latency.
	Linger      time.Duration
	MaxInFlight int           // concurrent sends on this node (512)
	MaxAttempts int           // attempts before a message fails (8)
	RetryMin    time.Duration // first retry backoff; doubles per attempt (1s)
	RetryMax    time.Duration // largest retry backoff (30s)
	SendTimeout time.Duration // one provider call (10s)
	Breaker     BreakerConfig
	Retain      time.Duration // finished messages are deleted after this (24h)
	Target      time.Duration // the delivery target the metrics count against (15s)
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	seti := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	seti(&c.Batch, 200)
	set(&c.Lease, 30*time.Second)
	set(&c.Poll, 250*time.Millisecond)
	set(&c.Linger, 5*time.Millisecond)
	seti(&c.MaxInFlight, 512)
	seti(&c.MaxAttempts, 8)
	set(&c.RetryMin, time.Second)
	set(&c.RetryMax, 30*time.Second)
	set(&c.SendTimeout, 10*time.Second)
	set(&c.Retain, 24*time.Hour)
	set(&c.Target, 15*time.Second)
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.Clock == nil {
		c.Clock = vax.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Node == "" {
		host, _ := os.Hostname()
		c.Node = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:6])
	}
}

// provider is a Provider with its breaker.
type provider struct {
	Provider
	name    string
	breaker *breaker
}

// Dispatcher sends the outbox's messages from this node. Run it on every
// node; they share the work through the store.
type Dispatcher struct {
	cfg       Config
	providers []*provider
	byName    map[string]*provider
	m         *metrics

	wake    chan struct{} // Notify: messages are due
	freed   chan struct{} // a send slot came free
	slots   chan struct{} // send slots (MaxInFlight)
	results chan result   // outcomes and receipts for the writer
	running atomic.Bool
	stopped chan struct{} // closed when the writer has stopped
}

// New returns a Dispatcher for cfg.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil || cfg.Keys == nil {
		return nil, vax.Errorf(vax.Internal, "sms: a store and a keyring are required")
	}
	if len(cfg.Providers) == 0 {
		return nil, vax.Errorf(vax.Invalid, "sms: no providers: give at least one --sms")
	}
	cfg.defaults()
	d := &Dispatcher{
		cfg:     cfg,
		byName:  map[string]*provider{},
		m:       newMetrics(cfg.Registerer),
		wake:    make(chan struct{}, 1),
		freed:   make(chan struct{}, 1),
		slots:   make(chan struct{}, cfg.MaxInFlight),
		results: make(chan result, 16384),
		stopped: make(chan struct{}),
	}
	for _, p := range cfg.Providers {
		name := p.Name()
		if name == "" || d.byName[name] != nil {
			return nil, vax.Errorf(vax.Invalid, "sms: provider names must be unique and non-empty (got %q twice or empty)", name)
		}
		pp := &provider{Provider: p, name: name}
		pp.breaker = newBreaker(cfg.Breaker, cfg.Clock, func(open bool) {
			if open {
				d.m.breakerOpen.WithLabelValues(name).Set(1)
				cfg.Logger.Warn("sms provider failing: circuit breaker open, sending through the next provider", "provider", name)
			} else {
				d.m.breakerOpen.WithLabelValues(name).Set(0)
				cfg.Logger.Info("sms provider recovered: circuit breaker closed", "provider", name)
			}
		})
		d.m.breakerOpen.WithLabelValues(name).Set(0)
		d.providers = append(d.providers, pp)
		d.byName[name] = pp
		if rs, ok := p.(ReceiptSource); ok {
			rs.SetReceiptHandler(d.receipt)
		}
	}
	return d, nil
}

// Notify tells the dispatcher that messages are due (a new message
// committed on this node). It never blocks; notifications coalesce.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run claims and sends due messages until ctx ends, then lets the sends in
// progress finish (each bounded by SendTimeout), writes their outcomes and
// returns. Claims it could not finish return to the queue when their lease
// ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return vax.Errorf(vax.Internal, "sms: dispatcher already running")
	}
	stopWriter := make(chan struct{})
	go func() {
		defer close(d.stopped)
		d.writer(stopWriter)
	}()
	var sends sync.WaitGroup
	base := context.WithoutCancel(ctx)
	poll := time.NewTicker(d.cfg.Poll)
	defer poll.Stop()
	prune := time.NewTimer(jitter(10 * time.Minute))
	defer prune.Stop()
	d.Notify() // look at once: there may be messages from before a restart
	var lastClaim time.Time
	for {
		if wait := d.cfg.Linger - time.Since(lastClaim); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		lastClaim = time.Now()
		full, busy, err := d.claimAndSend(ctx, base, &sends)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Warn("sms claim failed", "err", err)
		}
		if full && !busy && ctx.Err() == nil {
			continue // a whole batch was due: there may be more
		}
		// A freed send slot matters only when the slots ran out.
		var freed <-chan struct{}
		if busy {
			freed = d.freed
		}
		select {
		case <-ctx.Done():
			sends.Wait()
			close(stopWriter)
			<-d.stopped
			return nil
		case <-d.wake:
		case <-freed:
		case <-poll.C:
		case <-prune.C:
			d.prune(ctx)
			prune.Reset(jitter(10 * time.Minute))
		}
	}
}

// jitter spreads d by ±10%, so nodes do not act in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*mrand.Float64()))
}

// claimAndSend claims as many due messages as there are free send slots
// (up to Batch) and starts sending them. full reports that it claimed all
// it asked for; busy that every send slot is now taken.
func (d *Dispatcher) claimAndSend(ctx context.Context, base context.Context, sends *sync.WaitGroup) (full, busy bool, err error) {
	// Drop a stale "slot freed" signal: the count below is current.
	select {
	case <-d.freed:
	default:
	}
	free := cap(d.slots) - len(d.slots)
	want := min(free, d.cfg.Batch)
	if want <= 0 {
		return false, true, nil
	}
	now := d.cfg.Clock.Now()
	var ms []vax.OutboxMessage
	err = d.cfg.Store.InTx(ctx, func(tx vax.Tx) (err error) {
		ms, err = tx.ClaimMessages(ctx, vax.MessageClaim{By: d.cfg.Node, Now: now, Until: now.Add(d.cfg.Lease), Limit: want})
		return err
	})
	if err != nil {
		return false, false, fmt.Errorf("claim messages: %w", err)
	}
	for _, m := range ms {
		d.slots <- struct{}{} // never blocks: want ≤ free, and only this loop takes slots
		d.m.inFlight.Inc()
		sends.Go(func() {
			defer func() {
				<-d.slots
				d.m.inFlight.Dec()
				select {
				case d.freed <- struct{}{}:
				default:
				}
			}()
			d.send(base, m)
		})
	}
	return len(ms) == want, len(ms) == free, nil
}

// resultKind is what a result reports.
type resultKind int

const (
	resultSent    resultKind = iota // a provider accepted the message
	resultRetry                     // every provider failed: try again later
	resultGiveUp                    // dropped or failed for good
	resultReceipt                   // a provider's receipt
)

// result is an outcome or a receipt, for the writer.
type result struct {
	kind     resultKind
	id       string
	attempt  int
	provider string
	ref      string
	at       time.Time     // accepted, given up or receipt time
	next     time.Time     // retry: when
	status   ReceiptStatus // receipt
	final    vax.MessageStatus
	reason   string     // give up: expired, undeliverable, unreadable
	done     chan error // receipts over HTTP wait for the commit
}

// expired reports whether m can no longer be useful at t.
func expired(m vax.OutboxMessage, t time.Time) bool {
	return !m.ExpiresAt.IsZero() && !t.Before(m.ExpiresAt)
}

// send makes one delivery attempt of m: each provider in order until one
// accepts.
func (d *Dispatcher) send(base context.Context, m vax.OutboxMessage) {
	now := d.cfg.Clock.Now()
	kind := string(m.Kind)
	attempt := m.Attempts + 1
	if expired(m, now) {
		d.emit(result{kind: resultGiveUp, id: m.ID, attempt: m.Attempts, at: now, final: vax.MessageDropped, reason: "expired"})
		return
	}
	msg, err := outbox.Open(d.cfg.Keys, m)
	if err != nil {
		d.cfg.Logger.Error("sms message unreadable: dropped", "message", m.ID, "err", err)
		d.emit(result{kind: resultGiveUp, id: m.ID, attempt: m.Attempts, at: now, final: vax.MessageFailed, reason: "unreadable"})
		return
	}
	if m.Attempts == 0 {
		d.m.dispatchDelay.WithLabelValues(kind).Observe(now.Sub(m.CreatedAt).Seconds())
	}
	tried, lastFailed := false, m.Provider
	for _, p := range d.order(m) {
		if !p.breaker.allow() {
			continue
		}
		tried = true
		// No point waiting for a provider past the message's expiry.
		timeout := d.cfg.SendTimeout
		if !m.ExpiresAt.IsZero() {
			timeout = max(min(timeout, m.ExpiresAt.Sub(d.cfg.Clock.Now())), time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(base, timeout)
		ref, err := p.Send(ctx, msg)
		cancel()
		if err == nil {
			p.breaker.success()
			d.emit(result{kind: resultSent, id: m.ID, attempt: attempt, provider: p.name, ref: ref, at: d.cfg.Clock.Now()})
			return
		}
		d.m.sendErrors.WithLabelValues(p.name, kind).Inc()
		if IsPermanent(err) {
			p.breaker.success() // it answered: the provider is up
		} else {
			p.breaker.failure()
		}
		lastFailed = p.name
		d.cfg.Logger.Debug("sms send failed", "message", m.ID, "provider", p.name, "attempt", attempt, "err", err)
	}
	now = d.cfg.Clock.Now()
	if !tried {
		// Every breaker is open: come back when the first lets a probe
		// through; this was no attempt.
		next := now.Add(d.cfg.RetryMin)
		for _, p := range d.providers {
			if t := p.breaker.reopensAt(); !t.IsZero() && t.Before(next) {
				next = t
			}
		}
		d.retryOrDrop(m, m.Attempts, lastFailed, next, now)
		return
	}
	if attempt >= d.cfg.MaxAttempts {
		d.cfg.Logger.Warn("sms message undeliverable: every attempt failed", "message", m.ID, "attempts", attempt)
		d.emit(result{kind: resultGiveUp, id: m.ID, attempt: attempt, at: now, final: vax.MessageFailed, reason: "undeliverable"})
		return
	}
	d.retryOrDrop(m, attempt, lastFailed, now.Add(d.backoff(attempt)), now)
}

// retryOrDrop schedules m again at next, or drops it if it expires first.
func (d *Dispatcher) retryOrDrop(m vax.OutboxMessage, attempts int, lastFailed string, next, now time.Time) {
	if expired(m, next) {
		d.emit(result{kind: resultGiveUp, id: m.ID, attempt: attempts, at: now, final: vax.MessageDropped, reason: "expired"})
		return
	}
	d.emit(result{kind: resultRetry, id: m.ID, attempt: attempts, provider: lastFailed, next: next})
}

// backoff is the wait after failed attempt n (1-based): RetryMin doubled
// per attempt up to RetryMax, with jitter.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.cfg.RetryMin
	for i := 1; i < n && b < d.cfg.RetryMax; i++ {
		b *= 2
	}
	return jitter(min(b, d.cfg.RetryMax))
}

// order is the providers to try for m: failover order, except that the
// provider that failed m last goes last.
func (d *Dispatcher) order(m vax.OutboxMessage) []*provider {
	if m.Attempts == 0 || m.Provider == "" || len(d.providers) == 1 {
		return d.providers
	}
	out := make([]*provider, 0, len(d.providers))
	var last *provider
	for _, p := range d.providers {
		if p.name == m.Provider {
			last = p
			continue
		}
		out = append(out, p)
	}
	if last != nil {
		out = append(out, last)
	}
	return out
}

// emit hands r to the writer. After the writer stopped, results are
// dropped: an unrecorded send is sent again after its lease, at worst.
func (d *Dispatcher) emit(r result) {
	select {
	case d.results <- r:
	case <-d.stopped:
		if r.done != nil {
			r.done <- vax.Errorf(vax.Unavailable, "sms dispatcher stopped")
		}
	}
}

// receipt takes a receipt from a provider that makes its own.
func (d *Dispatcher) receipt(r Receipt) {
	if r.At.IsZero() {
		r.At = d.cfg.Clock.Now()
	}
	d.emit(result{kind: resultReceipt, id: r.MessageID, provider: r.Provider, ref: r.Ref, status: r.Status, at: r.At})
}

// Receipts records receipts that provider sent over HTTP, authenticated by
// its shared secret (compared in constant time). An unknown provider and a
// wrong secret are the same Unauthorized error. It returns once the
// receipts are committed; receipts for unknown messages are ignored.
func (d *Dispatcher) Receipts(ctx context.Context, providerName, secret string, rs []Receipt) error {
	p := d.byName[providerName]
	want := ""
	if p != nil {
		if ra, ok := p.Provider.(ReceiptAuthenticator); ok {
			want = ra.ReceiptSecret()
		}
	}
	got, exp := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) != 1 || want == "" || secret == "" {
		return vax.Errorf(vax.Unauthorized, "invalid receipt credentials")
	}
	if !d.running.Load() {
		return vax.Errorf(vax.Unavailable, "sms dispatcher not running on this node")
	}
	done := make(chan error, len(rs))
	now := d.cfg.Clock.Now()
	for _, r := range rs {
		if !vax.ValidUUID(r.MessageID) || (r.Status != Delivered && r.Status != Failed) {
			return vax.Errorf(vax.Invalid, "receipt: want a message id (UUID) and status delivered or failed")
		}
		if r.At.IsZero() || r.At.After(now) {
			r.At = now
		}
		d.emit(result{kind: resultReceipt, id: r.MessageID, provider: providerName, ref: r.Ref, status: r.Status, at: r.At, done: done})
	}
	for range rs {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("record receipts: %w", err)
			}
		case <-ctx.Done():
			return vax.Wrap(vax.Unavailable, ctx.Err(), "record receipts: interrupted")
		}
	}
	return nil
}

// Providers returns the providers' names in failover order.
func (d *Dispatcher) Providers() []string {
	out := make([]string, len(d.providers))
	for i, p := range d.providers {
		out[i] = p.name
	}
	return out
}

// prune deletes finished messages older than Retain.
func (d *Dispatcher) prune(ctx context.Context) {
	var n int64
	err := d.cfg.Store.InTx(ctx, func(tx vax.Tx) (err error) {
		n, err = tx.DeleteMessages(ctx, d.cfg.Clock.Now().Add(-d.cfg.Retain))
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Logger.Warn("sms prune failed", "err", err)
		}
		return
	}
	if n > 0 {
		d.cfg.Logger.Debug("sms pruned finished messages", "messages", n)
	}
}

// Writer: outcomes and receipts in batched transactions.

// maxWriteBatch bounds the results written in one transaction.
const maxWriteBatch = 500

// writer writes results until stop is closed, then writes what is queued
// and returns.
func (d *Dispatcher) writer(stop <-chan struct{}) {
	batch := make([]result, 0, maxWriteBatch)
	for {
		select {
		case r := <-d.results:
			batch = append(batch, r)
		case <-stop:
			for {
				select {
				case r := <-d.results:
					batch = append(batch, r)
					if len(batch) == maxWriteBatch {
						d.write(batch)
						batch = batch[:0]
					}
					continue
				default:
				}
				break
			}
			d.write(batch)
			return
		}
	more:
		for len(batch) < maxWriteBatch {
			select {
			case r := <-d.results:
				batch = append(batch, r)
			default:
				break more
			}
		}
		d.write(batch)
		batch = batch[:0]
	}
}

// write commits a batch of results in one transaction (one read of the
// messages, one update), retrying a failed transaction a few times (the
// store may be restarting); then it gives up on the batch: the messages'
// leases return them to the queue, and senders of receipts are told to try
// again.
func (d *Dispatcher) write(batch []result) {
	if len(batch) == 0 {
		return
	}
	ids := make([]string, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for _, r := range batch {
		id := strings.ToLower(r.id)
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	var (
		after   []func()
		err     error
		requeue bool
	)
	backoff := 50 * time.Millisecond
	for try := 1; try <= 5; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = d.cfg.Store.InTx(ctx, func(tx vax.Tx) error {
			after, requeue = after[:0], false
			ms, err := tx.Messages(ctx, ids)
			if err != nil {
				return err
			}
			byID := make(map[string]*vax.OutboxMessage, len(ms))
			for i := range ms {
				byID[ms[i].ID] = &ms[i]
			}
			changed := make(map[string]bool, len(ms))
			for _, r := range batch {
				m := byID[strings.ToLower(r.id)]
				if m == nil {
					continue // pruned, or a receipt for a message we never had
				}
				fn, rq, ch := d.apply(m, r)
				if fn != nil {
					after = append(after, fn)
				}
				requeue = requeue || rq
				changed[m.ID] = changed[m.ID] || ch
			}
			var updates []vax.OutboxMessage
			for _, m := range ms {
				if changed[m.ID] {
					updates = append(updates, m)
				}
			}
			return tx.UpdateMessages(ctx, updates)
		})
		cancel()
		if err == nil {
			break
		}
		d.cfg.Logger.Warn("sms outcome write failed", "results", len(batch), "try", try, "err", err)
		time.Sleep(backoff)
		backoff *= 2
	}
	if err == nil {
		// Count before answering, so a caller that saw its receipt
		// recorded also sees it counted.
		for _, fn := range after {
			fn()
		}
	}
	for _, r := range batch {
		if r.done != nil {
			r.done <- err
		}
	}
	if err == nil && requeue {
		d.Notify()
	}
}

// apply applies one result to m. It returns what to count once the
// transaction commits, whether the message is due again, and whether m
// changed. A message moves only forward: a stale or duplicate result
// changes nothing.
func (d *Dispatcher) apply(m *vax.OutboxMessage, r result) (after func(), requeue, changed bool) {
	kind := string(m.Kind)
	unclaim := func() { m.ClaimedBy, m.ClaimedUntil = "", time.Time{} }
	switch r.kind {
	case resultSent:
		first := m.SentAt.IsZero()
		switch {
		case m.Status == vax.MessagePending:
			m.Status = vax.MessageSent
			unclaim()
		case m.Status == vax.MessageDelivered && first:
			// The receipt overtook the record of the send.
		default:
			// Sent again after a lost outcome: a duplicate.
			return func() { d.m.sent.WithLabelValues(r.provider, kind).Inc() }, false, false
		}
		m.Attempts, m.Provider, m.ProviderRef, m.SentAt = r.attempt, r.provider, r.ref, r.at
		created := m.CreatedAt
		return func() {
			d.m.sent.WithLabelValues(r.provider, kind).Inc()
			d.m.accepted.WithLabelValues(r.provider, kind).Observe(r.at.Sub(created).Seconds())
		}, false, true

	case resultRetry:
		if m.Status != vax.MessagePending {
			return nil, false, false
		}
		m.Attempts, m.NextAttemptAt, m.Provider = r.attempt, r.next, r.provider
		unclaim()
		return nil, false, true

	case resultGiveUp:
		if m.Status != vax.MessagePending {
			return nil, false, false
		}
		m.Status, m.Attempts, m.DoneAt = r.final, r.attempt, r.at
		unclaim()
		return func() { d.m.gaveUp.WithLabelValues(kind, r.reason).Inc() }, false, true

	case resultReceipt:
		return d.applyReceipt(m, r)
	}
	return nil, false, false
}

func (d *Dispatcher) applyReceipt(m *vax.OutboxMessage, r result) (func(), bool, bool) {
	kind := string(m.Kind)
	switch r.status {
	case Delivered:
		if m.Status == vax.MessageDelivered {
			return func() { d.m.duplicates.WithLabelValues(r.provider).Inc() }, false, false
		}
		if m.Status == vax.MessagePending {
			m.ClaimedBy, m.ClaimedUntil = "", time.Time{}
		}
		if m.Status == vax.MessagePending || m.Provider == "" {
			m.Provider = r.provider
		}
		if r.ref != "" {
			m.ProviderRef = r.ref
		}
		m.Status, m.DoneAt = vax.MessageDelivered, r.at
		took := r.at.Sub(m.CreatedAt)
		return func() {
			d.m.delivered.WithLabelValues(r.provider, kind).Inc()
			d.m.delivery.WithLabelValues(r.provider, kind).Observe(took.Seconds())
			if took <= d.cfg.Target {
				d.m.withinTarget.WithLabelValues(r.provider, kind).Inc()
			}
		}, false, true

	case Failed:
		if m.Status != vax.MessageSent || m.Provider != r.provider {
			return nil, false, false // not this provider's send, or already settled
		}
		now := d.cfg.Clock.Now()
		requeue := !expired(*m, now) && m.Attempts < d.cfg.MaxAttempts
		if requeue {
			// Back to the queue; the next attempt tries this provider last.
			m.Status, m.NextAttemptAt = vax.MessagePending, now
		} else {
			m.Status, m.DoneAt = vax.MessageFailed, r.at
		}
		return func() { d.m.receiptFailed.WithLabelValues(r.provider, kind).Inc() }, requeue, true
	}
	return nil, false, false
}
