// Package release runs fair releases: sessions published with a release
// time, the requests of the first seconds after it pooled across every
// node, and a seeded, auditable lottery that books them (see vax.Release).
//
// Booking pools the requests (internal/booking, pool.go); this package
// creates releases, draws them (one transaction per release, whichever
// node gets there first: the release row's lock makes it one draw) and
// tells each node's entrants their outcome. It never sees a mobile number
// or a name, and its public record (Audit) carries no account, beneficiary
// or appointment data.
package release

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/vax"
)

// Config defaults and limits.
const (
	DefaultWindow      = 10 * time.Second
	MaxWindow          = 60 * time.Second
	DefaultMaxSessions = 500
)

// poll is the longest Run goes without reading the scheduled releases:
// a release created on another node is scheduled within it even if its
// change is missed.
const poll = 5 * time.Second

// drawAttempts bounds the draws of one release that Draw tries when
// booking the entries meets a store Conflict (a beneficiary booked
// elsewhere meanwhile): the next attempt reads the new facts.
const drawAttempts = 3

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
	// wake tells Run that a release changed (buffered: one pending wake
	// covers any number of changes).
	wake chan struct{}

	mu       sync.Mutex
	outcomes []func(vax.ReleaseEntry)
	// changed lists the releases changed since Run last looked, each
	// once, in the order their changes came.
	changed []string
	// reported holds the drawn releases whose outcomes this node has
	// told; only Run's goroutine uses it.
	reported map[string]bool
}

// New returns a Service and makes it the drawer of cfg.Booking.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Booking == nil {
		return nil, vax.Errorf(vax.Internal, "release: a store and a booking service are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = vax.SystemClock{}
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if !validWindow(cfg.Window) {
		return nil, vax.Errorf(vax.Internal, "release: the default window must be 1 to 60 whole seconds")
	}
	if cfg.MaxSessions < 0 {
		return nil, vax.Errorf(vax.Internal, "release: MaxSessions must be positive")
	}
	s := &Service{cfg: cfg, wake: make(chan struct{}, 1), reported: map[string]bool{}}
	cfg.Booking.SetDrawer(s.Draw)
	return s, nil
}

func validWindow(w time.Duration) bool {
	return w >= time.Second && w <= MaxWindow && w%time.Second == 0
}

// civil formats t like 16:00:00 on 05-12-2026 in the booking rules' zone.
func (s *Service) civil(t time.Time) string {
	return t.In(s.cfg.Booking.Rules().Location).Format("15:04:05 on 02-01-2006")
}

