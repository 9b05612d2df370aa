package alerts

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Stored subscriptions: see the package comment. The hub keeps every
// node's copy in memory (LoadStored, then Changed), matches it in Publish
// exactly as a stream's, and texts it from Run through the store.

// storedSub is this node's copy of a stored subscription. Only lastTexted
// changes, under Hub.mu.
type storedSub struct {
	id, account string
	filter      Filter
	lastTexted  time.Time // as far as this node knows
}

// storedText is what one commit released for one stored subscription.
type storedText struct {
	sub    *storedSub
	events []*Event
}

// filterOf is a stored subscription's filter.
func filterOf(s vax.AlertSubscription) Filter {
	return Filter{DistrictID: s.DistrictID, Pincode: s.Pincode, Age: s.MinAge, Dose: s.Dose, Vaccine: s.Vaccine}
}

// texting reports whether this hub matches and texts stored subscriptions.
func (h *Hub) texting() bool { return h.cfg.Store != nil && h.cfg.Texter != nil }

// CreateStored stores a subscription to f for account, which every node
// with SMS alerts then texts (at most once per SMSEvery) when f's seats
// open, whether or not the account has a stream open. It fails with
// Conflict when this hub does not text (no Texter or no Store) or the
// account already has the same filter stored, and Invalid for a bad
// filter, an unknown district or vaccine, or when the account has
// StoredPerAccount already.
func (h *Hub) CreateStored(ctx context.Context, account string, f Filter) (vax.AlertSubscription, error) {
	if !h.texting() {
		return vax.AlertSubscription{}, vax.Errorf(vax.Conflict,
			"SMS alerts are not enabled on this service: use the alert stream instead")
	}
	if err := f.Validate(); err != nil {
		return vax.AlertSubscription{}, err
	}
	f.Vaccine = strings.ToUpper(strings.TrimSpace(f.Vaccine))
	id, err := vax.NewUUID(h.cfg.Random)
	if err != nil {
		return vax.AlertSubscription{}, vax.Wrap(vax.Internal, err, "draw an alert subscription id")
	}
	s := vax.AlertSubscription{ID: id, AccountID: strings.ToLower(account), DistrictID: f.DistrictID,
		Pincode: f.Pincode, MinAge: f.Age, Dose: f.Dose, Vaccine: f.Vaccine,
		CreatedAt: h.cfg.Clock.Now().UTC().Truncate(time.Second)}
	err = h.cfg.Store.InTx(ctx, func(tx vax.Tx) error {
		// Listing locks the account's subscriptions, so concurrent
		// creates cannot pass the cap.
		have, err := tx.AlertSubscriptionsOf(ctx, s.AccountID)
		if err != nil {
			return err
		}
		if len(have) >= h.cfg.StoredPerAccount {
			return vax.Errorf(vax.Invalid, "at most %d stored alert subscriptions per account: delete one first",
				h.cfg.StoredPerAccount)
		}
		for _, o := range have {
			if filterOf(o) == f {
				return vax.Errorf(vax.Conflict, "an alert subscription for %s is stored already", f)
			}
		}
		if err := known(ctx, tx, f); err != nil {
			return err
		}
		return tx.CreateAlertSubscription(ctx, s)
	})
	if err != nil {
		return vax.AlertSubscription{}, err
	}
	// Match it here at once; the change feed brings it to the other nodes
	// (and here again, harmlessly).
	h.mu.Lock()
	h.putStored(s)
	h.mu.Unlock()
	return s, nil
}

// known checks that the district and vaccine f names exist: a stored
// subscription outlives the request, so a typo must not sit in the store
// matching nothing.
func known(ctx context.Context, tx vax.Tx, f Filter) error {
	if f.DistrictID > 0 {
		if _, err := tx.District(ctx, f.DistrictID); errors.Is(err, vax.ErrNotFound) {
			return vax.Errorf(vax.Invalid, "unknown district_id %d", f.DistrictID)
		} else if err != nil {
			return err
		}
	}
	if f.Vaccine == "" {
		return nil
	}
	vs, err := tx.Vaccines(ctx)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if strings.EqualFold(v.Name, f.Vaccine) {
			return nil
		}
	}
	return vax.Errorf(vax.Invalid, "unknown vaccine %q", f.Vaccine)
}

