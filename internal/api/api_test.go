package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/vax"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the JSON log records written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

type testServer struct {
	url  string
	logs *syncBuffer
	reg  *prometheus.Registry
}

// newServer serves mux's routes inside api.Middleware, logging JSON to a
// buffer and counting metrics in a fresh registry.
func newServer(t *testing.T, register func(mux *http.ServeMux)) testServer {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	register(mux)
	mux.Handle("/", api.NotFound(mux))
	srv := httptest.NewServer(api.Middleware(logger, reg)(mux))
	t.Cleanup(srv.Close)
	return testServer{url: srv.URL, logs: logs, reg: reg}
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, header http.Header, body string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func errorBody(t *testing.T, body string) api.ErrorBody {
	t.Helper()
	var e api.ErrorBody
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("body %q is not the error shape: %v", body, err)
	}
	return e
}

func TestWriteError(t *testing.T) {
	secret := errors.New("pq: password authentication failed for user vaxport")
	tests := []struct {
		name       string
		err        error
		status     int
		want       api.ErrorBody
		retryAfter string
	}{
		{"invalid", vax.Errorf(vax.Invalid, "invalid PIN code"), 400, api.ErrorBody{ErrorCode: "GENERR0400", Error: "invalid PIN code"}, ""},
		{"wrapped invalid", fmt.Errorf("create centre: %w", vax.Errorf(vax.Invalid, "bad")), 400, api.ErrorBody{ErrorCode: "GENERR0400", Error: "bad"}, ""},
		{"not found", vax.ErrNotFound, 404, api.ErrorBody{ErrorCode: "GENERR0404", Error: "not found"}, ""},
		{"conflict", vax.Errorf(vax.Conflict, "taken"), 409, api.ErrorBody{ErrorCode: "GENERR0409", Error: "taken"}, ""},
		{"unauthorized", vax.ErrUnauthorized, 401, api.ErrorBody{ErrorCode: "GENERR0401", Error: "unauthenticated access"}, ""},
		{"forbidden", vax.ErrForbidden, 403, api.ErrorBody{ErrorCode: "GENERR0403", Error: "access denied"}, ""},
		{"full", vax.ErrFull, 409, api.ErrorBody{ErrorCode: "APPOIN0040", Error: "no capacity left"}, ""},
		{"reason wins", &vax.Error{Code: vax.Invalid, Reason: "USRAUT0014", Message: "invalid OTP"}, 400, api.ErrorBody{ErrorCode: "USRAUT0014", Error: "invalid OTP"}, ""},
		{"rate limited", vax.ErrRateLimited, 429, api.ErrorBody{ErrorCode: "GENERR0429", Error: "too many requests; try again later"}, "1"},
		{"rate limited with wait", api.WithRetryAfter(vax.ErrRateLimited, 2500*time.Millisecond), 429, api.ErrorBody{ErrorCode: "GENERR0429", Error: "too many requests; try again later"}, "3"},
		{"unavailable", vax.Wrap(vax.Unavailable, secret, "store unreachable"), 503, api.ErrorBody{ErrorCode: "GENERR0503", Error: "store unreachable"}, ""},
		{"internal hides detail", vax.Wrap(vax.Internal, secret, "password rejected"), 500, api.ErrorBody{ErrorCode: "GENERR0500", Error: "internal error"}, ""},
		{"plain error", secret, 500, api.ErrorBody{ErrorCode: "GENERR0500", Error: "internal error"}, ""},
		{"body too large", vax.Wrap(vax.Invalid, &http.MaxBytesError{Limit: 10}, "too big"), 413, api.ErrorBody{ErrorCode: "GENERR0413", Error: "too big"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			api.WriteError(w, httptest.NewRequest("GET", "/x", nil), tt.err)
			if w.Code != tt.status {
				t.Errorf("got status %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", got)
			}
			if diff := cmp.Diff(tt.want, errorBody(t, w.Body.String())); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("got Retry-After %q, want %q", got, tt.retryAfter)
			}
			if strings.Contains(w.Body.String(), "password") {
				t.Errorf("body %q leaks internal detail", w.Body.String())
			}
		})
	}
}

