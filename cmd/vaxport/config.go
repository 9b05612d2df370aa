package main

import (
	"cmp"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/release"
)

// Config is what `vaxport serve` (and the admin subcommands) run with. Every
// field has a flag and a VAXPORT_* environment fallback; every zero value is
// safe.
type Config struct {
	Addr           string // HTTP listen address
	DebugAddr      string // pprof listen address; empty: off
	DB             string // sqlite:PATH or postgres://…
	DataDir        string // files this node owns
	KeysDir        string // the deployment's keyring
	PublicURL      string // the URL citizens and verifiers see
	TZ             string // civil time zone of session dates
	TLSCert        string
	TLSKey         string
	AdminTokenFile string // bootstrap admin bearer token
	Demo           bool
	Seed           int64 // demo data seed
	Centres        int   // demo data size (0: default)
	LogLevel       string

	SMS            listFlag      // SMS providers in failover order
	TokenTTL       time.Duration // citizen token lifetime
	SessionMax     time.Duration // how long refresh can extend one sign-in
	OTPIPPerMinute int           // OTP requests per client address per minute; negative: no limit
	OTPIPBurst     int
	VerifyPerMin   int
	TrustedProxies listFlag      // CIDRs of load balancers whose X-Forwarded-For is believed
	AlertSMS       bool          // slot alerts may also go out by SMS (sms=1 on a stream)
	Captcha        bool          // Co-WIN getRecaptcha on, and schedule requires its answer
	ReleaseWindow  time.Duration // fair release: the default pooling window
	Trust          listFlag      // foreign trust files POST /api/v1/verify also accepts

	// Anti-automation limits for the whole deployment, each node taking
	// its share (internal/cluster); 0: the default, negative: no limit.
	SearchIPPerMin        int // Co-WIN searches per client address per minute, bursts of half
	BookAccountPerMin     int // schedule, reschedule, cancel per account per minute
	BookIPPerMin          int // schedule, reschedule, cancel per client address per minute
	BookBeneficiaryPerMin int // schedule per beneficiary per minute (a reschedule names none)
}

// listFlag is a repeatable flag; one value (or its environment fallback)
// may also hold several, separated by white space.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, strings.Fields(v)...)
	return nil
}

// flagSet builds a FlagSet whose flags fall back to VAXPORT_<NAME> (upper
// case, dashes as underscores) when not given on the command line.
type flagSet struct {
	*flag.FlagSet
	getenv func(string) string
}

func newFlagSet(name string, getenv func(string) string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &flagSet{FlagSet: fs, getenv: getenv}
}

// parse parses args, then applies environment fallbacks to the flags that
// were not given.
func (fs *flagSet) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "VAXPORT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := fs.getenv(env); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	return err
}

// storeFlags adds the flags every subcommand that opens the store takes.
func (fs *flagSet) storeFlags(c *Config) {
	fs.StringVar(&c.DB, "db", "", "store: sqlite:PATH or postgres://… (default sqlite:<data-dir>/vaxport.db)")
	fs.StringVar(&c.DataDir, "data-dir", "./vaxport-data", "directory for files this node owns")
	fs.StringVar(&c.KeysDir, "keys-dir", "", "keyring directory shared by all nodes (default <data-dir>/keys)")
	fs.StringVar(&c.TZ, "tz", "Asia/Kolkata", "civil time zone for session dates, today and cut-offs")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
}