// StoredOf lists an account's stored subscriptions, oldest first. It
// needs only the Store, so a node without SMS alerts still lists them.
func (h *Hub) StoredOf(ctx context.Context, account string) ([]vax.AlertSubscription, error) {
	if h.cfg.Store == nil {
		return nil, vax.Errorf(vax.Conflict, "SMS alerts are not enabled on this service")
	}
	var out []vax.AlertSubscription
	err := h.cfg.Store.View(ctx, func(tx vax.Tx) (err error) {
		out, err = tx.AlertSubscriptionsOf(ctx, account)
		return err
	})
	return out, err
}

// DeleteStored deletes the account's stored subscription id; NotFound when
// there is none or it is another account's (which is not told apart).
func (h *Hub) DeleteStored(ctx context.Context, account, id string) error {
	if h.cfg.Store == nil {
		return vax.Errorf(vax.Conflict, "SMS alerts are not enabled on this service")
	}
	err := h.cfg.Store.InTx(ctx, func(tx vax.Tx) error {
		s, err := tx.AlertSubscription(ctx, id)
		if err != nil {
			return err
		}
		if !strings.EqualFold(s.AccountID, account) {
			return vax.Errorf(vax.NotFound, "alert subscription not found")
		}
		return tx.DeleteAlertSubscription(ctx, s.ID)
	})
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.removeStored(strings.ToLower(id))
	h.mu.Unlock()
	return nil
}

// LoadStored replaces the hub's stored subscriptions with the store's. Call
// it once at start, after subscribing Changed to the change feed, so no
// change falls between the two. Without a Texter it loads nothing: a node
// that cannot text leaves them to the nodes that can.
func (h *Hub) LoadStored(ctx context.Context) error {
	if !h.texting() {
		return nil
	}
	var all []vax.AlertSubscription
	if err := h.cfg.Store.View(ctx, func(tx vax.Tx) (err error) {
		all, err = tx.AlertSubscriptions(ctx)
		return err
	}); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.stored)
	clear(h.storedDistrict)
	clear(h.storedPin)
	for _, s := range all {
		h.putStored(s)
	}
	return nil
}

// StoredLen returns the number of stored subscriptions this hub matches.
func (h *Hub) StoredLen() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.stored)
}

// Changed takes the change feed's changes (changefeed.Follower.Subscribe).
// It only notes the stored subscriptions that changed and wakes Run, which
// re-reads them, so the feed is never held up.
func (h *Hub) Changed(changes []vax.Change) {
	if !h.texting() {
		return
	}
	var woke bool
	h.cmu.Lock()
	for _, c := range changes {
		if c.Kind == vax.ChangeAlertSubscription {
			h.changed[strings.ToLower(c.Key)] = true
			woke = true
		}
	}
	h.cmu.Unlock()
	if woke {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
}

// refreshRetry is how long Run waits to re-read changed subscriptions after
// the store failed to answer.
const refreshRetry = time.Second

// Run texts the stored subscriptions Publish matched and re-reads those
// Changed named, one at a time, until ctx ends. Call it once per Hub.
func (h *Hub) Run(ctx context.Context) {
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
			retry = h.refreshOrRetry(ctx)
		case <-retry:
			retry = h.refreshOrRetry(ctx)
		case batch := <-h.texts:
			// Apply deletions noted meanwhile before texting.
			retry = h.refreshOrRetry(ctx)
			for _, t := range batch {
				h.textStored(ctx, t)
			}
		}
	}
}

// refreshOrRetry re-reads the changed subscriptions and returns nil, or a
// timer to try again when the store did not answer.
func (h *Hub) refreshOrRetry(ctx context.Context) <-chan time.Time {
	if err := h.refresh(ctx); err != nil {
		if ctx.Err() == nil {
			h.cfg.Logger.Warn("stored alert subscriptions not re-read", "err", err)
		}
		return time.After(refreshRetry)
	}
	return nil
}

