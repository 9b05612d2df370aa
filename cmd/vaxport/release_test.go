package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/release"
	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
)

// The fair-release acceptance test: three `serve` processes on one
// PostgreSQL, a release created on one node, entrants spread over all
// three, one draw, and an audit anyone can re-check.

// scheduleAnswer is what POST /api/v2/appointment/schedule answered.
type scheduleAnswer struct {
	code int
	body struct {
		No        string `json:"appointment_confirmation_no"`
		ErrorCode string `json:"errorCode"`
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}
	err error
}

func schedule(ctx context.Context, node string, c citizen, session, slot string) scheduleAnswer {
	var a scheduleAnswer
	var b []byte
	a.code, b, a.err = send(ctx, "POST", node+"/api/v2/appointment/schedule", c.token,
		fmt.Sprintf(`{"dose":1,"session_id":%q,"slot":%q,"beneficiaries":[%q]}`, session, slot, c.ref))
	if a.err == nil {
		a.err = json.Unmarshal(b, &a.body)
	}
	return a
}

func (a scheduleAnswer) String() string {
	return fmt.Sprintf("%d %s %s %s (err %v)", a.code, a.body.ErrorCode, a.body.No, a.body.Error, a.err)
}

// drawEvents opens citizen c's alert stream on node and sends the data of
// each "draw" event it receives to the returned channel. The stream is
// subscribed when it returns.
func drawEvents(t *testing.T, node string, c citizen, query string) <-chan string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", node+"/api/v1/alerts/stream?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := stormClient.Do(req)
	if err != nil {
		t.Fatalf("open alert stream: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open alert stream: status %d", resp.StatusCode)
	}
	r := bufio.NewReader(resp.Body)
	if first, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(first, "retry:") {
		t.Fatalf("alert stream began %q (%v), want retry:", first, err)
	}
	out := make(chan string, 16)
	go func() {
		defer close(out)
		var event string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok && event == "draw" {
				out <- v
			} else if line == "" {
				event = ""
			}
		}
	}()
	return out
}

// logProblems logs a node's warnings and errors when the test failed.
func logProblems(t *testing.T, n *node) {
	if !t.Failed() {
		return
	}
	for _, line := range strings.Split(n.stderr.String(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			t.Logf("node %s: %s", n.url, line)
		}
	}
}

// audit is the public record of a release.
type audit struct {
	ReleaseID string `json:"release_id"`
	Status    string `json:"status"`
	SeedHash  string `json:"seed_hash"`
	Seed      string `json:"seed"`
	Entries   []struct {
		RequestID string `json:"request_id"`
		Node      string `json:"node"`
		Rank      int    `json:"rank"`
		Status    string `json:"status"`
		Reason    string `json:"reason"`
	} `json:"entries"`
}

