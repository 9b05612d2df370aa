package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vaxport/vaxport/internal/alerts"
	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/api/cowin"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/auth/authmetrics"
	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/captcha"
	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/changefeed"
	"github.com/vaxport/vaxport/internal/cluster"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/ratelimit"
	"github.com/vaxport/vaxport/internal/release"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/seed"
	"github.com/vaxport/vaxport/internal/sms"
	"github.com/vaxport/vaxport/internal/staff"
	"github.com/vaxport/vaxport/internal/store/instrument"
	"github.com/vaxport/vaxport/internal/vaccination"
	"github.com/vaxport/vaxport/internal/vax"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var cfg Config
	fs := newFlagSet("vaxport serve", getenv)
	fs.SetOutput(stderr)
	fs.serveFlags(&cfg)
	if err := parseFlags(fs, args, &cfg); err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	m := &Main{Config: cfg, Logger: logger, Stdout: stdout}
	if err := m.Start(ctx); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	logger.Info("shutting down")
	return m.Close()
}

// Main is one running vaxport node. Tests start it in-process on port 0.
type Main struct {
	Config Config
	Logger *slog.Logger
	Stdout io.Writer // where --demo prints the URLs to open
	Clock  vax.Clock // nil: the system clock

	store vax.Store
	keys  *keyring.Keyring
	api   *v1.Server
	// material is the certificate keys published now, swapped when the
	// keyring's certificate keys change.
	material atomic.Pointer[issuer.Material]
	// keyReload is how often the keyring directory and the revocation
	// lists are re-read (10 s).
	keyReload time.Duration
	follower  *changefeed.Follower
	srv       *http.Server
	debug     *http.Server
	ln        net.Listener
	url       string

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// URL returns the node's base URL once started.
func (m *Main) URL() string { return m.url }

// Store returns the node's store once started (for tests).
func (m *Main) Store() vax.Store { return m.store }

// Start opens the keyring and store, prepares them, and starts serving in
// the background.
func (m *Main) Start(ctx context.Context) error {
	cfg := &m.Config
	if err := cfg.resolve(); err != nil {
		return err
	}
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Clock == nil {
		m.Clock = vax.SystemClock{}
	}
	loc := cfg.location()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	kr, err := m.openKeyring()
	if err != nil {
		return err
	}
	m.keys = kr

	st, err := openStore(ctx, cfg, m.Clock)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.store = instrument.Wrap(st, reg)
	if err := prepareStore(ctx, st); err != nil {
		return err
	}
	if err := bindKeyring(ctx, st, kr, cfg.KeysDir); err != nil {
		return err
	}
	if cfg.Demo {
		if err := m.loadDemo(ctx, loc); err != nil {
			return err
		}
	}
	adminToken, err := m.adminToken()
	if err != nil {
		return err
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.follower = changefeed.New(m.store, changefeed.Options{Clock: m.Clock, Logger: m.Logger})
	m.goRun(func() {
		if err := m.follower.Run(runCtx); err != nil {
			m.Logger.Error("change feed stopped", "err", err)
		}
	})

	ix := search.New(search.Config{Store: m.store, Feed: m.follower, Clock: m.Clock, Location: loc, Logger: m.Logger})

	indexErr := make(chan error, 1)
	m.goRun(func() {
		if err := ix.Run(runCtx); err != nil {
			m.Logger.Error("search index stopped", "err", err)
			indexErr <- err
		}
	})

	disp, err := m.startSMS(runCtx, reg)
	if err != nil {
		return err
	}
	notify := func() {}
	if disp != nil {
		notify = disp.Notify
	}
	citizens, err := auth.New(auth.Config{
		Store: m.store, Keys: kr, Clock: m.Clock, Logger: m.Logger,
		Metrics: authmetrics.New(reg), Notify: notify,
		Rules: auth.Rules{TokenTTL: cfg.TokenTTL, SessionMax: cfg.SessionMax, IPPerMinute: float64(cfg.OTPIPPerMinute), IPBurst: cfg.OTPIPBurst},
	})
	if err != nil {
		return err
	}
	if err := citizens.FollowRevocations(ctx, m.follower); err != nil {
		return fmt.Errorf("load token revocations: %w", err)
	}
	m.goRun(func() { citizens.Run(runCtx) })
	proxies, _ := cfg.trustedProxies() // checked by resolve
	signIn := cowin.NewSignIn(cowin.SignInConfig{Citizens: citizens, TrustedProxies: proxies})

	// This node in the cluster: its heartbeats count the live nodes, and
	// its id marks the fair-release requests it takes.
	presence := cluster.New(m.store, m.Clock, rand.Reader, m.Logger)
	booker, err := booking.New(booking.Config{
		Store: m.store, Keys: kr, Mobile: citizens.AccountMobile, Clock: m.Clock,
		Rules: booking.Rules{Location: loc}, Notify: notify, Node: presence.ID(),
		Drainers: bookingDrainers(cfg.DB),
	})
	if err != nil {
		return err
	}
	m.follower.Subscribe(booker.SessionsChanged)
	m.goRun(func() { m.pruneIdempotency(runCtx, booker) })

	people, err := staff.New(staff.Config{Store: m.store, Keys: kr, Auth: citizens, Clock: m.Clock, Logger: m.Logger})
	if err != nil {
		return err
	}
	m.follower.Subscribe(people.StaffChanged)
	if cfg.Demo {
		if err := m.demoStaff(ctx, people); err != nil {
			return err
		}
	}

	alertCfg := alerts.Config{Store: m.store, Clock: m.Clock, Logger: m.Logger}
	if cfg.AlertSMS {
		alertCfg.Texter = alerts.NewOutboxTexter(m.store, citizens, kr, m.Clock, rand.Reader)
	}
	hub := alerts.NewHub(alertCfg)
	// Stored alert subscriptions (texted only with --alert-sms: without it
	// the hub loads and follows none, and refuses new ones): follow their
	// changes before loading them, so that none falls between.
	m.follower.Subscribe(hub.Changed)
	if err := hub.LoadStored(ctx); err != nil {
		return fmt.Errorf("load stored alert subscriptions: %w", err)
	}
	m.goRun(func() { hub.Run(runCtx) })
	stopAlerts := ix.OnCommit(hub.Publish)
	m.goRun(func() { <-runCtx.Done(); stopAlerts() })

	// Fair releases: every node draws a release when its window ends (the
	// first to get there does; the others find it drawn) and tells the
	// entrants streaming here their outcome.
	releases, err := release.New(release.Config{Store: m.store, Booking: booker, Clock: m.Clock,
		Window: cfg.ReleaseWindow, Logger: m.Logger})
	if err != nil {
		return fmt.Errorf("--release-window: %w", err)
	}
	releases.OnOutcome(hub.SendDraw)
	m.follower.Subscribe(releases.Changed)
	m.goRun(func() { releases.Run(runCtx) })

	cat := catalog.New(m.store, m.Clock, loc, rand.Reader)
	cat.SetSessionCanceller(booker)

	// Listen first: the public URL (the certificate issuer) may be the
	// address the node got.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	m.ln = ln
	scheme := "http"
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		scheme = "https"
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	m.url = scheme + "://" + ln.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = m.url
	}
	certs, err := issuer.Build(kr, cfg.PublicURL)
	if err != nil {
		return fmt.Errorf("certificate keys: %w", err)
	}
	verifyTrust, err := certs.TrustWith(cfg.Trust...)
	if err != nil {
		return fmt.Errorf("--trust: %w", err)
	}
	m.material.Store(certs)
	issued, err := certificates.New(certificates.Config{Store: m.store, Keys: kr, Material: m.material.Load,
		Clock: m.Clock, Location: loc, VerifyURL: strings.TrimSuffix(cfg.PublicURL, "/") + "/verify"})
	if err != nil {
		return err
	}
	vaccinations, err := vaccination.New(vaccination.Config{
		Store: m.store, Keys: kr, Clock: m.Clock, Location: loc,
		Interval: booker.Rules().Interval, PrecautionDoses: booker.Rules().PrecautionDoses,
		Register: booker.Register, Account: citizens.EnsureAccount, Mobile: citizens.AccountMobile,
		StaffMobile: people.Mobile, Notify: notify,
		Certify: issued.Certify,
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	v1cfg := v1.Config{Catalog: cat, AdminToken: adminToken, Feed: m.follower, Tokens: citizens,
		Appointments: booker, Authenticate: signIn.Authenticate, Alerts: hub,
		Issuer: certs, VerifyTrust: verifyTrust, Clock: m.Clock,
		Staff: people, Vaccination: vaccinations, ClientKey: signIn.ClientKey,
		VerifyLimit: perMinute(cfg.VerifyPerMin, m.Clock)}
	if disp != nil {
		v1cfg.Receipts = disp
	}
	m.api = v1.New(v1cfg)
	m.api.Register(mux)
	m.api.RegisterReleases(mux, releases)
	if m.keyReload <= 0 {
		m.keyReload = 10 * time.Second
	}
	published := ""
	if err := m.publish(ctx, issued, &published); err != nil {
		return fmt.Errorf("publish certificate keys: %w", err)
	}
	m.goRun(func() { m.republish(runCtx, issued, published, m.keyReload) })
	// Anti-automation limits hold for the whole deployment: each node
	// allows its share, re-split as nodes come and go.
	searchLimit := perMinute(cfg.SearchIPPerMin, m.Clock)
	accountLimit := perMinute(cfg.BookAccountPerMin, m.Clock)
	addressLimit := perMinute(cfg.BookIPPerMin, m.Clock)
	beneficiaryLimit := perMinute(cfg.BookBeneficiaryPerMin, m.Clock)
	m.follower.Subscribe(presence.Changed)
	presence.OnChange(func(n int) {
		searchLimit.Share(n)
		accountLimit.Share(n)
		addressLimit.Share(n)
		beneficiaryLimit.Share(n)
	})
	m.goRun(func() { presence.Run(runCtx) })
	cowin.New(cowin.Config{Index: ix, Logger: m.Logger, Authenticate: signIn.Authenticate,
		SearchLimit: searchLimit, ClientKey: signIn.ClientKey}).Register(mux)
	signIn.Register(mux)
	bookingCfg := cowin.BookingConfig{Appointments: booker, Authenticate: signIn.Authenticate,
		AccountLimit: accountLimit, BeneficiaryLimit: beneficiaryLimit, AddressLimit: addressLimit, ClientKey: signIn.ClientKey}
	if cfg.Captcha {
		cs, err := captcha.New(captcha.Config{Store: m.store, Keys: kr, Clock: m.Clock})
		if err != nil {
			return fmt.Errorf("captcha: %w", err)
		}
		bookingCfg.Captcha = cs
	}
	cowin.NewBooking(bookingCfg).Register(mux)
	cowin.NewCertificates(cowin.CertificatesConfig{Certificates: issued, Authenticate: signIn.Authenticate}).Register(mux)
	v1.RegisterCertificates(mux, issued, signIn.Authenticate)
	healthz, readyz := api.Health(m.store, func(context.Context) error {
		select {
		case <-ix.Ready():
			return nil
		default:
			return vax.Errorf(vax.Unavailable, "the search index is loading")
		}
	})
	mux.Handle("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", api.NotFound(mux))
	handler := api.Middleware(m.Logger, reg)(mux)

	m.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.srv.TLSConfig = tlsConfig
	m.goRun(func() {
		var err error
		if scheme == "https" {
			err = m.srv.ServeTLS(ln, "", "")
		} else {
			err = m.srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("server stopped", "err", err)
		}
	})
	if cfg.DebugAddr != "" {
		if err := m.startDebug(cfg.DebugAddr); err != nil {
			return err
		}
	}
	select { // a node that says it serves can answer searches
	case <-ix.Ready():
	case err := <-indexErr:
		return fmt.Errorf("search index: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
	m.Logger.Info("serving", "url", m.url, "public_url", cfg.PublicURL, "version", version(), "tz", cfg.TZ)
	if cfg.Demo {
		m.printDemo()
	}
	return nil
}

func (m *Main) goRun(f func()) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
}

// startSMS starts this node's SMS dispatcher for the --sms providers
// (under --demo, file:<data-dir>/sms.jsonl by default). A node without
// providers runs none: messages it queues are sent by nodes that have them.
func (m *Main) startSMS(ctx context.Context, reg prometheus.Registerer) (*sms.Dispatcher, error) {
	specs := []string(m.Config.SMS)
	if len(specs) == 0 && m.Config.Demo {
		specs = []string{"file:" + filepath.Join(m.Config.DataDir, "sms.jsonl")}
	}
	if len(specs) == 0 {
		m.Logger.Warn("no --sms provider: this node sends no SMS")
		return nil, nil
	}
	providers, err := sms.ParseProviders(specs, sms.ParseOptions{Clock: m.Clock})
	if err != nil {
		return nil, fmt.Errorf("--sms: %w", err)
	}
	disp, err := sms.New(sms.Config{Store: m.store, Keys: m.keys, Providers: providers, Clock: m.Clock, Logger: m.Logger, Registerer: reg})
	if err != nil {
		return nil, err
	}
	m.goRun(func() {
		if err := disp.Run(ctx); err != nil {
			m.Logger.Error("SMS dispatcher stopped", "err", err)
		}
		for _, p := range providers {
			if c, ok := p.(io.Closer); ok {
				c.Close()
			}
		}
	})
	return disp, nil
}

// pruneIdempotency deletes expired idempotency records every hour.
func (m *Main) pruneIdempotency(ctx context.Context, b *booking.Service) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := b.PruneIdempotency(ctx); err != nil {
				m.Logger.Warn("prune idempotency records", "err", err)
			}
		}
	}
}

// republish re-reads the keyring directory and the revocation lists every
// interval: when the certificate keys or a list changed (a rotation on
// disk, a superseded certificate), the published keys, trust bundle and the
// online verifier's trust are rebuilt, so a rotated key signs and a revoked
// certificate is reported revoked without a restart.
func (m *Main) republish(ctx context.Context, issued *certificates.Service, published string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.keys.Reload(); err != nil {
			m.Logger.Error("keyring reload failed; the loaded keys stay in use", "err", err)
		} else if err := m.publish(ctx, issued, &published); err != nil {
			m.Logger.Error("rebuild published certificate keys", "err", err)
		}
	}
}

