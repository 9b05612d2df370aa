package cowin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/api/cowin"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/auth/authmetrics"
	"github.com/vaxport/vaxport/internal/changefeed"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/sms"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/store/instrument"
	"github.com/vaxport/vaxport/internal/vax"
)

// signInNode is one node's sign-in stack over HTTP: the Co-WIN sign-in
// routes, /api/v1 refresh, logout and receipts, a dispatcher writing SMS
// to a file, a change feed, metrics and JSON logs at debug level.
type signInNode struct {
	url     string
	smsFile string
	logs    *syncBuffer
	reg     *prometheus.Registry
	signIn  *cowin.SignIn
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startSignInNode(t *testing.T, st vax.Store, rules auth.Rules, trusted ...netip.Prefix) *signInNode {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	st = instrument.Wrap(st, reg)
	kr, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, time.Now())
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	smsFile := filepath.Join(t.TempDir(), "sms.jsonl")
	providers, err := sms.ParseProviders([]string{"file:" + smsFile}, sms.ParseOptions{})
	if err != nil {
		t.Fatalf("providers: %v", err)
	}
	d, err := sms.New(sms.Config{Store: st, Keys: kr, Providers: providers, Logger: logger, Registerer: reg, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("dispatcher: %v", err)
	}
	svc, err := auth.New(auth.Config{Store: st, Keys: kr, Rules: rules, Metrics: authmetrics.New(reg), Logger: logger, Notify: d.Notify})
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	feed := changefeed.New(st, changefeed.Options{Logger: logger})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { feed.Run(ctx) })
	wg.Go(func() { d.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	if err := svc.FollowRevocations(t.Context(), feed); err != nil {
		t.Fatalf("FollowRevocations: %v", err)
	}

	signIn := cowin.NewSignIn(cowin.SignInConfig{Citizens: svc, TrustedProxies: trusted})
	mux := http.NewServeMux()
	signIn.Register(mux)
	v1.New(v1.Config{Tokens: svc, Receipts: d}).Register(mux)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", api.NotFound(mux))
	srv := httptest.NewServer(api.Middleware(logger, reg)(mux))
	t.Cleanup(srv.Close)
	return &signInNode{url: srv.URL, smsFile: smsFile, logs: logs, reg: reg, signIn: signIn}
}

type httpResult struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// post sends body (no Content-Type, as many clients do) with headers as
// name, value pairs.
func (n *signInNode) post(t *testing.T, path, body string, headers ...string) httpResult {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, n.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := httpResult{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("POST %s: body %q is not a JSON object", path, raw)
		}
	}
	return out
}

var otpRe = regexp.MustCompile(`\b[0-9]{6}\b`)

// otpFor waits for the newest SMS to mobile in the node's file and returns
// its OTP; after skips that many earlier messages to the number.
func (n *signInNode) otpFor(t *testing.T, mobile string, after int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var seen []string
		for _, l := range readLines(t, n.smsFile) {
			if l.To == mobile {
				seen = append(seen, otpRe.FindString(l.Text))
			}
		}
		if len(seen) > after {
			return seen[len(seen)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SMS to the number in %s within 10s", n.smsFile)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readLines(t *testing.T, path string) []sms.FileLine {
	t.Helper()
	b, _ := os.ReadFile(path)
	var out []sms.FileLine
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var l sms.FileLine
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("sms file line %q: %v", line, err)
		}
		out = append(out, l)
	}
	return out
}

func shaHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSignInPairs(t *testing.T) {
	n := startSignInNode(t, backendtest.OpenSQLite(t, nil), auth.Rules{})
	pairs := []struct {
		name, generate, confirm, body string
		wantNew                       string // isNewAccount, "" when the answer has none
	}{
		{"protected, new account", "/api/v2/auth/generateOTP", "/api/v2/auth/confirmOTP", `{"mobile":"9876543210"}`, "Y"},
		{"public", "/api/v2/auth/public/generateOTP", "/api/v2/auth/public/confirmOTP", `{"mobile":"9123456780"}`, ""},
		{"portal, number as a JSON number", "/api/v2/auth/generateMobileOTP", "/api/v2/auth/validateMobileOtp", `{"mobile":9012345678,"secret":"U2FsdGVkX1+opaque"}`, ""},
		{"protected, known account", "/api/v2/auth/generateOTP", "/api/v2/auth/confirmOTP", `{"mobile":"9123456780"}`, "N"},
	}
	count := map[string]int{}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			res := n.post(t, p.generate, p.body)
			txn, _ := res.body["txnId"].(string)
			if res.status != http.StatusOK || !vax.ValidUUID(txn) {
				t.Fatalf("generate: %d %s, want 200 with a txnId", res.status, res.raw)
			}
			var req struct{ Mobile json.Number }
			json.Unmarshal([]byte(p.body), &req)
			mobile := strings.Trim(req.Mobile.String(), `"`)
			otp := n.otpFor(t, mobile, count[mobile])
			count[mobile]++
			res = n.post(t, p.confirm, `{"otp":"`+shaHex(otp)+`","txnId":"`+txn+`"}`)
			tok, _ := res.body["token"].(string)
			if res.status != http.StatusOK || strings.Count(tok, ".") != 2 {
				t.Fatalf("confirm: %d %s, want 200 with a JWT", res.status, res.raw)
			}
			got, has := res.body["isNewAccount"]
			if (p.wantNew == "") == has || (has && got != p.wantNew) {
				t.Errorf("isNewAccount = %v (present %v), want %q", got, has, p.wantNew)
			}
			if len(res.body) != 1+map[bool]int{true: 1}[has] {
				t.Errorf("confirm answer %s has extra fields", res.raw)
			}
		})
	}
}

