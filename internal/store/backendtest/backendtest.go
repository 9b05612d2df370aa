// Package backendtest opens fresh, migrated stores of both kinds for the
// tests of packages above the store, which run the same test on SQLite and
// on PostgreSQL.
package backendtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

// Opener opens a fresh, migrated store, closed at the test's cleanup.
type Opener func(t testing.TB) vax.Store

// Backend is a store kind by name.
type Backend struct {
	Name string
	Open Opener
}

// All is both store kinds; PostgreSQL skips unless VAXPORT_TEST_POSTGRES
// is set.
var All = []Backend{{"sqlite", SQLite}, {"postgres", Postgres}}

// SQLite opens a store in a new file under the test's temporary
// directory.
func SQLite(t testing.TB) vax.Store { return OpenSQLite(t, nil) }

// Postgres opens a store on a fresh schema (pgtest.DSN); it skips when
// VAXPORT_TEST_POSTGRES is unset and fails when it is set and unreachable.
func Postgres(t testing.TB) vax.Store { return OpenPostgres(t, nil) }

// OpenSQLite is SQLite with the store stamping changes with clock (nil:
// the system clock).
func OpenSQLite(t testing.TB, clock vax.Clock) vax.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "vaxport.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return s
}

// OpenPostgres is Postgres with the store stamping changes with clock
// (nil: the system clock).
func OpenPostgres(t testing.TB, clock vax.Clock) vax.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.DSN(t), postgres.Options{Clock: clock})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return s
}
