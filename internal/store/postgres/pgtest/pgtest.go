// Package pgtest gives tests a private PostgreSQL schema in the database
// named by VAXPORT_TEST_POSTGRES.
//
// Tests of several packages run at once against one database; each gets a
// fresh schema, made the connection's search_path through the DSN, so that
// everything unqualified (vaxport's tables, goose's version table) lands in
// it. It must never touch anything outside the schemas it creates.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the test database's DSN.
const EnvVar = "VAXPORT_TEST_POSTGRES"

// SchemaPrefix starts the name of every schema DSN creates.
const SchemaPrefix = "vaxport_t_"

// DSN returns a DSN for a fresh, empty PostgreSQL schema private to this test,
// dropped at cleanup. It skips the test when VAXPORT_TEST_POSTGRES is unset,
// and fails it when set but unreachable.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skipf("%s is unset: skipping PostgreSQL test", EnvVar)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("pgtest: random schema name: %v", err)
	}
	schema := SchemaPrefix + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: %s is set but PostgreSQL is unreachable: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		// The test's context is over by now; the drop gets its own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		// A store left open would hold locks on the schema's tables: wait
		// a bounded time rather than hang the test binary.
		if _, err := conn.Exec(ctx, "SET lock_timeout = '20s'"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvVar, err)
	}
	return dsn
}

// withSearchPath adds search_path=schema to a DSN in URL or key=value form.
// pgx sends parameters it does not know as session settings.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}