func TestSignInRefusals(t *testing.T) {
	n := startSignInNode(t, backendtest.OpenSQLite(t, nil), auth.Rules{IPPerMinute: 60, IPBurst: 2})
	check := func(name string, res httpResult, status int, code string) {
		t.Helper()
		if res.status != status || res.body["errorCode"] != code {
			t.Errorf("%s: %d %s, want %d with errorCode %s", name, res.status, res.raw, status, code)
		}
	}
	check("bad number", n.post(t, "/api/v2/auth/generateOTP", `{"mobile":"12345"}`), 400, auth.ReasonInvalidMobile)
	check("not JSON", n.post(t, "/api/v2/auth/generateOTP", `mobile=9876543210`), 400, "GENERR0400")
	first := n.post(t, "/api/v2/auth/generateOTP", `{"mobile":"9876543210"}`)
	txn, _ := first.body["txnId"].(string)
	again := n.post(t, "/api/v2/auth/generateOTP", `{"mobile":"9876543210"}`)
	check("resend at once", again, 429, auth.ReasonResendWait)
	if ra := again.header.Get("Retry-After"); ra != "30" {
		t.Errorf("Retry-After = %q, want 30", ra)
	}
	check("wrong OTP", n.post(t, "/api/v2/auth/confirmOTP", `{"otp":"`+shaHex("000000x")+`","txnId":"`+txn+`"}`), 400, auth.ReasonInvalidOTP)
	check("unknown txn", n.post(t, "/api/v2/auth/confirmOTP", `{"otp":"`+shaHex("1")+`","txnId":"00000000-0000-4000-8000-000000000000"}`), 400, auth.ReasonInvalidOTP)
	check("empty body", n.post(t, "/api/v2/auth/confirmOTP", ``), 400, "GENERR0400")
	// The per-IP bucket (2) is spent by now: one more from this address
	// is refused whatever the number.
	check("per-IP limit", n.post(t, "/api/v2/auth/generateOTP", `{"mobile":"9000000001"}`), 429, auth.ReasonIPLimit)

	check("refresh without a token", n.post(t, "/api/v1/auth/refresh", ``), 401, auth.ReasonInvalidToken)
	check("logout with a bad token", n.post(t, "/api/v1/auth/logout", ``, "Authorization", "Bearer x.y.z"), 401, auth.ReasonInvalidToken)
	check("receipt without a secret", n.post(t, "/api/v1/sms/receipts/file", `{"id":"00000000-0000-4000-8000-000000000000","status":"DELIVRD"}`), 401, "GENERR0401")
}

func TestClientAddressBehindProxy(t *testing.T) {
	lb := netip.MustParsePrefix("10.0.0.0/8")
	n := startSignInNode(t, backendtest.OpenSQLite(t, nil), auth.Rules{IPPerMinute: 1, IPBurst: 1}, lb)
	// httptest connects from 127.0.0.1, which is not a trusted proxy: the
	// header is ignored and every request counts against 127.0.0.1.
	if res := n.post(t, "/api/v2/auth/generateOTP", `{"mobile":"9000000001"}`, "X-Forwarded-For", "203.0.113.1"); res.status != 200 {
		t.Fatalf("first: %d %s", res.status, res.raw)
	}
	if res := n.post(t, "/api/v2/auth/generateOTP", `{"mobile":"9000000002"}`, "X-Forwarded-For", "203.0.113.2"); res.status != 429 {
		t.Errorf("spoofed X-Forwarded-For from an untrusted peer: %d, want 429", res.status)
	}
	loopback := startSignInNode(t, backendtest.OpenSQLite(t, nil), auth.Rules{IPPerMinute: 1, IPBurst: 1}, netip.MustParsePrefix("127.0.0.0/8"))
	for i, xff := range []string{"203.0.113.1", "198.51.100.7, 203.0.113.2", "203.0.113.3"} {
		body := `{"mobile":"900000001` + string(rune('0'+i)) + `"}`
		if res := loopback.post(t, "/api/v2/auth/generateOTP", body, "X-Forwarded-For", xff); res.status != 200 {
			t.Errorf("client %s behind the trusted proxy: %d %s, want 200 (its own bucket)", xff, res.status, res.raw)
		}
	}
	if res := loopback.post(t, "/api/v2/auth/generateOTP", `{"mobile":"9000000019"}`, "X-Forwarded-For", "203.0.113.3"); res.status != 429 {
		t.Errorf("second request of one client behind the proxy: %d, want 429", res.status)
	}
}

