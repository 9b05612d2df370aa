package alerts_test

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/alerts"
	"github.com/vaxport/vaxport/internal/api"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/search/searchtest"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// testAuth stands in for cowin.SignIn.Authenticate: "Bearer tok-<account>"
// signs in <account> for 15 minutes.
func testAuth(r *http.Request) (auth.Principal, error) {
	acct, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer tok-")
	if !ok || acct == "" {
		return auth.Principal{}, vax.Errorf(vax.Unauthorized, "missing token")
	}
	return auth.Principal{AccountID: acct, ExpiresAt: time.Now().Add(15 * time.Minute)}, nil
}

// stack is a store, a followed index, a hub on its commits and an HTTP
// server with the /api/v1 routes, as cmd/vaxport wires them.
type stack struct {
	st    vax.Store
	cat   *catalog.Service
	ix    *search.Index
	hub   *alerts.Hub
	srv   *httptest.Server
	today vax.Date
}

func newStack(t testing.TB, cfg alerts.Config) *stack {
	return newStackTimeouts(t, cfg, 30*time.Second, 60*time.Second) // as cmd/vaxport serves
}

func newStackTimeouts(t testing.TB, cfg alerts.Config, read, write time.Duration) *stack {
	t.Helper()
	clock := vax.NewManualClock(start)
	st := backendtest.OpenSQLite(t, clock)
	if err := masterdata.Load(t.Context(), st); err != nil {
		t.Fatalf("load master data: %v", err)
	}
	s := &stack{st: st, cat: catalog.New(st, clock, ist, rand.Reader), today: vax.DateOf(start, ist)}
	s.ix = searchtest.Start(t, st, clock, ist)
	s.hub = alerts.NewHub(cfg)
	t.Cleanup(s.ix.OnCommit(s.hub.Publish))
	mux := http.NewServeMux()
	v1.New(v1.Config{Catalog: s.cat, Authenticate: testAuth, Alerts: s.hub}).Register(mux)
	s.srv = httptest.NewUnstartedServer(api.Middleware(nil, nil)(mux))
	s.srv.Config.ReadTimeout = read
	s.srv.Config.WriteTimeout = write
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stack) centre(t testing.TB, name string, district, pin int) vax.Centre {
	t.Helper()
	c, err := s.cat.CreateCentre(t.Context(), vax.Centre{
		Name: name, Address: "Main Road", StateID: masterdata.KeralaID, DistrictID: district, BlockName: "Block",
		Pincode: pin, Lat: 10, Long: 76, From: "09:00:00", To: "17:00:00", FeeType: vax.Free,
	})
	if err != nil {
		t.Fatalf("create centre %s: %v", name, err)
	}
	return c
}

func (s *stack) session(t testing.TB, centre int64, vaccine string, minAge, cap1 int) vax.Session {
	t.Helper()
	ss, err := s.cat.CreateSession(t.Context(), vax.Session{
		CentreID: centre, Date: s.today.AddDays(1), Vaccine: vaccine, MinAge: minAge, AllowAllAge: true,
		Capacity1: cap1, Capacity2: 10, Slots: []string{"09:00AM-11:00AM", "11:00AM-01:00PM"},
	})
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return ss
}

// release raises a session's dose-1 capacity by n through the catalog.
func (s *stack) release(t testing.TB, id string, n int) vax.Session {
	t.Helper()
	cur, err := s.cat.Session(t.Context(), id)
	if err != nil {
		t.Fatalf("read session: %v", err)
	}
	cur.Capacity1 += n
	out, err := s.cat.UpdateSession(t.Context(), cur)
	if err != nil {
		t.Fatalf("update session: %v", err)
	}
	return out
}

// sseEvent is one server-sent event.
type sseEvent struct {
	Event, Data string
}

// stream is an open alert stream.
type stream struct {
	resp *http.Response
	r    *bufio.Reader
}

// open opens a stream and waits for its first (subscribed) block, so the
// subscription is in the hub when it returns.
func open(t testing.TB, url, account, query string) *stream {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/api/v1/alerts/stream?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok-"+account)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open stream: got status %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("got Content-Type %q, want text/event-stream", ct)
	}
	s := &stream{resp: resp, r: bufio.NewReader(resp.Body)}
	first, err := s.block()
	if err != nil {
		t.Fatalf("read first block: %v", err)
	}
	if !strings.HasPrefix(first, "retry: 5000\n: subscribed") {
		t.Fatalf("got first block %q, want retry and subscribed", first)
	}
	return s
}

// block reads up to the next blank line.
func (s *stream) block() (string, error) {
	var b strings.Builder
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return b.String(), err
		}
		if line == "\n" {
			return b.String(), nil
		}
		b.WriteString(line)
	}
}

// next returns the next event, skipping comments (heartbeats).
func (s *stream) next(t testing.TB) sseEvent {
	t.Helper()
	for {
		blk, err := s.block()
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		var e sseEvent
		for _, line := range strings.Split(strings.TrimSuffix(blk, "\n"), "\n") {
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				e.Event = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				e.Data = v
			}
		}
		if e.Event != "" {
			return e
		}
	}
}

type slotJSON struct {
	CenterID   int64    `json:"center_id"`
	Name       string   `json:"name"`
	Pincode    int      `json:"pincode"`
	SessionID  string   `json:"session_id"`
	Date       string   `json:"date"`
	Vaccine    string   `json:"vaccine"`
	MinAge     int      `json:"min_age_limit"`
	Available1 int      `json:"available_capacity_dose1"`
	Available2 int      `json:"available_capacity_dose2"`
	Slots      []string `json:"slots"`
}

