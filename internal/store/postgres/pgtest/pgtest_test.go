package pgtest_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
)

// schemaExists reports whether schema exists, asked on the base database.
func schemaExists(t *testing.T, schema string) bool {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), os.Getenv(pgtest.EnvVar))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(t.Context())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil {
		t.Fatalf("pg_namespace: %v", err)
	}
	return n == 1
}

func TestDSN(t *testing.T) {
	if os.Getenv(pgtest.EnvVar) == "" {
		t.Skipf("%s is unset", pgtest.EnvVar)
	}
	var schemas []string
	for i := range 2 {
		t.Run("private schema", func(t *testing.T) {
			dsn := pgtest.DSN(t)
			conn, err := pgx.Connect(t.Context(), dsn)
			if err != nil {
				t.Fatalf("connect to %d: %v", i, err)
			}
			defer conn.Close(t.Context())
			var schema string
			var tables int
			if err := conn.QueryRow(t.Context(),
				"SELECT current_schema(), (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())").
				Scan(&schema, &tables); err != nil {
				t.Fatalf("current_schema: %v", err)
			}
			if !strings.HasPrefix(schema, pgtest.SchemaPrefix) {
				t.Fatalf("got current schema %q, want prefix %q", schema, pgtest.SchemaPrefix)
			}
			if tables != 0 {
				t.Errorf("got %d tables in the new schema, want 0", tables)
			}
			if _, err := conn.Exec(t.Context(), "CREATE TABLE t (id int)"); err != nil {
				t.Fatalf("create table: %v", err)
			}
			schemas = append(schemas, schema)
		})
	}
	if len(schemas) != 2 {
		t.Fatalf("got %d schemas, want 2", len(schemas))
	}
	if schemas[0] == schemas[1] {
		t.Errorf("two tests got the same schema %q", schemas[0])
	}
	for _, s := range schemas {
		if schemaExists(t, s) {
			t.Errorf("schema %s still exists after its test's cleanup", s)
		}
	}
}

func TestDSNKeyValueForm(t *testing.T) {
	if os.Getenv(pgtest.EnvVar) == "" {
		t.Skipf("%s is unset", pgtest.EnvVar)
	}
	cfg, err := pgx.ParseConfig(os.Getenv(pgtest.EnvVar))
	if err != nil {
		t.Fatalf("parse %s: %v", pgtest.EnvVar, err)
	}
	kv := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", cfg.Host, cfg.Port, cfg.User, cfg.Database)
	if cfg.Password != "" {
		kv += fmt.Sprintf(" password='%s'", strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(cfg.Password))
	}
	t.Setenv(pgtest.EnvVar, kv)
	dsn := pgtest.DSN(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(t.Context())
	var schema string
	if err := conn.QueryRow(t.Context(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatalf("current_schema: %v", err)
	}
	if !strings.HasPrefix(schema, pgtest.SchemaPrefix) {
		t.Errorf("got current schema %q, want prefix %q", schema, pgtest.SchemaPrefix)
	}
}
