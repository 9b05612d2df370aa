package auth_test

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/sms"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// inbox is an SMS provider that hands each OTP to whoever waits for the
// number: the benchmark's phones.
type inbox struct {
	mu      sync.Mutex
	waiting map[string]chan string
}

var benchOTP = regexp.MustCompile(`^[0-9]{6}`)

func (p *inbox) Name() string { return "inbox" }

func (p *inbox) Send(_ context.Context, m outbox.Message) (string, error) {
	p.mu.Lock()
	ch := p.waiting[m.To]
	delete(p.waiting, m.To)
	p.mu.Unlock()
	if ch != nil {
		ch <- benchOTP.FindString(m.Text)
	}
	return "", nil
}

func (p *inbox) expect(to string) chan string {
	ch := make(chan string, 1)
	p.mu.Lock()
	p.waiting[to] = ch
	p.mu.Unlock()
	return ch
}

// BenchmarkSignIn measures whole sign-ins per second at the service level:
// generateOTP (OTP txn and SMS committed to the outbox), this node's
// dispatcher sending the SMS, and confirmOTP (account created, token
// issued), with many sign-ins in flight at once. Each sign-in is a new
// number, so it also creates an account.
//
//	go test ./internal/auth -run '^$' -bench SignIn -benchtime 20000x
//
// PostgreSQL runs when VAXPORT_TEST_POSTGRES is set.
func BenchmarkSignIn(b *testing.B) {
	for _, bk := range []struct {
		name string
		mk   func(testing.TB, vax.Clock) backend
	}{{"sqlite", sqliteBackend}, {"postgres", postgresBackend}} {
		b.Run(bk.name, func(b *testing.B) {
			st := bk.mk(b, nil).open(b)
			kr := newKeys(b)
			phones := &inbox{waiting: map[string]chan string{}}
			d, err := sms.New(sms.Config{Store: st, Keys: kr, Providers: []sms.Provider{phones}})
			if err != nil {
				b.Fatal(err)
			}
			svc, err := auth.New(auth.Config{Store: st, Keys: kr, Notify: d.Notify})
			if err != nil {
				b.Fatal(err)
			}
			if err := svc.FollowRevocations(b.Context(), readyFeed{}); err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { d.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			var next atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mobile := fmt.Sprintf("6%09d", next.Add(1))
					otp := phones.expect(mobile)
					txn, err := svc.GenerateOTP(ctx, auth.OTPRequest{Mobile: mobile})
					if err != nil {
						b.Errorf("GenerateOTP: %v", err)
						return
					}
					var code string
					select {
					case code = <-otp:
					case <-time.After(30 * time.Second):
						b.Errorf("no SMS within 30s")
						return
					}
					if _, err := svc.ConfirmOTP(ctx, txn, sha(code)); err != nil {
						b.Errorf("ConfirmOTP: %v", err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
		})
	}
}

// BenchmarkAuthenticate measures token verification, the check every
// protected request pays: parse, HS256 verify, claims, revocation set.
//
//	go test ./internal/auth -run '^$' -bench Authenticate
func BenchmarkAuthenticate(b *testing.B) {
	clock := vax.NewManualClock(t0)
	e := newEnvOn(b, sqliteBackend(b, clock).open(b), newKeys(b), clock, auth.Rules{}, readyFeed{})
	tok := e.signIn(b, "9876543210").Token.Token
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.svc.Authenticate(tok); err != nil {
				b.Errorf("Authenticate: %v", err)
				return
			}
		}
	})
}

// BenchmarkAuthenticateNew measures the first verification of a token (not
// yet in the cache of verified tokens): go-jose's parse and HS256 check.
//
//	go test ./internal/auth -run '^$' -bench AuthenticateNew
func BenchmarkAuthenticateNew(b *testing.B) {
	clock := vax.NewManualClock(t0)
	e := newEnvOn(b, sqliteBackend(b, clock).open(b), newKeys(b), clock, auth.Rules{}, readyFeed{})
	first := e.signIn(b, "9876543210").Token.Token
	toks := make([]string, b.N)
	for i := range toks {
		t, err := e.svc.Refresh(b.Context(), first)
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = t.Token
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.svc.Authenticate(toks[i]); err != nil {
			b.Fatalf("Authenticate: %v", err)
		}
	}
}
