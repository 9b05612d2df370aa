// Package metrics holds what vaxport's Prometheus adapters share. It knows
// nothing of the domain.
package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg, or returns the collector already
// registered under the same description, so two components built on one
// registry (two HTTP middlewares, two SMS dispatchers in a test) share their
// metrics. It panics if reg holds a different kind of collector under that
// name: a programming error.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(fmt.Sprintf("metrics: register: %v", err))
}
