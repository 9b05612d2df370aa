package auth_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/vax"
)

const mobile = "9876543210"

func TestSignIn(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	first := e.signIn(t, mobile)
	if !first.NewAccount || !vax.ValidUUID(first.AccountID) {
		t.Fatalf("first sign-in: got new %v, account %q; want a new account with a UUID", first.NewAccount, first.AccountID)
	}
	if want := t0.Add(15 * time.Minute); !first.Token.ExpiresAt.Equal(want) {
		t.Errorf("token expiry = %v, want %v", first.Token.ExpiresAt, want)
	}
	p, err := e.svc.Authenticate(first.Token.Token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.AccountID != first.AccountID || p.Kind != auth.KindCitizen {
		t.Errorf("principal = %+v, want account %s, kind citizen", p, first.AccountID)
	}
	// Again, with the number spelt another way: the same account.
	e.clock.Advance(time.Minute)
	again := e.signIn(t, "+91 98765 43210")
	if again.NewAccount || again.AccountID != first.AccountID {
		t.Errorf("second sign-in: got new %v, account %q; want the existing account %q", again.NewAccount, again.AccountID, first.AccountID)
	}
	var a vax.Account
	if err := e.store.View(t.Context(), func(tx vax.Tx) (err error) {
		a, err = tx.Account(t.Context(), first.AccountID)
		return err
	}); err != nil {
		t.Fatalf("Account: %v", err)
	}
	if a.MobileLast4 != "3210" {
		t.Errorf("last 4 = %q, want 3210", a.MobileLast4)
	}
	if got, err := e.svc.AccountMobile(a); err != nil || got != mobile {
		t.Errorf("AccountMobile = %q, %v; want %s", got, err, mobile)
	}
	if bytes.Contains(a.MobileSealed, []byte(mobile)) || strings.Contains(a.MobileHash, mobile) {
		t.Errorf("account stores the number in clear")
	}
}

// TestStoredSecrets checks that the store holds neither the OTP, nor the
// SHA-256 the client sends, nor the number.
func TestStoredSecrets(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	txn, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: mobile})
	if err != nil {
		t.Fatalf("GenerateOTP: %v", err)
	}
	otp := e.otpFor(t, mobile)
	var o vax.OTPTxn
	var m []vax.OutboxMessage
	err = e.store.InTx(t.Context(), func(tx vax.Tx) (err error) {
		if o, err = tx.OTPTxn(t.Context(), txn); err != nil {
			return err
		}
		m, err = tx.ClaimMessages(t.Context(), vax.MessageClaim{By: "t", Now: t0.Add(48 * time.Hour), Until: t0.Add(48 * time.Hour)})
		return err
	})
	if err != nil || len(m) != 1 {
		t.Fatalf("read back: %v, %d messages", err, len(m))
	}
	stored := fmt.Sprintf("%s %s %x %x", o.CodeHash, o.MobileHash, o.MobileSealed, m[0].Payload)
	stored += string(o.MobileSealed) + string(m[0].Payload)
	for _, secret := range []string{otp, sha(otp), mobile} {
		if strings.Contains(stored, secret) {
			t.Errorf("the store holds %q in clear", secret)
		}
	}
	if !o.ExpiresAt.Equal(t0.Add(3 * time.Minute)) {
		t.Errorf("txn expires %v, want %v", o.ExpiresAt, t0.Add(3*time.Minute))
	}
}

