package sms_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/sms"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// recorder wraps a provider and notes, per message, when the first send
// to any provider began and when a receipt said delivered.
type recorder struct {
	sms.Provider
	log *deliveryLog
}

type deliveryLog struct {
	mu        sync.Mutex
	created   map[string]time.Time
	firstSend map[string]time.Time
	delivered map[string]time.Time
	via       map[string]string
}

func newDeliveryLog() *deliveryLog {
	return &deliveryLog{created: map[string]time.Time{}, firstSend: map[string]time.Time{},
		delivered: map[string]time.Time{}, via: map[string]string{}}
}

func (r recorder) Send(ctx context.Context, m outbox.Message) (string, error) {
	now := time.Now()
	r.log.mu.Lock()
	if _, ok := r.log.firstSend[m.ID]; !ok {
		r.log.firstSend[m.ID], r.log.created[m.ID] = now, m.CreatedAt
	}
	r.log.mu.Unlock()
	return r.Provider.Send(ctx, m)
}

func (r recorder) SetReceiptHandler(fn func(sms.Receipt)) {
	r.Provider.(sms.ReceiptSource).SetReceiptHandler(func(rc sms.Receipt) {
		if rc.Status == sms.Delivered {
			r.log.mu.Lock()
			if _, ok := r.log.delivered[rc.MessageID]; !ok {
				r.log.delivered[rc.MessageID], r.log.via[rc.MessageID] = rc.At, rc.Provider
			}
			r.log.mu.Unlock()
		}
		fn(rc)
	})
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(int(q*float64(len(ds))), len(ds)-1)]
}

// TestOTPStorm is the load scenario: OTPs requested at a steady
// rate (default 1,000/s for 60 s) through auth.GenerateOTP, sent by one
// dispatcher through a sim primary (median 2 s, p99 8 s, 1% errors, down
// from 20 s to 40 s) and a sim secondary (same latency and errors). It
// reports the share delivered within 15 s of the request and the
// pipeline's own latency (request to first send attempt). Long: it runs
// only with VAXPORT_TEST_LONG=1.
//
//	VAXPORT_TEST_LONG=1 go test ./internal/sms -run OTPStorm -v -timeout 30m
//
// VAXPORT_STORM_RATE and VAXPORT_STORM_SECONDS change the load; the
// PostgreSQL run needs VAXPORT_TEST_POSTGRES.
func TestOTPStorm(t *testing.T) {
	if os.Getenv("VAXPORT_TEST_LONG") != "1" {
		t.Skip("long: set VAXPORT_TEST_LONG=1")
	}
	rate, secs := envInt("VAXPORT_STORM_RATE", 1000), envInt("VAXPORT_STORM_SECONDS", 60)
	t.Run("sqlite", func(t *testing.T) {
		storm(t, openStore(t, filepath.Join(t.TempDir(), "vaxport.db")), rate, secs)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		storm(t, st, rate, secs)
	})
}