func TestErrorsAreLoggedOnlyWhenServerSide(t *testing.T) {
	s := newServer(t, func(mux *http.ServeMux) {
		mux.Handle("GET /bad", api.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			return vax.Errorf(vax.Invalid, "caller's fault")
		}))
		mux.Handle("GET /broken", api.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
			return fmt.Errorf("load thing: %w", errors.New("disk on fire"))
		}))
	})
	do(t, "GET", s.url+"/bad", nil, "")
	res := do(t, "GET", s.url+"/broken", http.Header{"X-Request-Id": {"req-42"}}, "")
	if res.status != 500 {
		t.Fatalf("got status %d, want 500", res.status)
	}
	var errorLines []map[string]any
	for _, l := range s.logs.lines(t) {
		if l["level"] == "ERROR" {
			errorLines = append(errorLines, l)
		}
	}
	if len(errorLines) != 1 {
		t.Fatalf("got %d error log lines, want 1 (for the 500 only): %v", len(errorLines), errorLines)
	}
	l := errorLines[0]
	if l["request_id"] != "req-42" || !strings.Contains(fmt.Sprint(l["err"]), "disk on fire") || l["route"] != "/broken" {
		t.Errorf("got error log %v, want request id req-42, route /broken and the full error", l)
	}
}

func TestErrorAfterResponseStarted(t *testing.T) {
	s := newServer(t, func(mux *http.ServeMux) {
		mux.Handle("GET /half", api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			if err := api.WriteJSON(w, http.StatusOK, []int{1}); err != nil {
				return err
			}
			return errors.New("late failure")
		}))
	})
	res := do(t, "GET", s.url+"/half", nil, "")
	if res.status != 200 || res.body != "[1]\n" {
		t.Errorf("got %d %q, want 200 [1] untouched by the late error", res.status, res.body)
	}
	if !strings.Contains(s.logs.String(), "late failure") {
		t.Errorf("late error not logged: %s", s.logs.String())
	}
}

func TestDecodeJSON(t *testing.T) {
	type inner struct {
		Pincode int `json:"pincode"`
	}
	type request struct {
		Mobile string  `json:"mobile"`
		Dose   int     `json:"dose"`
		Centre inner   `json:"centre"`
		Slots  []int   `json:"slots"`
		Ok     bool    `json:"ok"`
		Fee    float64 `json:"fee"`
	}
	tests := []struct {
		name        string
		body        string
		contentType string
		want        request
		status      int    // 0: decodes
		msg         string // substring of the error message
	}{
		{name: "no content type", body: `{"mobile":"9999999999","dose":1}`, want: request{Mobile: "9999999999", Dose: 1}},
		{name: "wrong content type", body: `{"dose":2}`, contentType: "text/plain", want: request{Dose: 2}},
		{name: "unknown fields ignored", body: `{"dose":2,"captcha":"x"}`, want: request{Dose: 2}},
		{name: "trailing white space", body: "{\"dose\":2}\r\n\t ", want: request{Dose: 2}},
		{name: "empty", body: "", status: 400, msg: "empty request body"},
		{name: "syntax", body: `{"dose":1,}`, status: 400, msg: "invalid JSON at byte"},
		{name: "truncated", body: `{"dose":1`, status: 400, msg: "ends too early"},
		{name: "string for int", body: `{"dose":"1"}`, status: 400, msg: `field "dose": want an integer, got string`},
		{name: "nested field", body: `{"centre":{"pincode":"110001"}}`, status: 400, msg: `field "centre.pincode": want an integer`},
		{name: "number for string", body: `{"mobile":9999999999}`, status: 400, msg: `field "mobile": want a string, got number`},
		{name: "object for array", body: `{"slots":{}}`, status: 400, msg: `field "slots": want an array`},
		{name: "array for object", body: `[1,2]`, status: 400, msg: "want an object, got array"},
		{name: "two values", body: `{"dose":1}{"dose":2}`, status: 400, msg: "more than one value"},
		{name: "value then garbage", body: `{"dose":1} x`, status: 400, msg: "invalid JSON"},
		{name: "oversized", body: `{"mobile":"` + strings.Repeat("9", api.MaxJSONBytes) + `"}`, status: 413, msg: "larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var got request
			err := api.DecodeJSON(r, &got)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("DecodeJSON: %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("decoded (-want +got):\n%s", diff)
				}
				return
			}
			if code := vax.ErrorCode(err); code != vax.Invalid {
				t.Fatalf("got error %v (code %s), want Invalid", err, code)
			}
			status, body := api.Describe(err)
			if status != tt.status {
				t.Errorf("got status %d, want %d", status, tt.status)
			}
			if !strings.Contains(body.Error, tt.msg) {
				t.Errorf("got message %q, want it to contain %q", body.Error, tt.msg)
			}
			if strings.Contains(body.Error, "9999") {
				t.Errorf("message %q quotes the body", body.Error)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	seen := make(chan string, 1)
	s := newServer(t, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /id", func(w http.ResponseWriter, r *http.Request) {
			seen <- api.RequestID(r.Context())
		})
	})
	tests := []struct {
		name     string
		incoming string
		echoed   bool
	}{
		{"sane incoming id", "abc-123_X.y", true},
		{"none", "", false},
		{"too long", strings.Repeat("a", 65), false},
		{"bad characters", "id with spaces\" or quotes", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.incoming != "" {
				h.Set("X-Request-Id", tt.incoming)
			}
			res := do(t, "GET", s.url+"/id", h, "")
			got := res.header.Get("X-Request-Id")
			inHandler := <-seen
			if got != inHandler {
				t.Errorf("response id %q differs from the context's %q", got, inHandler)
			}
			if tt.echoed && got != tt.incoming {
				t.Errorf("got id %q, want the incoming %q", got, tt.incoming)
			}
			if !tt.echoed && (got == "" || got == tt.incoming) {
				t.Errorf("got id %q, want a fresh one", got)
			}
		})
	}
}

