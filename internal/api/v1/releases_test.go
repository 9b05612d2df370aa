package v1_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/api"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/release"
	"github.com/vaxport/vaxport/internal/sms/outbox/outboxtest"
	"github.com/vaxport/vaxport/internal/staff"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// Fixed ids of the release tests.
const (
	relID    = "7d1c2a5e-0b7f-4c1e-9a53-2f0c7b9e1d11"
	entryA   = "0a000000-0000-4000-8000-00000000000a"
	entryB   = "0b000000-0000-4000-8000-00000000000b"
	acctA    = "a0000000-0000-4000-8000-000000000001"
	acctB    = "b0000000-0000-4000-8000-000000000002"
	apptA    = "c0000000-0000-4000-8000-000000000003"
	seedHex  = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	relToken = "release-test-admin-token"
)

// fakeReleases stands in for release.Service: it records what it was asked
// and answers from its fields, so the tests see exactly what the HTTP layer
// adds and leaves out.
type fakeReleases struct {
	mu      sync.Mutex
	created []createCall
	release vax.Release
	entries []vax.ReleaseEntry
}

type createCall struct {
	By  string
	Req release.CreateRequest
}

func (f *fakeReleases) Create(_ context.Context, by string, req release.CreateRequest) (vax.Release, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, createCall{by, req})
	r := f.release
	r.SessionIDs = req.SessionIDs
	return r, nil
}

func (f *fakeReleases) calls() []createCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]createCall(nil), f.created...)
}

// set changes what the fake answers.
func (f *fakeReleases) set(change func(f *fakeReleases)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeReleases) List(context.Context) ([]vax.Release, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []vax.Release{f.release}, nil
}

func (f *fakeReleases) Audit(_ context.Context, id string) (vax.Release, []vax.ReleaseEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != f.release.ID {
		return vax.Release{}, nil, vax.Errorf(vax.NotFound, "release not found")
	}
	return f.release, f.entries, nil
}

func (f *fakeReleases) Entry(_ context.Context, accountID, id string) (vax.ReleaseEntry, vax.Release, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.entries {
		if e.ID == id && e.AccountID == accountID {
			return e, f.release, nil
		}
	}
	return vax.ReleaseEntry{}, vax.Release{}, vax.Errorf(vax.NotFound, "request not found")
}

// releaseFixture is the v1 API with real staff sign-in, catalog and scope
// checks over SQLite, and fakeReleases behind the release routes.
type releaseFixture struct {
	url    string
	rel    *fakeReleases
	sessA  string            // at centre A, district 307
	sessB  string            // at centre B, district 363
	tokens map[string]string // by who: staff names and "bootstrap"
}

// readyFeed is a change feed that is ready and never delivers.
type readyFeed struct{}

func (readyFeed) Subscribe(func([]vax.Change)) func() { return func() {} }
func (readyFeed) Ready() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

