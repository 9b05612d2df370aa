package cowin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/api/cowin"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/captcha"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// captchaAccount is the signed-in account of the captcha tests.
const captchaAccount = "10000000-0000-4000-8000-0000000000c1"

// fakeCaptcha draws a fixed picture, or fails with err.
type fakeCaptcha struct {
	svg      string
	err      error
	accounts []string // Issue's accounts, in order
}

func (f *fakeCaptcha) Issue(_ context.Context, accountID string) ([]byte, error) {
	f.accounts = append(f.accounts, accountID)
	return []byte(f.svg), f.err
}

func (f *fakeCaptcha) Check(context.Context, string, string) error { return nil }

// getRecaptcha posts body to the handler as the signed-in captchaAccount
// would (Booking.account passes the account).
func getRecaptcha(t *testing.T, c cowin.Captcha, body io.Reader) response {
	t.Helper()
	h := api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return cowin.GetRecaptcha(c)(w, r, captchaAccount)
	})
	req := httptest.NewRequest(http.MethodPost, "/api/v2/auth/getRecaptcha", body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// decodeRecaptcha decodes {"captcha": …}, refusing any other field.
func decodeRecaptcha(t *testing.T, body []byte) string {
	t.Helper()
	var got struct {
		Captcha *string `json:"captcha"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil || got.Captcha == nil {
		t.Fatalf("body %s: %v; want {\"captcha\": string}", body, err)
	}
	return *got.Captcha
}

func TestGetRecaptcha(t *testing.T) {
	const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 150 50"><path d="M1.0 2.0L3.0 4.0"/></svg>`
	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"Co-WIN's {}", strings.NewReader("{}")},
		{"no body", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeCaptcha{svg: svg}
			res := getRecaptcha(t, fake, tc.body)
			if res.status != http.StatusOK {
				t.Fatalf("status %d, body %s; want 200", res.status, res.body)
			}
			if got := decodeRecaptcha(t, res.body); got != svg {
				t.Errorf("captcha %q, want the drawn picture %q", got, svg)
			}
			if ct, cc := res.header.Get("Content-Type"), res.header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
				t.Errorf("Content-Type %q, Cache-Control %q; want application/json, no-store", ct, cc)
			}
			if len(fake.accounts) != 1 || fake.accounts[0] != captchaAccount {
				t.Errorf("Issue called for %v, want once for the signed-in account", fake.accounts)
			}
		})
	}
}

func TestGetRecaptchaFailure(t *testing.T) {
	res := getRecaptcha(t, &fakeCaptcha{err: vax.Errorf(vax.Unavailable, "store busy")}, strings.NewReader("{}"))
	var body api.ErrorBody
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatalf("body %s: %v", res.body, err)
	}
	if res.status != http.StatusServiceUnavailable || body.ErrorCode != "GENERR0503" {
		t.Errorf("got %d %s, want 503 GENERR0503", res.status, body.ErrorCode)
	}
}

// TestRecaptchaWithService serves pictures of the real service and checks
// the wire answer schedule gives a refused captcha answer.
func TestRecaptchaWithService(t *testing.T) {
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, start)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	svc, err := captcha.New(captcha.Config{Store: backendtest.SQLite(t), Keys: keys, Clock: vax.NewManualClock(start)})
	if err != nil {
		t.Fatalf("captcha.New: %v", err)
	}
	first := decodeRecaptcha(t, getRecaptcha(t, svc, strings.NewReader("{}")).body)
	second := decodeRecaptcha(t, getRecaptcha(t, svc, strings.NewReader("{}")).body)
	if first == second {
		t.Error("two calls served the same picture")
	}
	var root xml.StartElement
	dec := xml.NewDecoder(strings.NewReader(second))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("captcha is not XML: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok && root.Name.Local == "" {
			root = el
		}
	}
	if root.Name.Local != "svg" {
		t.Errorf("captcha's root element is %q, want svg", root.Name.Local)
	}

	// Schedule returns Check's error as it is: a wrong answer is 400
	// APPOIN0044 on the wire.
	status, body := api.Describe(svc.Check(t.Context(), captchaAccount, "no such answer"))
	if status != http.StatusBadRequest || body.ErrorCode != "APPOIN0044" {
		t.Errorf("wrong answer: %d %s, want 400 APPOIN0044", status, body.ErrorCode)
	}
}

