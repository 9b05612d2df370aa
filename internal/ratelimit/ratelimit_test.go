package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/ratelimit"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestPerKey(t *testing.T) {
	clock := vax.NewManualClock(time.Date(2021, 5, 1, 16, 0, 0, 0, time.UTC))
	l := ratelimit.New(60, 3, clock) // one a second, bursts of 3
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Errorf("4th request: allowed %v, wait %v; want refused with a wait of at most 1 s", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key refused")
	}
	if ok, _ := l.Allow(""); !ok {
		t.Error("an empty key is never limited")
	}
	clock.Advance(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("refused after a token came back")
	}
	var none *ratelimit.PerKey = ratelimit.New(-1, 0, clock)
	for range 100 {
		if ok, _ := none.Allow("a"); !ok {
			t.Fatal("a negative rate must not limit")
		}
	}
}

func TestShare(t *testing.T) {
	start := time.Date(2021, 5, 1, 16, 0, 0, 0, time.UTC)
	// allowed counts the requests key gets at once, then after a minute.
	allowed := func(l *ratelimit.PerKey, clock *vax.ManualClock, key string) (burst, perMinute int) {
		for {
			if ok, _ := l.Allow(key); !ok {
				break
			}
			burst++
		}
		for range 60 {
			clock.Advance(time.Second)
			if ok, _ := l.Allow(key); ok {
				perMinute++
			}
		}
		return burst, perMinute
	}
	tests := []struct {
		name                     string
		perMinute                float64
		burst, nodes             int
		wantBurst, wantPerMinute int
	}{
		{"one node", 60, 30, 1, 30, 60},
		{"two nodes", 60, 30, 2, 15, 30},
		{"three nodes", 60, 30, 3, 10, 20},
		{"zero counts as one", 60, 30, 0, 30, 60},
		{"burst at least one", 60, 2, 4, 1, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := vax.NewManualClock(start)
			l := ratelimit.New(tt.perMinute, tt.burst, clock)
			l.Share(tt.nodes)
			burst, perMinute := allowed(l, clock, "a")
			if burst != tt.wantBurst || perMinute != tt.wantPerMinute {
				t.Errorf("got a burst of %d and %d a minute, want %d and %d", burst, perMinute, tt.wantBurst, tt.wantPerMinute)
			}
		})
	}

	t.Run("existing buckets follow", func(t *testing.T) {
		clock := vax.NewManualClock(start)
		l := ratelimit.New(60, 30, clock)
		if ok, _ := l.Allow("a"); !ok {
			t.Fatal("first request refused")
		}
		l.Share(2)
		burst, perMinute := allowed(l, clock, "a")
		// The bucket held 29 tokens; the share caps it at 15.
		if burst != 15 || perMinute != 30 {
			t.Errorf("after Share(2): got a burst of %d and %d a minute, want 15 and 30", burst, perMinute)
		}
		l.Share(1)
		clock.Advance(time.Minute)
		burst, perMinute = allowed(l, clock, "a")
		if burst != 30 || perMinute != 60 {
			t.Errorf("back to Share(1): got a burst of %d and %d a minute, want 30 and 60", burst, perMinute)
		}
	})

	var none *ratelimit.PerKey
	none.Share(3) // must not panic
}

func TestAllowAll(t *testing.T) {
	clock := vax.NewManualClock(time.Date(2021, 5, 1, 16, 0, 0, 0, time.UTC))
	l := ratelimit.New(60, 2, clock) // one a second, bursts of 2
	if ok, _ := l.AllowAll([]string{"a", "b", "a", ""}); !ok {
		t.Fatal("first request refused")
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("b's second token refused: a key repeated in one request must take one token")
	}
	// b is empty now: a request for a and b is refused and takes nothing.
	ok, wait := l.AllowAll([]string{"a", "b"})
	if ok || wait <= 0 || wait > time.Second {
		t.Errorf("a and b: allowed %v, wait %v; want refused with a wait of at most 1 s", ok, wait)
	}
	if ok, _ := l.Allow("a"); !ok {
		t.Error("a's second token was taken by a refused request")
	}
	// A long list with repeats takes one token per distinct key.
	many := []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m1", "m1"}
	if ok, _ := l.AllowAll(many); !ok {
		t.Fatal("long list refused")
	}
	if ok, _ := l.Allow("m1"); !ok {
		t.Error("m1's second token was taken by one request naming it three times")
	}
	var none *ratelimit.PerKey
	if ok, _ := none.AllowAll([]string{"a"}); !ok {
		t.Error("a nil limiter refused")
	}
}