func TestPanicRecovery(t *testing.T) {
	s := newServer(t, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	})
	res := do(t, "GET", s.url+"/panic", http.Header{"X-Request-Id": {"req-p"}}, "")
	if res.status != 500 {
		t.Fatalf("got status %d, want 500", res.status)
	}
	if diff := cmp.Diff(api.ErrorBody{ErrorCode: "GENERR0500", Error: "internal error"}, errorBody(t, res.body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	var panicLogged, accessLogged bool
	for _, l := range s.logs.lines(t) {
		if l["level"] == "ERROR" && l["panic"] == "boom" && l["request_id"] == "req-p" && strings.Contains(fmt.Sprint(l["stack"]), "goroutine") {
			panicLogged = true
		}
		if l["msg"] == "http request" && l["status"] == float64(500) {
			accessLogged = true
		}
	}
	if !panicLogged || !accessLogged {
		t.Errorf("got logs %s, want the panic with its stack and a 500 access line", s.logs.String())
	}
}

func TestAccessLogHasNoPathOrQuery(t *testing.T) {
	s := newServer(t, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /beneficiary/{mobile}", func(w http.ResponseWriter, r *http.Request) {
			_ = api.WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
		})
	})
	do(t, "GET", s.url+"/beneficiary/9999999999?mobile=9999999999", nil, "")
	do(t, "GET", s.url+"/unknown/9999999999?mobile=9999999999", nil, "")
	if strings.Contains(s.logs.String(), "9999999999") {
		t.Fatalf("logs carry the mobile number:\n%s", s.logs.String())
	}
	var got []string
	for _, l := range s.logs.lines(t) {
		if l["msg"] != "http request" {
			continue
		}
		for _, k := range []string{"method", "route", "status", "bytes", "duration", "request_id"} {
			if _, ok := l[k]; !ok {
				t.Errorf("access line %v lacks %s", l, k)
			}
		}
		got = append(got, fmt.Sprintf("%v %v %v", l["method"], l["route"], l["status"]))
	}
	want := []string{"GET /beneficiary/{mobile} 200", "GET / 404"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("access lines (-want +got):\n%s", diff)
	}
}