func (s *stream) slot(t testing.TB) slotJSON {
	t.Helper()
	e := s.next(t)
	if e.Event != "slots" {
		t.Fatalf("got event %q (%s), want slots", e.Event, e.Data)
	}
	var out slotJSON
	if err := json.Unmarshal([]byte(e.Data), &out); err != nil {
		t.Fatalf("decode slots data %q: %v", e.Data, err)
	}
	return out
}

const (
	ernakulamPin = 682001
	otherPin     = 682020
)

func TestStreamDeliversReleasedSeats(t *testing.T) {
	sms := &texts{}
	s := newStack(t, alerts.Config{Texter: sms})
	centre := s.centre(t, "General Hospital", ernakulam, ernakulamPin)
	other := s.centre(t, "Taluk Hospital", ernakulam, otherPin)
	covishield := s.session(t, centre.ID, "COVISHIELD", 18, 5)
	covaxin := s.session(t, centre.ID, "COVAXIN", 45, 5)
	elsewhere := s.session(t, other.ID, "COVISHIELD", 18, 5)
	searchtest.Eventually(t, 20*time.Second, "index shows the sessions", func() bool {
		g, _ := s.ix.District(ernakulam)
		n := 0
		for _, c := range g.Centres {
			n += len(c.Sessions)
		}
		return n == 3
	})

	young := open(t, s.srv.URL, "young", fmt.Sprintf("district_id=%d&min_age=18&dose=1", ernakulam))
	old := open(t, s.srv.URL, "old", fmt.Sprintf("pincode=%d&min_age=45&vaccine=covaxin&sms=1", ernakulamPin))

	s.release(t, covishield.ID, 5)
	got := young.slot(t)
	want := slotJSON{CenterID: centre.ID, Name: "General Hospital", Pincode: ernakulamPin, SessionID: covishield.ID,
		Date: s.today.AddDays(1).Cowin(), Vaccine: "COVISHIELD", MinAge: 18, Available1: 10, Available2: 10,
		Slots: []string{"09:00AM-11:00AM", "11:00AM-01:00PM"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("young's first event (-want +got):\n%s", diff)
	}

	s.release(t, covaxin.ID, 1)
	if got := old.slot(t); got.SessionID != covaxin.ID || got.Available1 != 6 {
		t.Errorf("old got session %s with %d free, want %s with 6", got.SessionID, got.Available1, covaxin.ID)
	}
	// The stream texts before it writes: old opted in, young did not.
	if diff := cmp.Diff([]string{"old"}, sms.accounts()); diff != "" {
		t.Errorf("texted accounts (-want +got):\n%s", diff)
	}
	// The 45+ session and the other PIN's release go to young only if it
	// asked: it did not ask for 45+; it did ask for the whole district.
	s.release(t, elsewhere.ID, 2)
	if got := young.slot(t); got.SessionID != elsewhere.ID {
		t.Errorf("young's second event is session %s, want %s (the other PIN; not the 45+ one)", got.SessionID, elsewhere.ID)
	}
	s.release(t, covaxin.ID, 1)
	if got := old.slot(t); got.SessionID != covaxin.ID || got.Available1 != 7 {
		t.Errorf("old's second event is session %s with %d free, want %s with 7 (nothing from the other PIN)", got.SessionID, got.Available1, covaxin.ID)
	}
}

func TestStreamRefusals(t *testing.T) {
	s := newStack(t, alerts.Config{PerAccount: 1})
	tests := []struct {
		name, token, query string
		want               int
	}{
		{"no token", "", "district_id=307", http.StatusUnauthorized},
		{"bad token", "Bearer nope", "district_id=307", http.StatusUnauthorized},
		{"no place", "Bearer tok-a", "min_age=18", http.StatusBadRequest},
		{"both places", "Bearer tok-a", "district_id=307&pincode=682001", http.StatusBadRequest},
		{"bad dose", "Bearer tok-a", "district_id=307&dose=3", http.StatusBadRequest},
		{"bad number", "Bearer tok-a", "district_id=x", http.StatusBadRequest},
		{"SMS not enabled", "Bearer tok-a", "district_id=307&sms=1", http.StatusBadRequest},
		{"bad sms", "Bearer tok-a", "district_id=307&sms=yes", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.srv.URL+"/api/v1/alerts/stream?"+tt.query, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("per-account cap", func(t *testing.T) {
		open(t, s.srv.URL, "capped", "district_id=307")
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.srv.URL+"/api/v1/alerts/stream?district_id=307", nil)
		req.Header.Set("Authorization", "Bearer tok-capped")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("second stream of one account: got status %d, want 429", resp.StatusCode)
		}
	})
}

// TestStreamOutlivesServerTimeouts holds a stream open past the server's
// read and write timeouts (shrunk to 50 ms) and still gets the event.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	s := newStackTimeouts(t, alerts.Config{}, 50*time.Millisecond, 50*time.Millisecond)
	centre := s.centre(t, "General Hospital", ernakulam, ernakulamPin)
	sess := s.session(t, centre.ID, "COVISHIELD", 18, 5)
	waitSessions(t, s, 1)
	st := open(t, s.srv.URL, "patient", fmt.Sprintf("district_id=%d", ernakulam))
	time.Sleep(300 * time.Millisecond) // outlive both deadlines (not a timing assertion)
	s.release(t, sess.ID, 1)
	if got := st.slot(t); got.SessionID != sess.ID {
		t.Errorf("got session %s, want %s", got.SessionID, sess.ID)
	}
}
