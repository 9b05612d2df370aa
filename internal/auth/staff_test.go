package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/vax"
)

const staffID = "0b7f2a52-3c1e-4b7a-9a53-7f1c2d9e4a10"

// findStaff is a ConfirmStaffOTP lookup that signs in staffID.
func findStaff(context.Context, vax.Tx, []string) (string, error) { return staffID, nil }

// TestStaffSignIn checks that staff and citizen OTPs and tokens never pass
// for each other.
func TestStaffSignIn(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	ctx := t.Context()

	// A staff OTP does not confirm as a citizen sign-in (and counts as a
	// wrong try), then confirms as a staff one.
	txn, err := e.svc.GenerateOTP(ctx, auth.OTPRequest{Mobile: mobile, Staff: true})
	if err != nil {
		t.Fatalf("GenerateOTP staff: %v", err)
	}
	otp := e.otpFor(t, mobile)
	_, err = e.svc.ConfirmOTP(ctx, txn, sha(otp))
	wantRefusal(t, "staff OTP as citizen", err, vax.Invalid, auth.ReasonInvalidOTP)
	var gotHashes []string
	tok, err := e.svc.ConfirmStaffOTP(ctx, txn, sha(otp), func(_ context.Context, _ vax.Tx, hs []string) (string, error) {
		gotHashes = hs
		return staffID, nil
	})
	if err != nil {
		t.Fatalf("ConfirmStaffOTP: %v", err)
	}
	if want := e.svc.MobileHashes(mobile); len(gotHashes) == 0 || gotHashes[0] != want[0] {
		t.Errorf("find got hashes %v, want %v", gotHashes, want)
	}
	p, err := e.svc.AuthenticateStaff(tok.Token)
	if err != nil {
		t.Fatalf("AuthenticateStaff: %v", err)
	}
	if p.AccountID != staffID || p.Kind != auth.KindStaff {
		t.Errorf("principal = %+v, want sub %s, kind staff", p, staffID)
	}
	_, err = e.svc.Authenticate(tok.Token)
	wantRefusal(t, "staff token as citizen", err, vax.Unauthorized, auth.ReasonInvalidToken)

	// A citizen OTP does not confirm as a staff sign-in.
	e.clock.Advance(20 * time.Minute)
	txn, err = e.svc.GenerateOTP(ctx, auth.OTPRequest{Mobile: mobile})
	if err != nil {
		t.Fatalf("GenerateOTP citizen: %v", err)
	}
	_, err = e.svc.ConfirmStaffOTP(ctx, txn, sha(e.otpFor(t, mobile)), findStaff)
	wantRefusal(t, "citizen OTP as staff", err, vax.Invalid, auth.ReasonInvalidOTP)
	e.clock.Advance(20 * time.Minute)
	c := e.signIn(t, mobile)

	// A citizen token, even once cached as verified, is no staff token.
	if _, err := e.svc.Authenticate(c.Token.Token); err != nil {
		t.Fatalf("Authenticate citizen: %v", err)
	}
	_, err = e.svc.AuthenticateStaff(c.Token.Token)
	wantRefusal(t, "citizen token as staff", err, vax.Unauthorized, auth.ReasonInvalidToken)
	err = e.svc.LogoutStaff(ctx, c.Token.Token)
	wantRefusal(t, "LogoutStaff of a citizen token", err, vax.Unauthorized, auth.ReasonInvalidToken)
}

func TestStaffOTPText(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	if _, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: mobile, Staff: true}); err != nil {
		t.Fatalf("GenerateOTP: %v", err)
	}
	text := e.newest(t, mobile).Text
	if !strings.Contains(text, "vaxport staff sign-in OTP") {
		t.Errorf("SMS = %q, want it to say it is a vaxport staff sign-in OTP", text)
	}
}

