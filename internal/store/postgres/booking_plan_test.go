package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// TestBookingStatementsProbe: the reads and the admission of a booking
// batch cost what the batch holds, not what the tables hold. On tables as
// a rush finds them — tens of thousands of rows, never analysed — the
// facts query probes the beneficiaries, accounts and places by key, and an
// admission where everything fits runs none of its deletes. Written as
// joins and semi-joins, the planner scanned the tables whole on every
// batch.
func TestBookingStatementsProbe(t *testing.T) {
	dsn := pgtest.DSN(t)
	s, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	// An admission where every appointment fits, in a transaction rolled
	// back: its deletes of what did not fit must not run, whatever plan
	// they got (a plan cached early in a rush is made on tables this
	// small).
	ctx := t.Context()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	sid := "00000000-0000-4000-8000-000000000001"
	for _, q := range []string{
		`INSERT INTO states (id, name) VALUES (17, 'Kerala')`,
		`INSERT INTO districts (id, state_id, name) VALUES (307, 17, 'Ernakulam')`,
		`INSERT INTO vaccines VALUES ('COVISHIELD', 2, 84, '', '', '')`,
		`INSERT INTO centres (id, name, address, state_id, district_id, block_name, pincode, lat, long, open_from,
			open_to, fee_type) VALUES (1, 'Kochi', '', 17, 307, '', 682001, 0, 0, '09:00', '17:00', 'Free')`,
		`INSERT INTO sessions (id, centre_id, date, vaccine, min_age, max_age, allow_all_age, capacity1, capacity2,
			slots, status, updated_at) VALUES ('` + sid + `', 1, current_date, 'COVISHIELD', 18, 0, true, 100, 0,
			'{09:00AM-11:00AM}', 'open', now())`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var as []vax.Appointment
	var msgs []vax.OutboxMessage
	for i := range 3 {
		as = append(as, vax.Appointment{ID: fmt.Sprintf("20000000-0000-4000-8000-%012d", i), AccountID: sid,
			SessionID: sid, Dose: 1, Slot: "09:00AM-11:00AM", Status: vax.AppointmentLive, CreatedAt: time.Now(),
			Beneficiaries: []vax.AppointmentPlace{{Ref: fmt.Sprint(20000000000000 + i), SecretSealed: []byte{1},
				Status: vax.AppointmentLive}}})
		msgs = append(msgs, vax.OutboxMessage{ID: fmt.Sprintf("30000000-0000-4000-8000-%012d", i), Kind: "booked",
			Payload: []byte{1}, Status: vax.MessagePending, CreatedAt: time.Now(), NextAttemptAt: time.Now()})
	}
	r := batchRows(as, msgs, []int{0, 1, 2})
	q, args := admission(r, true, true, false, time.Now())
	plan := explain(t, tx, "EXPLAIN (ANALYZE, TIMING OFF) "+q, args...)
	if !strings.Contains(plan, "Update on sessions") {
		t.Fatalf("not the admission's plan:\n%s", plan)
	}
	for _, line := range strings.Split(plan, "\n") {
		for _, table := range []string{"appointments", "appointment_places", "outbox"} {
			if strings.Contains(line, " on "+table) && strings.Contains(line, "Scan") && !strings.Contains(line, "never executed") {
				t.Errorf("an admission where everything fits reads %s: %s\n%s", table, strings.TrimSpace(line), plan)
			}
		}
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// The facts query on 20,000 beneficiaries, accounts and live places.
	const n = 20000
	for _, q := range []string{
		`INSERT INTO accounts SELECT gen_random_uuid(), 'm' || g, '\x00', '0000', now() FROM generate_series(1, 20000) g`,
		`INSERT INTO beneficiaries SELECT (10000000000000 + g)::text, a.id, 'Bench', 1990, 1, 8, 'p' || g, '\x00', '0000',
			false, now() FROM (SELECT id, row_number() OVER () AS g FROM accounts) a`,
		`INSERT INTO appointment_places SELECT gen_random_uuid(), (10000000000000 + g)::text, 1, '\x00', 'live'
			FROM generate_series(1, 20000) g`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var refs []string
	for i := 1; i <= 128; i++ {
		refs = append(refs, fmt.Sprint(10000000000000+i*(n/128)))
	}
	plan = explain(t, s.pool, "EXPLAIN "+bookingFactsQuery, refs)
	for _, table := range []string{"beneficiaries", "accounts", "appointment_places", "doses"} {
		if strings.Contains(plan, "Seq Scan on "+table) {
			t.Errorf("the facts query scans %s whole:\n%s", table, plan)
		}
	}
}

// explain runs an EXPLAIN and returns its plan as text.
func explain(t *testing.T, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args ...any) string {
	t.Helper()
	rows, err := q.Query(t.Context(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

func TestUUIDOf(t *testing.T) {
	u := uuidOf("0123ABCD-4567-89ab-cdef-0123456789AB")
	want := [16]byte{0x01, 0x23, 0xab, 0xcd, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}
	if !u.Valid || u.Bytes != want {
		t.Errorf("uuidOf: got %x (valid %v), want %x", u.Bytes, u.Valid, want)
	}
	for _, bad := range []string{"", "0123abcd-4567-89ab-cdef-0123456789a", "0123abcd-4567-89ab-cdef-0123456789ag"} {
		if u := uuidOf(bad); u.Valid {
			t.Errorf("uuidOf(%q) = %x, want NULL", bad, u.Bytes)
		}
	}
}
