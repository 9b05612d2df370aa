package v1

import (
	"crypto/sha256"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/cert"
	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/changefeed"
	"github.com/vaxport/vaxport/internal/ratelimit"
	"github.com/vaxport/vaxport/internal/staff"
	"github.com/vaxport/vaxport/internal/vaccination"
	"github.com/vaxport/vaxport/internal/vax"
)

// Config configures the /api/v1 surface.
type Config struct {
	// Catalog runs the centre and session rules.
	Catalog *catalog.Service
	// AdminToken is the bootstrap admin token: it acts as a national admin
	// (to create the first staff); surrounding white space is ignored.
	// Empty: only staff tokens are accepted.
	AdminToken string
	// Feed is this node's change-feed follower, shown at
	// GET /api/v1/admin/node; nil shows no feed.
	Feed *changefeed.Follower
	// Tokens refreshes and revokes citizen tokens at /api/v1/auth/refresh
	// and /api/v1/auth/logout (the auth.Service); nil: those routes 404.
	Tokens Tokens
	// Receipts records SMS delivery receipts posted to
	// /api/v1/sms/receipts/{provider} (the sms.Dispatcher); nil: 404.
	Receipts Receipts
	// Appointments shows a citizen their appointment with its secret codes
	// at GET /api/v1/appointments/{appointment_id} (booking.Service), for
	// the account Authenticate returns (cowin.SignIn.Authenticate); either
	// nil: that route 404s.
	Appointments Appointments
	Authenticate func(*http.Request) (auth.Principal, error)
	// Alerts streams slot alerts at GET /api/v1/alerts/stream and keeps
	// stored subscriptions at /api/v1/alerts/subscriptions (alerts.Hub),
	// for the account Authenticate returns; either nil: 404.
	Alerts Alerts
	// Issuer is this deployment's published certificate keys
	// (issuer.Build), served at /.well-known/jwks.json and /api/v1/trust;
	// nil: those routes 404.
	Issuer *issuer.Material
	// VerifyTrust is what POST /api/v1/verify and the /verify page trust,
	// normally Issuer.TrustWith(the node's --trust files); nil: Issuer's
	// own trust. Empty (and no Issuer): those routes 404.
	VerifyTrust *cert.Trust
	// Clock is the time certificates are verified at; nil: the system clock.
	Clock vax.Clock
	// Staff signs staff in and authenticates their tokens
	// (/api/v1/staff/*), and administers staff (/api/v1/admin/staff); nil:
	// only the bootstrap admin token is accepted and those routes 404.
	Staff *staff.Service
	// Vaccination runs the vaccinator's day (/api/v1/vaccinator/*, lots,
	// adverse events); nil (or no Staff): those routes 404.
	Vaccination *vaccination.Service
	// VerifyLimit limits POST /api/v1/verify per client (ClientKey); nil:
	// no limit.
	VerifyLimit *ratelimit.PerKey
	// ClientKey is what per-address limits count a request by
	// (cowin.SignIn.ClientKey); nil: the connection's address.
	ClientKey func(*http.Request) string
}

// Server serves /api/v1.
type Server struct {
	catalog   *catalog.Service
	feed      *changefeed.Follower
	tokens    Tokens
	receipts  Receipts
	appts     Appointments
	authn     func(*http.Request) (auth.Principal, error)
	alerts    Alerts
	certs     atomic.Pointer[certificates] // swapped when the keyring's certificate keys change
	clock     vax.Clock
	staff     *staff.Service
	vacc      *vaccination.Service
	clientKey func(*http.Request) string
	// verifyLimit limits online verification per client.
	verifyLimit *ratelimit.PerKey
	// adminHash is the SHA-256 of the bootstrap token, nil when none.
	// Comparing fixed-length hashes in constant time leaks neither the
	// token nor its length.
	adminHash []byte
}

// certificates is what the certificate routes serve and trust.
type certificates struct {
	issuer *issuer.Material
	trust  *cert.Trust
}

// SetCertificates replaces the published issuer material and the trust of
// POST /api/v1/verify (nil trust: the issuer's own), e.g. after the keyring
// gained a certificate key. Which routes exist is decided by New.
func (s *Server) SetCertificates(m *issuer.Material, trust *cert.Trust) {
	if trust == nil && m != nil {
		trust = m.Trust
	}
	s.certs.Store(&certificates{issuer: m, trust: trust})
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{catalog: cfg.Catalog, feed: cfg.Feed, tokens: cfg.Tokens, receipts: cfg.Receipts,
		appts: cfg.Appointments, authn: cfg.Authenticate}
	s.alerts = cfg.Alerts
	s.clock = cfg.Clock
	s.staff, s.vacc, s.clientKey, s.verifyLimit = cfg.Staff, cfg.Vaccination, cfg.ClientKey, cfg.VerifyLimit
	if s.clientKey == nil {
		s.clientKey = func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
	}
	s.SetCertificates(cfg.Issuer, cfg.VerifyTrust)
	if s.clock == nil {
		s.clock = vax.SystemClock{}
	}
	if tok := strings.TrimSpace(cfg.AdminToken); tok != "" {
		h := sha256.Sum256([]byte(tok))
		s.adminHash = h[:]
	}
	return s
}

// admin wraps h for /api/v1/admin: facility admins and above, or the
// bootstrap token.
func (s *Server) admin(h api.HandlerFunc) http.Handler {
	return s.staffOnly(vax.RoleFacilityAdmin, "vaxport-admin", h)
}