// TestStaffRefusals checks that Allow refuses before anything is written
// and that a refusal by find leaves the OTP unused.
func TestStaffRefusals(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	ctx := t.Context()
	refuse := vax.Errorf(vax.Forbidden, "not staff")
	_, err := e.svc.GenerateOTP(ctx, auth.OTPRequest{Mobile: mobile, Staff: true,
		Allow: func(context.Context, vax.Tx, []string) error { return refuse }})
	wantRefusal(t, "Allow refuses", err, vax.Forbidden, "")
	// Nothing was written: a request right away is not held by the resend wait.
	txn, err := e.svc.GenerateOTP(ctx, auth.OTPRequest{Mobile: mobile, Staff: true,
		Allow: func(context.Context, vax.Tx, []string) error { return nil }})
	if err != nil {
		t.Fatalf("GenerateOTP after a refusal: %v", err)
	}
	otp := e.otpFor(t, mobile)
	_, err = e.svc.ConfirmStaffOTP(ctx, txn, sha(otp), func(context.Context, vax.Tx, []string) (string, error) {
		return "", refuse
	})
	wantRefusal(t, "find refuses", err, vax.Forbidden, "")
	if _, err := e.svc.ConfirmStaffOTP(ctx, txn, sha(otp), findStaff); err != nil {
		t.Errorf("ConfirmStaffOTP after a refused find: %v, want a token", err)
	}
}

func TestStaffLogout(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	ctx := t.Context()
	txn, err := e.svc.GenerateOTP(ctx, auth.OTPRequest{Mobile: mobile, Staff: true})
	if err != nil {
		t.Fatalf("GenerateOTP: %v", err)
	}
	tok, err := e.svc.ConfirmStaffOTP(ctx, txn, sha(e.otpFor(t, mobile)), findStaff)
	if err != nil {
		t.Fatalf("ConfirmStaffOTP: %v", err)
	}
	e.clock.Advance(time.Minute)
	fresh, err := e.svc.RefreshStaff(ctx, tok.Token)
	if err != nil {
		t.Fatalf("RefreshStaff: %v", err)
	}
	_, err = e.svc.Refresh(ctx, tok.Token)
	wantRefusal(t, "Refresh of a staff token", err, vax.Unauthorized, auth.ReasonInvalidToken)
	err = e.svc.Logout(ctx, tok.Token)
	wantRefusal(t, "Logout of a staff token", err, vax.Unauthorized, auth.ReasonInvalidToken)
	if err := e.svc.LogoutStaff(ctx, tok.Token); err != nil {
		t.Fatalf("LogoutStaff: %v", err)
	}
	for _, tk := range []string{tok.Token, fresh.Token} {
		_, err = e.svc.AuthenticateStaff(tk)
		wantRefusal(t, "AuthenticateStaff after logout", err, vax.Unauthorized, auth.ReasonInvalidToken)
	}
}

// TestEnsureAccount checks that an account made for a walk-in is the one
// its number later signs in to.
func TestEnsureAccount(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	ctx := t.Context()
	var made vax.Account
	err := e.store.InTx(ctx, func(tx vax.Tx) error {
		a, created, err := e.svc.EnsureAccount(ctx, tx, "+91 98765 43210")
		if err != nil {
			return err
		}
		if !created {
			t.Errorf("EnsureAccount of a new number: created = false, want true")
		}
		again, created, err := e.svc.EnsureAccount(ctx, tx, mobile)
		if err != nil {
			return err
		}
		if created || again.ID != a.ID {
			t.Errorf("EnsureAccount again: got %s (created %v), want %s", again.ID, created, a.ID)
		}
		made = a
		return nil
	})
	if err != nil {
		t.Fatalf("EnsureAccount: %v", err)
	}
	if got, err := e.svc.AccountMobile(made); err != nil || got != mobile {
		t.Errorf("AccountMobile = %q, %v; want %s", got, err, mobile)
	}
	c := e.signIn(t, mobile)
	if c.NewAccount || c.AccountID != made.ID {
		t.Errorf("sign-in: got account %s (new %v), want %s", c.AccountID, c.NewAccount, made.ID)
	}
	err = e.store.InTx(ctx, func(tx vax.Tx) error {
		_, _, err := e.svc.EnsureAccount(ctx, tx, "12345")
		return err
	})
	wantRefusal(t, "EnsureAccount of a bad number", err, vax.Invalid, auth.ReasonInvalidMobile)
}