// serveFlags adds the flags of `vaxport serve`.
func (fs *flagSet) serveFlags(c *Config) {
	fs.storeFlags(c)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "pprof and debug listen address (off when empty)")
	fs.StringVar(&c.PublicURL, "public-url", "", "URL citizens and verifiers see (default http(s)://<addr>)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file: serve HTTPS (HTTP/2)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file")
	fs.StringVar(&c.AdminTokenFile, "admin-token-file", "", "file holding the bootstrap admin bearer token")
	fs.BoolVar(&c.Demo, "demo", false, "create keys if absent, load demo data into an empty store, top sessions up 7 days ahead")
	fs.Int64Var(&c.Seed, "seed", 1, "demo data seed")
	fs.IntVar(&c.Centres, "centres", 0, "demo data centres (0: default, about 3 per district)")
	fs.Var(&c.SMS, "sms", "SMS provider, repeatable, in failover order: file:PATH, http:URL;opts, sim:opts (--demo default: file:<data-dir>/sms.jsonl)")
	fs.DurationVar(&c.TokenTTL, "token-ttl", 15*time.Minute, "citizen token lifetime")
	fs.DurationVar(&c.SessionMax, "session-max", 12*time.Hour, "how long token refresh can extend one sign-in")
	fs.IntVar(&c.OTPIPPerMinute, "otp-ip-per-minute", 60, "OTP requests per client address per minute (negative: no limit)")
	fs.IntVar(&c.OTPIPBurst, "otp-ip-burst", 120, "OTP requests a client address may make at once")
	fs.IntVar(&c.VerifyPerMin, "verify-per-minute", defaultVerifyPerMin, "POST /api/v1/verify requests per client address per minute, bursts of half that (negative: no limit)")
	fs.IntVar(&c.SearchIPPerMin, "search-ip-per-minute", defaultSearchIPPerMin, "Co-WIN searches per client address per minute across all nodes, bursts of half that (0: default, negative: no limit)")
	fs.IntVar(&c.BookIPPerMin, "book-ip-per-minute", defaultBookIPPerMin, "schedule, reschedule and cancel requests per client address per minute across all nodes, whatever the account, bursts of half that (0: default, negative: no limit)")
	fs.IntVar(&c.BookAccountPerMin, "book-account-per-minute", defaultBookAccountPerMin, "schedule, reschedule and cancel requests per account per minute across all nodes, bursts of half that (0: default, negative: no limit)")
	fs.IntVar(&c.BookBeneficiaryPerMin, "book-beneficiary-per-minute", defaultBookBeneficiaryPerMin, "schedule requests per beneficiary per minute across all nodes, bursts of half that (0: default, negative: no limit)")
	fs.Var(&c.Trust, "trust", "trust file (JWKS, PEM signer certificates, revocation list, or a vaxport bundle) whose certificates /api/v1/verify accepts besides ours, repeatable")
	fs.BoolVar(&c.AlertSMS, "alert-sms", false, "let slot alerts text: streams with sms=1 and stored alert subscriptions (at most one SMS per 30 min per subscription)")
	fs.BoolVar(&c.Captcha, "captcha", false, "serve Co-WIN's getRecaptcha and require its answer to schedule (fair release makes it unnecessary: off by default)")
	fs.DurationVar(&c.ReleaseWindow, "release-window", release.DefaultWindow,
		"fair release: how long after a release time requests are pooled for its draw, 1s to 60s in whole seconds (a release may set its own)")
	fs.Var(&c.TrustedProxies, "trusted-proxy", "CIDR of a load balancer whose X-Forwarded-For is believed, repeatable")
}

// trustedProxies parses --trusted-proxy.
func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				return nil, fmt.Errorf("--trusted-proxy %q: want a CIDR like 10.0.0.0/8", s)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// resolve fills derived defaults and checks the combination.
func (c *Config) resolve() error {
	if c.DataDir == "" {
		c.DataDir = "./vaxport-data"
	}
	if c.DB == "" {
		c.DB = "sqlite:" + filepath.Join(c.DataDir, "vaxport.db")
	}
	if c.KeysDir == "" {
		c.KeysDir = filepath.Join(c.DataDir, "keys")
	}
	if !strings.HasPrefix(c.DB, "sqlite:") && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		return fmt.Errorf("--db %q: want sqlite:PATH or postgres://…", redactDSN(c.DB))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if _, err := time.LoadLocation(c.TZ); err != nil {
		return fmt.Errorf("--tz %q: %w", c.TZ, err)
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	// Zero limits take their defaults (negative ones mean none).
	c.VerifyPerMin = cmp.Or(c.VerifyPerMin, defaultVerifyPerMin)
	c.SearchIPPerMin = cmp.Or(c.SearchIPPerMin, defaultSearchIPPerMin)
	c.BookAccountPerMin = cmp.Or(c.BookAccountPerMin, defaultBookAccountPerMin)
	c.BookIPPerMin = cmp.Or(c.BookIPPerMin, defaultBookIPPerMin)
	c.BookBeneficiaryPerMin = cmp.Or(c.BookBeneficiaryPerMin, defaultBookBeneficiaryPerMin)
	return nil
}

// The defaults of the anti-automation limits, per minute for the whole
// deployment: a person refreshing a search every few seconds, or booking
// a family, stays far below them; a script does not.
const (
	defaultSearchIPPerMin    = 600
	defaultBookAccountPerMin = 20
	// Many people share one address behind a carrier's NAT: generous.
	defaultBookIPPerMin          = 300
	defaultBookBeneficiaryPerMin = 10
	// Verification is limited per node: it protects the node's own CPU.
	defaultVerifyPerMin = 120
)

func (c *Config) location() *time.Location {
	loc, err := time.LoadLocation(c.TZ)
	if err != nil {
		panic("unreachable: resolve checked --tz")
	}
	return loc
}

// redactDSN hides a password in a connection string for messages.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":***" + dsn[at:]
	}
	return dsn
}

func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if len(s) < 16 {
		return "", fmt.Errorf("%s: token shorter than 16 characters", path)
	}
	return s, nil
}
