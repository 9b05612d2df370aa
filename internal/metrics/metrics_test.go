package metrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vaxport/vaxport/internal/metrics"
)

func TestRegisterShares(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "vaxport_test_total", Help: "test"}
	a := metrics.Register(reg, prometheus.NewCounter(opts))
	b := metrics.Register(reg, prometheus.NewCounter(opts))
	if a != b {
		t.Error("a second registration under the same name got a new collector, want the first")
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a gauge under a counter's name did not panic")
		}
	}()
	metrics.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "vaxport_test_total", Help: "test"}))
}
