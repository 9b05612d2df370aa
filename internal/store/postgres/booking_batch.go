package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/vaxport/vaxport/internal/vax"
)

// Batched booking: a rush's requests for one session are booked a batch at
// a time. The session row is locked once and read; the seats that fit are
// taken by one UPDATE, and the batch's appointments, places and SMS are
// inserted by one multi-row INSERT each (unnest of arrays), all sent as one
// pipelined pgx.Batch: two round trips per batch whatever its size.

// checkBatch validates a batch for BookAppointments.
func checkBatch(as []vax.Appointment, msgs []vax.OutboxMessage) error {
	if msgs != nil && len(msgs) != len(as) {
		return vax.Errorf(vax.Invalid, "book appointments: %d messages for %d appointments", len(msgs), len(as))
	}
	for i, a := range as {
		if err := a.ValidateNew(); err != nil {
			return err
		}
		if !strings.EqualFold(a.SessionID, as[0].SessionID) || a.Dose != as[0].Dose {
			return vax.Errorf(vax.Invalid, "book appointments: one session and dose per batch")
		}
		if msgs == nil {
			continue
		}
		if err := checkMessage(msgs[i]); err != nil {
			return err
		}
	}
	return nil
}

// BookAppointments takes the session's row lock as late as it can. In a
// rush several batches of one session run at once (booking runs a few per
// node, and every node runs its own); what they write can be written side
// by side, only the seat count cannot. So the first round inserts every
// appointment, place and message without the lock; then one statement
// locks the session row (FOR UPDATE, so under READ COMMITTED it sees the
// latest committed count), admits the longest prefix of the appointments
// whose seats fit, adds them to the booked count, deletes the rows of the
// rest and appends the change-feed entry. The lock is held from there to
// the commit only. If an appointment does not fit but smaller ones after
// it might (a sold-out boundary: rare), further rounds book those with the
// lock held, inserting only what they admit. Data-modifying CTEs run
// whether or not the final SELECT reads them. The inserts are plain: an
// appointment id, message id or live place that exists fails the statement
// (a unique violation: Conflict), cheaper than ON CONFLICT's speculative
// insertion on every row.
func (t *tx) BookAppointments(ctx context.Context, as []vax.Appointment, msgs []vax.OutboxMessage) ([]bool, error) {
	if err := t.write("book appointments"); err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, nil
	}
	if err := checkBatch(as, msgs); err != nil {
		return nil, err
	}
	out, cands := make([]bool, len(as)), firstN(len(as))
	rows := batchRows(as, msgs, cands)
	if err := t.insertBooking(ctx, rows); err != nil {
		return nil, err
	}
	inserted := true
	for len(cands) > 0 {
		admitted, free, err := t.admitPrefix(ctx, rows, inserted)
		if err != nil {
			return nil, err
		}
		inserted = false
		if cands = afterRound(as, out, cands, admitted, free); len(cands) > 0 {
			rows = batchRows(as, msgs, cands)
		}
	}
	return out, nil
}

