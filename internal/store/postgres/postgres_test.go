package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/store/storetest"
	"github.com/vaxport/vaxport/internal/vax"
)

// open opens a store on dsn, closed at cleanup.
func open(t *testing.T, dsn string, opts postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// migrated opens a store on a fresh schema and migrates it; it returns the
// DSN too, for second handles.
func migrated(t *testing.T, opts postgres.Options) (*postgres.Store, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	s := open(t, dsn, opts)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s, dsn
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Handles {
		s, dsn := migrated(t, postgres.Options{})
		return storetest.Handles{
			Store:  s,
			Second: func(t *testing.T) vax.Store { return open(t, dsn, postgres.Options{}) },
		}
	})
}

func TestMigrateTwice(t *testing.T) {
	s, _ := migrated(t, postgres.Options{})
	ctx := t.Context()
	cur, latest, err := s.Migrations(ctx)
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if cur != latest || latest < 1 {
		t.Fatalf("after Migrate: got current %d latest %d, want equal and ≥ 1", cur, latest)
	}
	if err := s.InTx(ctx, func(tx vax.Tx) error { return tx.SetMeta(ctx, "k", "v") }); err != nil {
		t.Fatalf("SetMeta: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: got %v, want nil", err)
	}
	cur2, latest2, err := s.Migrations(ctx)
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if cur2 != cur || latest2 != latest {
		t.Errorf("after second Migrate: got %d/%d, want %d/%d", cur2, latest2, cur, latest)
	}
	var v string
	if err := s.View(ctx, func(tx vax.Tx) (err error) { v, err = tx.Meta(ctx, "k"); return err }); err != nil || v != "v" {
		t.Errorf("Meta after second Migrate: got %q, %v; want \"v\", nil", v, err)
	}
}

func TestMigrationsBeforeMigrate(t *testing.T) {
	s := open(t, pgtest.DSN(t), postgres.Options{})
	cur, latest, err := s.Migrations(t.Context())
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if cur != 0 || latest < 1 {
		t.Errorf("got current %d latest %d, want 0 and ≥ 1", cur, latest)
	}
	// Reading the version must not create goose's table.
	cur, _, err = s.Migrations(t.Context())
	if err != nil || cur != 0 {
		t.Errorf("second Migrations: got %d, %v; want 0, nil", cur, err)
	}
}

// TestSchemaIsolation checks what pgtest promises: the tables and goose's
// version table land in the test's own schema.
func TestSchemaIsolation(t *testing.T) {
	_, dsn := migrated(t, postgres.Options{})
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatalf("current_schema: %v", err)
	}
	if len(schema) <= len(pgtest.SchemaPrefix) || schema[:len(pgtest.SchemaPrefix)] != pgtest.SchemaPrefix {
		t.Fatalf("got current schema %q, want prefix %q", schema, pgtest.SchemaPrefix)
	}
	for _, table := range []string{"goose_db_version", "centres", "sessions", "changes"} {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = $2",
			schema, table).Scan(&n); err != nil {
			t.Fatalf("pg_tables: %v", err)
		}
		if n != 1 {
			t.Errorf("table %s in schema %s: got %d, want 1", table, schema, n)
		}
	}
}

