// Package release runs fair releases: sessions published with a release
// time, the requests of the first seconds after it pooled across every
// node, and a seeded, auditable lottery that books them (see vax.Release).
package release

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/vax"
)

// Config configures a Service.
type Config struct {
	Store   vax.Store
	Booking *booking.Service // books the draw's entries; New hands it the drawer
	Clock   vax.Clock        // default: the system clock
	Random  io.Reader        // seeds; default crypto/rand
	Window  time.Duration    // default pooling window (10 s)
	// MaxSessions caps the sessions of one release (default 500).
	MaxSessions int
	Logger      *slog.Logger
}

// CreateRequest asks for a release.
type CreateRequest struct {
	SessionIDs []string
	ReleaseAt  time.Time
	Window     time.Duration // 0: the configured default
}

// Service creates, draws and reports releases. Safe for concurrent use.
type Service struct {
	cfg Config
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	return &Service{cfg: cfg}, vax.Errorf(vax.Internal, "release: not implemented yet")
}

// Create publishes sessions with a release time (by: the staff member).
func (s *Service) Create(ctx context.Context, by string, req CreateRequest) (vax.Release, error) {
	return vax.Release{}, vax.Errorf(vax.Internal, "not implemented yet")
}

// Draw draws release id if its window has ended and it is not drawn yet;
// drawn already is not an error.
func (s *Service) Draw(ctx context.Context, id string) error {
	return vax.Errorf(vax.Internal, "not implemented yet")
}

// Run draws every release when its window ends (whichever node gets there
// first), until ctx ends.
func (s *Service) Run(ctx context.Context) {}

// Changed takes the change feed's changes (releases created and drawn).
func (s *Service) Changed(changes []vax.Change) {}

// OnOutcome registers fn, called on this node with every entry of a
// release once its draw is seen (whichever node drew it).
func (s *Service) OnOutcome(fn func(vax.ReleaseEntry)) {}

// Entry returns an account's own entry and its release; NotFound for
// anyone else's.
func (s *Service) Entry(ctx context.Context, accountID, id string) (vax.ReleaseEntry, vax.Release, error) {
	return vax.ReleaseEntry{}, vax.Release{}, vax.Errorf(vax.Internal, "not implemented yet")
}

// Audit returns the public record of a release: the release (its Seed only
// once drawn) and its entries without account or beneficiary data.
func (s *Service) Audit(ctx context.Context, id string) (vax.Release, []vax.ReleaseEntry, error) {
	return vax.Release{}, nil, vax.Errorf(vax.Internal, "not implemented yet")
}

// List lists releases, newest release time first.
func (s *Service) List(ctx context.Context) ([]vax.Release, error) {
	return nil, vax.Errorf(vax.Internal, "not implemented yet")
}

// Order is the lottery: the entry ids ranked under seed (first = rank 1).
// Anyone holding the seed and the ids can recompute it.
func Order(seed []byte, ids []string) []string { return nil }
