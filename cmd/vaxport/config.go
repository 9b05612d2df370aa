package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
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
	return nil
}

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
