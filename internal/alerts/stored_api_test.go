package alerts_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/alerts"
	"github.com/vaxport/vaxport/internal/api"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// storedAPI serves /api/v1 with a hub on a store, texting (sms) or not.
func storedAPI(t *testing.T, sms bool) string {
	t.Helper()
	clock := vax.NewManualClock(start)
	st := backendtest.OpenSQLite(t, clock)
	if err := masterdata.Load(t.Context(), st); err != nil {
		t.Fatalf("load master data: %v", err)
	}
	cfg := alerts.Config{Store: st, Clock: clock}
	if sms {
		cfg.Texter = &texts{}
	}
	mux := http.NewServeMux()
	v1.New(v1.Config{Authenticate: testAuth, Alerts: alerts.NewHub(cfg)}).Register(mux)
	srv := httptest.NewServer(api.Middleware(nil, nil)(mux))
	t.Cleanup(srv.Close)
	return srv.URL
}

// do sends a request as account ("": no token) and returns the status and
// body.
func do(t *testing.T, method, url, account, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if account != "" {
		req.Header.Set("Authorization", "Bearer tok-"+account)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

type storedJSON struct {
	SubscriptionID string `json:"subscription_id"`
	DistrictID     int    `json:"district_id"`
	Pincode        int    `json:"pincode"`
	MinAge         int    `json:"min_age"`
	Dose           int    `json:"dose"`
	Vaccine        string `json:"vaccine"`
	CreatedAt      string `json:"created_at"`
	LastTextedAt   string `json:"last_texted_at"`
}

func TestStoredSubscriptionAPI(t *testing.T) {
	url := storedAPI(t, true)
	subs := url + "/api/v1/alerts/subscriptions"

	create := func(account, body string) storedJSON {
		t.Helper()
		status, b := do(t, http.MethodPost, subs, account, body)
		if status != http.StatusCreated {
			t.Fatalf("POST %s: got %d %s, want 201", body, status, b)
		}
		var out storedJSON
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		return out
	}
	list := func(account string) []storedJSON {
		t.Helper()
		status, b := do(t, http.MethodGet, subs, account, "")
		if status != http.StatusOK {
			t.Fatalf("GET: got %d %s, want 200", status, b)
		}
		var out struct {
			Subscriptions []storedJSON `json:"subscriptions"`
		}
		if err := json.Unmarshal(b, &out); err != nil || out.Subscriptions == nil {
			t.Fatalf("decode %s: %v; want a subscriptions array", b, err)
		}
		return out.Subscriptions
	}

	if got := list(citizen); len(got) != 0 {
		t.Errorf("before any: got %v, want an empty list", got)
	}
	byDistrict := create(citizen, `{"district_id": 307}`)
	byPin := create(citizen, `{"pincode": 682001, "min_age": 45, "dose": 2, "vaccine": "covaxin"}`)
	want := []storedJSON{
		{SubscriptionID: byDistrict.SubscriptionID, DistrictID: 307, CreatedAt: "2021-06-14T04:30:00Z"},
		{SubscriptionID: byPin.SubscriptionID, Pincode: 682001, MinAge: 45, Dose: 2, Vaccine: "COVAXIN",
			CreatedAt: "2021-06-14T04:30:00Z"},
	}
	if d := cmp.Diff(want[1], byPin); d != "" {
		t.Errorf("created (-want +got):\n%s", d)
	}
	// Created in the same second: listed by id.
	slices.SortFunc(want, func(a, b storedJSON) int { return strings.Compare(a.SubscriptionID, b.SubscriptionID) })
	if d := cmp.Diff(want, list(citizen)); d != "" {
		t.Errorf("listed (-want +got):\n%s", d)
	}
	if got := list(probe); len(got) != 0 {
		t.Errorf("another account lists %v, want none", got)
	}

	// Another account's subscription is not found; the owner deletes it.
	one := subs + "/" + byDistrict.SubscriptionID
	if status, b := do(t, http.MethodDelete, one, probe, ""); status != http.StatusNotFound {
		t.Errorf("DELETE another's: got %d %s, want 404", status, b)
	}
	if status, b := do(t, http.MethodDelete, one, citizen, ""); status != http.StatusNoContent || len(b) != 0 {
		t.Errorf("DELETE own: got %d %q, want 204 and no body", status, b)
	}
	if status, _ := do(t, http.MethodDelete, one, citizen, ""); status != http.StatusNotFound {
		t.Errorf("DELETE again: got %d, want 404", status)
	}
	if status, _ := do(t, http.MethodDelete, subs+"/not-a-uuid", citizen, ""); status != http.StatusNotFound {
		t.Errorf("DELETE a bad id: got %d, want 404", status)
	}
	if got := list(citizen); len(got) != 1 || got[0].SubscriptionID != byPin.SubscriptionID {
		t.Errorf("after delete: got %v, want the PIN subscription only", got)
	}

	// At most 5 an account.
	for age := 1; age <= 4; age++ {
		create(citizen, fmt.Sprintf(`{"district_id": 307, "min_age": %d}`, age))
	}
	status, b := do(t, http.MethodPost, subs, citizen, `{"district_id": 307, "min_age": 9}`)
	if status != http.StatusBadRequest || !strings.Contains(string(b), "at most 5") {
		t.Errorf("sixth: got %d %s, want 400 at most 5", status, b)
	}
}

func TestStoredSubscriptionAPIRefusals(t *testing.T) {
	url := storedAPI(t, true)
	subs := url + "/api/v1/alerts/subscriptions"
	tests := []struct {
		name, account, body string
		want                int
		code                string
	}{
		{"no token", "", `{"district_id": 307}`, http.StatusUnauthorized, ""},
		{"neither", citizen, `{"min_age": 45}`, http.StatusBadRequest, "GENERR0400"},
		{"both", citizen, `{"district_id": 307, "pincode": 682001}`, http.StatusBadRequest, "GENERR0400"},
		{"district not a number", citizen, `{"district_id": "307x"}`, http.StatusBadRequest, "GENERR0400"},
		{"fractional age", citizen, `{"district_id": 307, "min_age": 4.5}`, http.StatusBadRequest, "GENERR0400"},
		{"negative age", citizen, `{"district_id": 307, "min_age": -1}`, http.StatusBadRequest, "GENERR0400"},
		{"dose 3", citizen, `{"district_id": 307, "dose": 3}`, http.StatusBadRequest, "GENERR0400"},
		{"short PIN", citizen, `{"pincode": 6820}`, http.StatusBadRequest, "GENERR0400"},
		{"unknown district", citizen, `{"district_id": 9999}`, http.StatusBadRequest, "GENERR0400"},
		{"not JSON", citizen, `district_id=307`, http.StatusBadRequest, "GENERR0400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, b := do(t, http.MethodPost, subs, tt.account, tt.body)
			if status != tt.want {
				t.Fatalf("got %d %s, want %d", status, b, tt.want)
			}
			var e api.ErrorBody
			if err := json.Unmarshal(b, &e); err != nil || e.Error == "" || (tt.code != "" && e.ErrorCode != tt.code) {
				t.Errorf("got body %s (%v), want {\"errorCode\":%q,\"error\":…}", b, err, tt.code)
			}
		})
	}

	t.Run("SMS not enabled", func(t *testing.T) {
		off := storedAPI(t, false) + "/api/v1/alerts/subscriptions"
		status, b := do(t, http.MethodPost, off, citizen, `{"district_id": 307}`)
		var e api.ErrorBody
		if err := json.Unmarshal(b, &e); status != http.StatusConflict || err != nil || e.ErrorCode != "GENERR0409" ||
			!strings.Contains(e.Error, "SMS alerts are not enabled") {
			t.Errorf("got %d %s, want 409 SMS alerts are not enabled", status, b)
		}
		// Listing still works where SMS is off: a citizen can always see
		// and delete what is stored.
		if status, b := do(t, http.MethodGet, off, citizen, ""); status != http.StatusOK {
			t.Errorf("GET with SMS off: got %d %s, want 200", status, b)
		}
	})
}
