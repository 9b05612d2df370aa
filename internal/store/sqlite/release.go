package sqlite

import (
	"context"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Fair release: stubs until the release store lands.

func notYet(what string) error { return vax.Errorf(vax.Internal, "%s: not implemented yet", what) }

func (t *tx) CreateRelease(ctx context.Context, r vax.Release) error { return notYet("create release") }
func (t *tx) Release(ctx context.Context, id string) (vax.Release, error) {
	return vax.Release{}, notYet("release")
}
func (t *tx) ReleaseOfSession(ctx context.Context, sessionID string) (vax.Release, error) {
	return vax.Release{}, notYet("release of session")
}
func (t *tx) Releases(ctx context.Context, status vax.ReleaseStatus) ([]vax.Release, error) {
	return nil, notYet("releases")
}
func (t *tx) EnterRelease(ctx context.Context, e vax.ReleaseEntry) (vax.ReleaseEntry, bool, error) {
	return vax.ReleaseEntry{}, false, notYet("enter release")
}
func (t *tx) ReleaseEntry(ctx context.Context, id string) (vax.ReleaseEntry, error) {
	return vax.ReleaseEntry{}, notYet("release entry")
}
func (t *tx) ReleaseEntries(ctx context.Context, releaseID string) ([]vax.ReleaseEntry, error) {
	return nil, notYet("release entries")
}
func (t *tx) DrawRelease(ctx context.Context, id string, drawnAt time.Time) error {
	return notYet("draw release")
}
func (t *tx) SetEntryOutcomes(ctx context.Context, entries []vax.ReleaseEntry) error {
	return notYet("set entry outcomes")
}
