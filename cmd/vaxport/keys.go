package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/vaxport/vaxport/internal/keyring"
)

const keysUsage = `Usage:
  vaxport keys init [flags]          create the keyring (once per deployment)
  vaxport keys list [flags]          list the keys (never their secrets)
  vaxport keys rotate KIND [flags]   start a new active key: KIND is pii, token or cert
                                     (--certificates is short for cert)
Copy the keyring directory to every node of the deployment.
`

func cmdKeys(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, keysUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	verb, args := args[0], args[1:]
	var kind keyring.Kind
	if verb == "rotate" {
		if len(args) > 0 && (args[0] == "--certificates" || args[0] == "-certificates") {
			args[0] = "cert"
		}
		if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
			fmt.Fprint(stderr, "vaxport keys rotate: which kind? pii, token or cert\n\n"+keysUsage)
			return errUsage
		}
		k, err := keyring.ParseKind(args[0])
		if err != nil {
			return err
		}
		kind, args = k, args[1:]
	}
	var cfg Config
	fs := newFlagSet("vaxport keys "+verb, getenv)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data-dir", "./vaxport-data", "directory for files this node owns")
	fs.StringVar(&cfg.KeysDir, "keys-dir", "", "keyring directory (default <data-dir>/keys)")
	if err := parseFlags(fs, args, &cfg); err != nil {
		return err
	}
	now := time.Now()
	switch verb {
	case "init":
		kr, err := keyring.Init(cfg.KeysDir, rand.Reader, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created keyring in %s (fingerprint %s)\ncopy this directory to every node of the deployment\n", cfg.KeysDir, kr.Fingerprint())
		return nil
	case "list":
		kr, err := keyring.Open(cfg.KeysDir)
		if err != nil {
			return err
		}
		printKeys(stdout, kr)
		return nil
	case "rotate":
		kr, err := keyring.Open(cfg.KeysDir)
		if err != nil {
			return err
		}
		info, err := kr.Rotate(kind, rand.Reader, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new active %s key %s; older %s keys keep verifying\n", info.Kind, info.ID, info.Kind)
		return nil
	}
	fmt.Fprintf(stderr, "vaxport keys: unknown verb %q\n\n%s", verb, keysUsage)
	return errUsage
}

func printKeys(w io.Writer, kr *keyring.Keyring) {
	fmt.Fprintf(w, "keyring fingerprint %s\n", kr.Fingerprint())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tCREATED\tACTIVE\tPUBLIC")
	for _, k := range kr.List() {
		active := ""
		if k.Active {
			active = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Kind, k.ID, k.Created.UTC().Format(time.RFC3339), active, k.Public)
	}
	tw.Flush()
}