func TestMetrics(t *testing.T) {
	s := newServer(t, func(mux *http.ServeMux) {
		mux.Handle("GET /centres/{id}", api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			if r.PathValue("id") == "0" {
				return vax.ErrNotFound
			}
			return api.WriteJSON(w, http.StatusOK, "ok")
		}))
	})
	do(t, "GET", s.url+"/centres/1", nil, "")
	do(t, "GET", s.url+"/centres/2", nil, "")
	do(t, "GET", s.url+"/centres/0", nil, "")
	do(t, "POST", s.url+"/centres/1", nil, "")

	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	counts := map[string]float64{}
	observations := map[string]uint64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "vaxport_http_requests_total":
				counts[labels["method"]+" "+labels["route"]+" "+labels["code"]] = m.GetCounter().GetValue()
			case "vaxport_http_request_duration_seconds":
				observations[labels["method"]+" "+labels["route"]] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	wantCounts := map[string]float64{"GET /centres/{id} 200": 2, "GET /centres/{id} 404": 1, "POST / 405": 1}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("vaxport_http_requests_total (-want +got):\n%s", diff)
	}
	wantObs := map[string]uint64{"GET /centres/{id}": 3, "POST /": 1}
	if diff := cmp.Diff(wantObs, observations); diff != "" {
		t.Errorf("vaxport_http_request_duration_seconds counts (-want +got):\n%s", diff)
	}

	// A second middleware on the same registry shares the metrics.
	_ = api.Middleware(nil, s.reg)
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	s := newServer(t, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /things/{id}", func(http.ResponseWriter, *http.Request) {})
		mux.HandleFunc("PUT /things/{id}", func(http.ResponseWriter, *http.Request) {})
	})
	res := do(t, "GET", s.url+"/nothing", nil, "")
	if res.status != 404 || errorBody(t, res.body).ErrorCode != "GENERR0404" {
		t.Errorf("unknown route: got %d %s, want 404 GENERR0404", res.status, res.body)
	}
	res = do(t, "DELETE", s.url+"/things/1", nil, "")
	if res.status != 405 || errorBody(t, res.body).ErrorCode != "GENERR0405" {
		t.Errorf("wrong method: got %d %s, want 405 GENERR0405", res.status, res.body)
	}
	if got := res.header.Get("Allow"); got != "GET, PUT" {
		t.Errorf("got Allow %q, want \"GET, PUT\"", got)
	}
}

func TestBodyLimit(t *testing.T) {
	s := newServer(t, func(mux *http.ServeMux) {
		mux.Handle("POST /upload", api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				return vax.Wrap(vax.Invalid, err, "upload too large")
			}
			return api.WriteJSON(w, http.StatusOK, n)
		}))
	})
	res := do(t, "POST", s.url+"/upload", nil, strings.Repeat("x", api.MaxBodyBytes))
	if res.status != 200 {
		t.Errorf("body at the limit: got %d %s, want 200", res.status, res.body)
	}
	res = do(t, "POST", s.url+"/upload", nil, strings.Repeat("x", api.MaxBodyBytes+1))
	if res.status != 413 {
		t.Errorf("body over the limit: got %d %s, want 413", res.status, res.body)
	}
}

// store is a vax.Store whose Ping and Migrations answer as told; the
// health handlers call nothing else.
type store struct {
	vax.Store
	pingErr         error
	current, latest int64
	migErr          error
}

func (s store) Ping(context.Context) error { return s.pingErr }
func (s store) Migrations(context.Context) (int64, int64, error) {
	return s.current, s.latest, s.migErr
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name   string
		st     store
		status int
		msg    string
	}{
		{"ready", store{current: 3, latest: 3}, 200, ""},
		{"store down", store{pingErr: errors.New("dial tcp: refused"), current: 3, latest: 3}, 503, "store unreachable"},
		{"migrations unreadable", store{migErr: errors.New("no table")}, 503, "cannot read the store's schema version"},
		{"schema behind", store{current: 2, latest: 3}, 503, "run vaxport migrate"},
		{"schema ahead", store{current: 4, latest: 3}, 503, "newer than this binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			healthz, readyz := api.Health(tt.st)
			w := httptest.NewRecorder()
			healthz.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
			if w.Code != 200 || w.Body.String() != "{\"status\":\"ok\"}\n" {
				t.Errorf("healthz: got %d %q, want 200 {\"status\":\"ok\"}", w.Code, w.Body.String())
			}
			w = httptest.NewRecorder()
			readyz.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
			if w.Code != tt.status {
				t.Fatalf("readyz: got %d %s, want %d", w.Code, w.Body.String(), tt.status)
			}
			if tt.status == 200 {
				if w.Body.String() != "{\"status\":\"ok\"}\n" {
					t.Errorf("readyz: got %q, want {\"status\":\"ok\"}", w.Body.String())
				}
				return
			}
			e := errorBody(t, w.Body.String())
			if e.ErrorCode != "GENERR0503" || !strings.Contains(e.Error, tt.msg) {
				t.Errorf("readyz: got %+v, want GENERR0503 mentioning %q", e, tt.msg)
			}
		})
	}
}