// refresh re-reads the subscriptions Changed noted: a subscription gone
// from the store leaves the hub. On an error they stay noted.
func (h *Hub) refresh(ctx context.Context) error {
	h.cmu.Lock()
	ids := h.changed
	h.changed = map[string]bool{}
	h.cmu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	var found []vax.AlertSubscription
	var gone []string
	err := h.cfg.Store.View(ctx, func(tx vax.Tx) error {
		found, gone = found[:0], gone[:0]
		for id := range ids {
			s, err := tx.AlertSubscription(ctx, id)
			switch {
			case errors.Is(err, vax.ErrNotFound):
				gone = append(gone, id)
			case err != nil:
				return err
			default:
				found = append(found, s)
			}
		}
		return nil
	})
	if err != nil {
		h.cmu.Lock()
		for id := range ids {
			h.changed[id] = true
		}
		h.cmu.Unlock()
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range gone {
		h.removeStored(id)
	}
	for _, s := range found {
		h.putStored(s)
	}
	return nil
}

// putStored adds s to the hub or updates this node's copy. The caller holds
// h.mu.
func (h *Hub) putStored(s vax.AlertSubscription) {
	if cur := h.stored[s.ID]; cur != nil {
		// Only LastTextedAt changes; never move it back (this node may
		// have texted since the store was read).
		if s.LastTextedAt.After(cur.lastTexted) {
			cur.lastTexted = s.LastTextedAt
		}
		return
	}
	sub := &storedSub{id: s.ID, account: s.AccountID, filter: filterOf(s), lastTexted: s.LastTextedAt}
	h.stored[s.ID] = sub
	if sub.filter.DistrictID > 0 {
		add(h.storedDistrict, sub.filter.DistrictID, sub)
	} else {
		add(h.storedPin, sub.filter.Pincode, sub)
	}
}

// removeStored removes subscription id from the hub, if there. The caller
// holds h.mu.
func (h *Hub) removeStored(id string) {
	sub := h.stored[id]
	if sub == nil {
		return
	}
	delete(h.stored, id)
	if sub.filter.DistrictID > 0 {
		remove(h.storedDistrict, sub.filter.DistrictID, sub)
	} else {
		remove(h.storedPin, sub.filter.Pincode, sub)
	}
}

// collect adds to texts the events of cands that s matches.
func collect(texts map[*storedSub][]*Event, s *storedSub, cands []candidate) map[*storedSub][]*Event {
	for _, cd := range cands {
		if s.filter.matches(cd) {
			if texts == nil {
				texts = map[*storedSub][]*Event{}
			}
			texts[s] = append(texts[s], cd.event)
		}
	}
	return texts
}

// queue hands one commit's matches to Run without waiting: when Run is so
// far behind that the queue is full, they are dropped and logged.
func (h *Hub) queue(texts map[*storedSub][]*Event) {
	if len(texts) == 0 {
		return
	}
	batch := make([]storedText, 0, len(texts))
	for s, evs := range texts {
		batch = append(batch, storedText{sub: s, events: evs})
	}
	select {
	case h.texts <- batch:
	default:
		h.cfg.Logger.Warn("stored slot alerts dropped: the texting queue is full", "subscriptions", len(batch))
	}
}

// textStored texts one stored subscription about its events, unless it was
// texted within SMSEvery on any node. In one transaction it marks the
// subscription texted (the store's conditional update lets exactly one
// node win for a release every node sees) and queues the SMS, so either
// both happen or neither.
func (h *Hub) textStored(ctx context.Context, t storedText) {
	now := h.cfg.Clock.Now()
	h.mu.RLock()
	live := h.stored[t.sub.id] == t.sub
	recent := !t.sub.lastTexted.IsZero() && now.Sub(t.sub.lastTexted) < h.cfg.SMSEvery
	h.mu.RUnlock()
	if !live || recent {
		return // deleted meanwhile, or known to be throttled: no trip to the store
	}
	var texted, gone bool
	err := h.cfg.Store.InTx(ctx, func(tx vax.Tx) error {
		texted, gone = false, false
		marked, err := tx.MarkAlertTexted(ctx, t.sub.id, now, h.cfg.SMSEvery)
		if errors.Is(err, vax.ErrNotFound) {
			gone = true
			return nil
		}
		if err != nil || !marked {
			return err
		}
		if _, err := h.cfg.Texter.TextIn(ctx, tx, t.sub.account, AlertText(t.events), now.Add(h.cfg.SMSEvery)); err != nil {
			return err
		}
		texted = true
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			h.cfg.Logger.Warn("stored slot alert SMS not queued", "subscription", t.sub.id, "err", err)
		}
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case gone:
		h.removeStored(t.sub.id) // its change may not have come yet
	case texted && now.After(t.sub.lastTexted):
		t.sub.lastTexted = now
	}
}