// TestFairReleaseThreeNodesPostgres: a 20-seat session released at now+2 s
// with a 3 s window; 60 citizens ask during the window through three nodes
// (some of them over and over, on other nodes); exactly 20 win, by the
// published lottery, and everyone learns the outcome.
func TestFairReleaseThreeNodesPostgres(t *testing.T) {
	const seats, entrants = 20, 60
	dsn := pgtest.DSN(t)
	keys := initKeys(t)
	tokenFile, token := adminToken(t)
	nodes, files := bookingNodes(t, dsn, keys, tokenFile, 3, "--book-account-per-minute", "-1", "--book-beneficiary-per-minute", "-1")
	urls := urlsOf(nodes)
	for _, n := range nodes {
		t.Cleanup(func() { logProblems(t, n) })
	}
	a, c := urls[0], urls[2]
	session, slot := bookingSession(t, a, token, seats)
	start := time.Now()
	cs := citizens(t, urls, tailOTPs(t, files...), entrants+1) // the last one asks after the draw
	late, cs := cs[entrants], cs[:entrants]
	t.Logf("%d citizens signed in with a beneficiary each in %v", len(cs)+1, time.Since(start))

	// cs[0] books through node A and listens on node C.
	draws := drawEvents(t, c, cs[0], "district_id=301")

	releaseAt := time.Now().Add(2 * time.Second).Truncate(time.Millisecond)
	created := post(t, a+"/api/v1/admin/releases", token, fmt.Sprintf(`{"session_ids":[%q],"release_at":%q,"window_seconds":3}`,
		session, releaseAt.Format(time.RFC3339Nano)))
	id, _ := created["release_id"].(string)
	if id == "" || created["status"] != "scheduled" {
		t.Fatalf("created release %v", created)
	}
	if early := schedule(t.Context(), urls[1], cs[1], session, slot); early.code != http.StatusConflict || early.body.ErrorCode != "APPOIN0060" {
		t.Errorf("before the release time: got %v, want 409 APPOIN0060", early)
	}

	// The window: everyone asks once, round-robin over the nodes; every
	// seventh citizen then asks again five times, on the other nodes.
	time.Sleep(time.Until(releaseAt.Add(50 * time.Millisecond)))
	requestOf := make([]string, entrants)
	var mu sync.Mutex
	var wrong []string
	var wg sync.WaitGroup
	for i, ct := range cs {
		wg.Go(func() {
			tries := 1
			if i%7 == 3 {
				tries = 6 // five retries, each on another node than the last
			}
			for try := range tries {
				ans := schedule(t.Context(), urls[(i+try)%3], ct, session, slot)
				mu.Lock()
				switch {
				case ans.code != http.StatusConflict || ans.body.ErrorCode != "APPOIN0061" || ans.body.RequestID == "":
					wrong = append(wrong, fmt.Sprintf("citizen %d try %d: %v", i, try, ans))
				case try == 0:
					requestOf[i] = ans.body.RequestID
				case ans.body.RequestID != requestOf[i]:
					wrong = append(wrong, fmt.Sprintf("citizen %d try %d: request id %s, first try %s", i, try, ans.body.RequestID, requestOf[i]))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if since := time.Since(releaseAt); since >= 3*time.Second {
		t.Fatalf("the requests took until %v after the release time, beyond the 3 s window: the test cannot tell", since)
	}
	if len(wrong) > 0 {
		t.Fatalf("%d answers in the window were not a pooled 409 APPOIN0061 with one request id per citizen:\n%s",
			len(wrong), strings.Join(wrong, "\n"))
	}

	// The draw, read on node B.
	var au audit
	deadline := time.Now().Add(20 * time.Second)
	for au.Status != "drawn" {
		if time.Now().After(deadline) {
			t.Fatalf("release not drawn 20 s after its window: status %q, %d entries", au.Status, len(au.Entries))
		}
		time.Sleep(100 * time.Millisecond)
		if err := sendJSON(t.Context(), "GET", urls[1]+"/api/v1/releases/"+id, "", "", &au); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("drawn %v after the window ended", time.Since(releaseAt.Add(3*time.Second)))

	// Anyone can re-check it: the seed is the one whose hash was
	// published, and the lottery over the entries gives their ranks.
	seed, err := hex.DecodeString(au.Seed)
	if sum := sha256.Sum256(seed); err != nil || hex.EncodeToString(sum[:]) != created["seed_hash"] || au.SeedHash != created["seed_hash"] {
		t.Errorf("seed %q does not hash to the seed_hash published at creation %v", au.Seed, created["seed_hash"])
	}
	if len(au.Entries) != entrants {
		t.Fatalf("got %d entries, want %d (one per citizen, retries included)", len(au.Entries), entrants)
	}
	var ids []string
	rankOf, statusOf := map[string]int{}, map[string]string{}
	tookEntries := map[string]bool{}
	for _, e := range au.Entries {
		ids = append(ids, e.RequestID)
		rankOf[e.RequestID], statusOf[e.RequestID] = e.Rank, e.Status
		tookEntries[e.Node] = true
	}
	for i, rid := range release.Order(seed, ids) {
		if rankOf[rid] != i+1 {
			t.Errorf("request %s has rank %d, release.Order puts it at %d", rid, rankOf[rid], i+1)
		}
		// Every entrant is eligible: the first `seats` ranks win.
		if want := map[bool]string{true: "won", false: "lost"}[i < seats]; statusOf[rid] != want {
			t.Errorf("request %s of rank %d is %s, want %s", rid, i+1, statusOf[rid], want)
		}
	}
	if len(tookEntries) != 3 {
		t.Errorf("entries were taken by %d nodes, want 3", len(tookEntries))
	}
	for i, rid := range requestOf {
		if _, ok := rankOf[rid]; !ok {
			t.Errorf("citizen %d's request %s is not in the audit", i, rid)
		}
	}
	body, _ := json.Marshal(au)
	for _, ct := range cs {
		if strings.Contains(string(body), ct.ref) {
			t.Fatal("the public audit names a beneficiary")
		}
	}

	// Each citizen polls its own request, on any node.
	var won []string
	for i, ct := range cs {
		var got struct {
			Status        string `json:"status"`
			AppointmentID string `json:"appointment_id"`
			Reason        string `json:"reason"`
		}
		if err := sendJSON(t.Context(), "GET", urls[(i+1)%3]+"/api/v1/releases/requests/"+requestOf[i], ct.token, "", &got); err != nil {
			t.Fatal(err)
		}
		switch {
		case got.Status == "won" && got.AppointmentID != "":
			won = append(won, got.AppointmentID)
		case got.Status == "lost" && got.Reason == "APPOIN0040":
		default:
			t.Errorf("citizen %d's request: %+v, want won with an appointment or lost with APPOIN0040", i, got)
		}
	}
	if len(won) != seats {
		t.Errorf("%d citizens won, want %d", len(won), seats)
	}
	if code, _, err := send(t.Context(), "GET", c+"/api/v1/releases/requests/"+requestOf[1], cs[2].token, ""); err != nil || code != http.StatusNotFound {
		t.Errorf("another citizen's request: got %d (%v), want 404", code, err)
	}

	// The winners' appointments exist and fill the session exactly.
	st, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := checkSeats(t, st, session, won); got != seats {
		t.Errorf("session booked1 = %d, want %d", got, seats)
	}

	// The citizen streaming on node C heard its outcome.
	select {
	case data, ok := <-draws:
		var ev struct {
			RequestID     string `json:"request_id"`
			ReleaseID     string `json:"release_id"`
			SessionID     string `json:"session_id"`
			Status        string `json:"status"`
			AppointmentID string `json:"appointment_id"`
		}
		if !ok || json.Unmarshal([]byte(data), &ev) != nil {
			t.Fatalf("alert stream ended or sent %q", data)
		}
		if ev.RequestID != requestOf[0] || ev.ReleaseID != id || ev.SessionID != session || ev.Status != statusOf[requestOf[0]] ||
			(ev.Status == "won") != (ev.AppointmentID != "") {
			t.Errorf("draw event %s, want request %s of release %s, session %s, %s", data, requestOf[0], id, session, statusOf[requestOf[0]])
		}
	case <-time.After(10 * time.Second):
		t.Error("no draw event on the citizen's stream within 10 s of the draw")
	}

	// After the draw the session is first come, first served: full now.
	if after := schedule(t.Context(), urls[1], late, session, slot); after.code != http.StatusConflict || after.body.ErrorCode != "APPOIN0040" {
		t.Errorf("after the draw: got %v, want 409 APPOIN0040 (the draw filled the session)", after)
	}
}

// TestReleaseWindowFlag: a default pooling window outside 1–60 s, here from
// the environment, stops serve with a message naming the flag.
func TestReleaseWindowFlag(t *testing.T) {
	env := map[string]string{"VAXPORT_RELEASE_WINDOW": "90s"}
	var errOut strings.Builder
	code := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--keys-dir", initKeys(t)},
		io.Discard, &errOut, func(k string) string { return env[k] })
	if code == 0 || !strings.Contains(errOut.String(), "--release-window") {
		t.Errorf("serve with VAXPORT_RELEASE_WINDOW=90s: exit %d, %q; want a failure naming --release-window", code, errOut.String())
	}
}