func TestConfirmRules(t *testing.T) {
	wrong := sha("not-the-otp")
	tests := []struct {
		name string
		// run confirms in its own way and returns the final error.
		run  func(t *testing.T, e *env, txn, otp string) error
		want string // "" for success, else the message's beginning
	}{
		{"right at once", func(t *testing.T, e *env, txn, otp string) error {
			_, err := e.svc.ConfirmOTP(t.Context(), txn, sha(otp))
			return err
		}, ""},
		{"upper-case hex", func(t *testing.T, e *env, txn, otp string) error {
			_, err := e.svc.ConfirmOTP(t.Context(), strings.ToUpper(txn), strings.ToUpper(sha(otp)))
			return err
		}, ""},
		{"4 wrong, then right", func(t *testing.T, e *env, txn, otp string) error {
			for range 4 {
				if _, err := e.svc.ConfirmOTP(t.Context(), txn, wrong); vax.ErrorReason(err) != auth.ReasonInvalidOTP {
					t.Fatalf("wrong guess: got %v, want invalid OTP", err)
				}
			}
			_, err := e.svc.ConfirmOTP(t.Context(), txn, sha(otp))
			return err
		}, ""},
		{"5 wrong, then the 6th right", func(t *testing.T, e *env, txn, otp string) error {
			for range 5 {
				e.svc.ConfirmOTP(t.Context(), txn, wrong)
			}
			_, err := e.svc.ConfirmOTP(t.Context(), txn, sha(otp))
			return err
		}, "too many wrong tries"},
		{"reuse", func(t *testing.T, e *env, txn, otp string) error {
			if _, err := e.svc.ConfirmOTP(t.Context(), txn, sha(otp)); err != nil {
				t.Fatalf("first use: %v", err)
			}
			_, err := e.svc.ConfirmOTP(t.Context(), txn, sha(otp))
			return err
		}, "this OTP was already used"},
		{"just before expiry", func(t *testing.T, e *env, txn, otp string) error {
			e.clock.Advance(3*time.Minute - time.Second)
			_, err := e.svc.ConfirmOTP(t.Context(), txn, sha(otp))
			return err
		}, ""},
		{"expired", func(t *testing.T, e *env, txn, otp string) error {
			e.clock.Advance(3 * time.Minute)
			_, err := e.svc.ConfirmOTP(t.Context(), txn, sha(otp))
			return err
		}, "this OTP has expired"},
		{"the digits, not their SHA-256", func(t *testing.T, e *env, txn, otp string) error {
			_, err := e.svc.ConfirmOTP(t.Context(), txn, otp)
			return err
		}, "invalid OTP"},
		{"unknown txnId", func(t *testing.T, e *env, txn, otp string) error {
			_, err := e.svc.ConfirmOTP(t.Context(), "00000000-0000-4000-8000-000000000000", sha(otp))
			return err
		}, "invalid OTP"},
		{"txnId not a UUID", func(t *testing.T, e *env, txn, otp string) error {
			_, err := e.svc.ConfirmOTP(t.Context(), "1234", sha(otp))
			return err
		}, "invalid OTP"},
		{"another txn's OTP", func(t *testing.T, e *env, txn, otp string) error {
			other, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: "9123456789"})
			if err != nil {
				t.Fatalf("GenerateOTP: %v", err)
			}
			otherOTP := e.otpFor(t, "9123456789")
			if otherOTP == otp {
				t.Skip("the two OTPs drawn are equal (one in a million)")
			}
			// The other txn's OTP does not confirm this txn, nor this
			// txn's OTP the other.
			if _, err := e.svc.ConfirmOTP(t.Context(), other, sha(otp)); vax.ErrorReason(err) != auth.ReasonInvalidOTP {
				t.Errorf("this OTP on the other txn: got %v, want invalid OTP", err)
			}
			_, err = e.svc.ConfirmOTP(t.Context(), txn, sha(otherOTP))
			return err
		}, "invalid OTP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, auth.Rules{})
			txn, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: mobile})
			if err != nil {
				t.Fatalf("GenerateOTP: %v", err)
			}
			otp := e.otpFor(t, mobile)
			err = tc.run(t, e, txn, otp)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			wantRefusal(t, tc.name, err, vax.Invalid, auth.ReasonInvalidOTP)
			if msg := vax.ErrorMessage(err); !strings.HasPrefix(msg, tc.want) {
				t.Errorf("message = %q, want it to start %q", msg, tc.want)
			}
		})
	}
}