func TestAllowDoesNotAllocate(t *testing.T) {
	clock := vax.NewManualClock(time.Date(2021, 5, 1, 16, 0, 0, 0, time.UTC))
	l := ratelimit.New(60, 1, clock)
	l.Allow("a") // makes the bucket
	if n := testing.AllocsPerRun(100, func() { l.Allow("a") }); n != 0 {
		t.Errorf("Allow of a known key: got %v allocations, want 0", n)
	}
}

func TestCheckHoldsClientsIgnoringRetryAfter(t *testing.T) {
	clock := vax.NewManualClock(time.Date(2021, 5, 1, 16, 0, 0, 0, time.UTC))
	l := ratelimit.New(60, 1, clock) // one a second
	if ok, _, _ := l.Check("a"); !ok {
		t.Fatal("first request refused")
	}
	ok, wait, hold := l.Check("a")
	if ok || wait <= 0 || hold != 0 {
		t.Fatalf("first refusal: ok %v wait %v hold %v; want refused, told to wait, not held", ok, wait, hold)
	}
	clock.Advance(100 * time.Millisecond)
	ok, _, hold = l.Check("a")
	if ok || hold != 900*time.Millisecond {
		t.Fatalf("back before its Retry-After (1 s): ok %v hold %v; want refused and held 900ms", ok, hold)
	}
	for range 10 {
		if _, _, hold := l.Check("a"); hold > ratelimit.MaxHold {
			t.Fatalf("held %v, more than MaxHold", hold)
		}
	}
	if _, _, hold := l.Check("b"); hold != 0 {
		t.Error("another key held")
	}
	clock.Advance(time.Hour)
	if ok, _, hold := l.Check("a"); !ok || hold != 0 {
		t.Errorf("after an hour: ok %v hold %v; want allowed", ok, hold)
	}
	var none *ratelimit.PerKey
	if ok, _, _ := none.Check("a"); !ok {
		t.Error("a nil limiter refused")
	}
}

func TestHolder(t *testing.T) {
	if ratelimit.NewHolder(0).Hold(t.Context(), time.Hour) {
		t.Error("a full holder held a request")
	}
	var none *ratelimit.Holder
	if none.Hold(t.Context(), time.Hour) {
		t.Error("a nil holder held a request")
	}
	h := ratelimit.NewHolder(1)
	start := time.Now()
	if !h.Hold(t.Context(), 20*time.Millisecond) || time.Since(start) < 20*time.Millisecond {
		t.Error("did not hold for the time asked")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if !h.Hold(ctx, time.Hour) {
		t.Error("did not take the free slot")
	}
	if h.Hold(t.Context(), 0) {
		t.Error("held for no time")
	}
}

func TestIdleBucketsAreForgotten(t *testing.T) {
	clock := vax.NewManualClock(time.Date(2021, 5, 1, 16, 0, 0, 0, time.UTC))
	l := ratelimit.New(60, 3, clock) // full again 3 s after use; kept at least 63 s
	for i := range 1000 {
		l.Allow(fmt.Sprint("10.0.", i/250, ".", i%250))
	}
	clock.Advance(time.Minute + 4*time.Second)
	l.Allow("a") // a new generation: the 1,000 keys are the previous one
	clock.Advance(time.Minute + 4*time.Second)
	l.Allow("b") // another: the 1,000 keys, unused for a generation, are gone
	if n := l.Len(); n > 3 {
		t.Errorf("%d buckets kept, want the recent ones only", n)
	}
	// A forgotten key starts full.
	for i := range 3 {
		if ok, _ := l.Allow("10.0.0.0"); !ok {
			t.Fatalf("forgotten key refused on request %d of its burst", i+1)
		}
	}
}
