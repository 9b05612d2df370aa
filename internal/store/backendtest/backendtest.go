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
func OpenSQLite(t testing.TB, clock vax.Clock) vax.Store { return Handles(t, "sqlite", clock)() }

// OpenPostgres is Postgres with the store stamping changes with clock
// (nil: the system clock).
func OpenPostgres(t testing.TB, clock vax.Clock) vax.Store { return Handles(t, "postgres", clock)() }

// Handles returns a function that opens another handle on one fresh store
// of the backend's kind ("sqlite" or "postgres"), migrated by the first:
// the nodes of one deployment. Each handle stamps changes with clock (nil:
// the system clock) and is closed at the test's cleanup. PostgreSQL skips
// unless VAXPORT_TEST_POSTGRES is set.
func Handles(t testing.TB, backend string, clock vax.Clock) func() vax.Store {
	t.Helper()
	var open func() (store, error)
	switch backend {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "vaxport.db")
		open = func() (store, error) { return sqlite.Open(context.Background(), path, sqlite.Options{Clock: clock}) }
	case "postgres":
		dsn := pgtest.DSN(t)
		open = func() (store, error) { return postgres.Open(context.Background(), dsn, postgres.Options{Clock: clock}) }
	default:
		t.Fatalf("backendtest: unknown backend %q", backend)
	}
	migrated := false
	return func() vax.Store {
		t.Helper()
		s, err := open()
		if err != nil {
			t.Fatalf("open %s: %v", backend, err)
		}
		t.Cleanup(func() { s.Close() })
		if !migrated {
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatalf("migrate %s: %v", backend, err)
			}
			migrated = true
		}
		return s
	}
}

// store is what both stores offer: vax.Store and their migrations.
type store interface {
	vax.Store
	Migrate(context.Context) error
}