// publish rebuilds the certificate material when the keys or revocation
// lists differ from *published (a summary of what is out), and records it.
func (m *Main) publish(ctx context.Context, issued *certificates.Service, published *string) error {
	crls, err := issued.CRLs(ctx)
	if err != nil {
		return err
	}
	now := certKeyIDs(m.keys)
	for _, c := range crls {
		now += fmt.Sprintf(" %s:%d", c.Kid, c.Ctr)
	}
	if now == *published {
		return nil
	}
	certs, err := issuer.Build(m.keys, m.Config.PublicURL, crls...)
	if err != nil {
		return err
	}
	trust, err := certs.TrustWith(m.Config.Trust...)
	if err != nil {
		return err
	}
	m.api.SetCertificates(certs, trust)
	m.material.Store(certs)
	if *published != "" {
		m.Logger.Info("certificate keys or revocation lists changed: published keys rebuilt")
	}
	*published = now
	return nil
}

// certKeyIDs names the keyring's certificate keys, active first.
func certKeyIDs(kr *keyring.Keyring) string {
	var ids []string
	for _, k := range kr.CertKeys() {
		ids = append(ids, k.ID)
	}
	return strings.Join(ids, " ")
}

// openKeyring opens the keyring; --demo creates one if there is none.
func (m *Main) openKeyring() (*keyring.Keyring, error) {
	dir := m.Config.KeysDir
	kr, err := keyring.Open(dir)
	if !m.Config.Demo || !errors.Is(err, vax.ErrNotFound) {
		return kr, err // a damaged keyring is reported, never replaced
	}
	kr, err = keyring.Init(dir, rand.Reader, m.Clock.Now())
	if err != nil {
		return nil, err
	}
	m.Logger.Info("created demo keyring", "dir", dir, "fingerprint", kr.Fingerprint())
	return kr, nil
}

