package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vaxport/vaxport/internal/vax"
)

func testInTx(t *testing.T, open Opener) {
	t.Run("commits", func(t *testing.T) {
		s := newStore(t, open)
		inTx(t, s, func(tx vax.Tx) error { return tx.SetMeta(t.Context(), "k", "v") })
		view(t, s, func(tx vax.Tx) error {
			got, err := tx.Meta(t.Context(), "k")
			if err != nil {
				return err
			}
			if got != "v" {
				t.Errorf("Meta(k) = %q, want %q", got, "v")
			}
			return nil
		})
	})

	t.Run("returns fn's error and rolls back", func(t *testing.T) {
		for _, fnErr := range []error{errStop, vax.Errorf(vax.Conflict, "clash")} {
			t.Run(fmt.Sprint(fnErr), func(t *testing.T) {
				s := newStore(t, open)
				err := s.InTx(t.Context(), func(tx vax.Tx) error {
					ctx := t.Context()
					if err := tx.PutState(ctx, kerala); err != nil {
						return err
					}
					if err := tx.SetMeta(ctx, "k", "v"); err != nil {
						return err
					}
					if err := tx.AppendChange(ctx, vax.ChangeCentre, "1"); err != nil {
						return err
					}
					return fnErr
				})
				if !errors.Is(err, fnErr) {
					t.Errorf("InTx = %v, want %v", err, fnErr)
				}
				if got, want := vax.ErrorCode(err), vax.ErrorCode(fnErr); got != want {
					t.Errorf("InTx error code = %s, want %s", got, want)
				}
				view(t, s, func(tx vax.Tx) error {
					if _, err := tx.Meta(t.Context(), "k"); !errors.Is(err, vax.ErrNotFound) {
						t.Errorf("Meta(k) after rollback: got %v, want NotFound", err)
					}
					states, err := tx.States(t.Context())
					if err != nil {
						return err
					}
					if len(states) != 0 {
						t.Errorf("States after rollback = %v, want none", states)
					}
					return nil
				})
				if cs := allChanges(t, s); len(cs) != 0 {
					t.Errorf("Changes after rollback = %v, want none", cs)
				}
			})
		}
	})

	t.Run("panic rolls back and propagates", func(t *testing.T) {
		s := newStore(t, open)
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Errorf("recovered %v, want boom", r)
				}
			}()
			_ = s.InTx(t.Context(), func(tx vax.Tx) error {
				if err := tx.SetMeta(t.Context(), "k", "v"); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		// A transaction left open would hold the store; give up rather
		// than hang.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err := s.InTx(ctx, func(tx vax.Tx) error {
			if _, err := tx.Meta(ctx, "k"); !errors.Is(err, vax.ErrNotFound) {
				t.Errorf("Meta(k) after panic: got %v, want NotFound", err)
			}
			return tx.SetMeta(ctx, "k2", "v2")
		})
		if err != nil {
			t.Errorf("InTx after a panicking InTx: %v", err)
		}
	})
}

