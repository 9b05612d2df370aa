package search_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/search/searchtest"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// TestOnCommit checks that a subscriber hears which centres a commit
// replaced, with the entries readers saw before and see after.
func TestOnCommit(t *testing.T) {
	f := newFixture(t, backendtest.OpenSQLite)
	ix := searchtest.Start(t, f.st, f.clock, ist)
	var mu sync.Mutex
	var heard []search.CentreChange
	cancel := ix.OnCommit(func(ch []search.CentreChange) {
		mu.Lock()
		heard = append(heard, ch...)
		mu.Unlock()
	})
	t.Cleanup(cancel)
	find := func(id int64, cond func(search.CentreChange) bool) bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(heard, func(c search.CentreChange) bool {
			return c.New != nil && c.New.ID == id && cond(c)
		})
	}

	c := f.centre(t, "Taluk Hospital", ernakulam, 682020, 10, 76)
	searchtest.Eventually(t, wait, "a commit names the new centre", func() bool {
		return find(c.ID, func(ch search.CentreChange) bool { return ch.Old == nil })
	})
	s := f.session(t, c.ID, 1, "COVISHIELD", 30)
	searchtest.Eventually(t, wait, "a commit shows the session added", func() bool {
		return find(c.ID, func(ch search.CentreChange) bool {
			return (ch.Old == nil || len(ch.Old.Sessions) == 0) && len(ch.New.Sessions) == 1 && ch.New.Sessions[0].ID == s.ID
		})
	})
	if got := ix.Centre(c.ID); got == nil || len(got.Sessions) != 1 {
		t.Fatalf("index does not show the session the hook reported")
	}

	cancel()
	s2 := f.session(t, c.ID, 2, "COVAXIN", 10)
	searchtest.Eventually(t, wait, "index shows the second session", func() bool {
		e := ix.Centre(c.ID)
		return e != nil && len(e.Sessions) == 2
	})
	// The session was created after cancel returned, so no call can
	// carry it.
	if find(c.ID, func(ch search.CentreChange) bool {
		return slices.ContainsFunc(ch.New.Sessions, func(x vax.Session) bool { return x.ID == s2.ID })
	}) {
		t.Error("got a change after cancel, want none")
	}
}