// loadDemo seeds an empty store and tops sessions up 7 days ahead.
func (m *Main) loadDemo(ctx context.Context, loc *time.Location) error {
	today := vax.Today(m.Clock, loc)
	_, err := seed.Generate(ctx, m.store, seed.Config{Seed: m.Config.Seed, Centres: m.Config.Centres, Today: today})
	switch {
	case err == nil:
		m.Logger.Info("loaded demo data", "seed", m.Config.Seed)
	case errors.Is(err, vax.ErrConflict):
		// Already seeded: top up below.
	default:
		return fmt.Errorf("demo data: %w", err)
	}
	n, err := seed.TopUp(ctx, m.store, today, 7)
	if err != nil {
		return fmt.Errorf("demo top-up: %w", err)
	}
	if n > 0 {
		m.Logger.Info("topped up demo sessions", "sessions", n)
	}
	return nil
}

// The demo's staff: they sign in by OTP like anyone (the OTP lands in the
// demo's SMS file).
var demoStaff = []staff.NewStaff{
	{Name: "Demo Vaccinator", Mobile: "9000000001", Role: vax.RoleVaccinator, CentreIDs: []int64{seed.FirstCentreID}},
	{Name: "Demo Facility Admin", Mobile: "9000000002", Role: vax.RoleFacilityAdmin, CentreIDs: []int64{seed.FirstCentreID}},
}

