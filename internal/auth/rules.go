package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Wire reasons of auth refusals, in Co-WIN's style. USRAUT0014 is Co-WIN's
// own "invalid OTP"; the others are vaxport's.
const (
	ReasonInvalidOTP    = "USRAUT0014" // wrong OTP, unknown txnId, or an OTP no longer usable
	ReasonInvalidMobile = "USRAUT0020" // not a 10-digit Indian mobile number
	ReasonResendWait    = "USRAUT0021" // another OTP to this number is too soon
	ReasonDailyCap      = "USRAUT0022" // too many OTPs to this number in 24 hours
	ReasonIPLimit       = "USRAUT0023" // too many OTP requests from this address
	ReasonInvalidToken  = "USRAUT0401" // missing, malformed, expired or revoked token
)

// Rules are the OTP, session and token rules. Zero fields take the
// defaults (DefaultRules).
type Rules struct {
	OTPValidity time.Duration // how long an OTP confirms (3 min)
	MaxAttempts int           // wrong tries that void an OTP (5)
	// ResendAfter are the waits before the 2nd, 3rd, … OTP to one number
	// in a streak; the last repeats (30 s, 60 s, 180 s).
	ResendAfter []time.Duration
	// StreakReset is the quiet time after which a number's resend streak
	// starts over (15 min). A successful sign-in also ends it.
	StreakReset time.Duration
	DailyCap    int // OTPs per number per rolling 24 h (50)

	// Per-IP limit on OTP requests, per node: a token bucket of IPBurst
	// refilled at IPPerMinute (60 per minute, burst 120). Generous, because
	// carrier-grade NAT puts many citizens behind one address; negative
	// IPPerMinute disables it.
	IPPerMinute float64
	IPBurst     int

	TokenTTL   time.Duration // token lifetime (15 min)
	SessionMax time.Duration // how long after sign-in refresh works (12 h)
}

// DefaultRules are the rules the zero Rules stand for.
var DefaultRules = Rules{
	OTPValidity: 3 * time.Minute,
	MaxAttempts: 5,
	ResendAfter: []time.Duration{30 * time.Second, 60 * time.Second, 180 * time.Second},
	StreakReset: 15 * time.Minute,
	DailyCap:    50,
	IPPerMinute: 60,
	IPBurst:     120,
	TokenTTL:    15 * time.Minute,
	SessionMax:  12 * time.Hour,
}

// withDefaults fills zero fields from DefaultRules and checks the rest.
func (r Rules) withDefaults() (Rules, error) {
	d := DefaultRules
	if r.OTPValidity == 0 {
		r.OTPValidity = d.OTPValidity
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = d.MaxAttempts
	}
	if len(r.ResendAfter) == 0 {
		r.ResendAfter = d.ResendAfter
	}
	if r.StreakReset == 0 {
		r.StreakReset = d.StreakReset
	}
	if r.DailyCap == 0 {
		r.DailyCap = d.DailyCap
	}
	if r.IPPerMinute == 0 {
		r.IPPerMinute = d.IPPerMinute
	}
	if r.IPBurst == 0 {
		r.IPBurst = d.IPBurst
	}
	if r.TokenTTL == 0 {
		r.TokenTTL = d.TokenTTL
	}
	if r.SessionMax == 0 {
		r.SessionMax = d.SessionMax
	}
	switch {
	case r.OTPValidity < 0 || r.MaxAttempts < 0 || r.StreakReset < 0 || r.DailyCap < 0 || r.IPBurst < 0:
		return r, vax.Errorf(vax.Invalid, "auth rules: negative limit")
	case r.TokenTTL < time.Second || r.SessionMax < r.TokenTTL:
		return r, vax.Errorf(vax.Invalid, "auth rules: token lifetime must be at least 1s and at most the session maximum")
	}
	for _, w := range r.ResendAfter {
		if w < 0 {
			return r, vax.Errorf(vax.Invalid, "auth rules: negative resend wait")
		}
	}
	return r, nil
}

// NormalizeMobile returns the 10-digit form of an Indian mobile number,
// accepting the +91, 91 and 0 prefixes and spaces or dashes that people
// and clients add. The number must start with 6, 7, 8 or 9.
func NormalizeMobile(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	switch {
	case len(s) == 13 && strings.HasPrefix(s, "+91"):
		s = s[3:]
	case len(s) == 12 && strings.HasPrefix(s, "91"):
		s = s[2:]
	case len(s) == 11 && strings.HasPrefix(s, "0"):
		s = s[1:]
	}
	ok := len(s) == 10 && s[0] >= '6' && s[0] <= '9'
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] >= '0' && s[i] <= '9'
	}
	if !ok {
		return "", &vax.Error{Code: vax.Invalid, Reason: ReasonInvalidMobile,
			Message: "invalid mobile number: want 10 digits starting with 6, 7, 8 or 9"}
	}
	return s, nil
}

// RetryError is a refusal that says how long to wait. API surfaces send
// After as Retry-After.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter returns the wait a refusal carries, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var re *RetryError
	if errors.As(err, &re) {
		return re.After, true
	}
	return 0, false
}

func rateLimited(reason, message string, after time.Duration) error {
	return &RetryError{Err: &vax.Error{Code: vax.RateLimited, Reason: reason, Message: message}, After: after}
}

// checkSend applies the per-number rules to a new OTP at now, given the
// number's OTP transactions of the last 24 hours, oldest first. It returns
// the refusal, or nil.
func (r Rules) checkSend(prior []vax.OTPTxn, now time.Time) error {
	day := now.Add(-24 * time.Hour)
	var recent []vax.OTPTxn
	for _, o := range prior {
		if o.CreatedAt.After(day) {
			recent = append(recent, o)
		}
	}
	if len(recent) >= r.DailyCap && r.DailyCap > 0 {
		// The oldest send that still counts must leave the window first.
		frees := recent[len(recent)-r.DailyCap].CreatedAt.Add(24 * time.Hour)
		return rateLimited(ReasonDailyCap,
			fmt.Sprintf("too many OTPs to this number today: at most %d in 24 hours", r.DailyCap), frees.Sub(now))
	}
	if len(recent) == 0 {
		return nil
	}
	// The streak: the unused sends back from the latest, each within
	// StreakReset of the next.
	last := recent[len(recent)-1]
	if !last.UsedAt.IsZero() || now.Sub(last.CreatedAt) >= r.StreakReset {
		return nil
	}
	n := 1
	for i := len(recent) - 2; i >= 0; i-- {
		o := recent[i]
		if !o.UsedAt.IsZero() || recent[i+1].CreatedAt.Sub(o.CreatedAt) >= r.StreakReset {
			break
		}
		n++
	}
	wait := r.ResendAfter[min(n, len(r.ResendAfter))-1]
	if next := last.CreatedAt.Add(wait); now.Before(next) {
		left := next.Sub(now)
		return rateLimited(ReasonResendWait,
			fmt.Sprintf("an OTP was sent to this number moments ago: ask again in %d seconds", int((left+time.Second-1)/time.Second)),
			left)
	}
	return nil
}
