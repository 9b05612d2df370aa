package cowin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/api/cowin"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/ratelimit"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestSearchLimit(t *testing.T) {
	f := newFixture(t, backendtest.OpenSQLite, nil)
	limit := ratelimit.New(60, 3, f.clock) // bursts of 3 per client
	mux := http.NewServeMux()
	cowin.New(cowin.Config{Index: f.ix, SearchLimit: limit,
		ClientKey:    func(r *http.Request) string { return r.Header.Get("X-Client") },
		Authenticate: func(*http.Request) (auth.Principal, error) { return auth.Principal{AccountID: "a"}, nil },
	}).Register(mux)

	searches := []string{
		public + "findByPin?pincode=110001&date=14-06-2021",
		public + "findByDistrict?district_id=301&date=14-06-2021",
		public + "calendarByPin?pincode=110001&date=14-06-2021",
		public + "calendarByDistrict?district_id=301&date=14-06-2021",
		public + "calendarByCenter?center_id=1003&date=14-06-2021",
		"/api/v2/appointment/centers/public/findByLatLong?lat=28.6&long=77.2",
		"/api/v2/appointment/sessions/findByPin?pincode=110001&date=14-06-2021",
		"/api/v2/appointment/sessions/findByDistrict?district_id=301&date=14-06-2021",
		"/api/v2/appointment/sessions/calendarByPin?pincode=110001&date=14-06-2021",
		"/api/v2/appointment/sessions/calendarByDistrict?district_id=301&date=14-06-2021",
		"/api/v2/appointment/sessions/calendarByCenter?center_id=1003&date=14-06-2021",
	}
	for i, target := range searches {
		t.Run(target, func(t *testing.T) {
			client := fmt.Sprint("203.0.113.", i) // a fresh bucket per endpoint
			for n := range 3 {
				if res := get(t, mux, target, "X-Client", client); res.status != http.StatusOK {
					t.Fatalf("request %d within the burst: got %d %s, want 200", n+1, res.status, res.body)
				}
			}
			res := get(t, mux, target, "X-Client", client)
			if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
				t.Fatalf("4th request: got %d with Retry-After %q, want 429 with one", res.status, res.header.Get("Retry-After"))
			}
			if code := (reply{body: res.body}).errorCode(t); code != "GENERR0429" {
				t.Errorf("4th request: got errorCode %q, want GENERR0429", code)
			}
			if res := get(t, mux, target, "X-Client", client+"9"); res.status != http.StatusOK {
				t.Errorf("another client: got %d, want 200", res.status)
			}
		})
	}
	// A client back before its Retry-After is held before its refusal.
	client := "203.0.113.200"
	target := searches[0]
	for range 4 {
		get(t, mux, target, "X-Client", client)
	}
	start := time.Now()
	res := get(t, mux, target, "X-Client", client)
	if held := time.Since(start); res.status != http.StatusTooManyRequests || held < 500*time.Millisecond {
		t.Errorf("back before Retry-After: got %d after %v, want 429 after being held about 1 s", res.status, held)
	}
	// States and districts are not searches.
	for range 5 {
		if res := get(t, mux, "/api/v2/admin/location/states", "X-Client", "203.0.113.0"); res.status != http.StatusOK {
			t.Fatalf("states: got %d, want 200", res.status)
		}
	}
}

// countingAppointments answers schedule, reschedule and cancel and counts
// the calls that reach it.
type countingAppointments struct {
	cowin.Appointments
	calls atomic.Int64
}

func (c *countingAppointments) Schedule(context.Context, string, booking.ScheduleRequest) (vax.Appointment, error) {
	c.calls.Add(1)
	return vax.Appointment{ID: "00000000-0000-4000-8000-000000000001"}, nil
}

func (c *countingAppointments) Reschedule(context.Context, string, string, string, string) error {
	c.calls.Add(1)
	return nil
}

func (c *countingAppointments) Cancel(context.Context, string, string, []string) error {
	c.calls.Add(1)
	return nil
}

func (c *countingAppointments) Idempotent(_ context.Context, _, _, _ string, run func() booking.Answer) (booking.Answer, bool, error) {
	c.calls.Add(1) // the key is looked up in the store
	return run(), false, nil
}

