package vax

import (
	"encoding/hex"
	"time"
)

// Fair release. A release publishes sessions with a release time: until
// then they are held (no one can book them); the requests that arrive in
// the first Window after ReleaseAt, on any node, are pooled as entries,
// one per beneficiary however often it asked; then one draw, in one
// transaction, ranks the entries by a lottery from Seed, books them in
// that order and opens the sessions to first-come-first-served booking.
// SeedHash is published when the release is created and Seed once it is
// drawn, so anyone can check the order (internal/release.Order).

// ReleaseStatus is a release's lifecycle state.
type ReleaseStatus string

// The release statuses.
const (
	ReleaseScheduled ReleaseStatus = "scheduled" // sessions held; pooling from ReleaseAt until drawn
	ReleaseDrawn     ReleaseStatus = "drawn"     // the draw is recorded; the sessions are open
)

// Release is sessions published together with a release time.
type Release struct {
	ID         string   // UUID
	SessionIDs []string // the sessions it holds, in the order given
	ReleaseAt  time.Time
	Window     time.Duration // pooling window after ReleaseAt (whole seconds)
	Seed       []byte        // 32 random bytes drawn at creation; served only once drawn
	SeedHash   string        // hex SHA-256 of Seed, public from creation
	Status     ReleaseStatus
	CreatedBy  string // the staff member who created it
	CreatedAt  time.Time
	DrawnAt    time.Time // zero until drawn
}

// WindowEnd is when pooling ends and the draw is due.
func (r Release) WindowEnd() time.Time { return r.ReleaseAt.Add(r.Window) }

// ValidateNew checks what Tx.CreateRelease requires of a new release.
func (r Release) ValidateNew() error {
	switch {
	case !ValidUUID(r.ID):
		return Errorf(Invalid, "invalid release id %q: want a UUID", r.ID)
	case len(r.SessionIDs) == 0:
		return Errorf(Invalid, "a release needs sessions")
	case r.ReleaseAt.IsZero():
		return Errorf(Invalid, "a release needs a release time")
	case r.Window <= 0 || r.Window%time.Second != 0:
		return Errorf(Invalid, "invalid pooling window %s: want whole seconds", r.Window)
	case len(r.Seed) != 32:
		return Errorf(Invalid, "a release seed is 32 bytes")
	case len(r.SeedHash) != 64:
		return Errorf(Invalid, "invalid seed hash")
	case r.Status != ReleaseScheduled:
		return Errorf(Invalid, "a new release must be scheduled")
	}
	if _, err := hex.DecodeString(r.SeedHash); err != nil {
		return Errorf(Invalid, "invalid seed hash")
	}
	seen := map[string]bool{}
	for _, id := range r.SessionIDs {
		if !ValidUUID(id) {
			return Errorf(NotFound, "session not found")
		}
		if seen[id] {
			return Errorf(Invalid, "session %s given twice", id)
		}
		seen[id] = true
	}
	return nil
}

// EntryStatus is where a release entry stands.
type EntryStatus string

// The entry statuses.
const (
	EntryPooled  EntryStatus = "pooled"  // waiting for the draw
	EntryWon     EntryStatus = "won"     // booked by the draw: AppointmentID
	EntryLost    EntryStatus = "lost"    // no seats left when its rank came
	EntryRefused EntryStatus = "refused" // the booking rules refused it at the draw: Reason
)

// ReleaseEntry is one schedule request pooled for a release's draw. Its ID
// is the request id the caller polls.
type ReleaseEntry struct {
	ID        string // UUID
	ReleaseID string
	AccountID string
	SessionID string
	Dose      int
	Slot      string
	Refs      []string  // the beneficiaries, 1–4; each has at most one entry per release
	ArrivedAt time.Time // milliseconds kept
	Node      string    // the node that took it
	// Set by the draw.
	Rank          int // 1 = drawn first; 0 while pooled
	Status        EntryStatus
	AppointmentID string // when won
	Reason        string // when lost or refused: the wire code (e.g. APPOIN0040)
}

// ValidateNew checks what Tx.EnterRelease requires of a new entry.
func (e ReleaseEntry) ValidateNew() error {
	switch {
	case !ValidUUID(e.ID):
		return Errorf(Invalid, "invalid entry id %q: want a UUID", e.ID)
	case !ValidUUID(e.ReleaseID):
		return Errorf(NotFound, "release not found")
	case !ValidUUID(e.AccountID):
		return Errorf(Invalid, "invalid account id %q: want a UUID", e.AccountID)
	case !ValidUUID(e.SessionID):
		return Errorf(NotFound, "session not found")
	case e.Dose < 1:
		return Errorf(Invalid, "invalid dose %d", e.Dose)
	case len(e.Refs) == 0:
		return Errorf(Invalid, "an entry needs beneficiaries")
	case e.Status != EntryPooled || e.Rank != 0:
		return Errorf(Invalid, "a new entry must be pooled")
	}
	return nil
}
