package booking_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/sms/outbox/outboxtest"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// t0 is 10:00 IST on 1 June 2021, when every service test runs.
var t0 = time.Date(2021, time.June, 1, 10, 0, 0, 0, ist)

// env is a booking service on a fresh store with master data, one centre
// and some sessions.
type env struct {
	store  vax.Store
	keys   *keyring.Keyring
	clock  *vax.ManualClock
	svc    *booking.Service
	centre int64
}

type opener = backendtest.Opener

// stores are the stores every test runs on.
var stores = backendtest.All

func mobileAAD(id string) []byte { return []byte("test mobile|" + strings.ToLower(id)) }

func newEnv(t testing.TB, open opener, r booking.Rules) *env {
	t.Helper()
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, t0)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	e := &env{store: open(t), keys: keys, clock: vax.NewManualClock(t0)}
	if r.Location == nil {
		r.Location = ist
	}
	e.svc, err = booking.New(booking.Config{
		Store: e.store, Keys: keys, Clock: e.clock, Rules: r,
		Mobile: func(a vax.Account) (string, error) {
			b, err := keys.OpenSealed(a.MobileSealed, mobileAAD(a.ID))
			return string(b), err
		},
	})
	if err != nil {
		t.Fatalf("booking.New: %v", err)
	}
	e.centre = backendtest.KochiCentre(t, e.store)
	return e
}

func (e *env) inTx(t testing.TB, fn func(ctx context.Context, tx vax.Tx) error) {
	t.Helper()
	if err := e.store.InTx(t.Context(), func(tx vax.Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

func sessID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
func acctID(n int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", n) }

// session creates open COVISHIELD session n, tomorrow, for 18–44 with
// cap1/cap2 seats.
func (e *env) session(t *testing.T, n, cap1, cap2 int) vax.Session {
	t.Helper()
	se := vax.Session{ID: sessID(n), CentreID: e.centre, Date: vax.DateOf(t0, ist).AddDays(1), Vaccine: "COVISHIELD",
		MinAge: 18, MaxAge: 44, Capacity1: cap1, Capacity2: cap2,
		Slots: []string{"09:00AM-11:00AM", "11:00AM-01:00PM"}, Status: vax.SessionOpen}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return tx.CreateSession(ctx, se) })
	return se
}

// account creates account n with mobile 98765xxxxx.
func (e *env) account(t *testing.T, n int) string {
	t.Helper()
	id := acctID(n)
	mobile := fmt.Sprintf("98765%05d", n)
	sealed, err := e.keys.Seal([]byte(mobile), mobileAAD(id))
	if err != nil {
		t.Fatal(err)
	}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error {
		return tx.CreateAccount(ctx, vax.Account{ID: id, MobileHash: e.keys.Hash(mobile).String(), MobileSealed: sealed,
			MobileLast4: mobile[6:], CreatedAt: t0})
	})
	return id
}

// aadhaar returns a valid 12-digit Aadhaar-like number for n.
func aadhaar(n int) string {
	body := fmt.Sprintf("%011d", 20000000000+n)
	return body + string(vax.VerhoeffDigit(body))
}

func person(n int) booking.NewBeneficiary {
	return booking.NewBeneficiary{Name: fmt.Sprintf("Person %c", 'A'+n%26), BirthYear: 1990, GenderID: 1,
		PhotoIDType: 1, PhotoIDNumber: aadhaar(n)}
}

// beneficiary registers person(n) under account.
func (e *env) beneficiary(t *testing.T, account string, n int) string {
	t.Helper()
	b, err := e.svc.AddBeneficiary(t.Context(), account, person(n))
	if err != nil {
		t.Fatalf("add beneficiary %d: %v", n, err)
	}
	return b.Ref
}

func (e *env) readSession(t *testing.T, id string) vax.Session {
	t.Helper()
	var se vax.Session
	e.inTx(t, func(ctx context.Context, tx vax.Tx) (err error) { se, err = tx.Session(ctx, id); return err })
	return se
}

// messages returns every pending outbox message due within the hour, in
// clear (they stay pending).
func (e *env) messages(t *testing.T) []outbox.Message {
	t.Helper()
	var out []outbox.Message
	for _, m := range outboxtest.All(t, e.store, e.keys, t0.Add(time.Hour)) {
		out = append(out, m.Message)
	}
	return out
}

// wantReason fails unless err carries code and reason.
func wantReason(t *testing.T, what string, err error, code vax.Code, reason string) {
	t.Helper()
	if vax.ErrorCode(err) != code || vax.ErrorReason(err) != reason {
		t.Errorf("%s: got %v (code %s, reason %q), want %s %s", what, err, vax.ErrorCode(err), vax.ErrorReason(err), code, reason)
	}
}

// newBenchEnv is newEnv whose Mobile answers a constant (benchmark
// accounts hold no real sealed number).
func newBenchEnv(b *testing.B, open opener, maxBatch, drainers int) *env {
	e := newEnv(b, open, booking.Rules{})
	var err error
	e.svc, err = booking.New(booking.Config{Store: e.store, Keys: e.keys, Clock: e.clock, Rules: booking.Rules{Location: ist},
		Mobile: func(vax.Account) (string, error) { return "9876500000", nil }, MaxBatch: maxBatch, Drainers: drainers})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// benchSession creates an open session n tomorrow with seats dose-1 seats.
func (e *env) benchSession(b *testing.B, n, seats int) string {
	se := vax.Session{ID: sessID(n), CentreID: e.centre, Date: vax.DateOf(t0, ist).AddDays(1), Vaccine: "COVISHIELD",
		MinAge: 18, Capacity1: min(seats, 100000), Slots: []string{"09:00AM-11:00AM"}, Status: vax.SessionOpen}
	e.inTx(b, func(ctx context.Context, tx vax.Tx) error { return tx.CreateSession(ctx, se) })
	return se.ID
}
