package alerts_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/alerts"
)

// The load test's client runs in a child process (this test binary, with
// clientEnv set) so that server and client each have their own open-file
// limit and the server's memory is measured alone.
const (
	clientEnv   = "VAXPORT_ALERTS_LOAD_CLIENT" // the stream URL the child opens
	clientNEnv  = "VAXPORT_ALERTS_LOAD_N"
	loadStreams = 10_000
)

// TestLoadTenThousandStreams opens 10,000 alert streams on one node,
// releases a seat and measures how long until every stream got the event,
// and the server's memory per stream. Figures go to the log (and, by hand,
// to docs/PERFORMANCE-alerts.md); there is no timing assertion.
//
//	VAXPORT_TEST_LONG=1 go test -run TestLoadTenThousandStreams -v ./internal/alerts/
func TestLoadTenThousandStreams(t *testing.T) {
	if os.Getenv("VAXPORT_TEST_LONG") == "" {
		t.Skip("set VAXPORT_TEST_LONG=1 to run the 10,000-stream load test")
	}
	raiseFileLimit(t)
	s := newStack(t, alerts.Config{PerAccount: 1})
	centre := s.centre(t, "General Hospital", ernakulam, ernakulamPin)
	sess := s.session(t, centre.ID, "COVISHIELD", 18, 5)
	waitSessions(t, s, 1)

	before := heap()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLoadClient$", "-test.v")
	cmd.Env = append(os.Environ(),
		clientEnv+"="+s.srv.URL+fmt.Sprintf("/api/v1/alerts/stream?district_id=%d&min_age=18&dose=1", ernakulam),
		clientNEnv+"="+strconv.Itoa(loadStreams))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start client: %v", err)
	}
	lines := bufio.NewScanner(out)
	expect := func(prefix string) string {
		t.Helper()
		for lines.Scan() {
			if v, ok := strings.CutPrefix(lines.Text(), prefix); ok {
				return v
			}
		}
		t.Fatalf("client ended before %q: %v", prefix, lines.Err())
		return ""
	}
	opened := time.Now()
	expect("READY")
	openTook := time.Since(opened)
	if got := s.hub.Len(); got != loadStreams {
		t.Fatalf("got %d subscriptions, want %d", got, loadStreams)
	}
	after := heap()

	released := time.Now()
	s.release(t, sess.ID, 1)
	done := strings.Fields(expect("DONE "))
	got, _ := strconv.Atoi(done[0])
	lastNanos, _ := strconv.ParseInt(done[1], 10, 64)
	firstNanos, _ := strconv.ParseInt(done[2], 10, 64)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client: %v", err)
	}
	if got != loadStreams {
		t.Fatalf("%d of %d streams got the event", got, loadStreams)
	}
	n := float64(loadStreams)
	t.Logf("streams: %d (opened in %v)", loadStreams, openTook.Round(time.Millisecond))
	t.Logf("release → first stream: %v; → every stream: %v",
		time.Unix(0, firstNanos).Sub(released).Round(time.Millisecond), time.Unix(0, lastNanos).Sub(released).Round(time.Millisecond))
	t.Logf("server heap in use: %.1f KiB per stream (%d → %d MiB)", float64(after.HeapInuse-before.HeapInuse)/n/1024, before.HeapInuse>>20, after.HeapInuse>>20)
	hub := alerts.NewHub(alerts.Config{PerAccount: 1})
	h0 := heap()
	subs := make([]*alerts.Subscription, loadStreams)
	for i := range subs {
		if subs[i], err = hub.Subscribe("acct-"+strconv.Itoa(i), alerts.Filter{DistrictID: ernakulam, Age: 18, Dose: 1}, false); err != nil {
			t.Fatal(err)
		}
	}
	h1 := heap()
	t.Logf("of which the hub's subscription: %.0f bytes allocated per Subscribe", float64(h1.TotalAlloc-h0.TotalAlloc)/n)
	runtime.KeepAlive(subs)
	t.Logf("server stacks: %.1f KiB per stream; goroutines: %.2f per stream (%d → %d)",
		float64(after.StackInuse-before.StackInuse)/n/1024, float64(after.goroutines-before.goroutines)/n, before.goroutines, after.goroutines)
}

func waitSessions(t *testing.T, s *stack, sessions int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		g, _ := s.ix.District(ernakulam)
		n := 0
		for _, c := range g.Centres {
			n += len(c.Sessions)
		}
		if n == sessions {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index shows %d sessions, want %d", n, sessions)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type heapStats struct {
	runtime.MemStats
	goroutines int
}

func heap() heapStats {
	runtime.GC()
	runtime.GC()
	var h heapStats
	runtime.ReadMemStats(&h.MemStats)
	h.goroutines = runtime.NumGoroutine()
	return h
}

func raiseFileLimit(t testing.TB) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	if lim.Cur < loadStreams+500 {
		t.Skipf("open-file limit %d is below %d", lim.Cur, loadStreams+500)
	}
}

// TestLoadClient is the load test's child process: it opens N streams,
// prints READY once every one is subscribed, then waits until each got a
// "slots" event and prints "DONE <count> <last unix nanos> <first unix nanos>".
func TestLoadClient(t *testing.T) {
	url := os.Getenv(clientEnv)
	if url == "" {
		t.Skip("the load test's child process")
	}
	n, _ := strconv.Atoi(os.Getenv(clientNEnv))
	raiseFileLimit(t)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: -1,
		DisableCompression:  true,
	}
	client := &http.Client{Transport: tr}
	var subscribed, got sync.WaitGroup
	subscribed.Add(n)
	got.Add(n)
	var count, first, last atomic.Int64
	first.Store(1<<63 - 1)
	dial := make(chan struct{}, 100) // at most 100 connects in flight: the listen backlog is finite
	errs := make(chan error, n)
	for i := range n {
		go func() {
			defer got.Done()
			dial <- struct{}{}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer tok-load-"+strconv.Itoa(i))
			resp, err := client.Do(req)
			<-dial
			if err != nil {
				subscribed.Done()
				errs <- err
				return
			}
			defer resp.Body.Close()
			r := bufio.NewReader(resp.Body)
			once := sync.OnceFunc(subscribed.Done)
			defer once()
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					errs <- fmt.Errorf("stream %d: %w", i, err)
					return
				}
				switch {
				case strings.HasPrefix(line, ": subscribed"):
					once()
				case line == "event: slots\n":
					now := time.Now().UnixNano()
					count.Add(1)
					for v := last.Load(); now > v && !last.CompareAndSwap(v, now); v = last.Load() {
					}
					for v := first.Load(); now < v && !first.CompareAndSwap(v, now); v = first.Load() {
					}
					return
				}
			}
		}()
	}
	subscribed.Wait()
	select {
	case err := <-errs:
		t.Fatalf("open streams: %v", err)
	default:
	}
	fmt.Println("READY")
	waited := make(chan struct{})
	go func() { got.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(60 * time.Second):
	}
	fmt.Printf("DONE %d %d %d\n", count.Load(), last.Load(), first.Load())
}