// TestWrongGuessesAreCounted checks that a wrong guess is recorded even
// though ConfirmOTP fails, and that guesses stop counting once voided.
func TestWrongGuessesAreCounted(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	txn, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: mobile})
	if err != nil {
		t.Fatalf("GenerateOTP: %v", err)
	}
	for range 7 {
		e.svc.ConfirmOTP(t.Context(), txn, sha("x"))
	}
	var o vax.OTPTxn
	if err := e.store.View(t.Context(), func(tx vax.Tx) (err error) {
		o, err = tx.OTPTxn(t.Context(), txn)
		return err
	}); err != nil {
		t.Fatalf("OTPTxn: %v", err)
	}
	if o.Attempts != 5 || !o.UsedAt.IsZero() {
		t.Errorf("after 7 wrong guesses: attempts %d, used %v; want 5, unused", o.Attempts, o.UsedAt)
	}
}

// generateAt asks for an OTP at t0+at and returns the refusal, if any.
func generateAt(t *testing.T, e *env, at time.Duration, number string) error {
	t.Helper()
	e.clock.Set(t0.Add(at))
	_, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: number})
	return err
}

func TestResendBackoff(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	steps := []struct {
		at        time.Duration
		wantWait  time.Duration // 0: allowed
		wantRetry time.Duration
	}{
		{0, 0, 0},
		{29 * time.Second, 30 * time.Second, time.Second},
		{30 * time.Second, 0, 0},
		{30*time.Second + 59*time.Second, 60 * time.Second, time.Second},
		{90 * time.Second, 0, 0},
		{90*time.Second + 179*time.Second, 180 * time.Second, time.Second},
		{270 * time.Second, 0, 0},
		// 180 s repeats.
		{270*time.Second + 100*time.Second, 180 * time.Second, 80 * time.Second},
		{450 * time.Second, 0, 0},
		// 15 quiet minutes end the streak: 30 s again.
		{450*time.Second + 15*time.Minute, 0, 0},
		{450*time.Second + 15*time.Minute + 10*time.Second, 30 * time.Second, 20 * time.Second},
	}
	for i, st := range steps {
		err := generateAt(t, e, st.at, mobile)
		if st.wantWait == 0 {
			if err != nil {
				t.Fatalf("step %d at %v: got %v, want an OTP", i, st.at, err)
			}
			continue
		}
		wantRefusal(t, fmt.Sprintf("step %d at %v", i, st.at), err, vax.RateLimited, auth.ReasonResendWait)
		if after, ok := auth.RetryAfter(err); !ok || after != st.wantRetry {
			t.Errorf("step %d at %v: retry after %v, %v; want %v", i, st.at, after, ok, st.wantRetry)
		}
	}
}

func TestResendAfterSignIn(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	e.signIn(t, mobile)
	// A sign-in ends the streak: the next OTP (a new sign-in) needs no wait.
	if err := generateAt(t, e, time.Second, mobile); err != nil {
		t.Fatalf("OTP right after a sign-in: %v", err)
	}
	// Other numbers are never held up by this one.
	if err := generateAt(t, e, 2*time.Second, "9123456789"); err != nil {
		t.Fatalf("OTP to another number: %v", err)
	}
}

func TestDailyCap(t *testing.T) {
	e := newEnv(t, auth.Rules{ResendAfter: []time.Duration{time.Second}})
	for i := range 50 {
		if err := generateAt(t, e, time.Duration(i)*time.Minute, mobile); err != nil {
			t.Fatalf("OTP %d: %v", i+1, err)
		}
	}
	err := generateAt(t, e, 50*time.Minute, mobile)
	wantRefusal(t, "51st OTP", err, vax.RateLimited, auth.ReasonDailyCap)
	// The first OTP leaves the window at t0+24h.
	if after, _ := auth.RetryAfter(err); after != 24*time.Hour-50*time.Minute {
		t.Errorf("retry after %v, want %v", after, 24*time.Hour-50*time.Minute)
	}
	err = generateAt(t, e, 24*time.Hour-time.Second, mobile)
	wantRefusal(t, "just before the first leaves the window", err, vax.RateLimited, auth.ReasonDailyCap)
	if err := generateAt(t, e, 24*time.Hour, mobile); err != nil {
		t.Errorf("OTP once the first left the window: %v", err)
	}
	// Another number is not capped.
	if err := generateAt(t, e, 24*time.Hour, "9123456789"); err != nil {
		t.Errorf("OTP to another number: %v", err)
	}
}

