package ratelimit_test

import (
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
