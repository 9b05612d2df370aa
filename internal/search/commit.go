package search

import (
	"slices"

	"github.com/vaxport/vaxport/internal/vax"
)

// batch collects the entries one commit replaces. Entries are copied on
// first touch and published together, so a reader sees either the old or
// the new entry of a centre, never a half-changed one.
type batch struct {
	ix    *Index
	gen   uint64
	today vax.Date
	work  map[int64]*work
}

// work is one centre's pending change.
type work struct {
	old     *Centre         // nil for a new centre
	next    *Centre         // nil when the centre is gone
	removed map[string]bool // session ids leaving the centre
	added   []vax.Session
}

// commit applies u, and drops past sessions if the civil date has rolled
// over, as one new generation.
func (ix *Index) commit(u update) {
	today := vax.Today(ix.cfg.Clock, ix.cfg.Location)
	now := ix.cfg.Clock.Now()
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	var changes []CentreChange
	// Deferred before mu's unlock, so it runs after it: subscribers see
	// the published entries and may read the index.
	defer func() { ix.notify(changes) }()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.gen++
	b := &batch{ix: ix, gen: ix.gen, today: today, work: map[int64]*work{}}
	if u.master != nil {
		u.master.Version = b.gen
		ix.master = u.master
		for id := range ix.centres {
			b.touch(id) // re-name every centre
		}
	}
	if today != ix.today {
		if dayKey(today) > dayKey(ix.today) {
			for id, e := range ix.centres {
				if len(e.Sessions) > 0 && !visible(e.Sessions[0], today) {
					b.touch(id)
				}
			}
		}
		ix.today = today
	}
	for id, c := range u.centres {
		w := b.work[id]
		if w == nil {
			w = &work{old: ix.centres[id]}
			b.work[id] = w
		}
		if c == nil {
			w.next = nil
			continue
		}
		w.next = &Centre{Centre: *c, Version: b.gen}
	}
	for id, s := range u.sessions {
		if s == nil {
			// Gone from the store: reread found which centre held it.
			if cid, ok := u.gone[id]; ok {
				if w := b.touch(cid); w != nil {
					w.removed[id] = true
				}
			}
			continue
		}
		// A session never moves to another centre (the catalog refuses
		// it), so its old copy, if any, is at s.CentreID.
		w := b.touch(s.CentreID)
		if w == nil {
			continue // its centre is unknown: nothing to show it in
		}
		w.removed[id] = true
		if w.next != nil && visible(*s, today) {
			w.added = append(w.added, ix.internSession(*s))
		}
	}
	changes = b.publish()
	ix.applied = now
}

// touch returns the pending change of an indexed centre, starting one (a
// copy of the entry) if needed; nil for a centre the index does not hold.
func (b *batch) touch(id int64) *work {
	if w, ok := b.work[id]; ok {
		if w.removed == nil {
			w.removed = map[string]bool{}
		}
		return w
	}
	old := b.ix.centres[id]
	if old == nil {
		return nil
	}
	next := *old
	next.Version = b.gen
	w := &work{old: old, next: &next, removed: map[string]bool{}}
	b.work[id] = w
	return w
}

// publish installs the new entries and rebuilds the groups they belong to,
// returning the centres it replaced.
func (b *batch) publish() []CentreChange {
	ix := b.ix
	districtChanges := map[int]map[int64]*Centre{}
	pinChanges := map[int]map[int64]*Centre{}
	mark := func(m map[int]map[int64]*Centre, key int, id int64, c *Centre) {
		if m[key] == nil {
			m[key] = map[int64]*Centre{}
		}
		m[key][id] = c
	}
	changes := make([]CentreChange, 0, len(b.work))
	for id, w := range b.work {
		old, next := w.old, w.next
		if next == nil {
			if old == nil {
				continue
			}
			changes = append(changes, CentreChange{Old: old})
			delete(ix.centres, id)
			ix.nSessions -= len(old.Sessions)
			ix.grid.remove(id, old.Lat, old.Long)
			mark(districtChanges, old.DistrictID, id, nil)
			mark(pinChanges, old.Pincode, id, nil)
			continue
		}
		var base []vax.Session
		if old != nil {
			base = old.Sessions
		}
		pruned := len(base) > 0 && !visible(base[0], b.today)
		if len(w.removed) > 0 || len(w.added) > 0 || pruned {
			ss := make([]vax.Session, 0, len(base)+len(w.added))
			for _, s := range base {
				if w.removed[s.ID] {
					continue
				}
				if !visible(s, b.today) {
					continue
				}
				ss = append(ss, s)
			}
			ss = append(ss, w.added...)
			sortSessions(ss)
			next.Sessions = slices.Clip(ss)
		} else {
			next.Sessions = base
		}
		ix.nSessions += len(next.Sessions) - len(base)
		nameEntry(ix.master, next)
		ix.centres[id] = next
		changes = append(changes, CentreChange{Old: old, New: next})
		switch {
		case old == nil:
			ix.grid.add(id, next.Lat, next.Long)
		case old.Lat != next.Lat || old.Long != next.Long:
			ix.grid.remove(id, old.Lat, old.Long)
			ix.grid.add(id, next.Lat, next.Long)
		}
		if old != nil && old.DistrictID != next.DistrictID {
			mark(districtChanges, old.DistrictID, id, nil)
		}
		if old != nil && old.Pincode != next.Pincode {
			mark(pinChanges, old.Pincode, id, nil)
		}
		mark(districtChanges, next.DistrictID, id, next)
		mark(pinChanges, next.Pincode, id, next)
	}
	for k, ch := range districtChanges {
		ix.districts[k] = rebuild(ix.districts[k], ch, b.gen)
	}
	for k, ch := range pinChanges {
		ix.pins[k] = rebuild(ix.pins[k], ch, b.gen)
	}
	return changes
}

// rebuild returns a new group: old with the changed centres replaced,
// removed (nil) or added.
func rebuild(old *Group, changes map[int64]*Centre, gen uint64) *Group {
	var members []*Centre
	if old != nil {
		members = old.Centres
	}
	out := make([]*Centre, 0, len(members)+len(changes))
	seen := make(map[int64]bool, len(changes))
	for _, c := range members {
		n, changed := changes[c.ID]
		if !changed {
			out = append(out, c)
			continue
		}
		seen[c.ID] = true
		if n != nil {
			out = append(out, n)
		}
	}
	for id, n := range changes {
		if n != nil && !seen[id] {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, byID)
	return &Group{Version: gen, Centres: slices.Clip(out)}
}
