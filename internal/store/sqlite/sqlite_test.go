package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/store/storetest"
	"github.com/vaxport/vaxport/internal/vax"
)

// openStore opens path and closes it when the test ends.
func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Handles {
		path := filepath.Join(t.TempDir(), "vaxport.db")
		s := openStore(t, path)
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		return storetest.Handles{
			Store:  s,
			Second: func(t *testing.T) vax.Store { return openStore(t, path) },
		}
	})
}

func TestMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vaxport.db")
	s := openStore(t, path)

	current, latest, err := s.Migrations(t.Context())
	if err != nil {
		t.Fatalf("Migrations before Migrate: %v", err)
	}
	if current != 0 || latest < 1 {
		t.Errorf("Migrations before Migrate = %d, %d; want 0 and at least 1", current, latest)
	}
	for i := range 2 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		current, latest, err = s.Migrations(t.Context())
		if err != nil || current != latest {
			t.Errorf("Migrations after Migrate #%d = %d, %d, %v; want current == latest", i+1, current, latest, err)
		}
	}

	// A second handle on a migrated file sees the version and needs nothing.
	s2 := openStore(t, path)
	if c, l, err := s2.Migrations(t.Context()); err != nil || c != l {
		t.Errorf("Migrations via a second handle = %d, %d, %v; want current == latest", c, l, err)
	}
}

func TestOpenRefusesNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file::memory:?cache=shared", "x.db?_pragma=foo"} {
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q): got no error, want Invalid", path)
			continue
		}
		if vax.ErrorCode(err) != vax.Invalid {
			t.Errorf("Open(%q) = %v, want code Invalid", path, err)
		}
	}
}

func TestClockStampsChangesAndSessions(t *testing.T) {
	// 12:00:00.7 IST: stored UTC, truncated to the second.
	ist := time.FixedZone("IST", 5*3600+1800)
	now := time.Date(2021, 5, 1, 12, 0, 0, 700_000_000, ist)
	clock := vax.NewManualClock(now)
	path := filepath.Join(t.TempDir(), "vaxport.db")
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := s.InTx(t.Context(), func(tx vax.Tx) error {
		return tx.AppendChange(t.Context(), vax.ChangeCentre, "1")
	}); err != nil {
		t.Fatalf("InTx: %v", err)
	}
	cs, err := s.Changes(t.Context(), 0, 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Changes = %v, %v; want one change", cs, err)
	}
	want := time.Date(2021, 5, 1, 6, 30, 0, 0, time.UTC)
	if !cs[0].At.Equal(want) || cs[0].At.Location() != time.UTC {
		t.Errorf("change At = %v, want %v", cs[0].At, want)
	}

	// PruneChanges: strictly before.
	for _, tt := range []struct {
		before time.Time
		want   int64
	}{
		{want, 0},
		{want.Add(500 * time.Millisecond), 1},
	} {
		n, err := s.PruneChanges(t.Context(), tt.before)
		if err != nil || n != tt.want {
			t.Errorf("PruneChanges(%v) = %d, %v; want %d", tt.before, n, err, tt.want)
		}
	}
}