func TestBookingLimits(t *testing.T) {
	clock := vax.NewManualClock(bookingNow)
	svc := &countingAppointments{}
	mux := http.NewServeMux()
	cowin.NewBooking(cowin.BookingConfig{Appointments: svc,
		Authenticate: func(r *http.Request) (auth.Principal, error) {
			return auth.Principal{AccountID: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}, nil
		},
		AccountLimit:     ratelimit.New(60, 3, clock),
		BeneficiaryLimit: ratelimit.New(60, 2, clock),
	}).Register(mux)
	post := func(account, path, key, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequestWithContext(t.Context(), "POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+account)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	schedule := func(refs ...string) string {
		return fmt.Sprintf(`{"dose":1,"session_id":"s","slot":"09:00AM-11:00AM","beneficiaries":["%s"]}`, strings.Join(refs, `","`))
	}
	const appt = "/api/v2/appointment/"
	steps := []struct {
		name, account, path, key, body string
		want                           int
	}{
		// Per beneficiary (burst 2): one request with two refs takes a
		// token from each.
		{"a books b1 and b2", "a", appt + "schedule", "", schedule("b1", "b2"), 200},
		{"c books b1", "c", appt + "schedule", "", schedule("b1"), 200},
		{"d books b1 and b3: b1 is spent", "d", appt + "schedule", "", schedule("b1", "b3"), 429},
		{"d books b3: the refusal took nothing", "d", appt + "schedule", "", schedule("b3"), 200},
		{"e books b3", "e", appt + "schedule", "", schedule("b3"), 200},
		// Per account (burst 3), across schedule, reschedule and cancel.
		{"f schedules", "f", appt + "schedule", "", schedule("b10"), 200},
		{"f reschedules", "f", appt + "reschedule", "", `{"appointment_id":"x","session_id":"s","slot":"09:00AM-11:00AM"}`, 204},
		{"f cancels", "f", appt + "cancel", "", `{"appointment_id":"x","beneficiariesToCancel":["b10"]}`, 204},
		{"f cancels again", "f", appt + "cancel", "", `{"appointment_id":"x","beneficiariesToCancel":["b10"]}`, 429},
		{"f schedules again", "f", appt + "schedule", "", schedule("b11"), 429},
		{"g is not f", "g", appt + "cancel", "", `{"appointment_id":"y","beneficiariesToCancel":["b12"]}`, 204},
		// With an Idempotency-Key the beneficiaries are checked before the
		// key is looked up.
		{"h books b20 with a key", "h", appt + "schedule", "k1", schedule("b20"), 200},
		{"i books b20 with a key", "i", appt + "schedule", "k2", schedule("b20"), 200},
		{"j books b20 with a key: b20 is spent", "j", appt + "schedule", "k3", schedule("b20"), 429},
		{"k books b20 without one", "k", appt + "schedule", "", schedule("b20"), 429},
	}
	for _, s := range steps {
		before := svc.calls.Load()
		rec := post(s.account, s.path, s.key, s.body)
		if rec.Code != s.want {
			t.Fatalf("%s: got %d %s, want %d", s.name, rec.Code, rec.Body, s.want)
		}
		reached := svc.calls.Load() - before
		if s.want == http.StatusTooManyRequests {
			if rec.Header().Get("Retry-After") == "" {
				t.Errorf("%s: 429 without Retry-After", s.name)
			}
			if code := (reply{body: rec.Body.Bytes()}).errorCode(t); code != "GENERR0429" {
				t.Errorf("%s: got errorCode %q, want GENERR0429", s.name, code)
			}
			if reached != 0 {
				t.Errorf("%s: a refused request reached the booking service", s.name)
			}
		} else if reached == 0 {
			t.Errorf("%s: never reached the booking service", s.name)
		}
	}
}

// TestBookingAddressLimit: one address booking for many accounts is
// limited whatever the account; another address is not.
func TestBookingAddressLimit(t *testing.T) {
	clock := vax.NewManualClock(bookingNow)
	svc := &countingAppointments{}
	mux := http.NewServeMux()
	cowin.NewBooking(cowin.BookingConfig{Appointments: svc,
		Authenticate: func(r *http.Request) (auth.Principal, error) {
			return auth.Principal{AccountID: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}, nil
		},
		AddressLimit: ratelimit.New(60, 3, clock),
		ClientKey:    func(r *http.Request) string { return r.Header.Get("X-Client") },
	}).Register(mux)
	schedule := func(account, client string) int {
		req := httptest.NewRequestWithContext(t.Context(), "POST", "/api/v2/appointment/schedule",
			strings.NewReader(`{"dose":1,"session_id":"s","slot":"09:00AM-11:00AM","beneficiaries":["b-`+account+`"]}`))
		req.Header.Set("Authorization", "Bearer "+account)
		req.Header.Set("X-Client", client)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	for i, account := range []string{"a", "b", "c"} {
		if code := schedule(account, "203.0.113.9"); code != http.StatusOK {
			t.Fatalf("booking %d from the address: got %d, want 200", i+1, code)
		}
	}
	if code := schedule("d", "203.0.113.9"); code != http.StatusTooManyRequests {
		t.Errorf("a 4th account from the same address: got %d, want 429", code)
	}
	if code := schedule("d", "198.51.100.1"); code != http.StatusOK {
		t.Errorf("the same account from another address: got %d, want 200", code)
	}
	if n := svc.calls.Load(); n != 4 {
		t.Errorf("%d requests reached the service, want 4", n)
	}
}