// Create publishes sessions with a release time (by: the staff member).
// Each session must exist, be open, have no seat booked and a date neither
// past nor before the pooling window ends; the store re-checks the first
// three atomically as it holds them. The release's Seed is drawn here and
// not returned: only its hash is public until the draw.
func (s *Service) Create(ctx context.Context, by string, req CreateRequest) (vax.Release, error) {
	now := s.cfg.Clock.Now()
	window := cmp.Or(req.Window, s.cfg.Window)
	switch {
	case len(req.SessionIDs) == 0 || len(req.SessionIDs) > s.cfg.MaxSessions:
		return vax.Release{}, vax.Errorf(vax.Invalid, "a release holds 1 to %d sessions", s.cfg.MaxSessions)
	case req.ReleaseAt.IsZero():
		return vax.Release{}, vax.Errorf(vax.Invalid, "a release needs a release time")
	case req.ReleaseAt.Before(now):
		return vax.Release{}, vax.Errorf(vax.Invalid, "the release time %s is in the past", s.civil(req.ReleaseAt))
	case !validWindow(window):
		return vax.Release{}, vax.Errorf(vax.Invalid, "the pooling window must be 1 to 60 whole seconds")
	}
	ids := make([]string, len(req.SessionIDs))
	seen := map[string]bool{}
	for i, id := range req.SessionIDs {
		id = strings.ToLower(strings.TrimSpace(id))
		if !vax.ValidUUID(id) {
			return vax.Release{}, vax.Errorf(vax.NotFound, "session %q not found", clip(id))
		}
		if seen[id] {
			return vax.Release{}, vax.Errorf(vax.Invalid, "session %s given twice", id)
		}
		seen[id] = true
		ids[i] = id
	}
	r := vax.Release{SessionIDs: ids, ReleaseAt: req.ReleaseAt, Window: window, Seed: make([]byte, 32),
		Status: vax.ReleaseScheduled, CreatedBy: by, CreatedAt: now}
	var err error
	if r.ID, err = vax.NewUUID(s.cfg.Random); err != nil {
		return vax.Release{}, vax.Wrap(vax.Internal, err, "draw a release id")
	}
	if _, err := io.ReadFull(s.cfg.Random, r.Seed); err != nil {
		return vax.Release{}, vax.Wrap(vax.Internal, err, "draw a release seed")
	}
	hash := sha256.Sum256(r.Seed)
	r.SeedHash = hex.EncodeToString(hash[:])

	loc := s.cfg.Booking.Rules().Location
	today, last := vax.DateOf(now, loc), vax.DateOf(r.WindowEnd(), loc)
	var out vax.Release
	err = s.cfg.Store.InTx(ctx, func(tx vax.Tx) error {
		for _, id := range ids {
			se, err := tx.Session(ctx, id)
			if vax.ErrorCode(err) == vax.NotFound {
				return vax.Errorf(vax.NotFound, "session %s not found", id)
			}
			if err != nil {
				return err
			}
			switch {
			case se.Status != vax.SessionOpen:
				return vax.Errorf(vax.Conflict, "session %s is %s: only an open session can be released", id, se.Status)
			case se.Booked1 > 0 || se.Booked2 > 0:
				return vax.Errorf(vax.Conflict, "session %s already has bookings", id)
			case se.Date.Before(today):
				return vax.Errorf(vax.Invalid, "session %s is in the past", id)
			case se.Date.Before(last):
				return vax.Errorf(vax.Invalid, "session %s on %s is over before the release's draw", id, se.Date.Cowin())
			}
		}
		if err := tx.CreateRelease(ctx, r); err != nil {
			return err
		}
		var err error
		out, err = tx.Release(ctx, r.ID)
		return err
	})
	if err != nil {
		return vax.Release{}, fmt.Errorf("create release: %w", err)
	}
	s.cfg.Logger.Info("release created", "release", out.ID, "sessions", len(out.SessionIDs),
		"release_at", out.ReleaseAt, "window", out.Window)
	return public(out), nil
}

