package postgres

// Placeholder bodies until the one-round-trip dose path lands.

import (
	"context"

	"github.com/vaxport/vaxport/internal/vax"
)

func (t *tx) DoseFacts(ctx context.Context, ref string, centreID int64, lot string) (vax.DoseFacts, error) {
	return vax.DoseFacts{}, vax.Errorf(vax.Internal, "DoseFacts: not implemented yet")
}

func (t *tx) CommitDose(ctx context.Context, w vax.DoseWrite) error {
	return vax.Errorf(vax.Internal, "CommitDose: not implemented yet")
}
