package search

import "sync"

// CentreChange is one centre an applied batch replaced: Old is the entry
// readers saw before (nil for a centre new to the index), New the entry
// they see now (nil for a centre gone from it). Both are shared and
// read-only.
type CentreChange struct {
	Old, New *Centre
}

// hooks are the OnCommit subscribers.
type hooks struct {
	mu   sync.Mutex
	next int
	fns  map[int]func([]CentreChange)
}

// OnCommit registers fn to be told, after every batch the index applies
// (a change-feed batch, a date roll-over or a snapshot Load), which
// centres it replaced. Calls are made one at a time, in commit order,
// after readers can already see the new entries; fn must return quickly
// and must not call back into OnCommit's returned cancel while running.
// The slice is fn's to keep. cancel stops further calls.
func (ix *Index) OnCommit(fn func([]CentreChange)) (cancel func()) {
	ix.hooks.mu.Lock()
	defer ix.hooks.mu.Unlock()
	if ix.hooks.fns == nil {
		ix.hooks.fns = map[int]func([]CentreChange){}
	}
	id := ix.hooks.next
	ix.hooks.next++
	ix.hooks.fns[id] = fn
	return func() {
		ix.hooks.mu.Lock()
		delete(ix.hooks.fns, id)
		ix.hooks.mu.Unlock()
	}
}

// watched reports whether anyone listens to commits.
func (ix *Index) watched() bool {
	ix.hooks.mu.Lock()
	defer ix.hooks.mu.Unlock()
	return len(ix.hooks.fns) > 0
}

// notify tells every subscriber about changes. Callers hold wmu (so calls
// follow commit order) but not mu (so subscribers may read the index).
func (ix *Index) notify(changes []CentreChange) {
	if len(changes) == 0 {
		return
	}
	ix.hooks.mu.Lock()
	fns := make([]func([]CentreChange), 0, len(ix.hooks.fns))
	for _, fn := range ix.hooks.fns {
		fns = append(fns, fn)
	}
	ix.hooks.mu.Unlock()
	for _, fn := range fns {
		fn(changes)
	}
}