func testView(t *testing.T, open Opener) {
	t.Run("reads committed data", func(t *testing.T) {
		s := seeded(t, open)
		view(t, s, func(tx vax.Tx) error {
			got, err := tx.States(t.Context())
			if err != nil {
				return err
			}
			if diff := cmp.Diff([]vax.State{delhi, kerala}, got); diff != "" {
				t.Errorf("States in View (-want +got):\n%s", diff)
			}
			return nil
		})
	})

	t.Run("returns fn's error", func(t *testing.T) {
		s := newStore(t, open)
		if err := s.View(t.Context(), func(vax.Tx) error { return errStop }); !errors.Is(err, errStop) {
			t.Errorf("View = %v, want %v", err, errStop)
		}
	})

	t.Run("refuses writes", func(t *testing.T) {
		s := seeded(t, open)
		ids := createCentres(t, s, centre(0, ernakulam, 682001))
		se := session(1, ids[0], day0)
		createSessions(t, s, se)
		inTx(t, s, func(tx vax.Tx) error { return tx.SetMeta(t.Context(), "k", "v") })
		before := snapshot(t, s)

		c := centre(0, ernakulam, 682002)
		upd := centre(ids[0], thrissur, 680001)
		se2 := se
		se2.Capacity1 = 7
		writes := []struct {
			name string
			fn   func(ctx context.Context, tx vax.Tx) error
		}{
			{"SetMeta", func(ctx context.Context, tx vax.Tx) error { return tx.SetMeta(ctx, "k", "w") }},
			{"PutState", func(ctx context.Context, tx vax.Tx) error {
				return tx.PutState(ctx, vax.State{ID: 1, Name: "Andaman and Nicobar Islands"})
			}},
			{"PutDistrict", func(ctx context.Context, tx vax.Tx) error {
				return tx.PutDistrict(ctx, vax.District{ID: 1, StateID: 17, Name: "Alappuzha"})
			}},
			{"PutVaccine", func(ctx context.Context, tx vax.Tx) error {
				return tx.PutVaccine(ctx, vax.Vaccine{Name: "SPUTNIK V", Doses: 2, IntervalDays: 21})
			}},
			{"CreateCentre", func(ctx context.Context, tx vax.Tx) error { _, err := tx.CreateCentre(ctx, c); return err }},
			{"UpdateCentre", func(ctx context.Context, tx vax.Tx) error { return tx.UpdateCentre(ctx, upd) }},
			{"CreateSession", func(ctx context.Context, tx vax.Tx) error {
				return tx.CreateSession(ctx, session(2, ids[0], day0))
			}},
			{"UpdateSession", func(ctx context.Context, tx vax.Tx) error { return tx.UpdateSession(ctx, se2) }},
			{"AppendChange", func(ctx context.Context, tx vax.Tx) error {
				return tx.AppendChange(ctx, vax.ChangeCentre, "1")
			}},
		}
		for _, w := range writes {
			err := s.View(t.Context(), func(tx vax.Tx) error { return w.fn(t.Context(), tx) })
			if err == nil {
				t.Errorf("%s in View: got no error, want one", w.name)
			}
		}
		if diff := cmp.Diff(before, snapshot(t, s), ignoreUpdatedAt); diff != "" {
			t.Errorf("store changed by writes in View (-before +after):\n%s", diff)
		}
	})

	t.Run("consistent snapshot", func(t *testing.T) {
		s := newStore(t, open)
		inTx(t, s, func(tx vax.Tx) error { return tx.SetMeta(t.Context(), "k", "v1") })
		view(t, s, func(tx vax.Tx) error {
			ctx := t.Context()
			got, err := tx.Meta(ctx, "k")
			if err != nil {
				return err
			}
			if got != "v1" {
				t.Errorf("Meta(k) = %q, want v1", got)
			}
			if err := s.InTx(ctx, func(w vax.Tx) error { return w.SetMeta(ctx, "k", "v2") }); err != nil {
				return fmt.Errorf("InTx during View: %w", err)
			}
			got, err = tx.Meta(ctx, "k")
			if err != nil {
				return err
			}
			if got != "v1" {
				t.Errorf("Meta(k) after a concurrent commit = %q, want the snapshot's v1", got)
			}
			return nil
		})
		view(t, s, func(tx vax.Tx) error {
			got, err := tx.Meta(t.Context(), "k")
			if err == nil && got != "v2" {
				t.Errorf("Meta(k) in a new View = %q, want v2", got)
			}
			return err
		})
	})
}

// contents is everything a test store holds, for before/after comparisons.
type contents struct {
	Meta      string
	States    []vax.State
	Districts []vax.District
	Vaccines  []vax.Vaccine
	Centres   []vax.Centre
	Sessions  []vax.Session
	Changes   []vax.Change
}

func snapshot(t *testing.T, s vax.Store) contents {
	t.Helper()
	var c contents
	view(t, s, func(tx vax.Tx) error {
		ctx := t.Context()
		var err error
		if c.Meta, err = tx.Meta(ctx, "k"); err != nil && !errors.Is(err, vax.ErrNotFound) {
			return err
		}
		if c.States, err = tx.States(ctx); err != nil {
			return err
		}
		for _, st := range c.States {
			ds, err := tx.Districts(ctx, st.ID)
			if err != nil {
				return err
			}
			c.Districts = append(c.Districts, ds...)
		}
		if c.Vaccines, err = tx.Vaccines(ctx); err != nil {
			return err
		}
		if c.Centres, err = tx.Centres(ctx, vax.CentreQuery{}); err != nil {
			return err
		}
		c.Sessions, err = tx.Sessions(ctx, vax.SessionQuery{})
		return err
	})
	c.Changes = allChanges(t, s)
	return c
}

