package booking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Fair release (internal/release owns releases and runs their draw). A
// session held for a release is booked only by the release's draw until
// then. A request for it before the release time is refused (APPOIN0060).
// In the pooling window it passes the booking rules and becomes an entry of
// the release (APPOIN0061, with its request id); a beneficiary has one
// entry per release however often it asks, so retrying gains nothing.
// Once the window has ended the draw is due: the first request to notice
// (on any node, if the release service's timer has not got there first)
// runs the drawer outside its transaction and then books first-come-
// first-served in the session the draw opened. BookDraw books the draw's
// entries with the same admission code as a batch. A client that retries
// in the window is answered from this node's memory of the requests it
// saw pooled (pooledCache), without a transaction.

// Pooled is the detail (the Err) of an APPOIN0061 answer: the request, or
// one of its beneficiaries, is an entry of a release's draw. The caller
// learns the outcome by polling EntryID or on its alert stream.
type Pooled struct {
	EntryID   string    // the request id
	ReleaseID string    // the release drawing it
	DrawAt    time.Time // when the pooling window ends and the draw is due
	// same: the entry is this very request (not one sharing only some of
	// its beneficiaries), so a retry may be answered from memory.
	same bool
}

// Error describes the entry for logs (no personal data).
func (p *Pooled) Error() string {
	return fmt.Sprintf("pooled as request %s of release %s", p.EntryID, p.ReleaseID)
}

// isPooled reports whether err is a pooled answer: its entry must commit.
func isPooled(err error) bool {
	var p *Pooled
	return errors.As(err, &p)
}

// pooledCache remembers the requests this node saw pooled (committed), so
// that a retry of one in its window — the rush's hammering — is answered
// without a transaction. Only the same account asking for the same
// beneficiaries in the same session gets the remembered answer; it is the
// answer the store would give, since an entry stays until its draw.
type pooledCache struct {
	// held counts the answers kept: while there are none (no release is
	// pooling, nearly always) a booking skips the key and the lock.
	held  atomic.Int64
	mu    sync.Mutex
	m     map[string]*Pooled
	sweep time.Time // when to next drop the answers whose draw is due
}

// pooledKey names a request by account, session and beneficiaries.
func pooledKey(accountID string, req ScheduleRequest) string {
	refs := slices.Sorted(slices.Values(req.Refs))
	return strings.ToLower(accountID) + "|" + strings.ToLower(req.SessionID) + "|" + strings.Join(refs, ",")
}

// get returns the pooled answer remembered for the request, if its draw
// is not due.
func (c *pooledCache) get(accountID string, req ScheduleRequest, now time.Time) *Pooled {
	if c.held.Load() == 0 {
		return nil
	}
	key := pooledKey(accountID, req)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(now)
	if p := c.m[key]; p != nil && now.Before(p.DrawAt) {
		return p
	}
	return nil
}

// put remembers a committed pooled answer for the request (the memory
// lasts until its draw is due: see drop).
func (c *pooledCache) put(accountID string, req ScheduleRequest, p *Pooled, now time.Time) {
	key := pooledKey(accountID, req)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*Pooled{}
	}
	c.drop(now)
	c.m[key] = p
	c.held.Store(int64(len(c.m)))
}

// drop forgets, at most once a second, the answers whose draw is due;
// c.mu is held.
func (c *pooledCache) drop(now time.Time) {
	if now.Before(c.sweep) {
		return
	}
	for k, q := range c.m {
		if !now.Before(q.DrawAt) {
			delete(c.m, k)
		}
	}
	c.sweep = now.Add(time.Second)
	c.held.Store(int64(len(c.m)))
}

// drawDue marks the answer to a request whose release's window has ended
// before it was drawn: Schedule runs the drawer and books again.
type drawDue struct{ releaseID string }

func (d *drawDue) Error() string { return "the draw of release " + d.releaseID + " is due" }

// dueErr is the answer to a request whose release's draw is due. Were it
// ever to reach the caller, it asks them to try again.
func dueErr(r vax.Release) error {
	e := vax.Errorf(vax.Unavailable, "the draw for this session is under way; try again in a moment")
	e.Err = &drawDue{releaseID: r.ID}
	return e
}

