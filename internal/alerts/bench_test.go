package alerts_test

import (
	"strconv"
	"testing"

	"github.com/vaxport/vaxport/internal/alerts"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/vax"
)

// BenchmarkPublish10k measures one commit releasing a seat in a district
// with 10,000 matching subscriptions: the work done inside the index's
// commit (match and enqueue; the streams write afterwards).
func BenchmarkPublish10k(b *testing.B) {
	hub := alerts.NewHub(alerts.Config{Buffer: 1})
	for i := range 10_000 {
		s, err := hub.Subscribe("acct-"+strconv.Itoa(i), alerts.Filter{DistrictID: ernakulam, Age: 18, Dose: 1}, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(s.Close)
	}
	sess := vax.Session{ID: sessA18, CentreID: 1, Vaccine: "COVISHIELD", MinAge: 18, Capacity1: 10, Booked1: 10}
	old := &search.Centre{Centre: vax.Centre{ID: 1, DistrictID: ernakulam, Pincode: pinA}, Sessions: []vax.Session{sess}}
	sess.Booked1 = 9
	next := &search.Centre{Centre: old.Centre, Sessions: []vax.Session{sess}}
	changes := []search.CentreChange{{Old: old, New: next}}
	b.ReportAllocs()
	for b.Loop() {
		hub.Publish(changes)
	}
}