func newReleaseFixture(t *testing.T) *releaseFixture {
	t.Helper()
	ctx := t.Context()
	now := time.Date(2021, 6, 1, 10, 0, 0, 0, ist)
	clock := vax.NewManualClock(now)
	st := backendtest.OpenSQLite(t, clock)
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(st, clock, ist, rand.Reader)
	err = st.InTx(ctx, func(tx vax.Tx) error {
		for _, s := range []vax.State{{ID: 21, Name: "Maharashtra"}, {ID: 17, Name: "Kerala"}} {
			if err := tx.PutState(ctx, s); err != nil {
				return err
			}
		}
		for _, d := range []vax.District{{ID: 363, StateID: 21, Name: "Pune"}, {ID: 307, StateID: 17, Name: "Ernakulam"}} {
			if err := tx.PutDistrict(ctx, d); err != nil {
				return err
			}
		}
		return tx.PutVaccine(ctx, vax.Vaccine{Name: "COVISHIELD", Doses: 2, IntervalDays: 84})
	})
	if err != nil {
		t.Fatal(err)
	}
	session := func(state, district int) (int64, string) {
		c, err := cat.CreateCentre(ctx, vax.Centre{Name: "PHC", Address: "Main Road", StateID: state, DistrictID: district,
			BlockName: "Block", Pincode: 682001, From: "09:00:00", To: "17:00:00", FeeType: vax.Free})
		if err != nil {
			t.Fatal(err)
		}
		ss, err := cat.CreateSession(ctx, vax.Session{CentreID: c.ID, Date: vax.DateOf(now, ist).AddDays(1), Vaccine: "COVISHIELD",
			MinAge: 18, AllowAllAge: true, Capacity1: 20, Slots: []string{"09:00AM-11:00AM"}})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID, ss.ID
	}
	centreA, sessA := session(17, 307)
	_, sessB := session(21, 363)

	citizens, err := auth.New(auth.Config{Store: st, Keys: keys, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := citizens.FollowRevocations(ctx, readyFeed{}); err != nil {
		t.Fatal(err)
	}
	people, err := staff.New(staff.Config{Store: st, Keys: keys, Auth: citizens, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{"bootstrap": relToken}
	for i, n := range []struct {
		name string
		ns   staff.NewStaff
	}{
		{"facility A", staff.NewStaff{Role: vax.RoleFacilityAdmin, CentreIDs: []int64{centreA}}},
		{"vaccinator A", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}}},
		{"district 363", staff.NewStaff{Role: vax.RoleDistrictAdmin, StateID: 21, DistrictID: 363}},
	} {
		n.ns.Name, n.ns.Mobile = n.name, fmt.Sprintf("91000%05d", i)
		if _, err := people.Create(ctx, staff.Bootstrap(), n.ns); err != nil {
			t.Fatalf("create %s: %v", n.name, err)
		}
		txn, err := people.SendOTP(ctx, n.ns.Mobile, "")
		if err != nil {
			t.Fatal(err)
		}
		otp := sixDigits.FindString(outboxtest.Newest(t, st, keys, now.Add(time.Hour), n.ns.Mobile).Text)
		sum := sha256.Sum256([]byte(otp))
		tok, _, err := people.Token(ctx, txn, hex.EncodeToString(sum[:]))
		if err != nil {
			t.Fatalf("sign %s in: %v", n.name, err)
		}
		tokens[n.name] = tok.Token
	}
	// Citizens: "Bearer citizen-a" is account A, "citizen-b" account B.
	authn := func(r *http.Request) (auth.Principal, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer citizen-a":
			return auth.Principal{AccountID: acctA, Kind: auth.KindCitizen}, nil
		case "Bearer citizen-b":
			return auth.Principal{AccountID: acctB, Kind: auth.KindCitizen}, nil
		}
		return auth.Principal{}, vax.Errorf(vax.Unauthorized, "invalid token")
	}

	rel := &fakeReleases{
		release: vax.Release{ID: relID, SessionIDs: []string{sessA}, ReleaseAt: time.Date(2021, 6, 1, 10, 30, 0, 250e6, time.UTC),
			Window: 10 * time.Second, Seed: mustHex(t, seedHex), SeedHash: sha256Hex(mustHex(t, seedHex)),
			Status: vax.ReleaseScheduled, CreatedBy: "someone", CreatedAt: time.Date(2021, 6, 1, 4, 30, 0, 0, time.UTC)},
	}
	srv := v1.New(v1.Config{Catalog: cat, AdminToken: relToken, Staff: people, Authenticate: authn})
	mux := http.NewServeMux()
	srv.Register(mux)
	srv.RegisterReleases(mux, rel)
	mux.Handle("/", api.NotFound(mux))
	hs := httptest.NewServer(api.Middleware(nil, nil)(mux))
	t.Cleanup(hs.Close)
	return &releaseFixture{url: hs.URL, rel: rel, sessA: sessA, sessB: sessB, tokens: tokens}
}

func mustHex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// exactJSON decodes body into a generic value, for comparing every field
// and nothing more.
func exactJSON(t *testing.T, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

func TestCreateReleaseScope(t *testing.T) {
	f := newReleaseFixture(t)
	tests := []struct {
		name, who string
		sessions  []string
		want      int
	}{
		{"bootstrap token, anywhere", "bootstrap", []string{f.sessA, f.sessB}, http.StatusCreated},
		{"facility admin, own centre", "facility A", []string{f.sessA}, http.StatusCreated},
		{"facility admin, another centre too", "facility A", []string{f.sessA, f.sessB}, http.StatusForbidden},
		{"vaccinator", "vaccinator A", []string{f.sessA}, http.StatusForbidden},
		{"district admin, own district", "district 363", []string{strings.ToUpper(f.sessB)}, http.StatusCreated},
		{"district admin, another district", "district 363", []string{f.sessB, f.sessA}, http.StatusForbidden},
		{"unknown session", "bootstrap", []string{"99999999-9999-4999-8999-999999999999"}, http.StatusNotFound},
		{"not a session id", "bootstrap", []string{"nope"}, http.StatusNotFound},
		{"no token", "", []string{f.sessA}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.rel.calls())
			ids, _ := json.Marshal(tt.sessions)
			res := client{t, f.url, f.tokens[tt.who]}.do("POST", "/api/v1/admin/releases", "",
				`{"session_ids":`+string(ids)+`,"release_at":"2021-06-01T16:00:00.250+05:30"}`)
			if res.status != tt.want {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tt.want)
			}
			calls := f.rel.calls()[before:]
			if tt.want != http.StatusCreated {
				if len(calls) != 0 {
					t.Errorf("release service called on a refusal: %+v", calls)
				}
				return
			}
			want := release.CreateRequest{ReleaseAt: time.Date(2021, 6, 1, 10, 30, 0, 250e6, time.UTC)}
			for _, id := range tt.sessions {
				want.SessionIDs = append(want.SessionIDs, strings.ToLower(id))
			}
			if len(calls) != 1 {
				t.Fatalf("got %d calls of Create, want 1", len(calls))
			}
			if diff := cmp.Diff(want, calls[0].Req); diff != "" {
				t.Errorf("Create request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateReleaseAnswer(t *testing.T) {
	f := newReleaseFixture(t)
	c := client{t, f.url, relToken}
	res := c.do("POST", "/api/v1/admin/releases", "", `{"session_ids":["`+f.sessA+`"],"release_at":"2021-06-01T16:00:00.25+05:30","window_seconds":5}`)
	if res.status != http.StatusCreated {
		t.Fatalf("got %d %s, want 201", res.status, res.body)
	}
	want := map[string]any{
		"release_id": relID, "session_ids": []any{f.sessA}, "release_at": "2021-06-01T10:30:00.25Z",
		"window_seconds": 10.0, "status": "scheduled", "seed_hash": sha256Hex(mustHex(t, seedHex)),
		"created_at": "2021-06-01T04:30:00Z",
	}
	if diff := cmp.Diff(any(want), exactJSON(t, res.body)); diff != "" {
		t.Errorf("created release (-want +got):\n%s", diff)
	}
	calls := f.rel.calls()
	if got := calls[len(calls)-1].Req.Window; got != 5*time.Second {
		t.Errorf("asked for window %v, want 5s", got)
	}
	// The bootstrap token is nobody in the staff table.
	if got := calls[len(calls)-1].By; got != "" {
		t.Errorf("created by %q, want the bootstrap's empty id", got)
	}

	list := c.json("GET", "/api/v1/admin/releases", "", http.StatusOK)
	if got := list["releases"].([]any)[0].(map[string]any)["seed_hash"]; got != want["seed_hash"] {
		t.Errorf("listed seed_hash %v, want %v", got, want["seed_hash"])
	}
	if _, ok := list["releases"].([]any)[0].(map[string]any)["seed"]; ok {
		t.Error("the admin list shows the seed")
	}
}

func TestCreateReleaseBadInput(t *testing.T) {
	f := newReleaseFixture(t)
	c := client{t, f.url, relToken}
	for name, body := range map[string]string{
		"no release time":     `{"session_ids":["` + f.sessA + `"]}`,
		"not RFC 3339":        `{"session_ids":["` + f.sessA + `"],"release_at":"01-06-2021 16:00"}`,
		"no time zone":        `{"session_ids":["` + f.sessA + `"],"release_at":"2021-06-01T16:00:00"}`,
		"zero window":         `{"session_ids":["` + f.sessA + `"],"release_at":"2021-06-01T16:00:00Z","window_seconds":0}`,
		"negative window":     `{"session_ids":["` + f.sessA + `"],"release_at":"2021-06-01T16:00:00Z","window_seconds":-3}`,
		"overflowing window":  `{"session_ids":["` + f.sessA + `"],"release_at":"2021-06-01T16:00:00Z","window_seconds":36028797018963978}`,
		"window not a number": `{"session_ids":["` + f.sessA + `"],"release_at":"2021-06-01T16:00:00Z","window_seconds":"10"}`,
	} {
		t.Run(name, func(t *testing.T) {
			res := c.do("POST", "/api/v1/admin/releases", "", body)
			if res.status != http.StatusBadRequest {
				t.Errorf("got %d %s, want 400", res.status, res.body)
			}
		})
	}
	if n := len(f.rel.calls()); n != 0 {
		t.Errorf("release service called %d times on bad input", n)
	}
}

func TestReleaseAudit(t *testing.T) {
	f := newReleaseFixture(t)
	arrived := time.Date(2021, 6, 1, 10, 30, 1, 7e6, time.UTC)
	f.rel.set(func(f2 *fakeReleases) {
		f2.entries = []vax.ReleaseEntry{
			{ID: entryA, ReleaseID: relID, AccountID: acctA, SessionID: f.sessA, Dose: 1, Slot: "09:00AM-11:00AM",
				Refs: []string{"12345678901234"}, ArrivedAt: arrived, Node: "node-1", Status: vax.EntryPooled},
		}
	})
	c := client{t, f.url, ""}

	// Pooled: no seed, whatever the service holds.
	res := c.do("GET", "/api/v1/releases/"+relID, "", "")
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", res.status, res.body)
	}
	entry := map[string]any{"request_id": entryA, "session_id": f.sessA, "dose": 1.0,
		"arrived_at": "2021-06-01T10:30:01.007Z", "node": "node-1", "rank": 0.0, "status": "pooled", "reason": ""}
	want := map[string]any{
		"release_id": relID, "session_ids": []any{f.sessA}, "release_at": "2021-06-01T10:30:00.25Z",
		"window_seconds": 10.0, "status": "scheduled", "seed_hash": sha256Hex(mustHex(t, seedHex)),
		"seed": "", "drawn_at": "", "order": res.json(t)["order"], "entries": []any{entry},
	}
	if diff := cmp.Diff(any(want), exactJSON(t, res.body)); diff != "" {
		t.Errorf("pooled audit (-want +got):\n%s", diff)
	}
	if o, _ := want["order"].(string); !strings.Contains(o, "HMAC-SHA256") {
		t.Errorf("order %q does not state the rule", o)
	}
	if got := res.header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("pooled audit Cache-Control %q, want no-cache", got)
	}

	// Drawn: the seed and the ranks; still no account, beneficiary or
	// appointment.
	f.rel.set(func(f *fakeReleases) {
		f.release.Status, f.release.DrawnAt = vax.ReleaseDrawn, time.Date(2021, 6, 1, 10, 30, 10, 300e6, time.UTC)
		f.entries[0].Rank, f.entries[0].Status, f.entries[0].AppointmentID = 1, vax.EntryWon, apptA
	})
	res = c.do("GET", "/api/v1/releases/"+strings.ToUpper(relID), "", "")
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", res.status, res.body)
	}
	want["status"], want["seed"], want["drawn_at"] = "drawn", seedHex, "2021-06-01T10:30:10.3Z"
	entry["rank"], entry["status"] = 1.0, "won"
	if diff := cmp.Diff(any(want), exactJSON(t, res.body)); diff != "" {
		t.Errorf("drawn audit (-want +got):\n%s", diff)
	}
	for _, secret := range []string{acctA, "12345678901234", apptA, "09:00AM"} {
		if strings.Contains(string(res.body), secret) {
			t.Errorf("the audit shows %q", secret)
		}
	}
	if got := res.header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
		t.Errorf("drawn audit Cache-Control %q, want immutable", got)
	}

	for _, id := range []string{"99999999-9999-4999-8999-999999999999", "nope"} {
		if res := c.do("GET", "/api/v1/releases/"+id, "", ""); res.status != http.StatusNotFound {
			t.Errorf("audit of %s: got %d, want 404", id, res.status)
		}
	}
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return out
}