// SetDrawer sets the function that draws a release whose window has ended
// when a request finds it not yet drawn; drawn already must not be an
// error. release.New sets it to its Service.Draw.
func (s *Service) SetDrawer(fn func(ctx context.Context, releaseID string) error) {
	s.drawer.Store(&fn)
}

// draw runs the drawer for a release whose draw is due. The requests of
// this node that find it due at once share one call; the drawer's own
// locking makes one draw across nodes.
func (s *Service) draw(ctx context.Context, releaseID string) error {
	fn := s.drawer.Load()
	if fn == nil {
		return vax.Errorf(vax.Unavailable, "the draw for this session is under way; try again in a moment")
	}
	// The call outlives any one caller: the others waiting on it must not
	// fail because the first gave up.
	_, err, _ := s.drawing.Do(releaseID, func() (any, error) {
		return nil, (*fn)(context.WithoutCancel(ctx), releaseID)
	})
	if err != nil {
		return vax.Wrap(vax.Unavailable, err, "the draw for this session is under way; try again in a moment")
	}
	return nil
}

// pool takes requests for the held session se in tx. Before the release
// time each is refused; in the pooling window each that passes the booking
// rules becomes an entry of the release, all in tx; after it each is told
// that the draw is due. results[i] gets request i's answer (requests
// answered there already are skipped); an error aborts them all.
func (s *Service) pool(ctx context.Context, tx vax.Tx, se vax.Session, v vax.Vaccine, reqs []bookReq,
	results []batchResult, now time.Time) error {
	r, err := tx.ReleaseOfSession(ctx, se.ID)
	if err != nil {
		return vax.Wrap(vax.Internal, err, "read the release of a held session")
	}
	answer := func(err error) {
		for i := range results {
			if results[i].err == nil {
				results[i].err = err
			}
		}
	}
	switch {
	case now.Before(r.ReleaseAt):
		answer(fail(vax.Conflict, ReasonHeld,
			"bookings for this session open at %s by a fair draw among the requests of its first %d seconds",
			s.civil(r.ReleaseAt), int(r.Window/time.Second)))
		return nil
	case r.Status == vax.ReleaseDrawn || !now.Before(r.WindowEnd()):
		answer(dueErr(r))
		return nil
	}
	facts, err := pendingFacts(ctx, tx, reqs, results)
	if err != nil {
		return err
	}
	// The rules judge the request as a booking of the session the draw
	// will open. Beneficiaries are not claimed across the batch: a second
	// request for one is the store's to answer with the first's entry.
	open := se
	open.Status = vax.SessionOpen
	for i, q := range reqs {
		if results[i].err != nil {
			continue
		}
		if err := s.check(open, v, facts, nil, q.accountID, q.req, now); err != nil {
			results[i].err = err
			continue
		}
		id, err := vax.NewUUID(s.random)
		if err != nil {
			return vax.Wrap(vax.Internal, err, "draw a request id")
		}
		e, entered, err := tx.EnterRelease(ctx, vax.ReleaseEntry{ID: id, ReleaseID: r.ID,
			AccountID: strings.ToLower(q.accountID), SessionID: se.ID, Dose: q.req.Dose, Slot: q.req.Slot,
			Refs: q.req.Refs, ArrivedAt: now, Node: s.node, Status: vax.EntryPooled})
		if vax.ErrorCode(err) == vax.Conflict {
			// Drawn while this request waited for the draw's lock.
			answer(dueErr(r))
			return nil
		}
		if err != nil {
			return err
		}
		results[i].err = s.pooled(r, e, entered, q.req)
	}
	return nil
}

// pooled is the answer to a request whose entry in release r is e: new
// (entered), or the one its beneficiaries already have. A retry of the
// same request gets the same answer and request id; a request sharing
// only some beneficiaries with an entry is told which.
func (s *Service) pooled(r vax.Release, e vax.ReleaseEntry, entered bool, req ScheduleRequest) error {
	p := &Pooled{EntryID: e.ID, ReleaseID: r.ID, DrawAt: r.WindowEnd(), same: true}
	if !entered && (!strings.EqualFold(e.SessionID, req.SessionID) || !sameRefs(e.Refs, req.Refs)) {
		p.same = false
		shared := ""
		for _, ref := range req.Refs {
			if slices.Contains(e.Refs, ref) {
				shared = ref
				break
			}
		}
		return &vax.Error{Code: vax.Conflict, Reason: ReasonPooled, Err: p,
			Message: fmt.Sprintf("beneficiary %s is already in the draw with request %s", shared, e.ID)}
	}
	return s.pooledErr(p)
}

