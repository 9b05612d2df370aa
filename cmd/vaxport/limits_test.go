package main

import (
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
)

// TestSharedSearchLimit runs two nodes on one database: each learns of the
// other from the change feed and allows only its share of the search limit,
// so a client spreading its requests over both gets the limit once, not
// twice.
func TestSharedSearchLimit(t *testing.T) {
	dsn := pgtest.DSN(t)
	bin := vaxportBin(t)
	keys := filepath.Join(t.TempDir(), "keys")
	if out, err := exec.Command(bin, "keys", "init", "--keys-dir", keys).CombinedOutput(); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	// 60 a minute in bursts of 30 for the deployment: 15 at once per node.
	common := []string{"--db", dsn, "--keys-dir", keys, "--search-ip-per-minute", "60"}
	nodes := []*node{
		startNode(t, append(common, "--data-dir", t.TempDir())...),
		startNode(t, append(common, "--data-dir", t.TempDir())...),
	}

	// Each node says when it has counted the other (a heartbeat every
	// 10 s): wait for that before the burst.
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for !countedTwo(n.stderr.String()) {
			if time.Now().After(deadline) {
				t.Fatalf("node %s never counted 2 nodes:\n%s", n.url, n.stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// All at once: a client asking again before its Retry-After is held
	// up to 2 s before its 429, so one after another the requests would
	// take long enough for the buckets to refill.
	date := time.Now().In(mustIST(t)).Format("02-01-2006")
	const requests = 100
	codes := make([]int, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			// Not get: t.Fatal must not run outside the test's goroutine.
			resp, err := http.Get(nodes[i%2].url + "/api/v2/appointment/sessions/public/findByDistrict?district_id=301&date=" + date)
			if err != nil {
				t.Errorf("request %d: %v", i+1, err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 && resp.StatusCode != 429 {
				t.Errorf("request %d: got %d %s, want 200 or 429", i+1, resp.StatusCode, body)
			}
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	ok, refused := 0, make([]int, len(nodes))
	for i, code := range codes {
		switch code {
		case 200:
			ok++
		case 429:
			refused[i%2]++
		}
	}
	t.Logf("%d of %d searches answered, %v refused per node", ok, requests, refused)
	// 15 per node at once, plus the odd token refilled (one every 2 s per
	// node) while the held ones wait; 60 would mean each node took the
	// whole limit.
	if ok < 30 || ok > 36 {
		t.Errorf("got %d searches answered, want 30 to 36 (the deployment's burst of 30)", ok)
	}
	for i, n := range refused {
		if n == 0 {
			t.Errorf("node %d refused nothing", i)
		}
	}
}

// countedTwo reports whether a node's log says it counted two nodes.
func countedTwo(log string) bool {
	for line := range strings.Lines(log) {
		if strings.Contains(line, `"msg":"cluster size changed"`) && strings.Contains(line, `"nodes":2`) {
			return true
		}
	}
	return false
}
