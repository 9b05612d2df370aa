package cowin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/api/cowin"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/certificates/certtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// bearerAccount authenticates "Bearer <account id>" as that citizen.
func bearerAccount(r *http.Request) (auth.Principal, error) {
	id, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || id == "" {
		return auth.Principal{}, vax.Errorf(vax.Unauthorized, "missing token")
	}
	return auth.Principal{AccountID: id, Kind: auth.KindCitizen}, nil
}

func TestCertificateDownload(t *testing.T) {
	f := certtest.New(t)
	mux := http.NewServeMux()
	cowin.NewCertificates(cowin.CertificatesConfig{Certificates: f.Service, Authenticate: bearerAccount}).Register(mux)
	for _, path := range []string{"/api/v2/registration/certificate/public/download", "/api/v2/registration/certificate/download"} {
		t.Run(path, func(t *testing.T) {
			for name, c := range map[string]struct {
				ref, account string
				status       int
				code         string // errorCode; "" for the PDF
			}{
				"own":               {f.Ref, certtest.Account(1), http.StatusOK, ""},
				"another account's": {f.Ref, certtest.Account(2), http.StatusNotFound, certificates.ReasonNotRegistered},
				"unknown":           {"12345678901234", certtest.Account(1), http.StatusNotFound, certificates.ReasonNotRegistered},
				"no reference":      {"", certtest.Account(1), http.StatusBadRequest, "GENERR0400"},
				"no token":          {f.Ref, "", http.StatusUnauthorized, "GENERR0401"},
			} {
				r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path+"?beneficiary_reference_id="+c.ref, nil)
				if c.account != "" {
					r.Header.Set("Authorization", "Bearer "+c.account)
				}
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, r)
				if w.Code != c.status {
					t.Errorf("%s: status %d %s; want %d", name, w.Code, w.Body, c.status)
					continue
				}
				if c.code == "" {
					if ct := w.Header().Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(w.Body.Bytes(), []byte("%PDF-")) {
						t.Errorf("%s: Content-Type %q, body %.8q; want a PDF", name, ct, w.Body.Bytes())
					}
					continue
				}
				var body api.ErrorBody
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.ErrorCode != c.code {
					t.Errorf("%s: body %s; want errorCode %s", name, w.Body, c.code)
				}
			}
		})
	}
}
