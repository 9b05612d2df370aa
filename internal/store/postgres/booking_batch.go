package postgres

import (
	"context"
	"strings"
	"time"

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

// BookAppointments admits and inserts with one statement per round trip:
// a CTE locks the session row (FOR UPDATE, so under READ COMMITTED it sees
// the latest committed count), admits the longest prefix of the
// appointments whose seats fit, adds them to the booked count and inserts
// their appointments, places and messages, and the change-feed entry
// (data-modifying CTEs run whether or not the final SELECT reads them). The
// inserts are plain: an appointment id, message id or live place that
// exists fails the statement (a unique violation: Conflict), cheaper than
// ON CONFLICT's speculative insertion on every row. If
// an appointment does not fit but smaller ones after it might, a further
// round books those, so the result is the in-order greedy fit.
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
	out := make([]bool, len(as))
	cands := make([]int, len(as))
	for i := range cands {
		cands[i] = i
	}
	for len(cands) > 0 {
		admitted, free, err := t.admitPrefix(ctx, as, msgs, cands)
		if err != nil {
			return nil, err
		}
		taken := 0
		for _, i := range cands[:admitted] {
			out[i] = true
			taken += len(as[i].Beneficiaries)
		}
		if admitted == len(cands) {
			break
		}
		left := free - taken
		var rest []int
		for _, i := range cands[admitted+1:] {
			if len(as[i].Beneficiaries) <= left {
				rest = append(rest, i)
			}
		}
		cands = rest
	}
	return out, nil
}

// admitPrefix books the longest prefix of as[cands] that fits in one
// statement, and reports its length and the free seats it found.
func (t *tx) admitPrefix(ctx context.Context, as []vax.Appointment, msgs []vax.OutboxMessage, cands []int) (int, int, error) {
	sid, dose := strings.ToLower(as[0].SessionID), as[0].Dose
	booked, capacity := seatCols(dose)
	var ords, seats, pOrds []int
	var ids, accounts, slots, statuses, pRefs, pStatuses []string
	var created []time.Time
	var pSealed [][]byte
	var mIDs, mKinds, mStatuses []string
	var mPayloads [][]byte
	var mCreated, mNext []time.Time
	var mExpires []*time.Time
	var mAttempts []int
	for o, i := range cands {
		a := as[i]
		ords, seats = append(ords, o+1), append(seats, len(a.Beneficiaries))
		ids = append(ids, strings.ToLower(a.ID))
		accounts = append(accounts, strings.ToLower(a.AccountID))
		slots = append(slots, a.Slot)
		statuses = append(statuses, string(a.Status))
		created = append(created, stamp(a.CreatedAt))
		for _, p := range a.Beneficiaries {
			pOrds, pRefs = append(pOrds, o+1), append(pRefs, p.Ref)
			pSealed, pStatuses = append(pSealed, p.SecretSealed), append(pStatuses, string(p.Status))
		}
		if msgs != nil {
			m := msgs[i]
			mIDs, mKinds, mPayloads = append(mIDs, m.ID), append(mKinds, string(m.Kind)), append(mPayloads, m.Payload)
			mCreated, mExpires = append(mCreated, millis(m.CreatedAt)), append(mExpires, nullMillis(m.ExpiresAt))
			mStatuses, mAttempts = append(mStatuses, string(m.Status)), append(mAttempts, m.Attempts)
			mNext = append(mNext, millis(m.NextAttemptAt))
		}
	}
	change, notify := "", "0"
	if !t.seatsMoved[sid] {
		change = `, ch AS (INSERT INTO changes (kind, key, at) SELECT $23, $1, $24 WHERE EXISTS (SELECT 1 FROM adm) RETURNING seq)`
		notify = "(SELECT count(*) FROM ch)"
		if !t.notified {
			change += `, nt AS (SELECT pg_notify('` + notifyChannel + `', coalesce(current_schema(), '')) FROM ch)`
			notify = "(SELECT count(*) FROM nt)"
		}
	}
	q := `WITH s AS (SELECT ` + capacity + ` - ` + booked + ` AS free FROM sessions
			WHERE id = $1 AND status = 'open' FOR UPDATE),
		r AS (SELECT o, n, sum(n) OVER (ORDER BY o) AS cum FROM unnest($2::int[], $3::int[]) AS u(o, n)),
		adm AS (SELECT r.o, r.n FROM r, s WHERE r.cum <= s.free),
		up AS (UPDATE sessions SET ` + booked + ` = ` + booked + ` + (SELECT sum(n) FROM adm)
			WHERE id = $1 AND EXISTS (SELECT 1 FROM adm) RETURNING 1),
		ia AS (INSERT INTO appointments (id, account_id, session_id, dose, slot, status, created_at)
			SELECT u.i, u.a, $1::uuid, $4::int, u.s, u.st, u.c
			FROM unnest($2::int[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::timestamptz[]) AS u(o, i, a, s, st, c)
			JOIN adm ON adm.o = u.o
			RETURNING 1),
		ip AS (INSERT INTO appointment_places (appointment_id, ref, dose, secret_sealed, status)
			SELECT (($5::uuid[])[u.o]), u.r, $4::int, u.s, u.st
			FROM unnest($10::int[], $11::text[], $12::bytea[], $13::text[]) AS u(o, r, s, st)
			JOIN adm ON adm.o = u.o
			RETURNING 1),
		io AS (INSERT INTO outbox (id, kind, payload, created_at, expires_at, status, attempts, next_attempt_at,
				claimed_by, provider, provider_ref)
			SELECT u.i, u.k, u.p, u.c, u.e, u.s, u.a, u.n, '', '', ''
			FROM unnest($2::int[], $14::uuid[], $15::text[], $16::bytea[], $17::timestamptz[], $18::timestamptz[],
				$19::text[], $20::int[], $21::timestamptz[]) AS u(o, i, k, p, c, e, s, a, n)
			JOIN adm ON adm.o = u.o
			WHERE $22::bool
			RETURNING 1)` + change + `
		SELECT (SELECT count(*) FROM s), coalesce((SELECT free FROM s), 0), (SELECT count(*) FROM adm), ` + notify
	if msgs == nil {
		// unnest pads short arrays with NULLs: give it full-length ones.
		mIDs = make([]string, len(cands))
		for i := range mIDs {
			mIDs[i] = "00000000-0000-0000-0000-000000000000"
		}
		mKinds, mPayloads, mCreated, mExpires = mIDs, make([][]byte, len(cands)), created, make([]*time.Time, len(cands))
		mStatuses, mAttempts, mNext = mIDs, make([]int, len(cands)), created
	}
	var found, free, admitted, changed int
	args := []any{sid, ords, seats, dose, ids, accounts, slots, statuses, created,
		pOrds, pRefs, pSealed, pStatuses, mIDs, mKinds, mPayloads, mCreated, mExpires, mStatuses, mAttempts, mNext,
		msgs != nil}
	if change != "" {
		args = append(args, string(vax.ChangeSession), t.now())
	}
	err := t.tx.QueryRow(ctx, q, args...).
		Scan(&found, &free, &admitted, &changed)
	if err != nil {
		return 0, 0, dbErr(err, "book appointments")
	}
	if found == 0 {
		if _, err := t.Session(ctx, sid); err != nil {
			return 0, 0, err
		}
		return 0, 0, nil // not open: nothing fits
	}
	if admitted > 0 && !t.seatsMoved[sid] {
		if t.seatsMoved == nil {
			t.seatsMoved = map[string]bool{}
		}
		t.seatsMoved[sid], t.notified = true, true
	}
	return admitted, free, nil
}