func testChanges(t *testing.T, open Opener) {
	t.Run("empty", func(t *testing.T) {
		s := newStore(t, open)
		if cs := allChanges(t, s); len(cs) != 0 {
			t.Errorf("Changes of a new store = %v, want none", cs)
		}
	})

	t.Run("committed changes in order", func(t *testing.T) {
		s := newStore(t, open)
		want := []vax.Change{
			{Kind: vax.ChangeCentre, Key: "1"},
			{Kind: vax.ChangeSession, Key: sessionID(1)},
			{Kind: vax.ChangeCentre, Key: "2"},
		}
		inTx(t, s, func(tx vax.Tx) error {
			for _, c := range want[:2] {
				if err := tx.AppendChange(t.Context(), c.Kind, c.Key); err != nil {
					return err
				}
			}
			return nil
		})
		appendChanges(t, s, want[2].Kind, want[2].Key)
		got := allChanges(t, s)
		if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool {
			f := p.Last().String()
			return f == ".Seq" || f == ".At"
		}, cmp.Ignore())); diff != "" {
			t.Fatalf("Changes (-want +got):\n%s", diff)
		}
		for i, c := range got {
			checkStamp(t, fmt.Sprintf("change %d At", i), c.At)
			if i > 0 && c.Seq <= got[i-1].Seq {
				t.Errorf("change %d Seq = %d after %d: want increasing", i, c.Seq, got[i-1].Seq)
			}
			if i > 0 && c.At.Before(got[i-1].At) {
				t.Errorf("change %d At = %v before the earlier %v", i, c.At, got[i-1].At)
			}
		}
	})

	t.Run("rolled-back changes never visible", func(t *testing.T) {
		s := newStore(t, open)
		appendChanges(t, s, vax.ChangeCentre, "a")
		err := s.InTx(t.Context(), func(tx vax.Tx) error {
			if err := tx.AppendChange(t.Context(), vax.ChangeCentre, "b"); err != nil {
				return err
			}
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("InTx = %v, want %v", err, errStop)
		}
		appendChanges(t, s, vax.ChangeCentre, "c")
		if diff := cmp.Diff([]string{"a", "c"}, changeKeys(allChanges(t, s))); diff != "" {
			t.Errorf("change keys (-want +got):\n%s", diff)
		}
	})

	t.Run("pages after a seq", func(t *testing.T) {
		s := newStore(t, open)
		var want []string
		for tx := range 5 {
			var keys []string
			for i := range 5 {
				keys = append(keys, fmt.Sprintf("k%02d", tx*5+i))
			}
			appendChanges(t, s, vax.ChangeSession, keys...)
			want = append(want, keys...)
		}
		var got []string
		var after int64
		for page := 0; ; page++ {
			cs, err := s.Changes(t.Context(), after, 10)
			if err != nil {
				t.Fatalf("Changes(%d, 10): %v", after, err)
			}
			if wantLen := min(10, len(want)-len(got)); len(cs) != wantLen {
				t.Fatalf("page %d: got %d changes, want %d", page, len(cs), wantLen)
			}
			if len(cs) == 0 {
				break
			}
			for _, c := range cs {
				if c.Seq <= after {
					t.Fatalf("Changes(%d) returned seq %d", after, c.Seq)
				}
				after = c.Seq
			}
			got = append(got, changeKeys(cs)...)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("paged keys (-want +got):\n%s", diff)
		}
	})

	t.Run("second handle", func(t *testing.T) {
		h := open(t)
		s1 := h.Store
		s2 := h.Second(t)
		appendChanges(t, s1, vax.ChangeCentre, "from-1")
		waitFor(t, "handle 1's change via handle 2", func() (bool, error) {
			cs, err := s2.Changes(t.Context(), 0, 10)
			return slices.Contains(changeKeys(cs), "from-1"), err
		})
		appendChanges(t, s2, vax.ChangeCentre, "from-2")
		waitFor(t, "handle 2's change via handle 1", func() (bool, error) {
			cs, err := s1.Changes(t.Context(), 0, 10)
			return slices.Contains(changeKeys(cs), "from-2"), err
		})
		if diff := cmp.Diff([]string{"from-1", "from-2"}, changeKeys(allChanges(t, s1))); diff != "" {
			t.Errorf("change keys (-want +got):\n%s", diff)
		}
	})
}

