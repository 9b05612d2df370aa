package v1_test

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/api"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/cert"
	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/cert/qr"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/ratelimit"
	"github.com/vaxport/vaxport/internal/vax"
)

// inlineCode matches inline event handlers and style attributes.
var inlineCode = regexp.MustCompile(`(?i)\s(on[a-z]+|style)\s*=`)

var (
	certKeyCreated = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	certIssued     = time.Date(2021, 9, 17, 10, 0, 0, 0, time.UTC)
)

// lockedBuffer collects log output from the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type certServer struct {
	url  string
	kr   *keyring.Keyring
	m    *issuer.Material
	logs *lockedBuffer
}

// newCertServer serves the v1 API with the issuer material of a keyring
// whose certificate key was rotated once, verifying at an hour after
// certIssued. The server's debug logs go to logs.
func newCertServer(t *testing.T) certServer {
	t.Helper()
	kr, err := keyring.Init(t.TempDir(), rand.Reader, certKeyCreated)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Rotate(keyring.KindCert, rand.Reader, certKeyCreated.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	m, err := issuer.Build(kr, "https://vaxport.example")
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	mux := http.NewServeMux()
	v1.New(v1.Config{Issuer: m, Clock: vax.NewManualClock(certIssued.Add(time.Hour))}).Register(mux)
	mux.Handle("/", api.NotFound(mux))
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(api.Middleware(logger, nil)(mux))
	t.Cleanup(srv.Close)
	return certServer{url: srv.URL, kr: kr, m: m, logs: logs}
}

func (s certServer) signSHC(t *testing.T) string {
	t.Helper()
	code, err := shc.CVX(masterdata.Vaccines()[1])
	if err != nil {
		t.Fatal(err)
	}
	kid, key := s.kr.CertKey()
	jws, err := shc.Sign(shc.Card{
		Issuer: s.m.Issuer, NotBefore: certIssued,
		Patient:       shc.Patient{Family: "Sharma", Given: []string{"Asha"}, BirthDate: "1985"},
		Immunizations: []shc.Immunization{{Code: code, Date: vax.Date{Year: 2021, Month: 9, Day: 17}, Performer: "PHC Anandpur"}},
	}, kid, key)
	if err != nil {
		t.Fatal(err)
	}
	text, err := shc.EncodeQR(jws)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func (s certServer) signDCC(t *testing.T) string {
	t.Helper()
	name, err := dcc.NewName("Sharma", "Asha")
	if err != nil {
		t.Fatal(err)
	}
	uvci, err := dcc.NewUVCI("IN", "ABC123")
	if err != nil {
		t.Fatal(err)
	}
	entry, err := dcc.NewVaccination(masterdata.Vaccines()[1], 1, 2, vax.Date{Year: 2021, Month: 9, Day: 17}, "IN", "Ministry of Health and Family Welfare, India", uvci)
	if err != nil {
		t.Fatal(err)
	}
	hc1, err := s.m.Signers[0].Sign(dcc.Certificate{Name: name, DateOfBirth: "1985", Vaccinations: []dcc.Vaccination{entry}}, "IN", certIssued, certIssued.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return hc1
}

func TestJWKS(t *testing.T) {
	s := newCertServer(t)
	res := client{t: t, base: s.url}.do("GET", "/.well-known/jwks.json", "", "")
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", res.status, res.body)
	}
	for h, want := range map[string]string{
		"Content-Type":                "application/json",
		"Cache-Control":               "public, max-age=300",
		"Access-Control-Allow-Origin": "*",
	} {
		if got := res.header.Get(h); got != want {
			t.Errorf("%s: got %q, want %q", h, got, want)
		}
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatalf("body %s: %v", res.body, err)
	}
	keys := s.kr.CertKeys()
	if len(doc.Keys) != len(keys) || len(keys) != 2 {
		t.Fatalf("got %d keys, want the keyring's %d (2)", len(doc.Keys), len(keys))
	}
	for i, k := range doc.Keys {
		thumb, err := keyring.Thumbprint(keys[i].Public)
		if err != nil {
			t.Fatal(err)
		}
		jwk, err := shc.PublicJWK(keys[i].Public, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": thumb, "x": jwk.X, "y": jwk.Y}
		if diff := cmp.Diff(want, k); diff != "" {
			t.Errorf("key %d, active first (-want +got):\n%s", i, diff)
		}
	}
	// What we publish is a trust file verifiers accept.
	var tr cert.Trust
	if err := tr.Add("jwks.json", res.body); err != nil {
		t.Errorf("our JWKS as a trust file: %v", err)
	}
}

func TestTrustEndpoint(t *testing.T) {
	s := newCertServer(t)
	c := client{t: t, base: s.url}

	res := c.do("GET", "/api/v1/trust", "", "")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/json" || res.header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("bundle: got %d %v %s", res.status, res.header, res.body)
	}
	var tr cert.Trust
	if err := tr.Add("trust.json", res.body); err != nil {
		t.Fatalf("our bundle as a trust file: %v", err)
	}
	if got := cert.Verify([]byte(s.signSHC(t)), &tr, certIssued.Add(time.Hour)); !got.Valid {
		t.Errorf("our card against the served bundle: %+v, want valid", got)
	}
	if got := cert.Verify([]byte(s.signDCC(t)), &tr, certIssued.Add(time.Hour)); !got.Valid {
		t.Errorf("our DCC against the served bundle: %+v, want valid", got)
	}

	res = c.do("GET", "/api/v1/trust?format=pem", "", "")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/x-pem-file" {
		t.Fatalf("pem: got %d %v %s", res.status, res.header, res.body)
	}
	var got [][]byte
	for rest := res.body; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if len(bytes.TrimSpace(rest)) != 0 {
				t.Errorf("pem: %d bytes after the last block", len(rest))
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			t.Errorf("pem block type %q, want CERTIFICATE", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("pem certificate %d: %v", len(got)+1, err)
		}
		got = append(got, c.Raw)
	}
	want := [][]byte{s.m.Signers[0].Certificate().Raw, s.m.Signers[1].Certificate().Raw}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pem certificates (-want +got):\n%s", diff)
	}

	res = c.do("GET", "/api/v1/trust?format=xml", "", "")
	checkError(t, res, http.StatusBadRequest, "GENERR0400", "format")
}