// firstN returns 0, 1, … n-1: the candidates of a batch's first round.
func firstN(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// afterRound marks the appointments a round admitted (as[cands[:admitted]])
// booked in out, and returns the candidates a further round may still fit:
// those after the first one left out whose seats fit in what the round
// left free (free: the free seats it found).
func afterRound(as []vax.Appointment, out []bool, cands []int, admitted, free int) []int {
	taken := 0
	for _, i := range cands[:admitted] {
		out[i] = true
		taken += len(as[i].Beneficiaries)
	}
	if admitted == len(cands) {
		return nil
	}
	var rest []int
	for _, i := range cands[admitted+1:] {
		if len(as[i].Beneficiaries) <= free-taken {
			rest = append(rest, i)
		}
	}
	return rest
}

// bookingRows are a batch's candidates as the statements' array arguments.
type bookingRows struct {
	sid                               string
	dose                              int
	ords, seats, pOrds                []int
	ids, accounts, mIDs               []pgtype.UUID
	slots, statuses, pRefs, pStatuses []string
	created                           []time.Time
	pSealed                           [][]byte
	haveMsgs                          bool
	mKinds, mStatuses                 []string
	mPayloads                         [][]byte
	mCreated, mNext                   []time.Time
	mExpires                          []*time.Time
	mAttempts                         []int
}

// batchRows lays out as[cands] (and their messages) as array arguments;
// ords number them from 1 in order.
func batchRows(as []vax.Appointment, msgs []vax.OutboxMessage, cands []int) bookingRows {
	r := bookingRows{sid: strings.ToLower(as[0].SessionID), dose: as[0].Dose, haveMsgs: msgs != nil}
	for o, i := range cands {
		a := as[i]
		r.ords, r.seats = append(r.ords, o+1), append(r.seats, len(a.Beneficiaries))
		r.ids = append(r.ids, uuidOf(a.ID))
		r.accounts = append(r.accounts, uuidOf(a.AccountID))
		r.slots = append(r.slots, a.Slot)
		r.statuses = append(r.statuses, string(a.Status))
		r.created = append(r.created, stamp(a.CreatedAt))
		for _, p := range a.Beneficiaries {
			r.pOrds, r.pRefs = append(r.pOrds, o+1), append(r.pRefs, p.Ref)
			r.pSealed, r.pStatuses = append(r.pSealed, p.SecretSealed), append(r.pStatuses, string(p.Status))
		}
		if msgs != nil {
			m := msgs[i]
			r.mIDs, r.mKinds, r.mPayloads = append(r.mIDs, uuidOf(m.ID)), append(r.mKinds, string(m.Kind)), append(r.mPayloads, m.Payload)
			r.mCreated, r.mExpires = append(r.mCreated, millis(m.CreatedAt)), append(r.mExpires, nullMillis(m.ExpiresAt))
			r.mStatuses, r.mAttempts = append(r.mStatuses, string(m.Status)), append(r.mAttempts, m.Attempts)
			r.mNext = append(r.mNext, millis(m.NextAttemptAt))
		}
	}
	if msgs == nil {
		// unnest pads short arrays with NULLs: give it full-length ones.
		n := len(cands)
		r.mIDs, r.mKinds = make([]pgtype.UUID, n), make([]string, n)
		r.mPayloads, r.mCreated, r.mExpires = make([][]byte, n), r.created, make([]*time.Time, n)
		r.mStatuses, r.mAttempts, r.mNext = r.mKinds, make([]int, n), r.created
	}
	return r
}

// uuidOf is a UUID that vax.ValidUUID accepted, in the form pgx sends in
// binary: an array of strings for a uuid[] parameter goes as text instead,
// quoted element by element here and parsed back by PostgreSQL, a cost
// paid on every row of every batch.
func uuidOf(s string) pgtype.UUID {
	var digits [32]byte
	n := 0
	for i := 0; i < len(s) && n < len(digits); i++ {
		if s[i] != '-' {
			digits[n] = s[i]
			n++
		}
	}
	u := pgtype.UUID{Valid: true}
	if _, err := hex.Decode(u.Bytes[:], digits[:n]); err != nil || n != len(digits) {
		return pgtype.UUID{} // NULL: the statement's NOT NULL refuses it
	}
	return u
}

// The inserts of a batch's rows, as CTEs over the arguments $1 (session),
// $2 (ords), $4 (dose) and $5–$21 (see bookingArgs); keep names their rows
// to insert (a CTE of ords), or the inserts take every row when keep is "".
func bookingInserts(keep string) string {
	join := ""
	if keep != "" {
		join = " JOIN " + keep + " ON " + keep + ".o = u.o"
	}
	return `ia AS (INSERT INTO appointments (id, account_id, session_id, dose, slot, status, created_at)
			SELECT u.i, u.a, $1::uuid, $4::int, u.s, u.st, u.c
			FROM unnest($2::int[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::timestamptz[]) AS u(o, i, a, s, st, c)` + join + `),
		ip AS (INSERT INTO appointment_places (appointment_id, ref, dose, secret_sealed, status)
			SELECT (($5::uuid[])[u.o]), u.r, $4::int, u.s, u.st
			FROM unnest($10::int[], $11::text[], $12::bytea[], $13::text[]) AS u(o, r, s, st)` + join + `),
		io AS (INSERT INTO outbox (id, kind, payload, created_at, expires_at, status, attempts, next_attempt_at,
				claimed_by, provider, provider_ref)
			SELECT u.i, u.k, u.p, u.c, u.e, u.s, u.a, u.n, '', '', ''
			FROM unnest($2::int[], $14::uuid[], $15::text[], $16::bytea[], $17::timestamptz[], $18::timestamptz[],
				$19::text[], $20::int[], $21::timestamptz[]) AS u(o, i, k, p, c, e, s, a, n)` + join + `
			WHERE $22::bool)`
}

// bookingArgs are the arguments $1–$22 of the batch statements.
func (r bookingRows) bookingArgs() []any {
	return []any{r.sid, r.ords, r.seats, r.dose, r.ids, r.accounts, r.slots, r.statuses, r.created,
		r.pOrds, r.pRefs, r.pSealed, r.pStatuses, r.mIDs, r.mKinds, r.mPayloads, r.mCreated, r.mExpires,
		r.mStatuses, r.mAttempts, r.mNext, r.haveMsgs}
}

// insertBooking inserts every row of r, without the session's lock.
func (t *tx) insertBooking(ctx context.Context, r bookingRows) error {
	// $3 (seats) is not used here; give PostgreSQL its type all the same.
	q := `WITH ` + bookingInserts("") + ` SELECT cardinality($3::int[])`
	_, err := t.tx.Exec(ctx, q, r.bookingArgs()...)
	return dbErr(err, "book appointments")
}

// admitPrefix admits the longest prefix of r's appointments that fits,
// under the session's row lock, and reports its length and the free seats
// it found. If inserted, every row of r is in already and those of the
// appointments left out are deleted; otherwise only the admitted ones are
// inserted.
func (t *tx) admitPrefix(ctx context.Context, r bookingRows, inserted bool) (int, int, error) {
	record := !t.seatsMoved[r.sid]
	q, args := admission(r, inserted, record, record && !t.notified, t.now())
	a, err := scanAdmission(t.tx.QueryRow(ctx, q, args...))
	if err != nil {
		return 0, 0, err
	}
	if a.found == 0 {
		if _, err := t.Session(ctx, r.sid); err != nil {
			return 0, 0, err
		}
		return 0, 0, nil // not open: nothing fits
	}
	if a.admitted > 0 && record {
		if t.seatsMoved == nil {
			t.seatsMoved = map[string]bool{}
		}
		t.seatsMoved[r.sid], t.notified = true, true
	}
	return a.admitted, a.free, nil
}

// admitted is what an admission statement reports: whether it found the
// session open, its free seats before, and how many appointments it
// admitted.
type admitted struct{ found, free, admitted int }

func scanAdmission(row pgx.Row) (admitted, error) {
	var a admitted
	var changed int
	if err := row.Scan(&a.found, &a.free, &a.admitted, &changed); err != nil {
		return admitted{}, dbErr(err, "book appointments")
	}
	return a, nil
}

// admission is the statement that admits the longest prefix of r's
// appointments that fits, under the session's row lock (see admitPrefix),
// with its arguments. With record, admitting any appends the session's
// change (at now); with notify, the change also queues a NOTIFY.
func admission(r bookingRows, inserted, record, notify bool, now time.Time) (string, []any) {
	booked, capacity := seatCols(r.dose)
	args := r.bookingArgs()
	rows := bookingInserts("adm")
	if inserted {
		// Only the ords, seats and ids are needed: PostgreSQL refuses
		// arguments a statement does not use (it cannot type them). The
		// deletes of what did not fit are probes by id, and skipped whole
		// (EXISTS is a one-time filter) when everything fit, as it almost
		// always does: written as semi-joins they let the planner scan the
		// tables whole, which it did on every batch while it believed them
		// small.
		args = []any{r.sid, r.ords, r.seats, r.ids, r.mIDs, r.haveMsgs}
		rows = `rej AS (SELECT u.i, u.m FROM unnest($2::int[], $4::uuid[], $5::uuid[]) AS u(o, i, m)
				WHERE u.o NOT IN (SELECT o FROM adm)),
			da AS (DELETE FROM appointments WHERE EXISTS (SELECT 1 FROM rej) AND id = ANY (ARRAY(SELECT i FROM rej))),
			dp AS (DELETE FROM appointment_places
				WHERE EXISTS (SELECT 1 FROM rej) AND appointment_id = ANY (ARRAY(SELECT i FROM rej))),
			dm AS (DELETE FROM outbox WHERE $6::bool AND EXISTS (SELECT 1 FROM rej) AND id = ANY (ARRAY(SELECT m FROM rej)))`
	}
	change, changed := "", "0"
	if record {
		kind, at := fmt.Sprintf("$%d", len(args)+1), fmt.Sprintf("$%d", len(args)+2)
		args = append(args, string(vax.ChangeSession), now)
		change = `, ch AS (INSERT INTO changes (kind, key, at) SELECT ` + kind + `, $1, ` + at + ` WHERE EXISTS (SELECT 1 FROM adm) RETURNING seq)`
		changed = "(SELECT count(*) FROM ch)"
		if notify {
			change += `, nt AS (SELECT pg_notify('` + notifyChannel + `', coalesce(current_schema(), '')) FROM ch)`
			changed = "(SELECT count(*) FROM nt)"
		}
	}
	q := `WITH s AS (SELECT ` + capacity + ` - ` + booked + ` AS free FROM sessions
			WHERE id = $1 AND status = 'open' FOR UPDATE),
		r AS (SELECT o, n, sum(n) OVER (ORDER BY o) AS cum FROM unnest($2::int[], $3::int[]) AS u(o, n)),
		adm AS (SELECT r.o, r.n FROM r, s WHERE r.cum <= s.free),
		up AS (UPDATE sessions SET ` + booked + ` = ` + booked + ` + (SELECT sum(n) FROM adm)
			WHERE id = $1 AND EXISTS (SELECT 1 FROM adm) RETURNING 1),
		` + rows + change + `
		SELECT (SELECT count(*) FROM s), coalesce((SELECT free FROM s), 0), (SELECT count(*) FROM adm), ` + changed
	return q, args
}

// BookAppointments books a batch as Tx.BookAppointments does, in one round
// trip per round: the insert of every row and the admission are sent
// together, as one implicit transaction that commits when the server
// reaches the end of them (pgx batches end in one Sync). So the session's
// row lock is held from the admission to the commit without a round trip
// in between, and the batch pays no BEGIN or COMMIT of its own. Each round
// is its own transaction: the rare further rounds at a sold-out boundary
// (a smaller appointment after one that did not fit) book what is left
// as a new batch.
func (s *Store) BookAppointments(ctx context.Context, as []vax.Appointment, msgs []vax.OutboxMessage) ([]bool, error) {
	if len(as) == 0 {
		return nil, nil
	}
	if err := checkBatch(as, msgs); err != nil {
		return nil, err
	}
	out, cands := make([]bool, len(as)), firstN(len(as))
	for len(cands) > 0 {
		r := batchRows(as, msgs, cands)
		a, err := s.bookRound(ctx, r)
		if err != nil {
			return out, err
		}
		if a.found == 0 {
			if _, err := (&tx{s: s, tx: s.pool, readOnly: true}).Session(ctx, r.sid); err != nil {
				return out, err
			}
			return out, nil // not open: nothing fits
		}
		cands = afterRound(as, out, cands, a.admitted, a.free)
	}
	return out, nil
}

// bookRound inserts r's rows and admits the prefix that fits, in one
// pipelined implicit transaction.
func (s *Store) bookRound(ctx context.Context, r bookingRows) (admitted, error) {
	b := &pgx.Batch{}
	// $3 (seats) is not used by the insert; give PostgreSQL its type all
	// the same.
	b.Queue(`WITH `+bookingInserts("")+` SELECT cardinality($3::int[])`, r.bookingArgs()...)
	q, args := admission(r, true, true, true, s.clock.Now().UTC().Truncate(time.Second))
	b.Queue(q, args...)
	br := s.pool.SendBatch(ctx, b)
	_, err := br.Exec()
	a, aerr := admitted{}, error(nil)
	if err == nil {
		a, aerr = scanAdmission(br.QueryRow())
	}
	cerr := br.Close()
	switch {
	case err != nil:
		return admitted{}, dbErr(err, "book appointments")
	case aerr != nil:
		return admitted{}, aerr
	case cerr != nil:
		return admitted{}, dbErr(cerr, "book appointments")
	}
	if a.admitted > 0 {
		s.notify()
	}
	return a, nil
}

// bookingFactsQuery is BookingFacts' query (see there); $1 holds the refs.
const bookingFactsQuery = `SELECT b.ref, b.account_id, b.name, b.birth_year, b.gender_id, b.photo_id_type,
		b.photo_id_hash, b.photo_id_sealed, b.photo_id_last4, b.comorbidity, b.created_at,
		ARRAY(SELECT p.dose FROM appointment_places p
			WHERE p.ref = (b.ref COLLATE "default") AND p.status = 'live'),
		a.id::text, a.mobile_hash, a.mobile_sealed, a.mobile_last4, a.created_at,
		` + doseCols + `
		FROM (SELECT DISTINCT u.ref FROM unnest($1::text[]) AS u(ref)) r
		JOIN LATERAL (SELECT * FROM beneficiaries WHERE ref = (r.ref COLLATE "C") LIMIT 1) b ON true
		LEFT JOIN LATERAL (SELECT * FROM accounts WHERE id = b.account_id LIMIT 1) a ON true
		LEFT JOIN LATERAL (SELECT * FROM doses WHERE ref = b.ref) d ON true
		ORDER BY b.ref, d.dose`

// BookingFacts reads beneficiaries, their live doses, their accounts and
// their dose records with one query, planned for its arguments each time
// (planEach): the tables grow fast in a rush, and a plan cached while they
// were empty scans them whole. Every lookup is driven by the refs, one
// index probe each: a lateral join per beneficiary, account and dose list,
// the LIMITs keeping single-row lookups probes. A join over the tables
// instead lets the planner scan the beneficiaries whole whenever it
// believes them small: it did, on 20,000 beneficiaries never analysed,
// for a quarter of the booking hot path's database time. The places' ref
// is compared in their column's collation so their index serves it. A
// beneficiary comes once per dose record (once with NULLs when it has
// none), in dose order.
func (t *tx) BookingFacts(ctx context.Context, refs []string) (vax.BookingFacts, error) {
	f := vax.BookingFacts{Beneficiaries: map[string]vax.Beneficiary{}, LiveDoses: map[string][]int{},
		Accounts: map[string]vax.Account{}, Doses: map[string][]vax.Dose{}}
	rows, err := t.tx.Query(ctx, bookingFactsQuery, planEach, refs)
	if err != nil {
		return vax.BookingFacts{}, dbErr(err, "read booking facts")
	}
	defer rows.Close()
	for rows.Next() {
		var b vax.Beneficiary
		var doses []int32
		var aid, mhash, mlast4 *string
		var msealed []byte
		var acreated *time.Time
		var rec nullDose
		if err := rows.Scan(append([]any{&b.Ref, &b.AccountID, &b.Name, &b.BirthYear, &b.GenderID, &b.PhotoIDType,
			&b.PhotoIDHash, &b.PhotoIDSealed, &b.PhotoIDLast4, &b.Comorbidity, &b.CreatedAt, &doses,
			&aid, &mhash, &msealed, &mlast4, &acreated}, rec.dest()...)...); err != nil {
			return vax.BookingFacts{}, dbErr(err, "read booking facts")
		}
		if dose, ok := rec.record(b.Ref); ok {
			f.Doses[b.Ref] = append(f.Doses[b.Ref], dose)
		}
		if _, seen := f.Beneficiaries[b.Ref]; seen {
			continue // a further dose record of the same beneficiary
		}
		b.CreatedAt = b.CreatedAt.UTC()
		f.Beneficiaries[b.Ref] = b
		for _, d := range doses {
			f.LiveDoses[b.Ref] = append(f.LiveDoses[b.Ref], int(d))
		}
		if aid != nil {
			f.Accounts[*aid] = vax.Account{ID: *aid, MobileHash: *mhash, MobileSealed: msealed, MobileLast4: *mlast4,
				CreatedAt: acreated.UTC()}
		}
	}
	if err := rows.Err(); err != nil {
		return vax.BookingFacts{}, dbErr(err, "read booking facts")
	}
	return f, nil
}
