// Command vaxport is the whole vaccination platform in one binary: the
// server (`serve`, the default), and the operator commands that prepare and
// look after a deployment (`migrate`, `seed`, `keys`, `admin`, `version`).
//
// Only this package wires concrete types together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // --tz works on machines without a zoneinfo database
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `vaxport — a national vaccination platform in one binary

Usage:
  vaxport [serve] [flags]         run the platform (default)
  vaxport migrate [flags]         apply database migrations and load master data
  vaxport seed [flags]            load deterministic demo data into an empty store
  vaxport keys init|list [flags]  create or list the deployment's keyring
  vaxport keys rotate KIND        start a new key of KIND (pii, token, cert)
  vaxport admin create-staff ...  create a staff member (vaccinator, admins)
  vaxport loadgen static ...      baseline server for benchmarks
  vaxport verify --trust FILE [FILE|-]  check a certificate offline (SHC, EU DCC)
  vaxport version                 print the version
  vaxport help [COMMAND]          show help

Run 'vaxport COMMAND -h' for a command's flags. Every flag can also be set
as an environment variable: --data-dir is VAXPORT_DATA_DIR.

Quick start: vaxport --demo
`

// run is main with its dependencies passed in, so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, args, stdout, stderr, getenv)
	case "migrate":
		err = cmdMigrate(ctx, args, stdout, stderr, getenv)
	case "seed":
		err = cmdSeed(ctx, args, stdout, stderr, getenv)
	case "keys":
		err = cmdKeys(args, stdout, stderr, getenv)
	case "loadgen":
		err = cmdLoadgen(ctx, args, stdout, stderr, getenv)
	case "verify":
		err = cmdVerify(args, stdout, stderr, getenv)
	case "admin":
		err = cmdAdmin(ctx, args, stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, "vaxport", version())
	case "help", "-h", "--help":
		if len(args) > 0 {
			return run(ctx, []string{args[0], "-h"}, stdout, stderr, getenv)
		}
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "vaxport: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "vaxport %s: %v\n", cmd, err)
	return 1
}

// errUsage marks an error already reported by flag parsing.
var errUsage = errors.New("usage")
