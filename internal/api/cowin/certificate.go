package cowin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/vax"
)

// The Co-WIN certificate downloads: the PDF of a beneficiary's current
// certificate, for the signed-in account's own beneficiaries only. The
// rules and the rendering are internal/certificates'; nothing here logs the
// certificate or whose it is.

// CertificatesConfig configures the certificate downloads.
type CertificatesConfig struct {
	// Certificates renders the PDFs; required.
	Certificates *certificates.Service
	// Authenticate checks the bearer token and returns its principal
	// (SignIn.Authenticate); required: a certificate is personal data.
	Authenticate func(*http.Request) (auth.Principal, error)
}

// Certificates serves the certificate download endpoints.
type Certificates struct {
	svc  *certificates.Service
	auth func(*http.Request) (auth.Principal, error)
}

// NewCertificates returns the surface for cfg. It panics without
// Certificates or Authenticate: that is a wiring bug.
func NewCertificates(cfg CertificatesConfig) *Certificates {
	if cfg.Certificates == nil || cfg.Authenticate == nil {
		panic("cowin: CertificatesConfig.Certificates and Authenticate are required")
	}
	return &Certificates{svc: cfg.Certificates, auth: cfg.Authenticate}
}

// Register adds the certificate download routes to mux. Co-WIN had a public
// one (a citizen's token from the public OTP flow) and a protected one (the
// same through a partner); both answer the signed-in account only.
func (c *Certificates) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/v2/registration/certificate/public/download", api.HandlerFunc(c.handleDownload))
	mux.Handle("GET /api/v2/registration/certificate/download", api.HandlerFunc(c.handleDownload))
}

func (c *Certificates) handleDownload(w http.ResponseWriter, r *http.Request) error {
	r, err := authenticate(c.auth, r)
	if err != nil {
		return err
	}
	p, _ := PrincipalFrom(r.Context())
	if p.AccountID == "" || p.Kind == auth.KindStaff {
		return vax.Errorf(vax.Unauthorized, "unauthenticated access")
	}
	ref := strings.TrimSpace(r.URL.Query().Get("beneficiary_reference_id"))
	if ref == "" {
		return vax.Errorf(vax.Invalid, "beneficiary_reference_id is required")
	}
	doc, err := c.svc.PDF(r.Context(), p.AccountID, ref)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	// ref was found among the account's beneficiaries: 14 digits, safe in
	// a header.
	h.Set("Content-Disposition", `attachment; filename="certificate-`+ref+`.pdf"`)
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	_, err = w.Write(doc)
	return err
}
