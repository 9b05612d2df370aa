package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/sms/outbox/outboxtest"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// t0 is when every test starts: whole seconds, so stored times equal it.
var t0 = time.Date(2021, time.May, 1, 10, 0, 0, 0, time.UTC)

// env is one node's sign-in service on a fresh store.
type env struct {
	store vax.Store
	keys  *keyring.Keyring
	clock *vax.ManualClock
	svc   *auth.Service
}

// backend opens stores on one database: open returns a new handle.
type backend struct {
	name string
	open func(t testing.TB) vax.Store
}

// sqliteBackend is a fresh SQLite database in a temp dir.
func sqliteBackend(t testing.TB, clock vax.Clock) backend {
	open := backendtest.Handles(t, "sqlite", clock)
	return backend{name: "sqlite", open: func(testing.TB) vax.Store { return open() }}
}

// postgresBackend is a fresh PostgreSQL schema; it skips when
// VAXPORT_TEST_POSTGRES is unset.
func postgresBackend(t testing.TB, clock vax.Clock) backend {
	open := backendtest.Handles(t, "postgres", clock)
	return backend{name: "postgres", open: func(testing.TB) vax.Store { return open() }}
}

func newKeys(t testing.TB) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, t0)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return kr
}

// readyFeed is a change feed that is ready and never delivers: for tests
// of one node.
type readyFeed struct{}

func (readyFeed) Subscribe(func([]vax.Change)) func() { return func() {} }
func (readyFeed) Ready() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// newEnv returns a ready single-node service on SQLite with rules r.
func newEnv(t *testing.T, r auth.Rules) *env {
	t.Helper()
	clock := vax.NewManualClock(t0)
	st := sqliteBackend(t, clock).open(t)
	return newEnvOn(t, st, newKeys(t), clock, r, readyFeed{})
}

func newEnvOn(t testing.TB, st vax.Store, kr *keyring.Keyring, clock *vax.ManualClock, r auth.Rules, feed auth.Feed) *env {
	t.Helper()
	svc, err := auth.New(auth.Config{Store: st, Keys: kr, Clock: clock, Rules: r})
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	if err := svc.FollowRevocations(t.Context(), feed); err != nil {
		t.Fatalf("FollowRevocations: %v", err)
	}
	return &env{store: st, keys: kr, clock: clock, svc: svc}
}

func sha(otp string) string {
	s := sha256.Sum256([]byte(otp))
	return hex.EncodeToString(s[:])
}

var otpDigits = regexp.MustCompile(`^[0-9]{6}\b`)

// otpFor returns the OTP of the newest SMS to mobile in the outbox.
func (e *env) otpFor(t testing.TB, mobile string) string {
	t.Helper()
	otp := otpDigits.FindString(e.newest(t, mobile).Text)
	if otp == "" {
		t.Fatalf("no OTP message to the number in the outbox")
	}
	return otp
}

// newest returns the newest SMS to mobile in the outbox.
func (e *env) newest(t testing.TB, mobile string) outbox.Message {
	t.Helper()
	return outboxtest.Newest(t, e.store, e.keys, e.clock.Now().Add(24*time.Hour), mobile)
}

// signIn runs a whole sign-in for mobile and returns the confirmation.
func (e *env) signIn(t testing.TB, mobile string) auth.Confirmation {
	t.Helper()
	txn, err := e.svc.GenerateOTP(t.Context(), auth.OTPRequest{Mobile: mobile})
	if err != nil {
		t.Fatalf("GenerateOTP: %v", err)
	}
	number, err := auth.NormalizeMobile(mobile)
	if err != nil {
		t.Fatalf("NormalizeMobile: %v", err)
	}
	c, err := e.svc.ConfirmOTP(t.Context(), txn, sha(e.otpFor(t, number)))
	if err != nil {
		t.Fatalf("ConfirmOTP: %v", err)
	}
	return c
}

// wantRefusal fails unless err is a *vax.Error with code and reason.
func wantRefusal(t *testing.T, what string, err error, code vax.Code, reason string) {
	t.Helper()
	var ve *vax.Error
	if !errors.As(err, &ve) {
		t.Errorf("%s: got %v, want a %s %s refusal", what, err, code, reason)
		return
	}
	if vax.ErrorCode(err) != code || vax.ErrorReason(err) != reason {
		t.Errorf("%s: got %s %s (%v), want %s %s", what, vax.ErrorCode(err), vax.ErrorReason(err), err, code, reason)
	}
}
