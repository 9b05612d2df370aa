package sms

import (
	"github.com/prometheus/client_golang/prometheus"

	shared "github.com/vaxport/vaxport/internal/metrics"
)

// metrics are the delivery pipeline's figures. Labels are providers,
// message kinds and closed sets of reasons: never a number or a text.
type metrics struct {
	sent          *prometheus.CounterVec   // provider, kind
	sendErrors    *prometheus.CounterVec   // provider, kind
	delivered     *prometheus.CounterVec   // provider, kind
	withinTarget  *prometheus.CounterVec   // provider, kind
	receiptFailed *prometheus.CounterVec   // provider, kind
	duplicates    *prometheus.CounterVec   // provider
	gaveUp        *prometheus.CounterVec   // kind, reason
	dispatchDelay *prometheus.HistogramVec // kind
	accepted      *prometheus.HistogramVec // provider, kind
	delivery      *prometheus.HistogramVec // provider, kind
	breakerOpen   *prometheus.GaugeVec     // provider
	inFlight      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	pk := []string{"provider", "kind"}
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_sms_sent_total",
			Help: "Messages a provider accepted, by provider and message kind (a retry accepted twice counts twice).",
		}, pk),
		sendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_sms_send_errors_total",
			Help: "Send attempts a provider failed or refused, by provider and message kind.",
		}, pk),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_sms_delivered_total",
			Help: "Messages a receipt reported delivered, by provider and message kind.",
		}, pk),
		withinTarget: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_sms_delivered_within_target_total",
			Help: "Messages delivered within the target (15 s by default) of their request; divide by vaxport_sms_delivered_total for the share.",
		}, pk),
		receiptFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_sms_receipt_failed_total",
			Help: "Messages a receipt reported undeliverable, by provider and message kind.",
		}, pk),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_sms_duplicate_receipts_total",
			Help: "Delivery receipts for messages already delivered (duplicates), by provider.",
		}, []string{"provider"}),
		gaveUp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaxport_sms_dropped_total",
			Help: "Messages given up, by kind and reason (expired, undeliverable, unreadable).",
		}, []string{"kind", "reason"}),
		dispatchDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vaxport_sms_dispatch_delay_seconds",
			Help:    "Time from a message's request to its first send attempt: the pipeline's own latency.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .2, .5, 1, 2.5, 5, 10},
		}, []string{"kind"}),
		accepted: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vaxport_sms_accepted_seconds",
			Help:    "Time from a message's request to a provider accepting it.",
			Buckets: []float64{.005, .01, .025, .05, .1, .2, .5, 1, 2.5, 5, 10, 30, 60},
		}, pk),
		delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vaxport_sms_delivery_seconds",
			Help:    "Time from a message's request to its delivery receipt.",
			Buckets: []float64{.1, .25, .5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 60, 120},
		}, pk),
		breakerOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vaxport_sms_breaker_open",
			Help: "1 while a provider's circuit breaker is open (sends go to the next provider).",
		}, []string{"provider"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vaxport_sms_in_flight",
			Help: "Sends in progress on this node.",
		}),
	}
	if reg != nil {
		m.sent = shared.Register(reg, m.sent)
		m.sendErrors = shared.Register(reg, m.sendErrors)
		m.delivered = shared.Register(reg, m.delivered)
		m.withinTarget = shared.Register(reg, m.withinTarget)
		m.receiptFailed = shared.Register(reg, m.receiptFailed)
		m.duplicates = shared.Register(reg, m.duplicates)
		m.gaveUp = shared.Register(reg, m.gaveUp)
		m.dispatchDelay = shared.Register(reg, m.dispatchDelay)
		m.accepted = shared.Register(reg, m.accepted)
		m.delivery = shared.Register(reg, m.delivery)
		m.breakerOpen = shared.Register(reg, m.breakerOpen)
		m.inFlight = shared.Register(reg, m.inFlight)
	}
	return m
}
