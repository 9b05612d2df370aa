package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// reloadBase and reloadShare make the default Config.Backlog: past it a
// backlog of changes is cheaper to absorb with a fresh snapshot than key
// by key.
const (
	reloadBase  = 2000
	reloadShare = 8
)

// maxBackoff bounds the wait between retries when the store fails.
const maxBackoff = 5 * time.Second

// Run loads the index and keeps it fresh until ctx ends. It subscribes to
// the feed first, waits until the feed is ready, loads a snapshot of the
// store and then applies every change the feed delivers (including those
// that arrived while loading) by re-reading the changed centres and
// sessions, one store transaction per batch. It also drops past days when
// the civil date rolls over. Store failures are logged and retried; Run
// returns nil when ctx ends, and an error only when misconfigured.
func (ix *Index) Run(ctx context.Context) error {
	if ix.cfg.Store == nil || ix.cfg.Feed == nil {
		return errors.New("search: Run needs a Store and a Feed")
	}
	unsubscribe := ix.cfg.Feed.Subscribe(ix.enqueue)
	defer unsubscribe()
	select {
	case <-ix.cfg.Feed.Ready():
	case <-ctx.Done():
		return nil
	}
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, maxBackoff) {
		err := ix.reload(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		ix.cfg.Logger.Warn("search index load failed; retrying", "err", err, "in", backoff)
		if !sleep(ctx, backoff) {
			return nil
		}
	}

	tick := time.NewTicker(ix.cfg.Tick)
	defer tick.Stop()
	var pending []vax.Change // changes whose re-read failed
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ix.signal:
		case <-tick.C:
			ix.roll()
		}
		pending = append(pending, ix.dequeue()...)
		if len(pending) == 0 {
			continue
		}
		if err := ix.apply(ctx, pending); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Keep the changes: the next tick or signal retries them.
			ix.cfg.Logger.Warn("search index update failed; retrying", "err", err, "changes", len(pending))
			continue
		}
		pending = nil
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// enqueue is the feed subscriber: it must not block.
func (ix *Index) enqueue(batch []vax.Change) {
	ix.qmu.Lock()
	for _, c := range batch {
		if c.Kind == vax.ChangeCentre || c.Kind == vax.ChangeSession {
			ix.queue = append(ix.queue, c)
		}
	}
	ix.qmu.Unlock()
	select {
	case ix.signal <- struct{}{}:
	default:
	}
}

func (ix *Index) dequeue() []vax.Change {
	ix.qmu.Lock()
	defer ix.qmu.Unlock()
	q := ix.queue
	ix.queue = nil
	return q
}

// reload replaces the contents with a snapshot of the store.
func (ix *Index) reload(ctx context.Context) error {
	today := vax.Today(ix.cfg.Clock, ix.cfg.Location)
	var d Data
	err := ix.cfg.Store.View(ctx, func(tx vax.Tx) error {
		d = Data{}
		var err error
		if d.States, d.Districts, d.Vaccines, err = readMaster(ctx, tx); err != nil {
			return err
		}
		for after := int64(0); ; {
			page, err := tx.Centres(ctx, vax.CentreQuery{AfterID: after, Limit: vax.MaxLimit})
			if err != nil {
				return fmt.Errorf("list centres: %w", err)
			}
			d.Centres = append(d.Centres, page...)
			if len(page) < vax.MaxLimit {
				break
			}
			after = page[len(page)-1].ID
		}
		for after := ""; ; {
			page, err := tx.Sessions(ctx, vax.SessionQuery{From: today, AfterID: after, Limit: vax.MaxLimit})
			if err != nil {
				return fmt.Errorf("list sessions: %w", err)
			}
			for _, s := range page {
				if s.Status != vax.SessionCancelled {
					d.Sessions = append(d.Sessions, s)
				}
			}
			if len(page) < vax.MaxLimit {
				break
			}
			after = page[len(page)-1].ID
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("search: load snapshot: %w", err)
	}
	ix.Load(d)
	ix.cfg.Logger.Info("search index loaded", "centres", len(d.Centres), "sessions", len(d.Sessions), "today", today.String())
	return nil
}

func readMaster(ctx context.Context, tx vax.Tx) ([]vax.State, []vax.District, []string, error) {
	states, err := tx.States(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list states: %w", err)
	}
	var districts []vax.District
	for _, s := range states {
		ds, err := tx.Districts(ctx, s.ID)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("list districts of state %d: %w", s.ID, err)
		}
		districts = append(districts, ds...)
	}
	vs, err := tx.Vaccines(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list vaccines: %w", err)
	}
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.Name
	}
	return states, districts, names, nil
}

