package sms_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vaxport/vaxport/internal/sms"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestDeliversThroughFile(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	path := filepath.Join(t.TempDir(), "sms.jsonl")
	file, err := sms.NewFileProvider("file", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	d := newDispatcher(t, sms.Config{Store: st, Keys: kr, Providers: []sms.Provider{file}, Registerer: reg})
	start(t, d)
	now := time.Now()
	msgs := []outbox.Message{otpMessage(1, now), otpMessage(2, now), otpMessage(3, now)}
	enqueue(t, st, kr, msgs...)
	d.Notify()
	for _, m := range msgs {
		got := waitStatus(t, st, m.ID, vax.MessageDelivered)
		if got.Provider != "file" || got.Attempts != 1 || got.SentAt.IsZero() || got.DoneAt.IsZero() || got.ClaimedBy != "" {
			t.Errorf("delivered message = %+v, want via file, 1 attempt, sent and done times, unclaimed", got)
		}
	}
	lines := fileLines(t, path)
	if len(lines) != 3 {
		t.Fatalf("file has %d lines, want 3", len(lines))
	}
	byID := map[string]sms.FileLine{}
	for _, l := range lines {
		byID[l.ID] = l
	}
	for _, m := range msgs {
		if l := byID[m.ID]; l.To != m.To || l.Text != m.Text {
			t.Errorf("line for %s = %+v, want to %s, text %q", m.ID, l, m.To, m.Text)
		}
	}
	waitFor(t, "delivered metric", func() bool {
		return metricSum(t, reg, "vaxport_sms_delivered_total") == 3
	})
	if got := metricSum(t, reg, "vaxport_sms_sent_total"); got != 3 {
		t.Errorf("sent metric = %v, want 3", got)
	}
}