// TestProtectedSearchNeedsToken checks the hook on the protected search.
func TestProtectedSearchNeedsToken(t *testing.T) {
	st := backendtest.OpenSQLite(t, nil)
	n := startSignInNode(t, st, auth.Rules{})
	f := newFixture(t, backendtest.OpenSQLite, n.signIn.Authenticate)
	target := "/api/v2/appointment/sessions/findByDistrict?district_id=301&date=14-06-2021"
	res := n.post(t, "/api/v2/auth/generateOTP", `{"mobile":"9876543210"}`)
	txn, _ := res.body["txnId"].(string)
	res = n.post(t, "/api/v2/auth/confirmOTP", `{"otp":"`+shaHex(n.otpFor(t, "9876543210", 0))+`","txnId":"`+txn+`"}`)
	tok, _ := res.body["token"].(string)
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"not bearer", "Basic " + tok, http.StatusUnauthorized},
		{"bad token", "Bearer " + tok[:len(tok)-3] + "AAA", http.StatusUnauthorized},
		{"valid token", "Bearer " + tok, http.StatusOK},
	} {
		var got response
		if tc.auth == "" {
			got = f.get(t, target)
		} else {
			got = f.get(t, target, "Authorization", tc.auth)
		}
		if got.status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, got.status, got.body, tc.want)
		}
	}
	// The public variant needs none.
	if got := f.get(t, "/api/v2/appointment/sessions/public/findByDistrict?district_id=301&date=14-06-2021"); got.status != http.StatusOK {
		t.Errorf("public search: %d, want 200", got.status)
	}
	// After logout the token is refused.
	if res := n.post(t, "/api/v1/auth/logout", ``, "Authorization", "Bearer "+tok); res.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", res.status, res.raw)
	}
	if got := f.get(t, target, "Authorization", "Bearer "+tok); got.status != http.StatusUnauthorized {
		t.Errorf("after logout: %d, want 401", got.status)
	}
}

// TestNoSecretsInLogsOrMetrics runs whole sign-ins (generate, SMS,
// confirm, protected call, refresh, a receipt, logout) with logs at debug
// level, then fails if any log line or metric holds an OTP, its SHA-256, a
// token or the full mobile number.
func TestNoSecretsInLogsOrMetrics(t *testing.T) {
	n := startSignInNode(t, backendtest.OpenSQLite(t, nil), auth.Rules{})
	const mobile = "9876501234"
	var secrets []string
	for i := range 2 {
		res := n.post(t, "/api/v2/auth/generateOTP", `{"mobile":"`+mobile+`"}`)
		txn, _ := res.body["txnId"].(string)
		otp := n.otpFor(t, mobile, i)
		// A wrong guess first, so refusals are logged too.
		n.post(t, "/api/v2/auth/confirmOTP", `{"otp":"`+shaHex("999999x")+`","txnId":"`+txn+`"}`)
		res = n.post(t, "/api/v2/auth/confirmOTP", `{"otp":"`+shaHex(otp)+`","txnId":"`+txn+`"}`)
		tok, _ := res.body["token"].(string)
		if tok == "" {
			t.Fatalf("sign-in %d: %d %s", i, res.status, res.raw)
		}
		res = n.post(t, "/api/v1/auth/refresh", ``, "Authorization", "Bearer "+tok)
		refreshed, _ := res.body["token"].(string)
		if refreshed == "" {
			t.Fatalf("refresh: %d %s", res.status, res.raw)
		}
		if _, err := n.signIn.Authenticate(bearerRequest(refreshed)); err != nil {
			t.Fatalf("protected call: %v", err)
		}
		if res := n.post(t, "/api/v1/auth/logout", ``, "Authorization", "Bearer "+refreshed); res.status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", res.status, res.raw)
		}
		// A token used after logout: refused, and logged as a 401.
		n.post(t, "/api/v1/auth/refresh", ``, "Authorization", "Bearer "+tok)
		secrets = append(secrets, otp, shaHex(otp), tok, refreshed)
		// The middle of a token too: a log that cut it would still leak.
		secrets = append(secrets, tok[len(tok)/3:2*len(tok)/3])
	}
	secrets = append(secrets, mobile, "91"+mobile)

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, n.url+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	logs := n.logs.String()
	if !strings.Contains(logs, `"route":"/api/v2/auth/confirmOTP"`) || !strings.Contains(string(metrics), "vaxport_sms_delivered_total") ||
		!strings.Contains(string(metrics), "vaxport_otp_requested_total 2") {
		t.Fatalf("the run left no trace to scan: %d bytes of logs, %d of metrics", len(logs), len(metrics))
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold a secret (%d chars)", len(s))
		}
		if strings.Contains(string(metrics), s) {
			t.Errorf("the metrics hold a secret (%d chars)", len(s))
		}
	}
}

func bearerRequest(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}
