package sms_test

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/sms"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestParseSimConfig(t *testing.T) {
	tests := []struct {
		in   string
		want sms.SimConfig
	}{
		{"", sms.SimConfig{}},
		{"median=2s,p99=8s,errors=0.01,outage=30s+20s,seed=1", sms.SimConfig{
			Median: 2 * time.Second, P99: 8 * time.Second, Errors: 0.01,
			Outages: []sms.Outage{{Start: 30 * time.Second, Duration: 20 * time.Second}}, Seed: 1}},
		{"errors=1%;accept=20ms;outage=0s+1m;outage=2m+10s;name=backup", sms.SimConfig{
			Name: "backup", Accept: 20 * time.Millisecond, Errors: 0.01,
			Outages: []sms.Outage{{Duration: time.Minute}, {Start: 2 * time.Minute, Duration: 10 * time.Second}}}},
	}
	for _, tc := range tests {
		got, err := sms.ParseSimConfig(tc.in)
		if err != nil {
			t.Errorf("ParseSimConfig(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseSimConfig(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
	for _, bad := range []string{"median", "median=fast", "errors=2", "errors=-1%", "outage=30s", "outage=-1s+2s", "outage=1s+0s", "seed=x", "colour=red"} {
		if _, err := sms.ParseSimConfig(bad); vax.ErrorCode(err) != vax.Invalid {
			t.Errorf("ParseSimConfig(%q): got %v, want Invalid", bad, err)
		}
	}
}

func TestParseProviders(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	auth := write("auth", "Bearer s3cret-token\n")
	secret := write("receipt", "0123456789abcdef0123\n")
	short := write("short", "abc")
	body := write("body", `to={{urlquery .To}}&msg={{urlquery .Text}}`)
	smsFile := filepath.Join(dir, "sms.jsonl")

	ps, err := sms.ParseProviders([]string{
		"sim:median=2s,p99=8s",
		"sim:errors=0.5",
		"file:" + smsFile,
		"http:https://gw.example/send?a=1,2;timeout=5s;auth-file=" + auth + ";receipt-secret-file=" + secret + ";body-file=" + body + ";content-type=application/x-www-form-urlencoded",
		"http:http://other.example/;name=backup-gw",
	}, sms.ParseOptions{})
	if err != nil {
		t.Fatalf("ParseProviders: %v", err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name())
	}
	if diff := cmp.Diff([]string{"sim", "sim2", "file", "http", "backup-gw"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if ra, ok := ps[3].(sms.ReceiptAuthenticator); !ok || ra.ReceiptSecret() != "0123456789abcdef0123" {
		t.Errorf("http provider's receipt secret not read from its file")
	}
	if _, err := os.Stat(smsFile); err != nil {
		t.Errorf("file provider did not create its file: %v", err)
	}

	for _, bad := range [][]string{
		{"carrier-pigeon:x"},
		{"nocolon"},
		{"file:"},
		{"sim:p99=x"},
		{"http:"},
		{"http:ftp://x/"},
		{"http:https://gw.example/;timeout=soon"},
		{"http:https://gw.example/;auth-file=" + filepath.Join(dir, "absent")},
		{"http:https://gw.example/;receipt-secret-file=" + short},
		{"http:https://gw.example/;body-file=" + write("badbody", "{{.Nope")},
		{"http:https://gw.example/;colour=red"},
		{"sim:", "sim:name=sim"},
		{"sim:name=Bad_Name"},
	} {
		if _, err := sms.ParseProviders(bad, sms.ParseOptions{}); vax.ErrorCode(err) != vax.Invalid {
			t.Errorf("ParseProviders(%q): got %v, want Invalid", bad, err)
		}
	}
}

func TestFileProvider(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sms.jsonl")
	clock := vax.NewManualClock(time.Date(2021, 5, 1, 10, 0, 0, 0, time.UTC))
	p, err := sms.NewFileProvider("file", path, clock)
	if err != nil {
		t.Fatalf("NewFileProvider: %v", err)
	}
	defer p.Close()
	var receipts []sms.Receipt
	p.SetReceiptHandler(func(r sms.Receipt) { receipts = append(receipts, r) })
	m := otpMessage(1, clock.Now())
	if _, err := p.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	want := []sms.FileLine{{Time: clock.Now(), To: m.To, Text: m.Text, ID: m.ID}}
	if diff := cmp.Diff(want, fileLines(t, path)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
	if len(receipts) != 1 || receipts[0].Status != sms.Delivered || receipts[0].MessageID != m.ID {
		t.Errorf("receipts = %+v, want one delivered for %s", receipts, m.ID)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestSimProvider(t *testing.T) {
	clock := vax.NewManualClock(time.Date(2021, 5, 1, 10, 0, 0, 0, time.UTC))
	cfg, err := sms.ParseSimConfig("name=sim,outage=10s+5s,errors=0.1,seed=7")
	if err != nil {
		t.Fatal(err)
	}
	p, err := sms.NewSimProvider(cfg, clock)
	if err != nil {
		t.Fatalf("NewSimProvider: %v", err)
	}
	var mu sync.Mutex
	delivered := map[string]bool{}
	p.SetReceiptHandler(func(r sms.Receipt) {
		mu.Lock()
		defer mu.Unlock()
		delivered[r.MessageID] = r.Status == sms.Delivered
	})
	const n = 10000
	errs := 0
	var accepted []string
	for i := range n {
		m := otpMessage(i, clock.Now())
		if _, err := p.Send(t.Context(), m); err != nil {
			errs++
		} else {
			accepted = append(accepted, m.ID)
		}
	}
	// Seeded, so exact; the check is that it is near 10%.
	if errs < 900 || errs > 1100 {
		t.Errorf("%d of %d sends refused, want about 10%%", errs, n)
	}
	waitFor(t, "receipts of accepted sends", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == len(accepted)
	})
	// The outage: 10 s to 15 s after creation every send fails.
	for _, tc := range []struct {
		at   time.Duration
		down bool
	}{{9 * time.Second, false}, {10 * time.Second, true}, {14 * time.Second, true}, {15 * time.Second, false}} {
		clock.Set(time.Date(2021, 5, 1, 10, 0, 0, 0, time.UTC).Add(tc.at))
		fails := 0
		for i := range 50 {
			if _, err := p.Send(t.Context(), otpMessage(n+i, clock.Now())); err != nil {
				fails++
			}
		}
		if down := fails == 50; down != tc.down {
			t.Errorf("at %v: %d of 50 sends failed, want down=%v", tc.at, fails, tc.down)
		}
	}
}

func TestSimLatency(t *testing.T) {
	p, err := sms.NewSimProvider(sms.SimConfig{Name: "sim", Median: 2 * time.Second, P99: 8 * time.Second, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	lat := make([]time.Duration, n)
	for i := range lat {
		lat[i] = p.Latency()
	}
	slices.Sort(lat)
	median, p99 := lat[n/2], lat[n*99/100]
	if math.Abs(median.Seconds()-2) > 0.1 || math.Abs(p99.Seconds()-8) > 0.8 {
		t.Errorf("median %v, p99 %v; want about 2s and 8s", median, p99)
	}
}

func TestHTTPProvider(t *testing.T) {
	type request struct {
		auth, contentType string
		body              map[string]string
	}
	var (
		mu   sync.Mutex
		got  []request
		code = http.StatusOK
		wait time.Duration
	)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]string
		json.Unmarshal(b, &body)
		mu.Lock()
		got = append(got, request{r.Header.Get("X-Api-Key"), r.Header.Get("Content-Type"), body})
		c, d := code, wait
		mu.Unlock()
		time.Sleep(d)
		w.WriteHeader(c)
		// A gateway that echoes the number and text in its answer.
		json.NewEncoder(w).Encode(map[string]string{"message_id": "gw-1", "to": body["to"], "text": body["text"]})
	}))
	defer gw.Close()
	p, err := sms.NewHTTPProvider(sms.HTTPConfig{Name: "gw", URL: gw.URL, AuthHeader: "X-Api-Key", AuthValue: "k3y", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("NewHTTPProvider: %v", err)
	}
	m := otpMessage(1, time.Now())
	m.Text = `123456 is your "OTP"`
	ref, err := p.Send(t.Context(), m)
	if err != nil || ref != "gw-1" {
		t.Fatalf("Send: got %q, %v; want gw-1", ref, err)
	}
	want := request{"k3y", "application/json", map[string]string{"id": m.ID, "to": "91" + m.To, "text": m.Text}}
	if diff := cmp.Diff(want, got[0], cmp.AllowUnexported(request{})); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		code      int
		wait      time.Duration
		permanent bool
	}{
		{http.StatusServiceUnavailable, 0, false},
		{http.StatusTooManyRequests, 0, false},
		{http.StatusBadRequest, 0, true},
		{http.StatusUnauthorized, 0, true},
		{http.StatusOK, time.Second, false}, // past the timeout
	} {
		mu.Lock()
		code, wait = tc.code, tc.wait
		mu.Unlock()
		_, err := p.Send(t.Context(), m)
		if err == nil || sms.IsPermanent(err) != tc.permanent {
			t.Errorf("gateway %d after %v: got %v (permanent %v), want an error, permanent %v", tc.code, tc.wait, err, sms.IsPermanent(err), tc.permanent)
			continue
		}
		for _, secret := range []string{m.To, "123456"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q carries %q", err, secret)
			}
		}
	}
}

func TestHTTPProviderTemplate(t *testing.T) {
	var body string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
	}))
	defer gw.Close()
	tmpl, err := sms.ParseBodyTemplate(`to={{urlquery .To}}&msg={{urlquery .Text}}&ref={{.ID}}`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sms.NewHTTPProvider(sms.HTTPConfig{Name: "gw", URL: gw.URL, Body: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	m := otpMessage(2, time.Now())
	if _, err := p.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if want := "to=" + m.To + "&msg=000002+is+your+OTP&ref=" + m.ID; body != want {
		t.Errorf("body = %q, want %q", body, want)
	}
	if _, err := sms.NewHTTPProvider(sms.HTTPConfig{Name: "gw", URL: "mailto:x@y"}); err == nil {
		t.Errorf("a non-HTTP URL was accepted")
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("refused")
	if !sms.IsPermanent(sms.Permanent(base)) || sms.IsPermanent(base) || !errors.Is(sms.Permanent(base), base) {
		t.Errorf("Permanent/IsPermanent do not round-trip")
	}
}
