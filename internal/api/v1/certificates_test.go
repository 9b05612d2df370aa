package v1_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vaxport/vaxport/internal/api"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/cert"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/certificates/certtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// headerAuth authenticates "Bearer <account id>" as that citizen.
func headerAuth(r *http.Request) (auth.Principal, error) {
	id, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || id == "" {
		return auth.Principal{}, vax.Errorf(vax.Unauthorized, "missing token")
	}
	return auth.Principal{AccountID: id, Kind: auth.KindCitizen}, nil
}

func TestCertificateRoutes(t *testing.T) {
	f := certtest.New(t)
	mux := http.NewServeMux()
	v1.RegisterCertificates(mux, f.Service, headerAuth)
	get := func(path, account string) *httptest.ResponseRecorder {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
		if account != "" {
			r.Header.Set("Authorization", "Bearer "+account)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}

	w := get("/api/v1/certificates/"+f.Ref, certtest.Account(1))
	if w.Code != http.StatusOK {
		t.Fatalf("own certificate: %d %s", w.Code, w.Body)
	}
	var got struct {
		CertificateID string `json:"certificate_id"`
		Ref           string `json:"beneficiary_reference_id"`
		Status        string `json:"status"`
		Doses         int    `json:"doses"`
		IssuedAt      string `json:"issued_at"`
		SHC, DCC      string
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Ref != f.Ref || got.Status != "provisional" || got.Doses != 1 || got.IssuedAt != "2021-06-01T10:00:00Z" || got.CertificateID == "" {
		t.Errorf("certificate = %+v", got)
	}
	for _, text := range []string{got.SHC, got.DCC} {
		if r := cert.Verify([]byte(text), f.Material.Trust, f.Now); !r.Valid {
			t.Errorf("%.8s…: %s", text, r.Reason)
		}
	}

	for name, c := range map[string]struct {
		path, account string
		status        int
		code          string
	}{
		"another account's": {"/api/v1/certificates/" + f.Ref, certtest.Account(2), http.StatusNotFound, certificates.ReasonNotRegistered},
		"no token":          {"/api/v1/certificates/" + f.Ref, "", http.StatusUnauthorized, "GENERR0401"},
		"unknown kid":       {"/.well-known/crl/nope.json", "", http.StatusNotFound, "GENERR0404"},
		"no .json":          {"/.well-known/crl/" + f.Material.JWKS.Keys[0].Kid, "", http.StatusNotFound, "GENERR0404"},
	} {
		w := get(c.path, c.account)
		var body api.ErrorBody
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != c.status || body.ErrorCode != c.code {
			t.Errorf("%s: %d %s; want %d %s", name, w.Code, w.Body, c.status, c.code)
		}
	}

	w = get("/.well-known/crl/"+f.Material.JWKS.Keys[0].Kid+".json", "")
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") == "" {
		t.Fatalf("CRL: %d %v", w.Code, w.Header())
	}
	if _, err := shc.ParseCRL(w.Body.Bytes()); err != nil {
		t.Errorf("CRL: %v\n%s", err, w.Body)
	}
}
