package v1

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/auth"
	certsvc "github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/vax"
)

// crlCache is the Cache-Control of a revocation list: short, so a revoked
// certificate is refused soon everywhere.
const crlCache = "public, max-age=30"

// certificateJSON is the body of GET /api/v1/certificates/{ref}.
type certificateJSON struct {
	CertificateID string `json:"certificate_id"`
	Ref           string `json:"beneficiary_reference_id"`
	Status        string `json:"status"` // provisional or final
	Doses         int    `json:"doses"`
	IssuedAt      string `json:"issued_at"` // RFC 3339, UTC
	SHC           string `json:"shc"`       // "shc:/…"
	DCC           string `json:"dcc"`       // "HC1:…"
}

// RegisterCertificates adds the certificate routes to mux: a citizen's own
// beneficiary's certificate with its QR texts (authenticate checks the
// bearer token), and the public SMART Health Cards revocation lists.
func RegisterCertificates(mux *http.ServeMux, c *certsvc.Service, authenticate func(*http.Request) (auth.Principal, error)) {
	if c == nil || authenticate == nil {
		panic("v1: RegisterCertificates needs the service and an authenticator")
	}
	mux.Handle("GET /api/v1/certificates/{beneficiary_reference_id}", api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		p, err := authenticate(r)
		if err != nil {
			return unauthorized(w, err)
		}
		if p.AccountID == "" || p.Kind == auth.KindStaff {
			return unauthorized(w, vax.Errorf(vax.Unauthorized, "a citizen's token is required"))
		}
		is, err := c.For(r.Context(), p.AccountID, r.PathValue("beneficiary_reference_id"))
		if err != nil {
			return err
		}
		status := "provisional"
		if is.Certificate.Final {
			status = "final"
		}
		w.Header().Set("Cache-Control", "private, no-store")
		return api.WriteJSON(w, http.StatusOK, certificateJSON{
			CertificateID: is.Certificate.ID, Ref: is.Certificate.Ref, Status: status, Doses: is.Certificate.Doses,
			IssuedAt: is.Certificate.IssuedAt.UTC().Format(time.RFC3339), SHC: is.SHC, DCC: is.DCC,
		})
	}))
	// The SMART Health Cards revocation list of key {kid}: the path segment
	// is "<kid>.json". Public, with CORS as the specification asks.
	mux.Handle("GET /.well-known/crl/{kid_json}", api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		kid, ok := strings.CutSuffix(r.PathValue("kid_json"), ".json")
		if !ok || kid == "" {
			return vax.Errorf(vax.NotFound, "no such revocation list: want /.well-known/crl/<kid>.json")
		}
		doc, err := c.CRL(r.Context(), kid)
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", crlCache)
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Content-Length", strconv.Itoa(len(doc)))
		_, err = w.Write(doc)
		return err
	}))
}