// demoStaff creates the demo's staff unless they exist.
func (m *Main) demoStaff(ctx context.Context, people *staff.Service) error {
	for _, n := range demoStaff {
		_, err := people.Create(ctx, staff.Bootstrap(), n)
		if err != nil && !errors.Is(err, vax.ErrConflict) {
			return fmt.Errorf("demo staff: %w", err)
		}
	}
	return nil
}

// adminToken reads --admin-token-file; under --demo without one it creates
// <data-dir>/admin-token.
func (m *Main) adminToken() (string, error) {
	path := m.Config.AdminTokenFile
	if path == "" && m.Config.Demo {
		path = filepath.Join(m.Config.DataDir, "admin-token")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			b := make([]byte, 24)
			if _, err := rand.Read(b); err != nil {
				return "", err
			}
			if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
				return "", fmt.Errorf("write demo admin token: %w", err)
			}
		}
		m.Config.AdminTokenFile = path
	}
	if path == "" {
		return "", nil
	}
	tok, err := readSecretFile(path)
	if err != nil {
		return "", fmt.Errorf("--admin-token-file: %w", err)
	}
	return tok, nil
}

func (m *Main) printDemo() {
	u := m.url
	tomorrow := vax.Today(m.Clock, m.Config.location()).AddDays(1).Cowin()
	fmt.Fprintf(m.Stdout, `
vaxport is running with demo data at %s

  Slot search:   %s/api/v2/appointment/sessions/public/calendarByDistrict?district_id=301&date=%s
                 %s/api/v2/appointment/sessions/public/findByPin?pincode=<PIN>&date=%s
  Sign in:       POST %s/api/v2/auth/public/generateOTP {"mobile":"9999999999"}
                 (OTP messages are written to %s)
  Verify a certificate: %s/verify
  Health:        %s/readyz
  Metrics:       %s/metrics
  Admin API:     %s/api/v1/admin/centres?district_id=301
                 (bearer token in %s)
  Vaccinator:    POST %s/api/v1/staff/otp {"mobile":"9000000001"} (centre %d; its facility admin is 9000000002)
                 then POST %s/api/v1/staff/token, GET %s/api/v1/vaccinator/queue

`, u, u, tomorrow, u, tomorrow, u, filepath.Join(m.Config.DataDir, "sms.jsonl"), u, u, u, u, m.Config.AdminTokenFile,
		u, seed.FirstCentreID, u, u)
}

func (m *Main) startDebug(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on --debug-addr %s: %w", addr, err)
	}
	m.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	m.goRun(func() { m.debug.Serve(ln) })
	m.Logger.Info("debug server", "addr", ln.Addr().String())
	return nil
}

// Close stops serving gracefully (in-flight requests get up to 20 s), stops
// the background work and closes the store.
func (m *Main) Close() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if m.srv != nil {
		if err := m.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.debug != nil {
		m.debug.Close()
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.store != nil {
		if err := m.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// perMinute is a per-key limit of n a minute, in bursts of half that; nil
// (no limit) when n is negative.
func perMinute(n int, clock vax.Clock) *ratelimit.PerKey {
	return ratelimit.New(float64(n), max(n/2, 1), clock)
}

// bookingDrainers is how many batches of one hot session a node writes at
// once (booking.Config.Drainers): PostgreSQL writes two side by side (four
// measured slower: their admissions queue for the session row's lock),
// SQLite has one writer.
func bookingDrainers(db string) int {
	if strings.HasPrefix(db, "sqlite:") {
		return 1
	}
	return 2
}
