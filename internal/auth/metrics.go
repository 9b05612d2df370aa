package auth

// Metrics receives sign-in events for monitoring. Reasons and outcomes are
// closed sets of short words; nothing personal is ever passed. The
// Prometheus implementation is in internal/auth/authmetrics (kept out of
// this package so the rules do not depend on an HTTP stack); nil in
// Config means none.
type Metrics interface {
	// OTPRequested: an OTP and its SMS were committed.
	OTPRequested()
	// OTPRefused: an OTP request was refused (invalid_mobile, ip_limit,
	// resend_wait, daily_cap).
	OTPRefused(reason string)
	// OTPConfirmed: a confirmation ended (ok, wrong, expired, used,
	// voided, unknown, malformed).
	OTPConfirmed(outcome string)
	// TokenIssued: a token was issued, at sign-in or refresh.
	TokenIssued()
	// TokenRejected: a token was refused (invalid, revoked).
	TokenRejected(reason string)
}

// noMetrics discards every event.
type noMetrics struct{}

func (noMetrics) OTPRequested()        {}
func (noMetrics) OTPRefused(string)    {}
func (noMetrics) OTPConfirmed(string)  {}
func (noMetrics) TokenIssued()         {}
func (noMetrics) TokenRejected(string) {}
