package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// startMain starts an in-process node on port 0 and stops it at cleanup.
func startMain(t *testing.T, cfg Config) *Main {
	t.Helper()
	return startMainLogged(t, cfg, nil)
}

// startMainLogged is startMain with the node's JSON logs written to logs.
func startMainLogged(t *testing.T, cfg Config, logs io.Writer) *Main {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.TZ == "" {
		cfg.TZ = "Asia/Kolkata"
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	m := &Main{Config: cfg}
	if logs != nil {
		logger, err := newLogger(logs, cfg.LogLevel)
		if err != nil {
			t.Fatal(err)
		}
		m.Logger = logger
	}
	if err := m.Start(t.Context()); err != nil {
		m.Close()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m
}

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestServeDemo(t *testing.T) {
	dir := t.TempDir()
	m := startMain(t, Config{Demo: true, DataDir: dir, Seed: 7, Centres: 800})

	for _, path := range []string{"/healthz", "/readyz", "/.well-known/jwks.json", "/api/v1/trust", "/verify"} {
		if code, body := get(t, m.URL()+path, ""); code != 200 {
			t.Errorf("GET %s = %d %s, want 200", path, code, body)
		}
	}
	code, body := get(t, m.URL()+"/no/such/route", "")
	if code != 404 || !bytes.Contains(body, []byte(`"errorCode"`)) {
		t.Errorf("unknown route = %d %s, want 404 in the error shape", code, body)
	}

	tok, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatalf("demo admin token: %v", err)
	}
	token := strings.TrimSpace(string(tok))
	code, body = get(t, m.URL()+"/api/v1/admin/centres?district_id=301", token)
	if code != 200 {
		t.Fatalf("list Alappuzha centres = %d %s", code, body)
	}
	var list struct {
		Centers []struct {
			CenterID   int64 `json:"center_id"`
			DistrictID int   `json:"district_id"`
		} `json:"centers"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Centers) == 0 {
		t.Fatal("demo data has no centre in Alappuzha (301)")
	}
	if code, _ := get(t, m.URL()+"/api/v1/admin/centres?district_id=301", ""); code != 401 {
		t.Errorf("admin API without token = %d, want 401", code)
	}

	// Every request is counted per route, and store metrics are exported.
	_, metrics := get(t, m.URL()+"/metrics", "")
	for _, want := range []string{"vaxport_http_requests_total", "vaxport_store_duration_seconds", "vaxport_store_pool_open_connections"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestDemoRestartTopsUp(t *testing.T) {
	dir := t.TempDir()
	clock := vax.NewManualClock(time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC))
	start := func() *Main {
		m := &Main{Config: Config{Demo: true, DataDir: dir, Seed: 3, Centres: 800, Addr: "127.0.0.1:0"}, Clock: clock}
		if err := m.Start(t.Context()); err != nil {
			t.Fatalf("start: %v", err)
		}
		return m
	}
	countDays := func(m *Main) map[vax.Date]bool {
		days := map[vax.Date]bool{}
		err := m.Store().View(t.Context(), func(tx vax.Tx) error {
			ss, err := tx.Sessions(t.Context(), vax.SessionQuery{DistrictID: 301, Limit: vax.MaxLimit})
			for _, s := range ss {
				days[s.Date] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return days
	}
	m := start()
	if got := len(countDays(m)); got != 7 {
		t.Errorf("first start: %d session days in Alappuzha, want 7", got)
	}
	m.Close()
	clock.Advance(48 * time.Hour)
	m = start()
	defer m.Close()
	days := countDays(m)
	today := vax.Today(clock, m.Config.location())
	for d := range 7 {
		if !days[today.AddDays(d)] {
			t.Errorf("after restart two days later: no sessions on %s", today.AddDays(d))
		}
	}
}

func TestKeyringMismatchRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	m := startMain(t, Config{Demo: true, DataDir: dir, Centres: 800})
	m.Close()

	other := filepath.Join(t.TempDir(), "keys")
	var out bytes.Buffer
	if code := run(t.Context(), []string{"keys", "init", "--keys-dir", other}, &out, &out, noEnv); code != 0 {
		t.Fatalf("keys init exit %d: %s", code, out.String())
	}
	n := &Main{Config: Config{DataDir: dir, KeysDir: other, Addr: "127.0.0.1:0"}}
	err := n.Start(t.Context())
	n.Close()
	if err == nil || !strings.Contains(err.Error(), "not the one this database was set up with") {
		t.Fatalf("start with another keyring: err = %v, want a refusal", err)
	}
}

func noEnv(string) string { return "" }

func TestKeysCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	runOK := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut, noEnv); code != 0 {
			t.Fatalf("vaxport %v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	runOK("keys", "init", "--keys-dir", dir)
	before := runOK("keys", "list", "--keys-dir", dir)
	runOK("keys", "rotate", "--certificates", "--keys-dir", dir)
	after := runOK("keys", "list", "--keys-dir", dir)
	if strings.Count(after, "\ncert") != strings.Count(before, "\ncert")+1 {
		t.Errorf("rotate cert did not add a cert key:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if fp := strings.SplitN(before, "\n", 2)[0]; !strings.HasPrefix(after, fp) {
		t.Errorf("fingerprint changed by rotation: %q vs %q", fp, strings.SplitN(after, "\n", 2)[0])
	}
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "init", "--keys-dir", dir}, io.Discard, &errOut, noEnv); code == 0 {
		t.Error("keys init over an existing keyring succeeded")
	}
}

func TestEnvFallback(t *testing.T) {
	env := map[string]string{"VAXPORT_DATA_DIR": "/srv/vax", "VAXPORT_ADDR": ":9090"}
	var cfg Config
	fs := newFlagSet("serve", func(k string) string { return env[k] })
	fs.SetOutput(io.Discard)
	fs.serveFlags(&cfg)
	if err := parseFlags(fs, []string{"--addr", ":7070"}, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":7070" {
		t.Errorf("Addr = %q, want the flag to win over the environment", cfg.Addr)
	}
	if cfg.DataDir != "/srv/vax" || cfg.DB != "sqlite:/srv/vax/vaxport.db" || cfg.KeysDir != "/srv/vax/keys" {
		t.Errorf("derived config = %+v", cfg)
	}
}

func TestBadFlags(t *testing.T) {
	tests := [][]string{
		{"serve", "--db", "mysql://x"},
		{"serve", "--tz", "Mars/Olympus"},
		{"serve", "--tls-cert", "a.pem"},
		{"serve", "--no-such-flag"},
		{"frobnicate"},
	}
	for _, args := range tests {
		var errOut bytes.Buffer
		if code := run(context.Background(), args, io.Discard, &errOut, noEnv); code == 0 {
			t.Errorf("vaxport %v: exit 0, want failure", args)
		} else if errOut.Len() == 0 {
			t.Errorf("vaxport %v: failed without saying why", args)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	if got := redactDSN("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("redactDSN kept the password: %s", got)
	}
}

// TestRotatedCertificateKeyIsPublished: a certificate key rotated in the
// keyring directory (by `vaxport keys rotate cert` elsewhere) is published
// by a running node without a restart.
func TestRotatedCertificateKeyIsPublished(t *testing.T) {
	dir := t.TempDir()
	m := &Main{Config: Config{Demo: true, DataDir: dir, Centres: 800, Addr: "127.0.0.1:0", TZ: "Asia/Kolkata"}, keyReload: 20 * time.Millisecond}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	keys := func() int {
		code, body := get(t, m.URL()+"/.well-known/jwks.json", "")
		if code != 200 {
			t.Fatalf("jwks = %d %s", code, body)
		}
		var jwks struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(body, &jwks); err != nil {
			t.Fatal(err)
		}
		return len(jwks.Keys)
	}
	before := keys()
	var out bytes.Buffer
	if code := run(t.Context(), []string{"keys", "rotate", "cert", "--keys-dir", filepath.Join(dir, "keys")}, &out, &out, noEnv); code != 0 {
		t.Fatalf("keys rotate: %s", out.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for keys() != before+1 {
		if time.Now().After(deadline) {
			t.Fatalf("jwks still has %d keys after a rotation, want %d", keys(), before+1)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
