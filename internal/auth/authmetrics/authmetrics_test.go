package authmetrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vaxport/vaxport/internal/auth/authmetrics"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := authmetrics.New(reg), authmetrics.New(reg) // two services, one registry
	a.OTPRequested()
	b.OTPRequested()
	a.OTPRefused("daily_cap")
	b.OTPConfirmed("ok")
	a.TokenIssued()
	b.TokenRejected("revoked")
	for name, want := range map[string]int{
		"vaxport_otp_requested_total":     1,
		"vaxport_otp_refused_total":       1,
		"vaxport_otp_confirmations_total": 1,
		"vaxport_tokens_issued_total":     1,
		"vaxport_tokens_rejected_total":   1,
	} {
		if got := testutil.CollectAndCount(reg, name); got != want {
			t.Errorf("%s: %d series, want %d", name, got, want)
		}
	}
	want := `# HELP vaxport_otp_requested_total OTPs generated and committed to the SMS outbox.
# TYPE vaxport_otp_requested_total counter
vaxport_otp_requested_total 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "vaxport_otp_requested_total"); err != nil {
		t.Errorf("requested, shared by both: %v", err)
	}
}
