package main

import (
	"context"
	"fmt"
	"io"

	"github.com/vaxport/vaxport/internal/seed"
	"github.com/vaxport/vaxport/internal/vax"
)

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var cfg Config
	fs := newFlagSet("vaxport seed", getenv)
	fs.SetOutput(stderr)
	fs.storeFlags(&cfg)
	fs.Int64Var(&cfg.Seed, "seed", 1, "random seed: the same seed gives the same data")
	fs.IntVar(&cfg.Centres, "centres", 0, "centres to create (0: default, about 3 per district; up to 100000 and more)")
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
	sum, err := seed.Generate(ctx, st, seed.Config{
		Seed:     cfg.Seed,
		Centres:  cfg.Centres,
		Today:    vax.Today(vax.SystemClock{}, cfg.location()),
		Progress: stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d centres and %d sessions\n", sum.Centres, sum.Sessions)
	return nil
}
