package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

// migratingStore is a store that can apply its embedded migrations.
type migratingStore interface {
	vax.Store
	Migrate(ctx context.Context) error
}

// openStore opens the store named by --db (without migrating).
func openStore(ctx context.Context, cfg *Config, clock vax.Clock) (migratingStore, error) {
	if path, ok := strings.CutPrefix(cfg.DB, "sqlite:"); ok {
		st, err := sqlite.Open(ctx, path, sqlite.Options{Clock: clock})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", cfg.DB, err)
		}
		return st, nil
	}
	st, err := postgres.Open(ctx, cfg.DB, postgres.Options{Clock: clock})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redactDSN(cfg.DB), err)
	}
	return st, nil
}

// prepareStore applies migrations and loads master data (states,
// districts, vaccines) into a store that has none.
func prepareStore(ctx context.Context, st migratingStore) error {
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var states []vax.State
	err := st.View(ctx, func(tx vax.Tx) error {
		var err error
		states, err = tx.States(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("read states: %w", err)
	}
	if len(states) > 0 {
		return nil
	}
	if err := masterdata.Load(ctx, st); err != nil {
		return fmt.Errorf("load master data: %w", err)
	}
	return nil
}

// fingerprintKey is the meta key recording which keyring a deployment uses.
const fingerprintKey = "keyring.fingerprint"

// bindKeyring records kr's fingerprint in a store that has none, and refuses
// a keyring that differs from the recorded one: two nodes hashing personal
// data with different keys would corrupt every lookup.
func bindKeyring(ctx context.Context, st vax.Store, kr *keyring.Keyring, keysDir string) error {
	want := kr.Fingerprint()
	var got string
	err := st.InTx(ctx, func(tx vax.Tx) error {
		var err error
		got, err = tx.Meta(ctx, fingerprintKey)
		if errors.Is(err, vax.ErrNotFound) {
			got = want
			return tx.SetMeta(ctx, fingerprintKey, want)
		}
		return err
	})
	if err == nil && got == want {
		// Read again: a node with another keyring may have raced us to an
		// empty store, and the last writer wins.
		err = st.View(ctx, func(tx vax.Tx) error {
			var err error
			got, err = tx.Meta(ctx, fingerprintKey)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("check keyring: %w", err)
	}
	if got != want {
		return fmt.Errorf("the keyring in %s (fingerprint %s) is not the one this database was set up with (fingerprint %s): every node of a deployment must use the same keyring directory; refusing to start", keysDir, want, got)
	}
	return nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var cfg Config
	fs := newFlagSet("vaxport migrate", getenv)
	fs.SetOutput(stderr)
	fs.storeFlags(&cfg)
	if err := parseFlags(fs, args, &cfg); err != nil {
		return err
	}
	st, err := openStore(ctx, &cfg, vax.SystemClock{})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := prepareStore(ctx, st); err != nil {
		return err
	}
	cur, latest, err := st.Migrations(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d of %d; master data loaded\n", cur, latest)
	return nil
}

// parseFlags parses and resolves; it reports a usage problem once.
func parseFlags(fs *flagSet, args []string, cfg *Config) error {
	if err := fs.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		return errUsage
	}
	return cfg.resolve()
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}