func storm(t *testing.T, st vax.Store, rate, secs int) {
	kr := newKeys(t)
	dl := newDeliveryLog()
	dur := time.Duration(secs) * time.Second
	// The outage starts a third into the run and lasts 20 s (at 60 s:
	// from 20 s to 40 s).
	outage := fmt.Sprintf("outage=%s+20s", dur/3)
	specs := []string{
		"sim:name=primary,median=2s,p99=8s,errors=0.01,seed=1," + outage,
		"sim:name=secondary,median=2s,p99=8s,errors=0.01,seed=2",
	}
	ps, err := sms.ParseProviders(specs, sms.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wrapped []sms.Provider
	for _, p := range ps {
		wrapped = append(wrapped, recorder{Provider: p, log: dl})
	}
	reg := prometheus.NewRegistry()
	d, err := sms.New(sms.Config{Store: st, Keys: kr, Providers: wrapped, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(auth.Config{Store: st, Keys: kr, Notify: d.Notify, Rules: auth.Rules{IPPerMinute: -1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// Open loop: request i is due at start + i/rate, whatever happened
	// to earlier ones; latency counts from when it was due.
	total := rate * secs
	type ack struct{ due, called, acked time.Time }
	acks := make([]ack, total)
	var failed atomic.Int64
	jobs := make(chan int, total)
	var wg sync.WaitGroup
	for range 256 {
		wg.Go(func() {
			for i := range jobs {
				acks[i].called = time.Now()
				if _, err := svc.GenerateOTP(ctx, auth.OTPRequest{Mobile: fmt.Sprintf("7%09d", i)}); err != nil {
					failed.Add(1)
					if failed.Load() <= 5 {
						t.Logf("GenerateOTP %d: %v", i, err)
					}
					continue
				}
				acks[i].acked = time.Now()
			}
		})
	}
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		acks[i].due = due
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	sent := time.Now()

	// Drain: every acknowledged OTP delivered, or 60 s more.
	okCount := int(int64(total) - failed.Load())
	deadline := time.Now().Add(60 * time.Second)
	for {
		dl.mu.Lock()
		n := len(dl.delivered)
		dl.mu.Unlock()
		if n >= okCount || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	var ackLat, callLat []time.Duration
	for _, a := range acks {
		if !a.acked.IsZero() {
			ackLat = append(ackLat, a.acked.Sub(a.due))
			callLat = append(callLat, a.acked.Sub(a.called))
		}
	}
	dl.mu.Lock()
	var pipeline, delivery []time.Duration
	within, viaPrimary := 0, 0
	for id, first := range dl.firstSend {
		pipeline = append(pipeline, first.Sub(dl.created[id]))
	}
	for id, at := range dl.delivered {
		lat := at.Sub(dl.created[id])
		delivery = append(delivery, lat)
		if lat <= 15*time.Second {
			within++
		}
		if dl.via[id] == "primary" {
			viaPrimary++
		}
	}
	ids := make([]string, 0, len(dl.delivered))
	for id := range dl.delivered {
		ids = append(ids, id)
	}
	dl.mu.Unlock()
	for _, s := range [][]time.Duration{ackLat, callLat, pipeline, delivery} {
		slices.Sort(s)
	}

	// The store agrees: every delivered message is recorded delivered.
	notRecorded := 0
	waitFor(t, "receipts recorded in the store", func() bool {
		notRecorded = 0
		err := st.View(t.Context(), func(tx vax.Tx) error {
			ms, err := tx.Messages(t.Context(), ids)
			if err != nil {
				return err
			}
			notRecorded = len(ids) - len(ms)
			for _, m := range ms {
				if m.Status != vax.MessageDelivered {
					notRecorded++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		return notRecorded == 0
	})

	share := float64(within) / float64(okCount)
	t.Logf("requested %d OTPs at %d/s over %v (%v including stragglers); %d refused or failed",
		total, rate, dur, sent.Sub(start).Round(time.Millisecond), failed.Load())
	t.Logf("generateOTP latency from due time: p50 %v p99 %v max %v; of the call alone: p50 %v p99 %v",
		quantile(ackLat, .5), quantile(ackLat, .99), quantile(ackLat, 1), quantile(callLat, .5), quantile(callLat, .99))
	t.Logf("pipeline's own latency (request → first send attempt): p50 %v p99 %v p99.9 %v max %v",
		quantile(pipeline, .5), quantile(pipeline, .99), quantile(pipeline, .999), quantile(pipeline, 1))
	t.Logf("request → delivered: p50 %v p99 %v p99.9 %v max %v",
		quantile(delivery, .5), quantile(delivery, .99), quantile(delivery, .999), quantile(delivery, 1))
	t.Logf("delivered %d of %d acknowledged (%d via primary, %d via secondary); within 15 s: %d = %.3f%%",
		len(delivery), okCount, viaPrimary, len(delivery)-viaPrimary, within, 100*share)
	if failed.Load() > 0 {
		t.Errorf("%d OTP requests failed", failed.Load())
	}
	if share < 0.999 {
		t.Errorf("delivered within 15 s: %.3f%%, want ≥ 99.9%%", 100*share)
	}
}
