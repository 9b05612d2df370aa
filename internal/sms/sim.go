package sms

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// SimConfig describes a simulated SMS gateway for load tests.
type SimConfig struct {
	Name string
	// Median and P99 shape the delivery latency, from acceptance to the
	// receipt: lognormal with that median and 99th percentile. Zero
	// Median: delivered at once. P99 below Median is taken as Median.
	Median, P99 time.Duration
	// Accept is how long Send takes to answer (fixed; default 0).
	Accept time.Duration
	// Errors is the share of sends refused with a transient error (0..1).
	Errors float64
	// Outages are windows, measured from the provider's creation, in which
	// every send fails with a transient error.
	Outages []Outage
	// Seed makes the draws repeatable.
	Seed uint64
}

// Outage is a window when a simulated gateway is down.
type Outage struct {
	Start    time.Duration // after the provider's creation
	Duration time.Duration
}

// SimProvider is a simulated SMS gateway: it accepts or refuses sends as
// configured and reports each accepted message delivered after a random
// latency, through its receipt handler. It never writes a message anywhere.
type SimProvider struct {
	cfg   SimConfig
	clock vax.Clock
	epoch time.Time
	mu    sync.Mutex // guards rnd and receipt
	rnd   *rand.Rand
	// sigma is the lognormal's shape: ln(P99/Median) / z(0.99).
	sigma   float64
	receipt func(Receipt)
}

// z99 is the standard normal's 99th percentile.
const z99 = 2.326347874

// errSimOutage and errSimRefused are the simulated failures.
var (
	errSimOutage  = errors.New("simulated outage")
	errSimRefused = errors.New("simulated transient error")
)

// NewSimProvider returns a simulated gateway; its outage windows are
// measured from clock's now.
func NewSimProvider(cfg SimConfig, clock vax.Clock) (*SimProvider, error) {
	if cfg.Errors < 0 || cfg.Errors > 1 {
		return nil, vax.Errorf(vax.Invalid, "sim provider: errors must be a share between 0 and 1")
	}
	if cfg.Median < 0 || cfg.P99 < 0 || cfg.Accept < 0 {
		return nil, vax.Errorf(vax.Invalid, "sim provider: negative latency")
	}
	if cfg.P99 < cfg.Median {
		cfg.P99 = cfg.Median
	}
	if clock == nil {
		clock = vax.SystemClock{}
	}
	p := &SimProvider{cfg: cfg, clock: clock, epoch: clock.Now(), rnd: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	if cfg.Median > 0 {
		p.sigma = math.Log(float64(cfg.P99)/float64(cfg.Median)) / z99
	}
	return p, nil
}

// Name returns the provider's name.
func (p *SimProvider) Name() string { return p.cfg.Name }

// SetReceiptHandler sets where delivery receipts go.
func (p *SimProvider) SetReceiptHandler(fn func(Receipt)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.receipt = fn
}

// Latency draws one delivery latency.
func (p *SimProvider) Latency() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latency()
}

func (p *SimProvider) latency() time.Duration {
	if p.cfg.Median <= 0 {
		return 0
	}
	return time.Duration(float64(p.cfg.Median) * math.Exp(p.sigma*p.rnd.NormFloat64()))
}

// down reports whether now is in an outage window.
func (p *SimProvider) down(now time.Time) bool {
	since := now.Sub(p.epoch)
	for _, o := range p.cfg.Outages {
		if since >= o.Start && since < o.Start+o.Duration {
			return true
		}
	}
	return false
}

// Send answers after Accept: refused in an outage or by the error rate,
// otherwise accepted, with a receipt scheduled after a drawn latency.
func (p *SimProvider) Send(ctx context.Context, m outbox.Message) (string, error) {
	if p.cfg.Accept > 0 {
		t := time.NewTimer(p.cfg.Accept)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
	}
	if p.down(p.clock.Now()) {
		return "", errSimOutage
	}
	p.mu.Lock()
	refused := p.cfg.Errors > 0 && p.rnd.Float64() < p.cfg.Errors
	lat := p.latency()
	receipt := p.receipt
	p.mu.Unlock()
	if refused {
		return "", errSimRefused
	}
	ref := "sim-" + m.ID
	if receipt != nil {
		deliver := func() {
			receipt(Receipt{Provider: p.cfg.Name, MessageID: m.ID, Ref: ref, Status: Delivered, At: p.clock.Now()})
		}
		if lat <= 0 {
			go deliver()
		} else {
			time.AfterFunc(lat, deliver)
		}
	}
	return ref, nil
}

// ParseSimConfig parses the options of a "sim:" spec, comma- or
// semicolon-separated key=value pairs: median, p99, accept (durations),
// errors (a share, or a percentage like "1%"), outage=START+DURATION
// (repeatable), seed, name. An empty string is an instant, perfect gateway.
func ParseSimConfig(opts string) (SimConfig, error) {
	var c SimConfig
	for _, kv := range splitOptions(opts, ",;") {
		k, v, ok := cutOption(kv)
		if !ok {
			return c, vax.Errorf(vax.Invalid, "sim option %q: want key=value", kv)
		}
		var err error
		switch k {
		case "name":
			c.Name = v
		case "median":
			c.Median, err = time.ParseDuration(v)
		case "p99":
			c.P99, err = time.ParseDuration(v)
		case "accept":
			c.Accept, err = time.ParseDuration(v)
		case "errors":
			c.Errors, err = parseShare(v)
		case "seed":
			c.Seed, err = strconv.ParseUint(v, 10, 64)
		case "outage":
			var o Outage
			o, err = parseOutage(v)
			c.Outages = append(c.Outages, o)
		default:
			return c, vax.Errorf(vax.Invalid, "unknown sim option %q: want median, p99, accept, errors, outage, seed or name", k)
		}
		if err != nil {
			return c, vax.Errorf(vax.Invalid, "sim option %s=%q: %v", k, v, err)
		}
	}
	return c, nil
}

func parseShare(v string) (float64, error) {
	pct := len(v) > 0 && v[len(v)-1] == '%'
	if pct {
		v = v[:len(v)-1]
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, err
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 || math.IsNaN(f) {
		return 0, fmt.Errorf("want a share between 0 and 1 (or 0%%..100%%)")
	}
	return f, nil
}

func parseOutage(v string) (Outage, error) {
	start, dur, ok := strings.Cut(v, "+")
	if !ok {
		return Outage{}, fmt.Errorf("want START+DURATION, like 30s+20s")
	}
	s, err := time.ParseDuration(start)
	if err != nil {
		return Outage{}, err
	}
	d, err := time.ParseDuration(dur)
	if err != nil {
		return Outage{}, err
	}
	if s < 0 || d <= 0 {
		return Outage{}, fmt.Errorf("want a non-negative start and a positive duration")
	}
	return Outage{Start: s, Duration: d}, nil
}