func seed(t *testing.T, s vax.Store) {
	t.Helper()
	ctx := t.Context()
	err := s.InTx(ctx, func(tx vax.Tx) error {
		if err := tx.PutState(ctx, vax.State{ID: 17, Name: "Kerala", LocalNames: map[string]string{"ml": "കേരളം"}}); err != nil {
			return err
		}
		if err := tx.PutState(ctx, vax.State{ID: 21, Name: "Maharashtra"}); err != nil {
			return err
		}
		if err := tx.PutDistrict(ctx, vax.District{ID: 307, StateID: 17, Name: "Ernakulam"}); err != nil {
			return err
		}
		return tx.PutVaccine(ctx, vax.Vaccine{Name: "COVISHIELD", Doses: 2, IntervalDays: 84,
			DCCProduct: "Covishield", DCCManufacturer: "ORG-100001981", DCCProphylaxis: "J07BX03"})
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
}

func centre(id int64) vax.Centre {
	return vax.Centre{ID: id, Name: "PHC Kakkanad", Address: "Kakkanad", StateID: 17, DistrictID: 307,
		BlockName: "Vazhakulam", Pincode: 682030, Lat: 10.01, Long: 76.34, From: "09:00:00", To: "17:00:00",
		FeeType: vax.Paid, Fees: []vax.Fee{{Vaccine: "COVISHIELD", Amount: 780}}}
}

func TestCentreIDs(t *testing.T) {
	s, _ := migrated(t, postgres.Options{})
	seed(t, s)
	ctx := t.Context()
	create := func(id int64) (got int64, err error) {
		err = s.InTx(ctx, func(tx vax.Tx) error {
			got, err = tx.CreateCentre(ctx, centre(id))
			return err
		})
		return got, err
	}
	steps := []struct {
		id, want int64
		code     vax.Code
	}{
		{id: 1, want: 1},              // explicit id on a fresh sequence
		{id: 0, want: 2},              // assigned after it
		{id: 10, want: 10},            // explicit jump
		{id: 0, want: 11},             // assigned above it
		{id: 5, want: 5},              // explicit below the sequence: it stays
		{id: 0, want: 12},             // still above everything
		{id: 11, code: vax.Conflict},  // taken
		{id: 0, want: 13},             // the sequence did not go back
		{id: 100, want: 100},          // explicit
		{id: 100, code: vax.Conflict}, // taken again
	}
	for i, st := range steps {
		got, err := create(st.id)
		if st.code != "" {
			if vax.ErrorCode(err) != st.code {
				t.Fatalf("step %d CreateCentre(%d): got %v, want code %s", i, st.id, err, st.code)
			}
			continue
		}
		if err != nil || got != st.want {
			t.Fatalf("step %d CreateCentre(%d): got %d, %v; want %d", i, st.id, got, err, st.want)
		}
	}
	if got, err := create(0); err != nil || got != 101 {
		t.Fatalf("CreateCentre(0) after 100: got %d, %v; want 101", got, err)
	}
}

func TestCentreFirstExplicitThenAssigned(t *testing.T) {
	s, _ := migrated(t, postgres.Options{})
	seed(t, s)
	ctx := t.Context()
	var ids []int64
	err := s.InTx(ctx, func(tx vax.Tx) error {
		for _, id := range []int64{0, 0, 2} {
			got, err := tx.CreateCentre(ctx, centre(id))
			if id == 2 {
				// 2 was assigned: Conflict, and the transaction goes on.
				if vax.ErrorCode(err) != vax.Conflict {
					t.Errorf("CreateCentre(2): got %v, want Conflict", err)
				}
				continue
			}
			if err != nil {
				return err
			}
			ids = append(ids, got)
		}
		got, err := tx.CreateCentre(ctx, centre(0))
		ids = append(ids, got)
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, ids); diff != "" {
		t.Errorf("assigned ids (-want +got):\n%s", diff)
	}
}

func TestCentreDistrictChecks(t *testing.T) {
	s, _ := migrated(t, postgres.Options{})
	seed(t, s)
	ctx := t.Context()
	tests := []struct {
		name string
		c    vax.Centre
		want vax.Code
	}{
		{"unknown district", func() vax.Centre { c := centre(0); c.DistrictID = 9999; return c }(), vax.NotFound},
		{"district of another state", func() vax.Centre { c := centre(0); c.StateID = 21; return c }(), vax.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.InTx(ctx, func(tx vax.Tx) error {
				_, err := tx.CreateCentre(ctx, tc.c)
				return err
			})
			if vax.ErrorCode(err) != tc.want {
				t.Errorf("got %v, want code %s", err, tc.want)
			}
		})
	}
}

func TestViewRefusesWrites(t *testing.T) {
	s, _ := migrated(t, postgres.Options{})
	seed(t, s)
	ctx := t.Context()
	writes := map[string]func(vax.Tx) error{
		"SetMeta":      func(tx vax.Tx) error { return tx.SetMeta(ctx, "k", "v") },
		"PutState":     func(tx vax.Tx) error { return tx.PutState(ctx, vax.State{ID: 1, Name: "x"}) },
		"AppendChange": func(tx vax.Tx) error { return tx.AppendChange(ctx, vax.ChangeCentre, "1") },
		"CreateCentre": func(tx vax.Tx) error { _, err := tx.CreateCentre(ctx, centre(0)); return err },
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			err := s.View(ctx, write)
			if err == nil || vax.ErrorCode(err) != vax.Internal {
				t.Errorf("got %v, want an Internal error", err)
			}
			var ve *vax.Error
			if !errors.As(err, &ve) {
				t.Errorf("got %T, want a *vax.Error", err)
			}
		})
	}
	changes, err := s.Changes(ctx, 0, 0)
	if err != nil || len(changes) != 0 {
		t.Errorf("Changes after refused writes: got %v, %v; want none", changes, err)
	}
}

