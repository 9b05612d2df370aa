package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
)

// buildOnce builds the vaxport binary once per test run.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "vaxport-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "vaxport")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func vaxportBin(t *testing.T) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// node is a `vaxport serve` process.
type node struct {
	url    string
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's result, once done
}

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

// startNode runs `vaxport serve` with args on a free port and waits until
// it logs its URL. It is killed at cleanup.
func startNode(t *testing.T, args ...string) *node {
	t.Helper()
	n, err := spawnNode(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func spawnNode(t *testing.T, args ...string) (*node, error) {
	t.Helper()
	cmd := exec.Command(vaxportBin(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	pr, pw := io.Pipe()
	n := &node{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = io.MultiWriter(pw, n.stderr)
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { n.err = cmd.Wait(); pw.Close(); close(n.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-n.done
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				urls <- line.URL
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case n.url = <-urls:
		return n, nil
	case <-n.done:
		return nil, fmt.Errorf("vaxport serve exited (%v):\n%s", n.err, n.stderr.String())
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("vaxport serve did not start in 60 s:\n%s", n.stderr.String())
	}
}

func TestMultiNodePostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	bin := vaxportBin(t)
	keys := filepath.Join(t.TempDir(), "keys")
	if out, err := exec.Command(bin, "keys", "init", "--keys-dir", keys).CombinedOutput(); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	const token = "multi-node-test-admin-token"
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--db", dsn, "--keys-dir", keys, "--admin-token-file", tokenFile}
	a := startNode(t, append(common, "--data-dir", t.TempDir())...)
	b := startNode(t, append(common, "--data-dir", t.TempDir())...)

	// A centre and a session created through node A…
	centre := post(t, a.url+"/api/v1/admin/centres", token, `{"name":"PHC Mararikulam","address":"Main Road","state_id":17,"district_id":301,"block_name":"Mararikulam","pincode":688523,"lat":9.6,"long":76.3,"from":"09:00:00","to":"17:00:00","fee_type":"Free"}`)
	tomorrow := time.Now().In(mustIST(t)).AddDate(0, 0, 1).Format("02-01-2006")
	written := time.Now()
	session := post(t, a.url+"/api/v1/admin/sessions", token, fmt.Sprintf(
		`{"center_id":%v,"date":%q,"vaccine":"COVISHIELD","min_age_limit":18,"allow_all_age":true,"capacity_dose1":100,"capacity_dose2":50,"slots":["09:00AM-11:00AM"]}`,
		centre["center_id"], tomorrow))
	id, _ := session["session_id"].(string)
	if id == "" {
		t.Fatalf("no session_id in %v", session)
	}

	// …reaches node B's change feed within a second.
	deadline := time.Now().Add(10 * time.Second)
	for {
		status := nodeStatus(t, b.url, token)
		if at, ok := status.received("session", id); ok {
			lag := at.Sub(written)
			t.Logf("session change reached node B %v after the write began", lag)
			if lag > time.Second {
				t.Errorf("node B saw the change %v after the write, want ≤ 1 s", lag)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B never saw session %s; its feed: %+v", id, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// And node B reads the same record.
	code, body := get(t, b.url+"/api/v1/admin/sessions/"+id, token)
	if code != 200 || !strings.Contains(string(body), id) {
		t.Errorf("GET session on node B = %d %s", code, body)
	}

	// A node with a different keyring refuses to start.
	otherKeys := filepath.Join(t.TempDir(), "keys")
	if out, err := exec.Command(bin, "keys", "init", "--keys-dir", otherKeys).CombinedOutput(); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	_, err := spawnNode(t, "--db", dsn, "--keys-dir", otherKeys, "--data-dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "not the one this database was set up with") {
		t.Errorf("node with another keyring: %v, want a refusal naming the mismatch", err)
	}
}

func mustIST(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func post(t *testing.T, url, token, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s = %d %s", url, resp.StatusCode, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

type feedStatus struct {
	Position int64 `json:"position"`
	Recent   []struct {
		Kind       string    `json:"kind"`
		Key        string    `json:"key"`
		ReceivedAt time.Time `json:"received_at"`
	} `json:"recent"`
}

func (s feedStatus) received(kind, key string) (time.Time, bool) {
	for _, r := range s.Recent {
		if r.Kind == kind && r.Key == key {
			return r.ReceivedAt, true
		}
	}
	return time.Time{}, false
}

func nodeStatus(t *testing.T, url, token string) feedStatus {
	t.Helper()
	code, body := get(t, url+"/api/v1/admin/node", token)
	if code != 200 {
		t.Fatalf("GET /api/v1/admin/node = %d %s", code, body)
	}
	var out struct {
		ChangeFeed feedStatus `json:"change_feed"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.ChangeFeed
}
