package sms

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// ParseOptions are what ParseProviders needs besides the specs.
type ParseOptions struct {
	Clock vax.Clock // nil: the system clock
	// ReadFile reads secret and template files; nil: os.ReadFile.
	ReadFile func(path string) ([]byte, error)
	// Client is the HTTP providers' client; nil: each has its own.
	Client *http.Client
}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ParseProviders builds providers from --sms specs, in failover order:
//
//	file:PATH
//	sim:[median=2s,p99=8s,accept=20ms,errors=1%,outage=30s+20s,seed=1,name=sim]
//	http:URL[;timeout=10s][;auth-file=PATH][;auth-header=Authorization]
//	    [;body-file=PATH][;content-type=application/json]
//	    [;receipt-secret-file=PATH][;name=NAME]
//
// sim options are separated by commas or semicolons; http options by
// semicolons only (a URL may hold commas; write a semicolon in a URL as
// %3B). Each provider's name (the receipts URL's {provider}) defaults to
// its kind, numbered from the second of a kind on (sim, sim2); names are
// unique. Secret files hold one value; surrounding white space is dropped.
func ParseProviders(specs []string, opts ParseOptions) ([]Provider, error) {
	if opts.Clock == nil {
		opts.Clock = vax.SystemClock{}
	}
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	var out []Provider
	taken := map[string]bool{}
	counts := map[string]int{}
	name := func(kind, explicit string) (string, error) {
		counts[kind]++
		n := explicit
		if n == "" {
			n = kind
			if counts[kind] > 1 {
				n += strconv.Itoa(counts[kind])
			}
		}
		if !providerName.MatchString(n) {
			return "", vax.Errorf(vax.Invalid, "SMS provider name %q: want 1-32 of a-z, 0-9 and -", n)
		}
		if taken[n] {
			return "", vax.Errorf(vax.Invalid, "SMS provider name %q used twice: give one name=…", n)
		}
		taken[n] = true
		return n, nil
	}
	for _, spec := range specs {
		kind, rest, ok := strings.Cut(strings.TrimSpace(spec), ":")
		if !ok {
			return nil, vax.Errorf(vax.Invalid, "--sms %q: want file:PATH, http:URL or sim:OPTIONS", spec)
		}
		var (
			p   Provider
			err error
		)
		switch kind {
		case "file":
			if rest == "" {
				return nil, vax.Errorf(vax.Invalid, "--sms file: needs a path")
			}
			var n string
			if n, err = name("file", ""); err == nil {
				p, err = NewFileProvider(n, rest, opts.Clock)
			}
		case "sim":
			var c SimConfig
			if c, err = ParseSimConfig(rest); err == nil {
				if c.Name, err = name("sim", c.Name); err == nil {
					p, err = NewSimProvider(c, opts.Clock)
				}
			}
		case "http":
			p, err = parseHTTP(rest, opts, name)
		default:
			return nil, vax.Errorf(vax.Invalid, "--sms %q: unknown provider kind %q: want file, http or sim", spec, kind)
		}
		if err != nil {
			return nil, fmt.Errorf("--sms %s: %w", kind, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseHTTP(rest string, opts ParseOptions, name func(kind, explicit string) (string, error)) (Provider, error) {
	parts := splitOptions(rest, ";")
	if len(parts) == 0 {
		return nil, vax.Errorf(vax.Invalid, "needs a URL")
	}
	c := HTTPConfig{URL: parts[0], Client: opts.Client}
	var explicit string
	readSecret := func(path string) (string, error) {
		b, err := opts.ReadFile(path)
		if err != nil {
			return "", vax.Wrap(vax.Invalid, err, fmt.Sprintf("cannot read %s", path))
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", vax.Errorf(vax.Invalid, "%s is empty", path)
		}
		return s, nil
	}
	for _, kv := range parts[1:] {
		k, v, ok := cutOption(kv)
		if !ok {
			return nil, vax.Errorf(vax.Invalid, "option %q: want key=value", kv)
		}
		var err error
		switch k {
		case "name":
			explicit = v
		case "timeout":
			c.Timeout, err = time.ParseDuration(v)
		case "auth-file":
			c.AuthValue, err = readSecret(v)
		case "auth-header":
			c.AuthHeader = v
		case "content-type":
			c.ContentType = v
		case "receipt-secret-file":
			c.ReceiptSecret, err = readSecret(v)
			if err == nil && len(c.ReceiptSecret) < 16 {
				err = vax.Errorf(vax.Invalid, "receipt secret in %s is shorter than 16 characters", v)
			}
		case "body-file":
			var b []byte
			if b, err = opts.ReadFile(v); err == nil {
				c.Body, err = ParseBodyTemplate(string(b))
			}
		default:
			return nil, vax.Errorf(vax.Invalid, "unknown http option %q: want timeout, auth-file, auth-header, body-file, content-type, receipt-secret-file or name", k)
		}
		if err != nil {
			return nil, vax.Errorf(vax.Invalid, "option %s: %v", k, err)
		}
	}
	var err error
	if c.Name, err = name("http", explicit); err != nil {
		return nil, err
	}
	return NewHTTPProvider(c)
}

// splitOptions splits s at any of seps, dropping empty parts.
func splitOptions(s, seps string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cutOption splits "key=value", trimming both.
func cutOption(kv string) (k, v string, ok bool) {
	k, v, ok = strings.Cut(kv, "=")
	return strings.TrimSpace(k), strings.TrimSpace(v), ok && strings.TrimSpace(k) != ""
}