// TestDomainErrorsKeepTxUsable checks that Conflict and NotFound outcomes do
// not abort the PostgreSQL transaction: later statements in it still work.
func TestDomainErrorsKeepTxUsable(t *testing.T) {
	s, _ := migrated(t, postgres.Options{})
	seed(t, s)
	ctx := t.Context()
	const id = "0b7e5c1e-2f2c-4c39-9a53-0f6f3c1b8a11"
	sess := vax.Session{ID: id, CentreID: 1, Date: vax.Date{Year: 2021, Month: 6, Day: 1}, Vaccine: "COVISHIELD",
		MinAge: 18, Capacity1: 10, Capacity2: 5, Slots: []string{"09:00AM-11:00AM"}, Status: vax.SessionOpen}
	err := s.InTx(ctx, func(tx vax.Tx) error {
		if _, err := tx.CreateCentre(ctx, centre(1)); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		checks := []struct {
			name string
			err  error
			want vax.Code
		}{
			{"duplicate session", tx.CreateSession(ctx, sess), vax.Conflict},
			{"unknown centre", tx.CreateSession(ctx, func() vax.Session {
				s := sess
				s.ID, s.CentreID = "0b7e5c1e-2f2c-4c39-9a53-0f6f3c1b8a12", 2
				return s
			}()), vax.NotFound},
			{"unknown vaccine", tx.CreateSession(ctx, func() vax.Session {
				s := sess
				s.ID, s.Vaccine = "0b7e5c1e-2f2c-4c39-9a53-0f6f3c1b8a13", "NOPE"
				return s
			}()), vax.NotFound},
			{"duplicate centre", func() error { _, err := tx.CreateCentre(ctx, centre(1)); return err }(), vax.Conflict},
			{"unknown district state", tx.PutDistrict(ctx, vax.District{ID: 1, StateID: 99, Name: "x"}), vax.NotFound},
			{"missing meta", func() error { _, err := tx.Meta(ctx, "nope"); return err }(), vax.NotFound},
			{"session not a uuid", func() error { _, err := tx.Session(ctx, "nope"); return err }(), vax.NotFound},
		}
		for _, c := range checks {
			if vax.ErrorCode(c.err) != c.want {
				t.Errorf("%s: got %v, want code %s", c.name, c.err, c.want)
			}
		}
		return tx.AppendChange(ctx, vax.ChangeSession, id)
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	err = s.View(ctx, func(tx vax.Tx) error {
		got, err := tx.Session(ctx, id)
		if err != nil {
			return err
		}
		if got.UpdatedAt.IsZero() || got.UpdatedAt.Location() != time.UTC {
			t.Errorf("UpdatedAt: got %v, want a UTC time", got.UpdatedAt)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
}

func TestWakeupReachesSecondHandle(t *testing.T) {
	a, dsn := migrated(t, postgres.Options{})
	b := open(t, dsn, postgres.Options{})
	ctx := t.Context()
	// Drain anything pending (nothing is expected, but a wakeup here would
	// not prove delivery).
	select {
	case <-b.Wakeups():
	default:
	}
	// A rolled-back transaction's NOTIFY is dropped, and a committed one's
	// delivered. Only the latter can satisfy the wait below.
	errRollback := errors.New("roll back")
	err := a.InTx(ctx, func(tx vax.Tx) error {
		if err := tx.AppendChange(ctx, vax.ChangeCentre, "0"); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx: got %v, want the rollback error", err)
	}
	if err := a.InTx(ctx, func(tx vax.Tx) error { return tx.AppendChange(ctx, vax.ChangeCentre, "1") }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
	select {
	case _, ok := <-b.Wakeups():
		if !ok {
			t.Fatal("Wakeups closed before Close")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no wakeup on the second handle within 2s of the commit")
	}
	changes, err := b.Changes(ctx, 0, 10)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	if len(changes) != 1 || changes[0].Key != "1" {
		t.Errorf("Changes: got %+v, want the one committed change", changes)
	}
}

func TestWakeupsClosedOnClose(t *testing.T) {
	dsn := pgtest.DSN(t)
	ignore := goleak.IgnoreCurrent()
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	w := s.Wakeups()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range w { // drains a pending wakeup; ends only if closed
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The listener and the pool's goroutines are gone.
	goleak.VerifyNone(t, ignore)
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5", postgres.Options{})
	if vax.ErrorCode(err) != vax.Unavailable {
		t.Errorf("got %v, want code Unavailable", err)
	}
	_, err = postgres.Open(ctx, "postgres://%zz", postgres.Options{})
	if vax.ErrorCode(err) != vax.Invalid {
		t.Errorf("bad DSN: got %v, want code Invalid", err)
	}
}

func TestStats(t *testing.T) {
	s, _ := migrated(t, postgres.Options{MaxConns: 2})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	st := s.Stats()
	if st.Open < 1 || st.Open > 2 || st.InUse != 0 || st.Idle != st.Open {
		t.Errorf("got %+v, want 1..2 open, all idle", st)
	}
}

// TestInTxRetriesDeadlock makes two transactions deadlock: PostgreSQL
// aborts one, and InTx runs it again, so both commit.
func TestInTxRetriesDeadlock(t *testing.T) {
	s, _ := migrated(t, postgres.Options{})
	ctx := t.Context()
	if err := s.InTx(ctx, func(tx vax.Tx) error {
		if err := tx.SetMeta(ctx, "a", "0"); err != nil {
			return err
		}
		return tx.SetMeta(ctx, "b", "0")
	}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	var (
		mu       sync.Mutex
		attempts int
		ready    sync.WaitGroup // both hold their first row
	)
	ready.Add(2)
	run := func(first, second, value string) error {
		firstAttempt := true
		return s.InTx(ctx, func(tx vax.Tx) error {
			mu.Lock()
			attempts++
			mu.Unlock()
			if err := tx.SetMeta(ctx, first, value); err != nil {
				return err
			}
			if firstAttempt {
				firstAttempt = false
				ready.Done()
				ready.Wait()
			}
			return tx.SetMeta(ctx, second, value)
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- run("a", "b", "x") }()
	go func() { errs <- run("b", "a", "y") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("InTx: got %v, want both to commit", err)
		}
	}
	// The barrier makes a deadlock certain, so the victim ran again.
	if attempts < 3 {
		t.Errorf("got %d attempts, want at least 3 (the deadlock victim run again)", attempts)
	}
	var a, b string
	if err := s.View(ctx, func(tx vax.Tx) (err error) {
		if a, err = tx.Meta(ctx, "a"); err != nil {
			return err
		}
		b, err = tx.Meta(ctx, "b")
		return err
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	if a != b {
		t.Errorf("got a=%q b=%q, want one transaction's value in both", a, b)
	}
}