// answerCaptcha accepts only "ABCDE" and records the answers it was given.
type answerCaptcha struct {
	fakeCaptcha
	answers []string
}

func (c *answerCaptcha) Check(_ context.Context, _ string, answer string) error {
	c.answers = append(c.answers, answer)
	if answer != "ABCDE" {
		return &vax.Error{Code: vax.Invalid, Reason: captcha.ReasonInvalid, Message: "captcha invalid or expired: get a new one"}
	}
	return nil
}

// TestCaptchaWiring: without a captcha there is no getRecaptcha and
// schedule ignores the field; with one, getRecaptcha answers and schedule
// needs the right answer before it reaches the booking service.
func TestCaptchaWiring(t *testing.T) {
	serve := func(c cowin.Captcha) (*http.ServeMux, *countingAppointments) {
		svc := &countingAppointments{}
		mux := http.NewServeMux()
		cfg := cowin.BookingConfig{Appointments: svc,
			Authenticate: func(*http.Request) (auth.Principal, error) { return auth.Principal{AccountID: captchaAccount}, nil }}
		if c != nil {
			cfg.Captcha = c
		}
		cowin.NewBooking(cfg).Register(mux)
		return mux, svc
	}
	post := func(mux *http.ServeMux, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(t.Context(), "POST", path, strings.NewReader(body))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	const schedule = "/api/v2/appointment/schedule"
	body := func(answer string) string {
		return `{"dose":1,"session_id":"s","slot":"09:00AM-11:00AM","beneficiaries":["b1"],"captcha":"` + answer + `"}`
	}

	off, svc := serve(nil)
	if rec := post(off, "/api/v2/auth/getRecaptcha", "{}"); rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("getRecaptcha without a captcha: got %d, want 404", rec.Code)
	}
	if rec := post(off, schedule, body("anything")); rec.Code != http.StatusOK || svc.calls.Load() != 1 {
		t.Errorf("schedule without a captcha: got %d (%d calls), want 200 reaching the service", rec.Code, svc.calls.Load())
	}

	c := &answerCaptcha{fakeCaptcha: fakeCaptcha{svg: "<svg/>"}}
	on, svc := serve(c)
	if rec := post(on, "/api/v2/auth/getRecaptcha", "{}"); rec.Code != http.StatusOK || decodeRecaptcha(t, rec.Body.Bytes()) != "<svg/>" {
		t.Errorf("getRecaptcha: got %d %s", rec.Code, rec.Body)
	}
	for _, answer := range []string{"", "WRONG"} {
		rec := post(on, schedule, body(answer))
		if rec.Code != http.StatusBadRequest || (reply{body: rec.Body.Bytes()}).errorCode(t) != "APPOIN0044" {
			t.Errorf("schedule with captcha %q: got %d %s, want 400 APPOIN0044", answer, rec.Code, rec.Body)
		}
	}
	if svc.calls.Load() != 0 {
		t.Fatal("a schedule without the right captcha reached the booking service")
	}
	if rec := post(on, schedule, body("ABCDE")); rec.Code != http.StatusOK || svc.calls.Load() != 1 {
		t.Errorf("schedule with the right captcha: got %d %s", rec.Code, rec.Body)
	}
	if want := []string{"", "WRONG", "ABCDE"}; strings.Join(c.answers, ",") != strings.Join(want, ",") {
		t.Errorf("answers checked: %q, want %q", c.answers, want)
	}
}