// BookingFacts reads beneficiaries, their live doses, their accounts and
// their dose records with one query, planned for its arguments each time
// (planEach): the tables grow fast in a rush, and a plan cached while they
// were empty scans them whole. The places' ref is compared in their
// column's collation so their index serves it; the LIMIT keeps the account
// lookup a per-row index probe. A beneficiary comes once per dose record
// (once with NULLs when it has none), in dose order.
func (t *tx) BookingFacts(ctx context.Context, refs []string) (vax.BookingFacts, error) {
	f := vax.BookingFacts{Beneficiaries: map[string]vax.Beneficiary{}, LiveDoses: map[string][]int{},
		Accounts: map[string]vax.Account{}, Doses: map[string][]vax.Dose{}}
	rows, err := t.tx.Query(ctx, `SELECT b.ref, b.account_id, b.name, b.birth_year, b.gender_id, b.photo_id_type,
		b.photo_id_hash, b.photo_id_sealed, b.photo_id_last4, b.comorbidity, b.created_at,
		ARRAY(SELECT p.dose FROM appointment_places p
			WHERE p.ref = (b.ref COLLATE "default") AND p.status = 'live'),
		a.id::text, a.mobile_hash, a.mobile_sealed, a.mobile_last4, a.created_at,
		`+doseCols+`
		FROM beneficiaries b
		LEFT JOIN LATERAL (SELECT * FROM accounts WHERE id = b.account_id LIMIT 1) a ON true
		LEFT JOIN doses d ON d.ref = b.ref
		WHERE b.ref = ANY($1::text[])
		ORDER BY b.ref, d.dose`, planEach, refs)
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