func testPruneChanges(t *testing.T, open Opener) {
	s := newStore(t, open)
	for _, k := range []string{"a", "b", "c"} {
		appendChanges(t, s, vax.ChangeCentre, k)
	}
	cs := allChanges(t, s)
	if len(cs) != 3 {
		t.Fatalf("got %d changes, want 3", len(cs))
	}
	first, last := cs[0].At, cs[2].At
	olderThanLast := 0
	for _, c := range cs {
		if c.At.Before(last) {
			olderThanLast++
		}
	}

	steps := []struct {
		before time.Time
		want   int64
		left   []string
	}{
		{time.Unix(0, 0), 0, []string{"a", "b", "c"}},
		{first, 0, []string{"a", "b", "c"}}, // "before": a change at exactly t stays
		{last, int64(olderThanLast), []string{"a", "b", "c"}[olderThanLast:]},
		{last.Add(time.Second), int64(3 - olderThanLast), nil},
	}
	for _, st := range steps {
		n, err := s.PruneChanges(t.Context(), st.before)
		if err != nil {
			t.Fatalf("PruneChanges(%v): %v", st.before, err)
		}
		if n != st.want {
			t.Errorf("PruneChanges(%v) = %d, want %d", st.before, n, st.want)
		}
		if diff := cmp.Diff(st.left, changeKeys(allChanges(t, s)), cmpEmpty); diff != "" {
			t.Errorf("after PruneChanges(%v) (-want +got):\n%s", st.before, diff)
		}
	}

	// Seqs are never reused after a prune.
	appendChanges(t, s, vax.ChangeCentre, "d")
	after := allChanges(t, s)
	if len(after) != 1 || after[0].Seq <= cs[2].Seq {
		t.Errorf("after pruning up to seq %d, appended %v: want one change with a higher seq", cs[2].Seq, after)
	}
}

func testWakeups(t *testing.T, open Opener) {
	s := newStore(t, open)
	ch := s.Wakeups()
	if ch == nil {
		t.Fatal("Wakeups() = nil")
	}
	if s.Wakeups() != ch {
		t.Error("Wakeups() returned a different channel on the second call")
	}
	// Drain a wakeup from before this point, if any.
	select {
	case <-ch:
	default:
	}
	appendChanges(t, s, vax.ChangeSession, sessionID(1))
	select {
	case _, ok := <-ch:
		if !ok {
			t.Error("Wakeups channel closed while the store is open")
		}
	case <-time.After(2 * time.Second):
		t.Error("no wakeup within 2s of a commit that appended a change")
	}
}

func testPing(t *testing.T, open Opener) {
	s := newStore(t, open)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testMigrations(t *testing.T, open Opener) {
	s := newStore(t, open)
	current, latest, err := s.Migrations(t.Context())
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if latest <= 0 || current != latest {
		t.Errorf("Migrations = current %d, latest %d: want current == latest > 0", current, latest)
	}
}

func testStats(t *testing.T, open Opener) {
	s := newStore(t, open)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	view(t, s, func(tx vax.Tx) error { _, err := tx.States(t.Context()); return err })
	st := s.Stats()
	if st.Open < 0 || st.InUse < 0 || st.Idle < 0 || st.WaitCount < 0 || st.WaitTime < 0 {
		t.Errorf("Stats = %+v: want no negative figure", st)
	}
	if st.InUse+st.Idle > st.Open {
		t.Errorf("Stats = %+v: in use + idle exceeds open", st)
	}
}

func testClose(t *testing.T, open Opener) {
	s := newStore(t, open)
	ch := s.Wakeups()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	timeout := time.After(2 * time.Second)
	for closed := false; !closed; {
		select {
		case _, ok := <-ch:
			closed = !ok
		case <-timeout:
			t.Fatal("Wakeups channel not closed within 2s of Close")
		}
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close: got no error, want one")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
