package search_test

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/vax"
)

// randomCentres returns n centres over India's extent, half of them
// clustered around a few cities as real centres are.
func randomCentres(n int, seed uint64) []vax.Centre {
	r := rand.New(rand.NewPCG(seed, 1))
	cities := [][2]float64{{28.61, 77.21}, {19.08, 72.88}, {12.97, 77.59}, {22.57, 88.36}, {13.08, 80.27}, {9.50, 76.34}}
	out := make([]vax.Centre, n)
	for i := range out {
		var lat, long float64
		if i%2 == 0 {
			c := cities[r.IntN(len(cities))]
			lat, long = c[0]+r.NormFloat64()*0.3, c[1]+r.NormFloat64()*0.3
		} else {
			lat, long = 8+r.Float64()*27, 68+r.Float64()*29
		}
		out[i] = vax.Centre{
			ID: int64(i + 1), Name: "C", StateID: 1 + i%37, DistrictID: 1 + i%700,
			Pincode: 110000 + i%800000, Lat: lat, Long: long, From: "09:00:00", To: "17:00:00", FeeType: vax.Free,
		}
	}
	return out
}

func loaded(t testing.TB, centres []vax.Centre) *search.Index {
	t.Helper()
	ix := search.New(search.Config{Clock: vax.NewManualClock(time.Date(2021, 6, 14, 4, 0, 0, 0, time.UTC))})
	ix.Load(search.Data{Centres: centres})
	return ix
}

// bruteNear is the reference: every centre's distance, written
// independently of the index (spherical law of haversines in km).
func bruteNear(centres []vax.Centre, lat, long float64, n int) []int64 {
	type d struct {
		km float64
		id int64
	}
	less := func(a, b d) int { return cmp.Or(cmp.Compare(a.km, b.km), cmp.Compare(a.id, b.id)) }
	// The n best so far, sorted: insertion keeps this linear in centres.
	top := make([]d, 0, n+1)
	for _, c := range centres {
		x := d{haversineKm(lat, long, c.Lat, c.Long), c.ID}
		if len(top) == n && less(x, top[n-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, x, less)
		top = slices.Insert(top, i, x)
		if len(top) > n {
			top = top[:n]
		}
	}
	ids := make([]int64, 0, n)
	for _, x := range top {
		ids = append(ids, x.id)
	}
	return ids
}

func haversineKm(lat1, long1, lat2, long2 float64) float64 {
	const r = 6371.0088
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := (lat2-lat1)*math.Pi/180, (long2-long1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Atan2(math.Sqrt(a), math.Sqrt(1-a))
}

func TestNearMatchesBruteForce(t *testing.T) {
	centres := randomCentres(100_000, 7)
	ix := loaded(t, centres)
	r := rand.New(rand.NewPCG(99, 2))
	type query struct {
		name      string
		lat, long float64
		n         int
	}
	var qs []query
	for i := range 150 {
		qs = append(qs, query{"india", 6 + r.Float64()*31, 66 + r.Float64()*33, 20})
		if i%10 == 0 {
			// Anywhere on Earth, including far from every centre, near
			// the poles and the antimeridian.
			qs = append(qs, query{"world", r.Float64()*180 - 90, r.Float64()*360 - 180, 20})
		}
	}
	qs = append(qs,
		query{"north pole", 90, 0, 5},
		query{"south pole", -90, 0, 5},
		query{"antimeridian", 0, 180, 5},
		query{"antimeridian west", 0, -180, 5},
		query{"exactly a centre", centres[42].Lat, centres[42].Long, 1},
		query{"many", 28.61, 77.21, 500},
	)
	for i, q := range qs {
		hits := ix.Near(q.lat, q.long, q.n)
		want := bruteNear(centres, q.lat, q.long, q.n)
		var got []int64
		for j, h := range hits {
			got = append(got, h.Centre.ID)
			if j > 0 && h.Km < hits[j-1].Km {
				t.Fatalf("query %d (%s %g,%g): hit %d at %g km after %g km: not sorted by distance", i, q.name, q.lat, q.long, j, h.Km, hits[j-1].Km)
			}
			if wantKm := haversineKm(q.lat, q.long, h.Centre.Lat, h.Centre.Long); math.Abs(h.Km-wantKm) > 1e-6*max(1, wantKm) {
				t.Fatalf("query %d: centre %d at %g km, want %g km", i, h.Centre.ID, h.Km, wantKm)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("query %d (%s %g,%g n=%d): got ids %v, want %v", i, q.name, q.lat, q.long, q.n, got, want)
		}
	}
}

func TestNearEdges(t *testing.T) {
	ix := loaded(t, randomCentres(50, 3))
	for _, tc := range []struct {
		name      string
		lat, long float64
		n, want   int
	}{
		{"more than there are", 20, 78, 100, 50},
		{"zero", 20, 78, 0, 0},
		{"latitude out of range", 91, 78, 5, 0},
		{"longitude out of range", 20, -181, 5, 0},
		{"NaN", math.NaN(), 78, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(ix.Near(tc.lat, tc.long, tc.n)); got != tc.want {
				t.Errorf("got %d hits, want %d", got, tc.want)
			}
		})
	}
	empty := loaded(t, nil)
	if got := empty.Near(20, 78, 5); len(got) != 0 {
		t.Errorf("empty index: got %d hits, want 0", len(got))
	}
}

// BenchmarkNear finds the 20 nearest of 100,000 centres from random points
// in India.
func BenchmarkNear(b *testing.B) {
	centres := randomCentres(100_000, 7)
	ix := loaded(b, centres)
	r := rand.New(rand.NewPCG(5, 5))
	pts := make([][2]float64, 1024)
	for i := range pts {
		c := centres[r.IntN(len(centres))]
		pts[i] = [2]float64{c.Lat + r.NormFloat64()*0.05, c.Long + r.NormFloat64()*0.05}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := pts[i%len(pts)]
		i++
		if len(ix.Near(p[0], p[1], 20)) != 20 {
			b.Fatal("short answer")
		}
	}
}
