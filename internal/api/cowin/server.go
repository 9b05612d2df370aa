package cowin

import (
	"context"
	"log/slog"
	"net/http"

	"golang.org/x/sync/singleflight"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/ratelimit"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/vax"
)

// Config configures the Co-WIN search surface.
type Config struct {
	// Index answers every search; required.
	Index *search.Index
	// Logger receives cache and encoding failures (nil discards them).
	Logger *slog.Logger
	// Authenticate is the one hook for the protected search variants
	// (/api/v2/appointment/sessions/{findByPin,…} without /public/): it is
	// called before such a request is answered, and an error it returns is
	// written as the response (e.g. a vax.Unauthorized error gives 401).
	// nil allows every request anonymously; serve sets it to the bearer
	// token check (SignIn.Authenticate). The principal it returns is in the
	// request's context for the handlers (PrincipalFrom).
	Authenticate func(*http.Request) (auth.Principal, error)
	// CacheBytes bounds the memory held by encoded responses (default
	// 512 MiB). Past it, entries are evicted at random and rebuilt on
	// demand.
	CacheBytes int64
	// SearchLimit limits the searches (findBy*, calendarBy*, findByLatLong)
	// per client (ClientKey); nil: no limit.
	SearchLimit *ratelimit.PerKey
	// ClientKey is what SearchLimit counts a request by
	// (SignIn.ClientKey); nil: the connection's address.
	ClientKey func(*http.Request) string
}

// DefaultCacheBytes is the default bound of the response cache.
const DefaultCacheBytes = 512 << 20

// Server serves the Co-WIN search surface.
type Server struct {
	ix     *search.Index
	log    *slog.Logger
	auth   func(*http.Request) (auth.Principal, error)
	cache  *cache
	flight singleflight.Group

	searchLimit *ratelimit.PerKey
	held        *ratelimit.Holder
	clientKey   func(*http.Request) string
}

// New returns a Server for cfg. It panics if cfg.Index is nil: that is a
// wiring bug.
func New(cfg Config) *Server {
	if cfg.Index == nil {
		panic("cowin: Config.Index is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if cfg.ClientKey == nil {
		cfg.ClientKey = remoteHost
	}
	return &Server{ix: cfg.Index, log: cfg.Logger, auth: cfg.Authenticate, cache: newCache(cfg.CacheBytes),
		searchLimit: cfg.SearchLimit, held: ratelimit.NewHolder(maxHeld), clientKey: cfg.ClientKey}
}

// ready refuses requests until the index holds its first snapshot.
func (s *Server) ready() error {
	select {
	case <-s.ix.Ready():
		return nil
	default:
		return vax.Errorf(vax.Unavailable, "availability search is starting; try again in a few seconds")
	}
}

// public wraps a handler of the public surface.
func (s *Server) public(h api.HandlerFunc) http.Handler {
	return api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.ready(); err != nil {
			return err
		}
		return h(w, r)
	})
}

// protected wraps a handler of the protected surface with Authenticate.
func (s *Server) protected(h api.HandlerFunc) http.Handler {
	return api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		r, err := authenticate(s.auth, r)
		if err != nil {
			return err
		}
		if err := s.ready(); err != nil {
			return err
		}
		return h(w, r)
	})
}

// principalKey is the context key of the signed-in principal.
type principalKey struct{}

// authenticate runs the hook (when set) and returns r carrying the
// principal it returned.
func authenticate(hook func(*http.Request) (auth.Principal, error), r *http.Request) (*http.Request, error) {
	if hook == nil {
		return r, nil
	}
	p, err := hook(r)
	if err != nil {
		return nil, err
	}
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), nil
}

// PrincipalFrom returns the principal Authenticate accepted for the request
// of ctx; false when the request was not authenticated.
func PrincipalFrom(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}