func TestIPLimit(t *testing.T) {
	e := newEnv(t, auth.Rules{IPPerMinute: 2, IPBurst: 2})
	gen := func(number, ip string) error {
		_, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: number, ClientIP: ip})
		return err
	}
	for i, number := range []string{"9000000001", "9000000002"} {
		if err := gen(number, "203.0.113.7"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	err := gen("9000000003", "203.0.113.7")
	wantRefusal(t, "third request from one address", err, vax.RateLimited, auth.ReasonIPLimit)
	if after, ok := auth.RetryAfter(err); !ok || after != 30*time.Second {
		t.Errorf("retry after %v, %v; want 30s", after, ok)
	}
	if err := gen("9000000003", "198.51.100.1"); err != nil {
		t.Errorf("another address: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	if err := gen("9000000003", "203.0.113.7"); err != nil {
		t.Errorf("after 30s: %v", err)
	}
}

func TestInvalidMobile(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	for _, m := range []string{"", "12345", "5876543210", "98765432101", "98765x3210", "+44 7700 900123"} {
		_, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: m})
		wantRefusal(t, fmt.Sprintf("GenerateOTP(%q)", m), err, vax.Invalid, auth.ReasonInvalidMobile)
	}
	for _, m := range []string{"9876543210", "+919876543210", "919876543210", "09876543210", " 98765-43210 "} {
		if got, err := auth.NormalizeMobile(m); err != nil || got != mobile {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %s", m, got, err, mobile)
		}
	}
}

// refusal is what a caller sees of an error.
type refusal struct {
	Code    vax.Code
	Reason  string
	Message string
	Retry   time.Duration
}

func refusalOf(err error) refusal {
	r, _ := auth.RetryAfter(err)
	return refusal{vax.ErrorCode(err), vax.ErrorReason(err), vax.ErrorMessage(err), r}
}

// TestNoAccountEnumeration checks that refusals look the same for a number
// with an account and one without.
func TestNoAccountEnumeration(t *testing.T) {
	const known, unknown = "9876543210", "9123456789"
	e := newEnv(t, auth.Rules{})
	e.signIn(t, known)
	e.clock.Set(t0.Add(time.Hour)) // the sign-in's streak is long over

	seen := map[string][]refusal{}
	for _, number := range []string{known, unknown} {
		e.clock.Set(t0.Add(time.Hour))
		txn, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: number})
		if err != nil {
			t.Fatalf("GenerateOTP: %v", err)
		}
		e.clock.Advance(10 * time.Second)
		_, err = e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: number})
		seen[number] = append(seen[number], refusalOf(err))
		_, err = e.svc.ConfirmOTP(t.Context(), txn, sha("wrong"))
		seen[number] = append(seen[number], refusalOf(err))
	}
	if diff := cmp.Diff(seen[known], seen[unknown]); diff != "" {
		t.Errorf("refusals differ with and without an account (-with +without):\n%s", diff)
	}
	if len(seen[known]) != 2 || seen[known][0].Code != vax.RateLimited || seen[known][1].Code != vax.Invalid {
		t.Errorf("refusals = %+v, want a resend wait and an invalid OTP", seen[known])
	}
}

func TestRulesValidation(t *testing.T) {
	kr := newKeys(t)
	for _, r := range []auth.Rules{
		{TokenTTL: time.Hour, SessionMax: time.Minute},
		{MaxAttempts: -1},
		{ResendAfter: []time.Duration{-time.Second}},
	} {
		if _, err := auth.New(auth.Config{Store: sqliteBackend(t, nil).open(t), Keys: kr, Rules: r}); vax.ErrorCode(err) != vax.Invalid {
			t.Errorf("New(%+v): got %v, want Invalid", r, err)
		}
	}
	if _, err := auth.New(auth.Config{Keys: kr}); err == nil {
		t.Errorf("New without a store: got no error")
	}
}
