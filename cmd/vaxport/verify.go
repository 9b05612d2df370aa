package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/cert"
)

const verifyUsage = `Usage: vaxport verify [--trust FILE]... [--at TIME] [FILE|-]

Checks a vaccination certificate offline and prints the result as JSON:
{"valid", "format", "revoked", "reason", "holder", "doses"}.

FILE (default -, standard input) holds one of:
  a QR text: shc:/… (SMART Health Card; chunks one per line) or HC1:… (EU DCC)
  a SMART Health Card JWS, or a .smart-health-card file
  a PNG image of the QR code

Trust files (repeat --trust for several; at least one):
  a JWKS (an SHC issuer's /.well-known/jwks.json), an SHC revocation list
  (/.well-known/crl/KID.json), DCC signer certificates (PEM, one or many, or
  DER), or a vaxport trust bundle (GET /api/v1/trust).

Exit status: 0 valid, 1 not valid (or an unreadable file), 2 usage.

Flags:
`

// verifyStdin is what "-" reads; tests replace it.
var verifyStdin io.Reader = os.Stdin

// trustFiles collects repeated --trust flags.
type trustFiles []string

func (t *trustFiles) String() string { return strings.Join(*t, ",") }

func (t *trustFiles) Set(v string) error {
	if v == "" {
		return errors.New("empty file name")
	}
	*t = append(*t, v)
	return nil
}

// errNotValid reports a certificate that is not valid; its result is
// already on standard output.
var errNotValid = errors.New("certificate is not valid")

func cmdVerify(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var trust trustFiles
	var at string
	fs := newFlagSet("vaxport verify", getenv)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, verifyUsage)
		fs.PrintDefaults()
	}
	fs.Var(&trust, "trust", "trust `FILE`: JWKS, SHC CRL, PEM/DER signer certificates or vaxport trust bundle (repeatable)")
	fs.StringVar(&at, "at", "", "judge validity at `TIME` (RFC 3339) instead of now")
	if err := fs.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "vaxport verify: one certificate at a time, got %d files\n", fs.NArg())
		return errUsage
	}
	if len(trust) == 0 {
		fmt.Fprint(stderr, "vaxport verify: no --trust file: nothing could be trusted\n\n")
		fs.Usage()
		return errUsage
	}
	when := time.Now()
	if at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			fmt.Fprintf(stderr, "vaxport verify: --at %q: want RFC 3339, e.g. 2021-09-17T10:00:00+05:30\n", at)
			return errUsage
		}
		when = t
	}
	tr, err := cert.LoadTrust(trust...)
	if err != nil {
		return err
	}
	input, err := readInput(fs.Arg(0))
	if err != nil {
		return err
	}
	res := cert.Verify(input, tr, when)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return err
	}
	if !res.Valid {
		return fmt.Errorf("%w: %s", errNotValid, res.Reason)
	}
	return nil
}

// readInput reads the certificate from path, or from standard input for ""
// or "-", at most cert.MaxInput bytes.
func readInput(path string) ([]byte, error) {
	var r io.Reader
	if path == "" || path == "-" {
		r = verifyStdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, cert.MaxInput+1))
	if err != nil {
		return nil, err
	}
	if len(b) > cert.MaxInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, cert.MaxInput)
	}
	return b, nil
}
