package cowin_test

import (
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/api/cowin"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/search/searchtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// ist is the deployment zone of the tests (Asia/Kolkata has no DST).
var ist = time.FixedZone("IST", 5*3600+30*60)

// start is 10:00 IST on Monday 14 June 2021: "today" is 14-06-2021.
var start = time.Date(2021, 6, 14, 10, 0, 0, 0, ist)

// Master data ids the fixture uses.
const (
	kerala    = masterdata.KeralaID
	alappuzha = masterdata.AlappuzhaID // 301
	ernakulam = 307
	idukki    = 306 // a Kerala district without centres
)

// wait bounds every wait for the index to catch up: generous, for a loaded
// machine; not a performance claim.
const wait = 20 * time.Second

type fixture struct {
	st    vax.Store
	clock *vax.ManualClock
	cat   *catalog.Service
	ix    *search.Index
	mux   *http.ServeMux
}

// day returns today + n as a vax.Date.
func day(n int) vax.Date { return vax.DateOf(start, ist).AddDays(n) }

// newFixture opens a store with the master data and the golden centres and
// sessions, and serves the Co-WIN surface from an index following it.
func newFixture(t testing.TB, open searchtest.Opener, authn func(*http.Request) (auth.Principal, error)) *fixture {
	t.Helper()
	clock := vax.NewManualClock(start)
	st := open(t, clock)
	ctx := t.Context()
	if err := masterdata.Load(ctx, st); err != nil {
		t.Fatalf("load master data: %v", err)
	}
	err := st.InTx(ctx, func(tx vax.Tx) error {
		for _, c := range goldenCentres() {
			if _, err := tx.CreateCentre(ctx, c); err != nil {
				return err
			}
		}
		for _, s := range goldenSessions() {
			if err := tx.CreateSession(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("write golden data: %v", err)
	}
	ix := searchtest.Start(t, st, clock, ist)
	mux := http.NewServeMux()
	cowin.New(cowin.Config{Index: ix, Authenticate: authn}).Register(mux)
	return &fixture{st: st, clock: clock, cat: catalog.New(st, clock, ist, rand.Reader), ix: ix, mux: mux}
}

func goldenCentres() []vax.Centre {
	return []vax.Centre{
		{
			ID: 1001, Name: "Alappuzha General Hospital", Address: "Mullakkal, near Iron Bridge",
			StateID: kerala, DistrictID: alappuzha, BlockName: "Alappuzha Municipality", Pincode: 688001,
			Lat: 9.4981, Long: 76.3388, From: "09:00:00", To: "17:00:00", FeeType: vax.Free,
		},
		{
			ID: 1002, Name: "Lakeshore Hospital & Research Centre", Address: "NH 66 Bypass",
			StateID: kerala, DistrictID: alappuzha, BlockName: "Ambalappuzha", Pincode: 688001,
			Lat: 9.5100, Long: 76.3300, From: "08:30:00", To: "18:00:00", FeeType: vax.Paid,
			Fees: []vax.Fee{{Vaccine: "COVISHIELD", Amount: 780}, {Vaccine: "COVAXIN", Amount: 1410}},
		},
		{
			// No sessions: absent from calendars, present near its position.
			ID: 1003, Name: "Cherthala Taluk Hospital", Address: "Cherthala",
			StateID: kerala, DistrictID: alappuzha, BlockName: "Cherthala", Pincode: 688524,
			Lat: 9.6841, Long: 76.3361, From: "09:00:00", To: "13:00:00", FeeType: vax.Free,
		},
		{
			ID: 2001, Name: "Ernakulam General Hospital", Address: "Hospital Road",
			StateID: kerala, DistrictID: ernakulam, BlockName: "Kochi Corporation", Pincode: 682011,
			Lat: 9.9753, Long: 76.2811, From: "09:00:00", To: "16:00:00", FeeType: vax.Free,
		},
	}
}

func goldenSessions() []vax.Session {
	open := func(id string, centre int64, d int, vaccine string, minAge, maxAge int, all bool, c1, c2, b1, b2 int, slots ...string) vax.Session {
		return vax.Session{
			ID: id, CentreID: centre, Date: day(d), Vaccine: vaccine, MinAge: minAge, MaxAge: maxAge, AllowAllAge: all,
			Capacity1: c1, Capacity2: c2, Booked1: b1, Booked2: b2, Slots: slots, Status: vax.SessionOpen,
		}
	}
	s4 := []string{"09:00AM-11:00AM", "11:00AM-01:00PM", "01:00PM-03:00PM", "03:00PM-05:00PM"}
	cancelled := open("a1000000-0000-4000-8000-000000000009", 1001, 2, "COVISHIELD", 18, 0, true, 100, 0, 0, 0, s4...)
	cancelled.Status = vax.SessionCancelled
	return []vax.Session{
		// Today, 18+ without upper limit, some seats booked.
		open("a1000000-0000-4000-8000-000000000001", 1001, 0, "COVISHIELD", 18, 0, true, 100, 40, 5, 0, s4...),
		// Tomorrow: 45+ (no upper limit, not flagged) and 18–44.
		open("a1000000-0000-4000-8000-000000000002", 1001, 1, "COVAXIN", 45, 0, false, 30, 20, 0, 0, s4...),
		open("a1000000-0000-4000-8000-000000000003", 1001, 1, "COVISHIELD", 18, 44, false, 10, 0, 10, 0, s4...),
		cancelled,
		// The last day of a calendar from today, and the day after it.
		open("a1000000-0000-4000-8000-000000000004", 1001, 6, "COVISHIELD", 18, 0, true, 50, 50, 0, 0, s4...),
		open("a1000000-0000-4000-8000-000000000005", 1001, 7, "COVISHIELD", 18, 0, true, 50, 50, 0, 0, s4...),
		// The Paid centre.
		open("b1000000-0000-4000-8000-000000000001", 1002, 0, "COVAXIN", 18, 0, true, 20, 10, 0, 0, "08:30AM-10:30AM", "10:30AM-12:30PM"),
		open("b1000000-0000-4000-8000-000000000002", 1002, 1, "COVISHIELD", 45, 0, false, 0, 25, 0, 5, "08:30AM-10:30AM"),
		// Ernakulam, tomorrow.
		open("c1000000-0000-4000-8000-000000000001", 2001, 1, "SPUTNIK V", 18, 0, true, 60, 0, 0, 0, "09:00AM-12:00PM", "12:00PM-04:00PM"),
	}
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// get serves a GET of target with headers given as name, value pairs.
func (f *fixture) get(t testing.TB, target string, headers ...string) response {
	t.Helper()
	return get(t, f.mux, target, headers...)
}

func get(t testing.TB, h http.Handler, target string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}
