package v1

import (
	"embed"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/cert"
	"github.com/vaxport/vaxport/internal/vax"
)

// publicCache is the Cache-Control of the published keys and trust: long
// enough to spare the node, short enough that a rotation shows soon.
const publicCache = "public, max-age=300"

//go:embed verifypage/verify.html verifypage/verify.js verifypage/verify.css
var verifyPage embed.FS

// verifyPageCSP allows the page only its own script, style and the verify
// endpoint: no inline code, no third party, no framing.
const verifyPageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

// handleJWKS serves the SMART Health Cards issuer keys. The specification
// asks for CORS, so that browser verifiers may fetch them.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Cache-Control", publicCache)
	h.Set("Access-Control-Allow-Origin", "*")
	return api.WriteJSON(w, http.StatusOK, s.certs.Load().issuer.JWKS)
}

// handleTrust serves this deployment's trust bundle, or with ?format=pem
// its DCC signer certificates.
func (s *Server) handleTrust(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "pem" {
		return vax.Errorf(vax.Invalid, "format %q: want json or pem", format)
	}
	h := w.Header()
	h.Set("Cache-Control", publicCache)
	h.Set("Access-Control-Allow-Origin", "*")
	if format == "pem" {
		body := s.certs.Load().issuer.PEM()
		h.Set("Content-Type", "application/x-pem-file")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return nil
	}
	return api.WriteJSON(w, http.StatusOK, s.certs.Load().issuer.Bundle)
}

// verifyRequest is the body of POST /api/v1/verify: the QR text, or a PNG
// image of the QR code in base64.
type verifyRequest struct {
	QR    string `json:"qr"`
	Image string `json:"image"`
}

// handleVerify verifies one certificate against this node's trust at the
// current time. The input is personal data: it is neither logged nor
// quoted in errors, and the response is not cached.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	// Verification costs this node's CPU (an image is decoded): each client
	// gets its share.
	if ok, wait := s.verifyLimit.Allow(s.clientKey(r)); !ok {
		return api.WithRetryAfter(vax.Errorf(vax.RateLimited, "too many verifications from this address: try again shortly"), wait)
	}
	var req verifyRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	var input []byte
	switch {
	case req.QR != "" && req.Image != "":
		return vax.Errorf(vax.Invalid, "send either qr or image, not both")
	case req.QR != "":
		input = []byte(strings.TrimSpace(req.QR))
	case req.Image != "":
		img, err := base64.StdEncoding.DecodeString(strings.TrimSpace(req.Image))
		if err != nil {
			return vax.Errorf(vax.Invalid, "image: not base64")
		}
		input = img
	default:
		return vax.Errorf(vax.Invalid, "missing qr: send {\"qr\": \"shc:/…\" or \"HC1:…\"}")
	}
	res := cert.Verify(input, s.certs.Load().trust, s.clock.Now())
	if res.Format == "" {
		// Not a certificate at all: the request is wrong, not the certificate.
		return vax.Errorf(vax.Invalid, "%s", res.Reason)
	}
	return api.WriteJSON(w, http.StatusOK, res)
}

// servePage serves one embedded file of the /verify page.
func servePage(name, contentType string) api.HandlerFunc {
	body, err := verifyPage.ReadFile("verifypage/" + name)
	if err != nil {
		panic("v1: embedded verify page: " + err.Error()) // the files are embedded at build time
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("Content-Security-Policy", verifyPageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", publicCache)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return nil
	}
}

// registerVerify adds the certificate trust and verification routes.
func (s *Server) registerVerify(mux *http.ServeMux) {
	c := s.certs.Load()
	if c.issuer != nil {
		mux.Handle("GET /.well-known/jwks.json", api.HandlerFunc(s.handleJWKS))
		mux.Handle("GET /api/v1/trust", api.HandlerFunc(s.handleTrust))
	}
	if !c.trust.Empty() {
		mux.Handle("POST /api/v1/verify", api.HandlerFunc(s.handleVerify))
		mux.Handle("GET /verify", servePage("verify.html", "text/html; charset=utf-8"))
		mux.Handle("GET /verify.js", servePage("verify.js", "text/javascript; charset=utf-8"))
		mux.Handle("GET /verify.css", servePage("verify.css", "text/css; charset=utf-8"))
	}
}
