package cowin_test

// Benchmarks of the hot handlers, through the ServeMux with
// httptest.NewRecorder, for profiling (go test -bench . -cpuprofile). The
// requests/s comparison with a bare net/http handler over real
// connections is the load generator's job (docs/PERFORMANCE.md).
//
//	go test ./internal/api/cowin -run '^$' -bench . -benchmem

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vaxport/vaxport/internal/api/cowin"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/vax"
)

// benchDistrict is the benchmark's district: 200 centres over 4 PIN codes,
// each with 2 sessions a day for 7 days from today (2,800 sessions); one
// centre in 5 is Paid.
const (
	benchDistrict = alappuzha
	benchCentres  = 200
)

func benchIndex(b *testing.B) *search.Index {
	b.Helper()
	ix := search.New(search.Config{Clock: vax.NewManualClock(start), Location: ist})
	d := search.Data{
		States:    []vax.State{{ID: kerala, Name: "Kerala", LocalNames: map[string]string{"hi": "केरल", "ml": "കേരളം"}}},
		Districts: []vax.District{{ID: benchDistrict, StateID: kerala, Name: "Alappuzha", LocalNames: map[string]string{"hi": "अलप्पुझा"}}},
		Vaccines:  []string{"COVISHIELD", "COVAXIN"},
	}
	slots := []string{"09:00AM-11:00AM", "11:00AM-01:00PM", "01:00PM-03:00PM", "03:00PM-05:00PM"}
	for i := range benchCentres {
		c := vax.Centre{
			ID: int64(500001 + i), Name: fmt.Sprintf("Primary Health Centre %d", i), Address: "Main Road, near the bus stand",
			StateID: kerala, DistrictID: benchDistrict, BlockName: "Ambalappuzha", Pincode: 688001 + i%4,
			Lat: 9.4 + float64(i)*0.001, Long: 76.3 + float64(i)*0.001, From: "09:00:00", To: "17:00:00", FeeType: vax.Free,
		}
		if i%5 == 0 {
			c.FeeType = vax.Paid
			c.Fees = []vax.Fee{{Vaccine: "COVISHIELD", Amount: 780}, {Vaccine: "COVAXIN", Amount: 1410}}
		}
		d.Centres = append(d.Centres, c)
		for day := range 7 {
			for k, vaccine := range []string{"COVISHIELD", "COVAXIN"} {
				s := vax.Session{
					ID:       fmt.Sprintf("%08d-0000-4000-8000-%012d", i, day*2+k),
					CentreID: c.ID, Date: vax.DateOf(start, ist).AddDays(day), Vaccine: vaccine,
					MinAge: 18, AllowAllAge: k == 0, Capacity1: 100, Capacity2: 50, Booked1: i % 100, Slots: slots, Status: vax.SessionOpen,
				}
				if k == 1 {
					s.MinAge = 45
				}
				d.Sessions = append(d.Sessions, s)
			}
		}
	}
	ix.Load(d)
	return ix
}

func benchMux(ix *search.Index) *http.ServeMux {
	mux := http.NewServeMux()
	cowin.New(cowin.Config{Index: ix}).Register(mux)
	return mux
}

func benchServe(b *testing.B, h http.Handler, target string, headers ...string) {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	warm := httptest.NewRecorder()
	h.ServeHTTP(warm, req)
	if warm.Code != http.StatusOK {
		b.Fatalf("%s: status %d: %s", target, warm.Code, warm.Body)
	}
	b.SetBytes(int64(warm.Body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}

const benchDate = "14-06-2021"

func BenchmarkCalendarByDistrict(b *testing.B) {
	benchServe(b, benchMux(benchIndex(b)), fmt.Sprintf("%scalendarByDistrict?district_id=%d&date=%s", public, benchDistrict, benchDate))
}

func BenchmarkCalendarByDistrictGzip(b *testing.B) {
	benchServe(b, benchMux(benchIndex(b)), fmt.Sprintf("%scalendarByDistrict?district_id=%d&date=%s", public, benchDistrict, benchDate), "Accept-Encoding", "gzip")
}

func BenchmarkFindByDistrict(b *testing.B) {
	benchServe(b, benchMux(benchIndex(b)), fmt.Sprintf("%sfindByDistrict?district_id=%d&date=%s", public, benchDistrict, benchDate))
}

func BenchmarkFindByPin(b *testing.B) {
	benchServe(b, benchMux(benchIndex(b)), fmt.Sprintf("%sfindByPin?pincode=688001&date=%s", public, benchDate))
}

func BenchmarkFindByLatLong(b *testing.B) {
	benchServe(b, benchMux(benchIndex(b)), near+"?lat=9.45&long=76.35")
}

// BenchmarkBare is a handler that writes a static body of
// calendarByDistrict's size: the floor the search handlers are compared to.
func BenchmarkBare(b *testing.B) {
	rec := httptest.NewRecorder()
	benchMux(benchIndex(b)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet,
		fmt.Sprintf("%scalendarByDistrict?district_id=%d&date=%s", public, benchDistrict, benchDate), nil))
	body := rec.Body.Bytes()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bare", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	benchServe(b, mux, "/bare")
}

// BenchmarkCalendarByDistrictMiss builds the answer every time (a fresh
// server, so an empty cache): the cost of one rebuild after a change.
func BenchmarkCalendarByDistrictMiss(b *testing.B) {
	ix := benchIndex(b)
	target := fmt.Sprintf("%scalendarByDistrict?district_id=%d&date=%s", public, benchDistrict, benchDate)
	req := httptest.NewRequest(http.MethodGet, target, nil)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		mux := benchMux(ix)
		b.StartTimer()
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkFindByPinParallel reads one cached answer from every core.
func BenchmarkFindByPinParallel(b *testing.B) {
	mux := benchMux(benchIndex(b))
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("%sfindByPin?pincode=688001&date=%s", public, benchDate), nil)
	mux.ServeHTTP(httptest.NewRecorder(), req)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mux.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}