func TestReleaseRequest(t *testing.T) {
	f := newReleaseFixture(t)
	f.rel.set(func(f2 *fakeReleases) {
		f2.release.Status = vax.ReleaseDrawn
		f2.entries = []vax.ReleaseEntry{
			{ID: entryA, ReleaseID: relID, AccountID: acctA, SessionID: f.sessA, Dose: 1, Refs: []string{"12345678901234"},
				Rank: 2, Status: vax.EntryWon, AppointmentID: apptA},
			{ID: entryB, ReleaseID: relID, AccountID: acctB, SessionID: f.sessA, Dose: 1, Refs: []string{"22345678901234"},
				Rank: 1, Status: vax.EntryRefused, Reason: "APPOIN0045"},
		}
	})
	res := client{t, f.url, "citizen-a"}.do("GET", "/api/v1/releases/requests/"+entryA, "", "")
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", res.status, res.body)
	}
	want := map[string]any{"request_id": entryA, "release_id": relID, "session_id": f.sessA, "dose": 1.0,
		"status": "won", "rank": 2.0, "appointment_id": apptA, "reason": "", "draw_at": "2021-06-01T10:30:10.25Z"}
	if diff := cmp.Diff(any(want), exactJSON(t, res.body)); diff != "" {
		t.Errorf("own request (-want +got):\n%s", diff)
	}
	if got := res.header.Get("Cache-Control"); got != "private, no-store" {
		t.Errorf("Cache-Control %q, want private, no-store", got)
	}

	tests := []struct {
		name, token, id string
		want            int
	}{
		{"another account's request", "citizen-a", entryB, http.StatusNotFound},
		{"unknown request", "citizen-a", "99999999-9999-4999-8999-999999999999", http.StatusNotFound},
		{"not a request id", "citizen-a", "nope", http.StatusNotFound},
		{"no token", "", entryA, http.StatusUnauthorized},
		{"staff token", relToken, entryA, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := client{t, f.url, tt.token}.do("GET", "/api/v1/releases/requests/"+tt.id, "", "")
			if res.status != tt.want {
				t.Errorf("got %d %s, want %d", res.status, res.body, tt.want)
			}
			if tt.want == http.StatusUnauthorized && res.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}
