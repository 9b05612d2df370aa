package v1_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/api"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/sms"
	"github.com/vaxport/vaxport/internal/vax"
)

// fakeTokens refreshes "good" into "fresh" and logs it out.
type fakeTokens struct {
	mu      sync.Mutex
	revoked []string
}

func (f *fakeTokens) Refresh(_ context.Context, tok string) (auth.Token, error) {
	if tok != "good" {
		return auth.Token{}, &vax.Error{Code: vax.Unauthorized, Reason: auth.ReasonInvalidToken, Message: "invalid token"}
	}
	return auth.Token{Token: "fresh", ExpiresAt: time.Now().Add(time.Minute)}, nil
}

func (f *fakeTokens) Logout(_ context.Context, tok string) error {
	if tok != "good" {
		return &vax.Error{Code: vax.Unauthorized, Reason: auth.ReasonInvalidToken, Message: "invalid token"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, tok)
	return nil
}

// fakeReceipts records what it is given; the secret of "gw" is "s3cret".
type fakeReceipts struct {
	mu  sync.Mutex
	got []sms.Receipt
}

func (f *fakeReceipts) Receipts(_ context.Context, provider, secret string, rs []sms.Receipt) error {
	if provider != "gw" || secret != "s3cret" {
		return vax.Errorf(vax.Unauthorized, "invalid receipt credentials")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, rs...)
	return nil
}

func newAuthServer(t *testing.T) (string, *fakeTokens, *fakeReceipts) {
	t.Helper()
	tokens, receipts := &fakeTokens{}, &fakeReceipts{}
	mux := http.NewServeMux()
	v1.New(v1.Config{Tokens: tokens, Receipts: receipts}).Register(mux)
	mux.Handle("/", api.NotFound(mux))
	srv := httptest.NewServer(api.Middleware(slog.New(slog.DiscardHandler), nil)(mux))
	t.Cleanup(srv.Close)
	return srv.URL, tokens, receipts
}

func postRaw(t *testing.T, url, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func TestRefreshAndLogout(t *testing.T) {
	base, tokens, _ := newAuthServer(t)
	status, _, body := postRaw(t, base+"/api/v1/auth/refresh", "", "Authorization", "Bearer good")
	var got map[string]string
	if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got["token"] != "fresh" {
		t.Errorf("refresh: %d %s, want 200 {\"token\":\"fresh\"}", status, body)
	}
	for _, h := range [][]string{nil, {"Authorization", "Bearer bad"}, {"Authorization", "Basic good"}} {
		status, hdr, body := postRaw(t, base+"/api/v1/auth/refresh", "", h...)
		if status != http.StatusUnauthorized || !strings.Contains(body, auth.ReasonInvalidToken) || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("refresh with %v: %d %s, want 401 %s with WWW-Authenticate", h, status, body, auth.ReasonInvalidToken)
		}
	}
	if status, _, body := postRaw(t, base+"/api/v1/auth/logout", "", "Authorization", "bearer good"); status != http.StatusNoContent {
		t.Errorf("logout: %d %s, want 204", status, body)
	}
	if status, _, _ := postRaw(t, base+"/api/v1/auth/logout", "", "Authorization", "Bearer bad"); status != http.StatusUnauthorized {
		t.Errorf("logout with a bad token: %d, want 401", status)
	}
	if diff := cmp.Diff([]string{"good"}, tokens.revoked); diff != "" {
		t.Errorf("revoked (-want +got):\n%s", diff)
	}
}

func TestReceiptsEndpoint(t *testing.T) {
	base, _, receipts := newAuthServer(t)
	const id1, id2 = "50000000-0000-4000-8000-000000000001", "50000000-0000-4000-8000-000000000002"
	url := base + "/api/v1/sms/receipts/gw"
	tests := []struct {
		name    string
		body    string
		headers []string
		status  int
		want    []sms.Receipt
	}{
		{"one object, bearer", `{"id":"` + id1 + `","status":"DELIVRD","provider_message_id":"p1","time":"2021-06-01T10:00:05Z"}`,
			[]string{"Authorization", "Bearer s3cret"}, 204,
			[]sms.Receipt{{MessageID: id1, Ref: "p1", Status: sms.Delivered, At: time.Date(2021, 6, 1, 10, 0, 5, 0, time.UTC)}}},
		{"array, header secret, intermediate ignored",
			`[{"id":"` + id1 + `","status":"ENROUTE"},{"id":"` + id2 + `","status":"undeliv","ref":"p2"}]`,
			[]string{"X-Receipt-Secret", "s3cret"}, 204,
			[]sms.Receipt{{MessageID: id2, Ref: "p2", Status: sms.Failed}}},
		{"wrong secret", `{"id":"` + id1 + `","status":"delivered"}`, []string{"X-Receipt-Secret", "nope"}, 401, nil},
		{"no secret", `{"id":"` + id1 + `","status":"delivered"}`, nil, 401, nil},
		{"bad time", `{"id":"` + id1 + `","status":"delivered","time":"yesterday"}`, []string{"X-Receipt-Secret", "s3cret"}, 400, nil},
		{"not JSON", `id=1`, []string{"X-Receipt-Secret", "s3cret"}, 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			receipts.mu.Lock()
			receipts.got = nil
			receipts.mu.Unlock()
			status, _, body := postRaw(t, url, tc.body, tc.headers...)
			if status != tc.status {
				t.Fatalf("%d %s, want %d", status, body, tc.status)
			}
			receipts.mu.Lock()
			defer receipts.mu.Unlock()
			if diff := cmp.Diff(tc.want, receipts.got); diff != "" {
				t.Errorf("receipts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthRoutesOffWithoutConfig(t *testing.T) {
	mux := http.NewServeMux()
	v1.New(v1.Config{}).Register(mux)
	mux.Handle("/", api.NotFound(mux))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, p := range []string{"/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/sms/receipts/gw"} {
		if status, _, _ := postRaw(t, srv.URL+p, "{}"); status != http.StatusNotFound {
			t.Errorf("%s without its service: %d, want 404", p, status)
		}
	}
}