// metricSum sums every series of the metric family name in reg.
func metricSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// TestFailover puts the primary in an outage: every message goes out
// through the secondary, within its validity, and the primary's breaker
// opens so it stops being tried.
func TestFailover(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	primary, err := sms.NewSimProvider(sms.SimConfig{Name: "primary", Outages: []sms.Outage{{Duration: time.Hour}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var primaryCalls atomic.Int64
	counted := &funcProvider{name: "primary", send: func(m outbox.Message) (string, error) {
		primaryCalls.Add(1)
		return primary.Send(t.Context(), m)
	}}
	secondary, err := sms.NewSimProvider(sms.SimConfig{Name: "secondary", Median: 5 * time.Millisecond, P99: 20 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	d := newDispatcher(t, sms.Config{Store: st, Keys: kr, Providers: []sms.Provider{counted, secondary}, Registerer: reg,
		Breaker: sms.BreakerConfig{Failures: 3, Cooldown: time.Hour}})
	start(t, d)
	now := time.Now()
	const n = 40
	var msgs []outbox.Message
	for i := range n {
		msgs = append(msgs, otpMessage(i, now))
	}
	enqueue(t, st, kr, msgs...)
	d.Notify()
	for _, m := range msgs {
		got := waitStatus(t, st, m.ID, vax.MessageDelivered)
		if got.Provider != "secondary" {
			t.Errorf("message %s delivered via %q, want secondary", m.ID, got.Provider)
		}
		if !got.DoneAt.Before(got.ExpiresAt) {
			t.Errorf("message %s delivered at %v, after its expiry %v", m.ID, got.DoneAt, got.ExpiresAt)
		}
		// Failing over is within the attempt: no retry was needed.
		if got.Attempts != 1 {
			t.Errorf("message %s took %d attempts, want 1", m.ID, got.Attempts)
		}
	}
	// Concurrent sends may each have failed before the breaker opened, but
	// no more than one batch's worth; after that the primary is skipped.
	if calls := primaryCalls.Load(); calls < 3 || calls > n {
		t.Errorf("primary tried %d times, want at least 3 and fewer than every message", calls)
	}
	before := primaryCalls.Load()
	enqueue(t, st, kr, otpMessage(1000, time.Now()))
	d.Notify()
	waitStatus(t, st, msgID(1000), vax.MessageDelivered)
	if primaryCalls.Load() != before {
		t.Errorf("the primary was tried with its breaker open")
	}
	if got := metricSum(t, reg, "vaxport_sms_breaker_open"); got != 1 {
		t.Errorf("breaker-open gauge = %v, want 1", got)
	}
}

// TestBreakerProbes walks a breaker through open, a failed probe (longer
// cooldown), and a successful probe that closes it. Messages go one at a
// time so each call is deterministic.
func TestBreakerProbes(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	clock := vax.NewManualClock(time.Now())
	var (
		mu      sync.Mutex
		healthy bool
		calls   int
	)
	primary := &funcProvider{name: "primary", send: func(m outbox.Message) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if healthy {
			return "p", nil
		}
		return "", errors.New("down")
	}}
	backup := newCounting("backup")
	d := newDispatcher(t, sms.Config{Store: st, Keys: kr, Clock: clock, Providers: []sms.Provider{primary, backup},
		Breaker: sms.BreakerConfig{Failures: 2, Cooldown: time.Minute, MaxCooldown: 10 * time.Minute}})
	start(t, d)
	n := 0
	send := func() vax.OutboxMessage {
		t.Helper()
		n++
		m := otpMessage(n, clock.Now())
		m.ExpiresAt = time.Time{}
		enqueue(t, st, kr, m)
		d.Notify()
		return waitStatus(t, st, m.ID, vax.MessageSent)
	}
	primaryCalls := func() int {
		mu.Lock()
		defer mu.Unlock()
		return calls
	}
	steps := []struct {
		name      string
		advance   time.Duration
		healthy   bool
		wantCalls int // primary calls so far
		wantVia   string
	}{
		{"first failure", 0, false, 1, "backup"},
		{"second failure opens", 0, false, 2, "backup"},
		{"open: skipped", 0, false, 2, "backup"},
		{"cooldown over: probe fails", time.Minute, false, 3, "backup"},
		{"cooldown doubled: skipped", time.Minute, false, 3, "backup"},
		{"probe succeeds", time.Minute, true, 4, "primary"},
		{"closed", 0, true, 5, "primary"},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		mu.Lock()
		healthy = st.healthy
		mu.Unlock()
		got := send()
		if got.Provider != st.wantVia || primaryCalls() != st.wantCalls {
			t.Fatalf("%s: sent via %s with %d primary calls, want via %s with %d", st.name, got.Provider, primaryCalls(), st.wantVia, st.wantCalls)
		}
	}
}

func TestRetries(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	var calls atomic.Int64
	flaky := &funcProvider{name: "flaky", send: func(m outbox.Message) (string, error) {
		if calls.Add(1) <= 3 {
			return "", errors.New("try again")
		}
		return "ok", nil
	}}
	d := newDispatcher(t, sms.Config{Store: st, Keys: kr, Providers: []sms.Provider{flaky}, Breaker: sms.BreakerConfig{Failures: 100}})
	start(t, d)
	m := otpMessage(1, time.Now())
	enqueue(t, st, kr, m)
	d.Notify()
	got := waitStatus(t, st, m.ID, vax.MessageSent)
	if got.Attempts != 4 || got.ProviderRef != "ok" {
		t.Errorf("sent after %d attempts with ref %q, want 4 and ok", got.Attempts, got.ProviderRef)
	}
}

func TestGivesUp(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	never := &funcProvider{name: "never", send: func(outbox.Message) (string, error) { return "", errors.New("down") }}
	refuses := &funcProvider{name: "refuses", send: func(outbox.Message) (string, error) {
		return "", sms.Permanent(errors.New("bad number"))
	}}
	reg := prometheus.NewRegistry()
	d := newDispatcher(t, sms.Config{Store: st, Keys: kr, Providers: []sms.Provider{never, refuses}, MaxAttempts: 3,
		Registerer: reg, Breaker: sms.BreakerConfig{Failures: 100}})
	start(t, d)
	m := otpMessage(1, time.Now())
	m.ExpiresAt = time.Time{}
	enqueue(t, st, kr, m)
	d.Notify()
	got := waitStatus(t, st, m.ID, vax.MessageFailed)
	if got.Attempts != 3 || got.DoneAt.IsZero() {
		t.Errorf("failed message = %+v, want 3 attempts and a done time", got)
	}
}

func TestDropsExpired(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	clock := vax.NewManualClock(time.Now())
	p := newCounting("p")
	reg := prometheus.NewRegistry()
	d := newDispatcher(t, sms.Config{Store: st, Keys: kr, Clock: clock, Providers: []sms.Provider{p}, Registerer: reg})
	m := otpMessage(1, clock.Now())
	enqueue(t, st, kr, m)
	clock.Advance(3 * time.Minute) // the OTP expired before any dispatcher ran
	start(t, d)
	got := waitStatus(t, st, m.ID, vax.MessageDropped)
	if p.count(m.ID) != 0 || !got.SentAt.IsZero() {
		t.Errorf("an expired OTP was sent")
	}
	waitFor(t, "dropped metric", func() bool { return metricSum(t, reg, "vaxport_sms_dropped_total") == 1 })
}

// TestDurability: a message committed while no dispatcher runs, with the
// store then closed (the node dies), is delivered by a dispatcher started
// on the reopened database.
func TestDurability(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vaxport.db")
	kr := newKeys(t)
	st := openStore(t, path)
	m := otpMessage(1, time.Now())
	enqueue(t, st, kr, m)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := openStore(t, path)
	p := newCounting("p")
	start(t, newDispatcher(t, sms.Config{Store: st2, Keys: kr, Providers: []sms.Provider{p}}))
	waitStatus(t, st2, m.ID, vax.MessageSent)
	if p.count(m.ID) != 1 {
		t.Errorf("sent %d times, want 1", p.count(m.ID))
	}
}

// TestLeaseReturnsClaims: a node that claimed messages and died before
// sending them leaves them to others once the lease ends.
func TestLeaseReturnsClaims(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	clock := vax.NewManualClock(time.Now())
	m := otpMessage(1, clock.Now())
	m.ExpiresAt = time.Time{}
	enqueue(t, st, kr, m)
	err := st.InTx(t.Context(), func(tx vax.Tx) error {
		got, err := tx.ClaimMessages(t.Context(), vax.MessageClaim{By: "dead-node", Now: clock.Now(), Until: clock.Now().Add(30 * time.Second)})
		if err == nil && len(got) != 1 {
			err = fmt.Errorf("claimed %d, want 1", len(got))
		}
		return err
	})
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	p := newCounting("p")
	d := newDispatcher(t, sms.Config{Store: st, Keys: kr, Clock: clock, Providers: []sms.Provider{p}})
	start(t, d)
	clock.Advance(30 * time.Second)
	d.Notify()
	waitStatus(t, st, m.ID, vax.MessageSent)
}

// TestTwoDispatchers runs two nodes' dispatchers on one database: every
// message goes out, and, as nothing fails, exactly once.
func TestTwoDispatchers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vaxport.db")
	kr := newKeys(t)
	a, b := openStore(t, path), openStore(t, path)
	pa, pb := newCounting("p"), newCounting("p")
	start(t, newDispatcher(t, sms.Config{Store: a, Keys: kr, Providers: []sms.Provider{pa}, Node: "a"}))
	start(t, newDispatcher(t, sms.Config{Store: b, Keys: kr, Providers: []sms.Provider{pb}, Node: "b"}))
	const n = 300
	now := time.Now()
	for i := range n / 10 {
		var ms []outbox.Message
		for j := range 10 {
			ms = append(ms, otpMessage(i*10+j, now))
		}
		enqueue(t, a, kr, ms...)
	}
	waitFor(t, "every message sent", func() bool { return pa.total()+pb.total() >= n })
	for i := range n {
		if c := pa.count(msgID(i)) + pb.count(msgID(i)); c != 1 {
			t.Errorf("message %d sent %d times, want 1", i, c)
		}
	}
	t.Logf("node a sent %d, node b %d", pa.total(), pb.total())
}

func TestReceipts(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	gw, err := sms.NewHTTPProvider(sms.HTTPConfig{Name: "gw", URL: "http://127.0.0.1:1/", ReceiptSecret: "0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	// The gateway's sends are stood in for: accepted, no receipt.
	accepted := &funcProvider{name: "gw", send: func(outbox.Message) (string, error) { return "g-1", nil }}
	backup := newCounting("backup")
	reg := prometheus.NewRegistry()
	d := newDispatcher(t, sms.Config{Store: st, Keys: kr, Providers: []sms.Provider{receiptsOf{accepted, gw}, backup}, Registerer: reg})
	start(t, d)
	m1, m2 := otpMessage(1, time.Now()), otpMessage(2, time.Now())
	enqueue(t, st, kr, m1, m2)
	d.Notify()
	waitStatus(t, st, m1.ID, vax.MessageSent)
	waitStatus(t, st, m2.ID, vax.MessageSent)

	for _, tc := range []struct {
		name, provider, secret string
	}{
		{"wrong secret", "gw", "0123456789abcdeX"},
		{"no secret", "gw", ""},
		{"provider without receipts", "backup", ""},
		{"unknown provider", "nope", "0123456789abcdef"},
	} {
		err := d.Receipts(t.Context(), tc.provider, tc.secret, []sms.Receipt{{MessageID: m1.ID, Status: sms.Delivered}})
		if vax.ErrorCode(err) != vax.Unauthorized {
			t.Errorf("%s: got %v, want Unauthorized", tc.name, err)
		}
	}
	if got := message(t, st, m1.ID); got.Status != vax.MessageSent {
		t.Fatalf("an unauthenticated receipt changed the message to %s", got.Status)
	}
	err = d.Receipts(t.Context(), "gw", "0123456789abcdef", []sms.Receipt{{MessageID: "x", Status: sms.Delivered}})
	if vax.ErrorCode(err) != vax.Invalid {
		t.Errorf("receipt with a bad id: got %v, want Invalid", err)
	}

	// Delivered, then the same receipt again: counted once.
	ok := []sms.Receipt{{MessageID: m1.ID, Status: sms.Delivered}}
	for range 2 {
		if err := d.Receipts(t.Context(), "gw", "0123456789abcdef", ok); err != nil {
			t.Fatalf("Receipts: %v", err)
		}
	}
	if got := message(t, st, m1.ID); got.Status != vax.MessageDelivered {
		t.Errorf("after a delivered receipt: %s, want delivered", got.Status)
	}
	if got := metricSum(t, reg, "vaxport_sms_delivered_total"); got != 1 {
		t.Errorf("delivered metric = %v, want 1", got)
	}
	if got := metricSum(t, reg, "vaxport_sms_duplicate_receipts_total"); got != 1 {
		t.Errorf("duplicate receipts metric = %v, want 1", got)
	}

	// Undeliverable through gw: the message goes out again, through the
	// backup first, with the same id.
	if err := d.Receipts(t.Context(), "gw", "0123456789abcdef", []sms.Receipt{{MessageID: m2.ID, Status: sms.Failed}}); err != nil {
		t.Fatalf("Receipts: %v", err)
	}
	waitFor(t, "re-sent through the backup", func() bool { return backup.count(m2.ID) == 1 })
	got := waitStatus(t, st, m2.ID, vax.MessageSent)
	if got.Provider != "backup" || got.Attempts != 2 {
		t.Errorf("re-sent message = %+v, want via backup on attempt 2", got)
	}
	// A receipt for a message that does not exist is ignored.
	if err := d.Receipts(t.Context(), "gw", "0123456789abcdef", []sms.Receipt{{MessageID: msgID(99), Status: sms.Delivered}}); err != nil {
		t.Errorf("receipt for an unknown message: %v", err)
	}
}

// receiptsOf sends with one provider and authenticates receipts with
// another's secret.
type receiptsOf struct {
	sms.Provider
	auth sms.ReceiptAuthenticator
}

func (r receiptsOf) ReceiptSecret() string { return r.auth.ReceiptSecret() }

func TestNewRefuses(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	for name, cfg := range map[string]sms.Config{
		"no providers":    {Store: st, Keys: kr},
		"no store":        {Keys: kr, Providers: []sms.Provider{newCounting("a")}},
		"duplicate names": {Store: st, Keys: kr, Providers: []sms.Provider{newCounting("a"), newCounting("a")}},
	} {
		if _, err := sms.New(cfg); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}

// TestMaxInFlight bounds concurrent sends: with 2 slots and a provider that
// holds every send, 2 are in flight at most; released, all go out.
func TestMaxInFlight(t *testing.T) {
	st, kr := newStore(t), newKeys(t)
	var (
		mu           sync.Mutex
		now, highest int
	)
	release := make(chan struct{})
	slow := &funcProvider{name: "slow", send: func(outbox.Message) (string, error) {
		mu.Lock()
		now++
		highest = max(highest, now)
		mu.Unlock()
		<-release
		mu.Lock()
		now--
		mu.Unlock()
		return "", nil
	}}
	d := newDispatcher(t, sms.Config{Store: st, Keys: kr, Providers: []sms.Provider{slow}, MaxInFlight: 2})
	start(t, d)
	var msgs []outbox.Message
	for i := range 10 {
		m := otpMessage(i, time.Now())
		m.ExpiresAt = time.Time{}
		msgs = append(msgs, m)
	}
	enqueue(t, st, kr, msgs...)
	d.Notify()
	waitFor(t, "two sends in flight", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return now == 2
	})
	close(release)
	for _, m := range msgs {
		waitStatus(t, st, m.ID, vax.MessageSent)
	}
	mu.Lock()
	defer mu.Unlock()
	if highest != 2 {
		t.Errorf("at most %d sends were in flight, want 2", highest)
	}
}