func TestVerify(t *testing.T) {
	s := newCertServer(t)
	c := client{t: t, base: s.url}
	shcText, hc1 := s.signSHC(t), s.signDCC(t)
	kid, _ := s.kr.CertKey()
	holder := &cert.Holder{Name: "Asha Sharma", BirthDate: "1985"}

	code, err := qr.Encode(shcText)
	if err != nil {
		t.Fatal(err)
	}
	png, err := code.PNG(4)
	if err != nil {
		t.Fatal(err)
	}
	body := func(k, v string) string {
		b, err := json.Marshal(map[string]string{k: v})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	shcResult := cert.Result{Valid: true, Format: cert.FormatSHC, Holder: holder, Issuer: "https://vaxport.example", KeyID: kid,
		Doses: []cert.Dose{{Vaccine: "Covaxin (Bharat Biotech)", Dose: 1, Date: "2021-09-17", Issuer: "PHC Anandpur"}}}
	for _, tc := range []struct {
		name, body string
		want       cert.Result
	}{
		{"shc", body("qr", shcText), shcResult},
		{"shc with newline", body("qr", shcText+"\n"), shcResult},
		{"shc png", body("image", base64.StdEncoding.EncodeToString(png)), shcResult},
		{"dcc", body("qr", hc1), cert.Result{Valid: true, Format: cert.FormatDCC, Holder: holder, Issuer: "IN", KeyID: base64.StdEncoding.EncodeToString(s.m.Signers[0].KID()),
			Doses: []cert.Dose{{Vaccine: "Covaxin", Dose: 1, Of: 2, Date: "2021-09-17", Country: "IN", Issuer: "Ministry of Health and Family Welfare, India"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.do("POST", "/api/v1/verify", "application/json", tc.body)
			if res.status != http.StatusOK {
				t.Fatalf("got %d %s, want 200", res.status, res.body)
			}
			if got := res.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			var got cert.Result
			if err := json.Unmarshal(res.body, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}

	// Tampered: one character of the SHC signature, and of the DCC.
	last := shcText[len(shcText)-2:]
	other := "10"
	if last == other {
		other = "11"
	}
	tamperedSHC := shcText[:len(shcText)-2] + other
	mid := len(hc1) / 2
	swap := byte('A')
	if hc1[mid] == swap {
		swap = 'B'
	}
	tamperedDCC := hc1[:mid] + string(swap) + hc1[mid+1:]
	for name, tc := range map[string]struct {
		qr     string
		format cert.Format
	}{
		"tampered shc": {tamperedSHC, cert.FormatSHC},
		"tampered dcc": {tamperedDCC, cert.FormatDCC},
	} {
		t.Run(name, func(t *testing.T) {
			out := c.json("POST", "/api/v1/verify", body("qr", tc.qr), http.StatusOK)
			if out["valid"] != false || out["format"] != string(tc.format) || out["reason"] == "" || out["holder"] != nil {
				t.Errorf("got %v, want valid false, format %s, a reason and no holder", out, tc.format)
			}
		})
	}

	// Garbage is the caller's mistake.
	for name, tc := range map[string]struct {
		body, msg string
	}{
		"not json":     {"shc:/567629", "invalid JSON"},
		"empty object": {"{}", "missing qr"},
		"wrong type":   {`{"qr":42}`, `field "qr"`},
		"both":         {`{"qr":"x","image":"eA=="}`, "either"},
		"not a cert":   {body("qr", "hello world"), "not a certificate"},
		"bad base64":   {body("image", "!!!"), "not base64"},
		"not a png":    {body("image", base64.StdEncoding.EncodeToString([]byte("hello"))), "not a certificate"},
		"two values":   {`{"qr":"x"} {}`, "more than one value"},
	} {
		t.Run(name, func(t *testing.T) {
			res := c.do("POST", "/api/v1/verify", "application/json", tc.body)
			checkError(t, res, http.StatusBadRequest, "GENERR0400", tc.msg)
		})
	}
	checkError(t, c.do("POST", "/api/v1/verify", "", body("qr", strings.Repeat("9", api.MaxJSONBytes))), http.StatusRequestEntityTooLarge, "GENERR0413", "larger than")

	// Neither the QR texts nor the holder reach the logs.
	logs := s.logs.String()
	if !strings.Contains(logs, "/api/v1/verify") {
		t.Fatalf("no request log for /api/v1/verify: the log check below would prove nothing; logs:\n%s", logs)
	}
	for _, secret := range []string{shcText[:40], hc1[:40], tamperedSHC[:40], "Sharma", "Asha", "hello world"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

func TestVerifyPage(t *testing.T) {
	s := newCertServer(t)
	c := client{t: t, base: s.url}
	page := c.do("GET", "/verify", "", "")
	if page.status != http.StatusOK || page.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /verify: got %d %q", page.status, page.header.Get("Content-Type"))
	}
	csp := page.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
	html := string(page.body)
	for _, want := range []string{`<textarea id="qr"`, `<script src="/verify.js" defer></script>`, `type="file"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The page's one script is the served file: no inline code, no other origin.
	if n := strings.Count(html, "<script"); n != 1 {
		t.Errorf("page has %d script tags, want 1", n)
	}
	if strings.Contains(html, "://") || inlineCode.MatchString(html) {
		t.Error("page refers to another origin or has inline code (on… handlers, style attributes)")
	}
	for path, ctype := range map[string]string{"/verify.js": "text/javascript; charset=utf-8", "/verify.css": "text/css; charset=utf-8"} {
		res := c.do("GET", path, "", "")
		if res.status != http.StatusOK || res.header.Get("Content-Type") != ctype || len(res.body) == 0 {
			t.Errorf("GET %s: got %d %q, %d bytes; want 200 %s", path, res.status, res.header.Get("Content-Type"), len(res.body), ctype)
		}
	}
	js := string(c.do("GET", "/verify.js", "", "").body)
	if !strings.Contains(js, `fetch("/api/v1/verify"`) || strings.Contains(js, "innerHTML") || strings.Contains(js, "http") && strings.Contains(js, "://") {
		t.Error("verify.js must post only to /api/v1/verify and never use innerHTML")
	}
}

func TestCertificateRoutesNeedIssuer(t *testing.T) {
	mux := http.NewServeMux()
	v1.New(v1.Config{}).Register(mux)
	mux.Handle("/", api.NotFound(mux))
	srv := httptest.NewServer(api.Middleware(slog.New(slog.DiscardHandler), nil)(mux))
	t.Cleanup(srv.Close)
	c := client{t: t, base: srv.URL}
	for _, p := range []string{"/.well-known/jwks.json", "/api/v1/trust", "/verify", "/verify.js"} {
		checkError(t, c.do("GET", p, "", ""), http.StatusNotFound, "GENERR0404", "")
	}
	checkError(t, c.do("POST", "/api/v1/verify", "", `{"qr":"x"}`), http.StatusNotFound, "GENERR0404", "")
}

// TestVerifyRateLimit: one client's verifications beyond its share are
// refused with 429 and Retry-After; another client is still served.
func TestVerifyRateLimit(t *testing.T) {
	kr, err := keyring.Init(t.TempDir(), rand.Reader, certKeyCreated)
	if err != nil {
		t.Fatal(err)
	}
	m, err := issuer.Build(kr, "https://vaxport.example")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	clock := vax.NewManualClock(certIssued)
	client := "198.51.100.7"
	v1.New(v1.Config{Issuer: m, Clock: clock, VerifyLimit: ratelimit.New(60, 2, clock),
		ClientKey: func(*http.Request) string { return client }}).Register(mux)
	srv := httptest.NewServer(api.Middleware(nil, nil)(mux))
	t.Cleanup(srv.Close)
	verify := func() *http.Response {
		res, err := http.Post(srv.URL+"/api/v1/verify", "application/json", strings.NewReader(`{"qr":"HC1:XYZ"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for i := range 2 {
		if res := verify(); res.StatusCode != http.StatusOK {
			t.Fatalf("verification %d = %d, want 200 within the burst", i+1, res.StatusCode)
		}
	}
	res := verify()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("third verification = %d (Retry-After %q), want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	client = "203.0.113.9"
	if res := verify(); res.StatusCode != http.StatusOK {
		t.Errorf("another client = %d, want 200", res.StatusCode)
	}
	client = "198.51.100.7"
	clock.Advance(time.Second)
	if res := verify(); res.StatusCode != http.StatusOK {
		t.Errorf("after a second (one token back at 60/min) = %d, want 200", res.StatusCode)
	}
}
