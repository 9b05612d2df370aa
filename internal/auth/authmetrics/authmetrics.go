// Package authmetrics reports sign-in events (auth.Metrics) as Prometheus
// metrics. Labels are closed sets (reasons, outcomes): never a number, an
// address or a token.
package authmetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/metrics"
)

// Metrics implements auth.Metrics with Prometheus counters.
type Metrics struct {
	requested prometheus.Counter
	refused   *prometheus.CounterVec
	confirmed *prometheus.CounterVec
	issued    prometheus.Counter
	rejected  *prometheus.CounterVec
}

var _ auth.Metrics = (*Metrics)(nil)

// New registers the sign-in metrics with reg (sharing them if another
// Metrics registered them already) and returns them.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vaxport_otp_requested_total",
			Help: "OTPs generated and committed to the SMS outbox.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_otp_refused_total",
			Help: "OTP requests refused, by reason (invalid_mobile, ip_limit, resend_wait, daily_cap).",
		}, []string{"reason"}),
		confirmed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_otp_confirmations_total",
			Help: "OTP confirmations, by outcome (ok, wrong, expired, used, voided, unknown, malformed).",
		}, []string{"outcome"}),
		issued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vaxport_tokens_issued_total",
			Help: "Citizen tokens issued, at sign-in or refresh.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_tokens_rejected_total",
			Help: "Citizen tokens refused, by reason (invalid, revoked).",
		}, []string{"reason"}),
	}
	m.requested = metrics.Register(reg, m.requested)
	m.refused = metrics.Register(reg, m.refused)
	m.confirmed = metrics.Register(reg, m.confirmed)
	m.issued = metrics.Register(reg, m.issued)
	m.rejected = metrics.Register(reg, m.rejected)
	return m
}

// OTPRequested counts a committed OTP.
func (m *Metrics) OTPRequested() { m.requested.Inc() }

// OTPRefused counts a refused OTP request.
func (m *Metrics) OTPRefused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// OTPConfirmed counts a confirmation by outcome.
func (m *Metrics) OTPConfirmed(outcome string) { m.confirmed.WithLabelValues(outcome).Inc() }

// TokenIssued counts an issued token.
func (m *Metrics) TokenIssued() { m.issued.Inc() }

// TokenRejected counts a refused token.
func (m *Metrics) TokenRejected(reason string) { m.rejected.WithLabelValues(reason).Inc() }