// Draw draws release id if its window has ended and it is not drawn yet;
// drawn already is not an error. In one transaction, holding the release's
// row (so across nodes exactly one draw happens, and requests still
// entering wait for it): it ranks the entries by Order under the seed,
// marks the release drawn (opening its sessions), books the entries in
// rank order (booking.Service.BookDraw) and records each one's rank and
// outcome.
func (s *Service) Draw(ctx context.Context, id string) error {
	if !vax.ValidUUID(id) {
		return vax.Errorf(vax.NotFound, "release not found")
	}
	var tally map[vax.EntryStatus]int
	var err error
	for attempt := 1; ; attempt++ {
		var retry bool
		tally, retry, err = s.draw(ctx, strings.ToLower(id))
		if !retry || attempt == drawAttempts {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("draw release %s: %w", id, err)
	}
	if tally != nil {
		s.cfg.Booking.Notify()
		s.cfg.Logger.Info("release drawn", "release", id, "won", tally[vax.EntryWon],
			"lost", tally[vax.EntryLost], "refused", tally[vax.EntryRefused])
	}
	return nil
}

// draw is one attempt at Draw: the entries' outcomes counted by status
// (nil if it was drawn already), and whether a store Conflict while
// booking them makes another attempt worth it.
func (s *Service) draw(ctx context.Context, id string) (tally map[vax.EntryStatus]int, retry bool, err error) {
	err = s.cfg.Store.InTx(ctx, func(tx vax.Tx) error {
		tally, retry = nil, false
		r, err := tx.Release(ctx, id)
		if err != nil {
			return err
		}
		if r.Status == vax.ReleaseDrawn {
			return nil
		}
		now := s.cfg.Clock.Now()
		if now.Before(r.WindowEnd()) {
			return vax.Errorf(vax.Conflict, "the draw of this release is not due until %s", s.civil(r.WindowEnd()))
		}
		entries, err := tx.ReleaseEntries(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DrawRelease(ctx, id, now); err != nil {
			return err
		}
		outcomes, err := s.cfg.Booking.BookDraw(ctx, tx, rank(r.Seed, entries))
		if err != nil {
			retry = vax.ErrorCode(err) == vax.Conflict
			return err
		}
		if len(outcomes) > 0 {
			if err := tx.SetEntryOutcomes(ctx, outcomes); err != nil {
				return err
			}
		}
		tally = map[vax.EntryStatus]int{}
		for _, e := range outcomes {
			tally[e.Status]++
		}
		return nil
	})
	return tally, retry, err
}

// rank returns entries in lottery order under seed, with Rank set.
func rank(seed []byte, entries []vax.ReleaseEntry) []vax.ReleaseEntry {
	byID := make(map[string]vax.ReleaseEntry, len(entries))
	ids := make([]string, len(entries))
	for i, e := range entries {
		byID[e.ID], ids[i] = e, e.ID
	}
	out := make([]vax.ReleaseEntry, len(ids))
	for i, id := range Order(seed, ids) {
		out[i] = byID[id]
		out[i].Rank = i + 1
	}
	return out
}

// Run draws every release when its window ends (whichever node gets there
// first), until ctx ends. It reads the scheduled releases when it starts,
// on every release change (Changed) and at least every 5 s, and sleeps
// until the earliest window end. It also tells this node's OnOutcome
// functions the outcomes of every draw the change feed reports. Run it
// once per Service.
func (s *Service) Run(ctx context.Context) {
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		s.report(ctx)
		timer.Reset(s.drawDue(ctx))
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// drawDue draws the scheduled releases whose window has ended and returns
// how long to sleep: until the next window ends, at most poll.
func (s *Service) drawDue(ctx context.Context) time.Duration {
	var rs []vax.Release
	err := s.cfg.Store.View(ctx, func(tx vax.Tx) error {
		var err error
		rs, err = tx.Releases(ctx, vax.ReleaseScheduled)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.cfg.Logger.Error("read scheduled releases", "err", err)
		}
		return poll
	}
	wait := poll
	for _, r := range rs {
		if until := r.WindowEnd().Sub(s.cfg.Clock.Now()); until > 0 {
			wait = min(wait, until)
			continue
		}
		if err := s.Draw(ctx, r.ID); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("draw release", "release", r.ID, "err", err)
		}
	}
	return wait
}

// Changed takes the change feed's changes (releases created and drawn).
// It only notes them and wakes Run, so the feed is never held up.
func (s *Service) Changed(changes []vax.Change) {
	var woke bool
	s.mu.Lock()
	for _, c := range changes {
		if id := strings.ToLower(c.Key); c.Kind == vax.ChangeRelease && !slices.Contains(s.changed, id) {
			s.changed = append(s.changed, id)
			woke = true
		}
	}
	s.mu.Unlock()
	if woke {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// OnOutcome registers fn, called on this node with every entry of a
// release once its draw is seen (whichever node drew it). fn runs on Run's
// goroutine: it must not block for long.
func (s *Service) OnOutcome(fn func(vax.ReleaseEntry)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes = append(s.outcomes, fn)
}

// report tells the OnOutcome functions the entries of every changed
// release now drawn and not told yet, in the order the changes came. A
// release it cannot read stays changed, for the next round.
func (s *Service) report(ctx context.Context) {
	s.mu.Lock()
	changed, fns := s.changed, slices.Clone(s.outcomes)
	s.changed = nil
	s.mu.Unlock()
	if len(fns) == 0 {
		return
	}
	var failed []string
	for _, id := range changed {
		if s.reported[id] {
			continue
		}
		var r vax.Release
		var entries []vax.ReleaseEntry
		err := s.cfg.Store.View(ctx, func(tx vax.Tx) error {
			var err error
			if r, err = tx.Release(ctx, id); err != nil || r.Status != vax.ReleaseDrawn {
				return err
			}
			entries, err = tx.ReleaseEntries(ctx, id)
			return err
		})
		if vax.ErrorCode(err) == vax.NotFound || err == nil && r.Status != vax.ReleaseDrawn {
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.Error("read drawn release", "release", id, "err", err)
			}
			failed = append(failed, id)
			continue
		}
		s.reported[id] = true
		for _, e := range entries {
			for _, fn := range fns {
				fn(e)
			}
		}
	}
	if len(failed) > 0 {
		s.mu.Lock()
		for _, id := range failed {
			if !slices.Contains(s.changed, id) {
				s.changed = append(s.changed, id)
			}
		}
		s.mu.Unlock()
	}
}

// Entry returns an account's own entry and its release; NotFound for
// anyone else's.
func (s *Service) Entry(ctx context.Context, accountID, id string) (vax.ReleaseEntry, vax.Release, error) {
	notFound := vax.Errorf(vax.NotFound, "request not found")
	if !vax.ValidUUID(id) {
		return vax.ReleaseEntry{}, vax.Release{}, notFound
	}
	var e vax.ReleaseEntry
	var r vax.Release
	err := s.cfg.Store.View(ctx, func(tx vax.Tx) error {
		var err error
		e, err = tx.ReleaseEntry(ctx, strings.ToLower(id))
		if vax.ErrorCode(err) == vax.NotFound || err == nil && !strings.EqualFold(e.AccountID, accountID) {
			return notFound
		}
		if err != nil {
			return err
		}
		r, err = tx.Release(ctx, e.ReleaseID)
		return err
	})
	if err != nil {
		return vax.ReleaseEntry{}, vax.Release{}, fmt.Errorf("release request: %w", err)
	}
	return e, public(r), nil
}

// Audit returns the public record of a release: the release (its Seed only
// once drawn) and its entries without account or beneficiary data.
func (s *Service) Audit(ctx context.Context, id string) (vax.Release, []vax.ReleaseEntry, error) {
	if !vax.ValidUUID(id) {
		return vax.Release{}, nil, vax.Errorf(vax.NotFound, "release not found")
	}
	var r vax.Release
	var entries []vax.ReleaseEntry
	err := s.cfg.Store.View(ctx, func(tx vax.Tx) error {
		var err error
		if r, err = tx.Release(ctx, strings.ToLower(id)); err != nil {
			return err
		}
		entries, err = tx.ReleaseEntries(ctx, r.ID)
		return err
	})
	if err != nil {
		return vax.Release{}, nil, fmt.Errorf("audit release: %w", err)
	}
	for i := range entries {
		entries[i].AccountID, entries[i].Refs, entries[i].Slot, entries[i].AppointmentID = "", nil, "", ""
	}
	return public(r), entries, nil
}

// List lists releases, newest release time first.
func (s *Service) List(ctx context.Context) ([]vax.Release, error) {
	var rs []vax.Release
	err := s.cfg.Store.View(ctx, func(tx vax.Tx) error {
		var err error
		rs, err = tx.Releases(ctx, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	slices.Reverse(rs)
	for i := range rs {
		rs[i] = public(rs[i])
	}
	return rs, nil
}

// public hides a release's seed until it is drawn: known earlier, it
// would tell anyone holding a request id their rank.
func public(r vax.Release) vax.Release {
	if r.Status != vax.ReleaseDrawn {
		r.Seed = nil
	}
	return r
}

// Order is the lottery: the entry ids ranked under seed (first = rank 1).
// Anyone holding the seed and the ids can recompute it; the rule, public
// and fixed, is: for each id, compute HMAC-SHA256 with the 32-byte seed as
// the key and the id in lower case (ASCII) as the message; rank the ids by
// their MACs compared as byte strings, smallest first; equal MACs (never
// seen in practice) rank by id. The seed's SHA-256 is published when the
// release is created, and the seed once it is drawn, so the order can be
// checked but not foreseen.
func Order(seed []byte, ids []string) []string {
	type keyed struct {
		mac []byte
		id  string
	}
	ks := make([]keyed, len(ids))
	for i, id := range ids {
		m := hmac.New(sha256.New, seed)
		m.Write([]byte(strings.ToLower(id)))
		ks[i] = keyed{m.Sum(nil), id}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		return cmp.Or(bytes.Compare(a.mac, b.mac), strings.Compare(a.id, b.id))
	})
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.id
	}
	return out
}

// clip shortens untrusted input echoed in a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
