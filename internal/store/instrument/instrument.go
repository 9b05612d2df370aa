// Package instrument wraps a vax.Store with Prometheus metrics: how long
// transactions and change-feed reads take, how often they fail, and the
// connection pool's figures. It changes no behaviour.
package instrument

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vaxport/vaxport/internal/vax"
)

// Store is a vax.Store that records metrics.
type Store struct {
	vax.Store
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// Wrap returns st instrumented, registering its metrics with reg.
func Wrap(st vax.Store, reg prometheus.Registerer) *Store {
	s := &Store{
		Store: st,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vaxport_store_duration_seconds",
			Help:    "Time spent in store operations (a transaction includes the work done inside it).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_store_errors_total",
			Help: "Store operations that failed, by operation and error code.",
		}, []string{"op", "code"}),
	}
	pool := func(name, help string, f func(vax.PoolStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return f(st.Stats()) })
	}
	reg.MustRegister(s.duration, s.errors,
		pool("vaxport_store_pool_open_connections", "Store connections open.",
			func(p vax.PoolStats) float64 { return float64(p.Open) }),
		pool("vaxport_store_pool_in_use_connections", "Store connections in use.",
			func(p vax.PoolStats) float64 { return float64(p.InUse) }),
		pool("vaxport_store_pool_idle_connections", "Store connections idle.",
			func(p vax.PoolStats) float64 { return float64(p.Idle) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "vaxport_store_pool_waits_total", Help: "Times a caller waited for a store connection.",
		}, func() float64 { return float64(st.Stats().WaitCount) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "vaxport_store_pool_wait_seconds_total", Help: "Time spent waiting for store connections.",
		}, func() float64 { return st.Stats().WaitTime.Seconds() }),
	)
	return s
}

func (s *Store) observe(op string, start time.Time, err error) {
	s.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		s.errors.WithLabelValues(op, string(vax.ErrorCode(err))).Inc()
	}
}

// InTx runs fn in a read-write transaction and records how long it took.
func (s *Store) InTx(ctx context.Context, fn func(vax.Tx) error) error {
	start := time.Now()
	err := s.Store.InTx(ctx, fn)
	s.observe("tx", start, err)
	return err
}

// View runs fn in a read-only transaction and records how long it took.
func (s *Store) View(ctx context.Context, fn func(vax.Tx) error) error {
	start := time.Now()
	err := s.Store.View(ctx, fn)
	s.observe("view", start, err)
	return err
}

// Read runs fn outside a transaction and records how long it took.
func (s *Store) Read(ctx context.Context, fn func(vax.Tx) error) error {
	start := time.Now()
	err := s.Store.Read(ctx, fn)
	s.observe("read", start, err)
	return err
}

// BookAppointments books a batch in its own transaction and records how
// long it took.
func (s *Store) BookAppointments(ctx context.Context, as []vax.Appointment, msgs []vax.OutboxMessage) ([]bool, error) {
	start := time.Now()
	booked, err := s.Store.BookAppointments(ctx, as, msgs)
	s.observe("book", start, err)
	return booked, err
}

// Changes reads the change feed and records how long it took.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]vax.Change, error) {
	start := time.Now()
	c, err := s.Store.Changes(ctx, after, limit)
	s.observe("changes", start, err)
	return c, err
}