// update is what a batch of changes re-read from the store: the current
// state of each changed centre and session, nil for one that is gone.
type update struct {
	centres  map[int64]*vax.Centre
	sessions map[string]*vax.Session
	gone     map[string]int64 // sessions no longer in the store → the centre showing them
	master   *Master          // non-nil when the master data had to be re-read
}

// apply re-reads what changes name and applies it, or reloads everything
// when the backlog is large.
func (ix *Index) apply(ctx context.Context, changes []vax.Change) error {
	centreIDs := map[int64]bool{}
	sessionIDs := map[string]bool{}
	for _, c := range changes {
		switch c.Kind {
		case vax.ChangeCentre:
			id, err := strconv.ParseInt(c.Key, 10, 64)
			if err != nil || id <= 0 {
				ix.cfg.Logger.Warn("search: ignoring centre change with a bad key", "seq", c.Seq)
				continue
			}
			centreIDs[id] = true
		case vax.ChangeSession:
			sessionIDs[c.Key] = true
		}
	}
	if len(centreIDs)+len(sessionIDs) == 0 {
		return nil
	}
	limit := ix.cfg.Backlog
	if limit <= 0 {
		limit = reloadBase + ix.Stats().Sessions/reloadShare
	}
	if n := len(centreIDs) + len(sessionIDs); n > limit {
		ix.cfg.Logger.Info("search index: large backlog, reloading", "keys", n)
		return ix.reload(ctx)
	}
	u, err := ix.reread(ctx, centreIDs, sessionIDs)
	if err != nil {
		return err
	}
	ix.commit(u)
	return nil
}

// reread reads the current state of the named centres and sessions in one
// read transaction, plus the centre of any session whose centre the index
// does not hold yet, and the master data if a centre names a district the
// index does not know.
func (ix *Index) reread(ctx context.Context, centreIDs map[int64]bool, sessionIDs map[string]bool) (update, error) {
	var u update
	err := ix.cfg.Store.View(ctx, func(tx vax.Tx) error {
		u = update{centres: map[int64]*vax.Centre{}, sessions: map[string]*vax.Session{}, gone: map[string]int64{}}
		readCentre := func(id int64) error {
			c, err := tx.Centre(ctx, id)
			switch {
			case errors.Is(err, vax.ErrNotFound):
				u.centres[id] = nil
			case err != nil:
				return fmt.Errorf("read centre %d: %w", id, err)
			default:
				u.centres[id] = &c
			}
			return nil
		}
		for id := range centreIDs {
			if err := readCentre(id); err != nil {
				return err
			}
		}
		var orphans []int64
		for id := range sessionIDs {
			s, err := tx.Session(ctx, id)
			switch {
			case errors.Is(err, vax.ErrNotFound):
				u.sessions[id] = nil
				continue
			case err != nil:
				return fmt.Errorf("read session %s: %w", id, err)
			}
			u.sessions[id] = &s
			if _, ok := u.centres[s.CentreID]; !ok {
				orphans = append(orphans, s.CentreID)
			}
		}
		ix.mu.RLock()
		orphans = slices.DeleteFunc(orphans, func(id int64) bool { return ix.centres[id] != nil })
		master := ix.master
		ix.findGone(u)
		ix.mu.RUnlock()
		for _, id := range orphans {
			if _, done := u.centres[id]; done {
				continue
			}
			if err := readCentre(id); err != nil {
				return err
			}
		}
		for _, c := range u.centres {
			if c == nil {
				continue
			}
			if _, ok := master.District(c.DistrictID); ok {
				continue
			}
			states, districts, vaccines, err := readMaster(ctx, tx)
			if err != nil {
				return err
			}
			u.master = newMaster(states, districts, vaccines)
			break
		}
		return nil
	})
	if err != nil {
		return update{}, fmt.Errorf("search: re-read changes: %w", err)
	}
	return u, nil
}

// findGone records which centre shows each session that is no longer in
// the store. Sessions are not deleted in normal operation, so this scan of
// every session is rare; callers hold mu for reading.
func (ix *Index) findGone(u update) {
	var missing int
	for _, s := range u.sessions {
		if s == nil {
			missing++
		}
	}
	if missing == 0 {
		return
	}
	for cid, e := range ix.centres {
		for _, s := range e.Sessions {
			if v, ok := u.sessions[s.ID]; ok && v == nil {
				u.gone[s.ID] = cid
			}
		}
	}
}

// roll drops the sessions of days that have passed when the civil date
// changes.
func (ix *Index) roll() {
	today := vax.Today(ix.cfg.Clock, ix.cfg.Location)
	ix.mu.RLock()
	same := ix.today == today || ix.today.IsZero()
	ix.mu.RUnlock()
	if !same {
		ix.commit(update{})
	}
}