// pooledErr is the answer to a request pooled as p.
func (s *Service) pooledErr(p *Pooled) error {
	return &vax.Error{Code: vax.Conflict, Reason: ReasonPooled, Err: p, Message: fmt.Sprintf(
		"your request is in the draw for this session's seats (request id %s); the draw is at %s; "+
			"the result comes on your alert stream and at /api/v1/releases/requests/%s",
		p.EntryID, p.DrawAt.In(s.rules.Location).Format("15:04:05"), p.EntryID)}
}

// sameRefs reports whether a and b name the same beneficiaries.
func sameRefs(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// civil formats t like 16:00:00 on 05-12-2026 in the rules' time zone.
func (s *Service) civil(t time.Time) string {
	return t.In(s.rules.Location).Format("15:04:05 on 02-01-2006")
}

// heldForReschedule refuses to move an appointment into the held session
// se: its seats go by the draw.
func (s *Service) heldForReschedule(ctx context.Context, tx vax.Tx, se vax.Session) error {
	r, err := tx.ReleaseOfSession(ctx, se.ID)
	if err != nil {
		return vax.Wrap(vax.Internal, err, "read the release of a held session")
	}
	return fail(vax.Conflict, ReasonHeld, "seats in this session go by a draw at %s; reschedule after it",
		s.civil(r.WindowEnd()))
}

// BookDraw books a release's drawn entries in tx, in the order given (rank
// order), with the admission a batch uses: per session, the rules against
// facts read in one go, then the seats admitted in that order with each
// appointment's booking SMS. It returns each entry with its outcome: won
// (AppointmentID), lost (no seats left: Reason APPOIN0040) or refused by
// the rules (Reason: the rule's wire code). Any other failure, including a
// store Conflict, aborts: the caller's transaction must roll back.
func (s *Service) BookDraw(ctx context.Context, tx vax.Tx, entries []vax.ReleaseEntry) ([]vax.ReleaseEntry, error) {
	now := s.clock.Now()
	out := slices.Clone(entries)
	var sessions []string
	bySession := map[string][]int{}
	for i, e := range out {
		key := strings.ToLower(e.SessionID)
		if bySession[key] == nil {
			sessions = append(sessions, key)
		}
		bySession[key] = append(bySession[key], i)
	}
	for _, id := range sessions {
		idx := bySession[id]
		results := make([]batchResult, len(idx))
		reqs := make([]bookReq, len(idx))
		for j, i := range idx {
			e := out[i]
			reqs[j] = bookReq{e.AccountID, ScheduleRequest{Dose: e.Dose, SessionID: e.SessionID, Slot: e.Slot, Refs: e.Refs}}
		}
		se, v, err := sessionFor(ctx, tx, id)
		if vax.ErrorReason(err) != "" {
			for j := range results {
				results[j].err = err
			}
		} else if err != nil {
			return nil, err
		} else if facts, err := pendingFacts(ctx, tx, reqs, results); err != nil {
			return nil, err
		} else if _, err := s.bookSession(ctx, tx.BookAppointments, se, v, facts, reqs, results, now); err != nil {
			return nil, err
		}
		for j, i := range idx {
			if err := outcome(&out[i], results[j]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// outcome sets e's draw outcome from its booking's result. A dependency
// down or a bug is returned, not recorded as the entry's fate: the draw
// runs again later.
func outcome(e *vax.ReleaseEntry, r batchResult) error {
	reason := vax.ErrorReason(r.err)
	switch code := vax.ErrorCode(r.err); {
	case r.err == nil:
		e.Status, e.AppointmentID, e.Reason = vax.EntryWon, r.a.ID, ""
	case reason == ReasonFull:
		e.Status, e.Reason = vax.EntryLost, reason
	case code == vax.Internal || code == vax.Unavailable:
		return fmt.Errorf("book entry %s: %w", e.ID, r.err)
	default:
		e.Status, e.Reason = vax.EntryRefused, reason
	}
	return nil
}
