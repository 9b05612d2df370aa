package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// Beneficiaries and appointments. Seat admission is one conditional UPDATE
// of the session's booked count in the transaction that inserts the places;
// under READ COMMITTED the row lock makes concurrent
// admissions take turns, and each re-checks the condition on the latest row.

const beneficiaryCols = `ref, account_id, name, birth_year, gender_id, photo_id_type, photo_id_hash,
	photo_id_sealed, photo_id_last4, comorbidity, created_at`

func scanBeneficiary(sc pgx.Row) (vax.Beneficiary, error) {
	var b vax.Beneficiary
	err := sc.Scan(&b.Ref, &b.AccountID, &b.Name, &b.BirthYear, &b.GenderID, &b.PhotoIDType, &b.PhotoIDHash,
		&b.PhotoIDSealed, &b.PhotoIDLast4, &b.Comorbidity, &b.CreatedAt)
	b.CreatedAt = b.CreatedAt.UTC()
	return b, err
}

// CreateBeneficiary inserts b; Conflict if its ref or photo-ID hash is taken.
func (t *tx) CreateBeneficiary(ctx context.Context, b vax.Beneficiary) error {
	if err := t.write("create beneficiary"); err != nil {
		return err
	}
	if err := vax.ValidBeneficiaryRef(b.Ref); err != nil {
		return err
	}
	if !vax.ValidUUID(b.AccountID) {
		return vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", b.AccountID)
	}
	return t.insertOnce(ctx, "create beneficiary", `INSERT INTO beneficiaries (`+beneficiaryCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
		b.Ref, strings.ToLower(b.AccountID), b.Name, b.BirthYear, b.GenderID, b.PhotoIDType, b.PhotoIDHash,
		b.PhotoIDSealed, b.PhotoIDLast4, b.Comorbidity, stamp(b.CreatedAt))
}

// Beneficiary returns one beneficiary; NotFound when unknown.
func (t *tx) Beneficiary(ctx context.Context, ref string) (vax.Beneficiary, error) {
	b, err := scanBeneficiary(t.tx.QueryRow(ctx,
		`SELECT `+beneficiaryCols+` FROM beneficiaries WHERE ref = $1`, ref))
	return one(b, err, "beneficiary not found", "read beneficiary")
}

// BeneficiariesOf lists an account's beneficiaries, oldest first.
func (t *tx) BeneficiariesOf(ctx context.Context, accountID string) ([]vax.Beneficiary, error) {
	if !vax.ValidUUID(accountID) {
		return nil, nil
	}
	rows, err := t.tx.Query(ctx, `SELECT `+beneficiaryCols+` FROM beneficiaries
		WHERE account_id = $1 ORDER BY created_at, ref`, strings.ToLower(accountID))
	if err != nil {
		return nil, dbErr(err, "list beneficiaries")
	}
	defer rows.Close()
	var out []vax.Beneficiary
	for rows.Next() {
		b, err := scanBeneficiary(rows)
		if err != nil {
			return nil, dbErr(err, "list beneficiaries")
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(err, "list beneficiaries")
	}
	return out, nil
}

// ReserveBeneficiary takes transaction-scoped advisory locks on the
// account and on each photo-ID hash (in one order, so two reservations
// cannot deadlock), then counts in a fresh READ COMMITTED snapshot, which
// sees whatever the previous holder committed.
func (t *tx) ReserveBeneficiary(ctx context.Context, accountID string, hashes []string) (int, bool, error) {
	if err := t.write("reserve beneficiary"); err != nil {
		return 0, false, err
	}
	if !vax.ValidUUID(accountID) {
		return 0, false, vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", accountID)
	}
	accountID = strings.ToLower(accountID)
	keys := []string{"vaxport beneficiary account " + accountID}
	for _, h := range hashes {
		keys = append(keys, "vaxport beneficiary photo id "+h)
	}
	if _, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(k) FROM
		(SELECT DISTINCT hashtextextended(s, 0) AS k FROM unnest($1::text[]) AS s ORDER BY 1) AS l`, keys); err != nil {
		return 0, false, dbErr(err, "reserve beneficiary")
	}
	var n int
	var taken bool
	if err := t.tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM beneficiaries WHERE account_id = $1),
		EXISTS (SELECT 1 FROM beneficiaries WHERE photo_id_hash = ANY($2::text[]))`, accountID, hashes).
		Scan(&n, &taken); err != nil {
		return 0, false, dbErr(err, "reserve beneficiary")
	}
	return n, taken, nil
}

// DeleteBeneficiary deletes one beneficiary unless it holds a live place.
func (t *tx) DeleteBeneficiary(ctx context.Context, ref string) error {
	if err := t.write("delete beneficiary"); err != nil {
		return err
	}
	tag, err := t.tx.Exec(ctx, `DELETE FROM beneficiaries WHERE ref = $1
		AND NOT EXISTS (SELECT 1 FROM appointment_places WHERE ref = $2 AND status = 'live')`, ref, ref)
	if err != nil {
		return dbErr(err, "delete beneficiary")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := t.Beneficiary(ctx, ref); err != nil {
		return err
	}
	return vax.Errorf(vax.Conflict, "beneficiary has a live appointment")
}

// seatsChanged records a ChangeSession for a session once per transaction.
func (t *tx) seatsChanged(ctx context.Context, sessionID string) error {
	if t.seatsMoved[sessionID] {
		return nil
	}
	if err := t.AppendChange(ctx, vax.ChangeSession, sessionID); err != nil {
		return err
	}
	if t.seatsMoved == nil {
		t.seatsMoved = map[string]bool{}
	}
	t.seatsMoved[sessionID] = true
	return nil
}

// seatCols names a dose's booked and capacity columns.
func seatCols(dose int) (booked, capacity string) {
	if dose == 1 {
		return "booked1", "capacity1"
	}
	return "booked2", "capacity2"
}

// admit takes n seats of dose in session id: Full when the open session
// lacks them, NotFound when it is unknown.
func (t *tx) admit(ctx context.Context, sessionID string, dose, n int) error {
	booked, capacity := seatCols(dose)
	tag, err := t.tx.Exec(ctx, `UPDATE sessions SET `+booked+` = `+booked+` + $1
		WHERE id = $2 AND status = 'open' AND `+booked+` + $1 <= `+capacity,
		n, strings.ToLower(sessionID))
	if err != nil {
		return dbErr(err, "admit seats")
	}
	if tag.RowsAffected() == 1 {
		return t.seatsChanged(ctx, strings.ToLower(sessionID))
	}
	if _, err := t.Session(ctx, sessionID); err != nil {
		return err
	}
	return vax.Errorf(vax.Full, "no free seats for dose %d in this session", dose)
}

// release gives back n seats of dose in session id.
func (t *tx) release(ctx context.Context, sessionID string, dose, n int) error {
	booked, _ := seatCols(dose)
	_, err := t.tx.Exec(ctx, `UPDATE sessions SET `+booked+` = GREATEST(`+booked+` - $1, 0) WHERE id = $2`,
		n, strings.ToLower(sessionID))
	if err != nil {
		return dbErr(err, "release seats")
	}
	return t.seatsChanged(ctx, strings.ToLower(sessionID))
}

// BookAppointment admits the seats and inserts a.
func (t *tx) BookAppointment(ctx context.Context, a vax.Appointment) error {
	if err := t.write("book appointment"); err != nil {
		return err
	}
	if err := a.ValidateNew(); err != nil {
		return err
	}
	if err := t.admit(ctx, a.SessionID, a.Dose, len(a.Beneficiaries)); err != nil {
		return err
	}
	if err := t.insertOnce(ctx, "book appointment", `INSERT INTO appointments
		(id, account_id, session_id, dose, slot, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`, a.ID, a.AccountID, a.SessionID, a.Dose, a.Slot, string(a.Status), stamp(a.CreatedAt)); err != nil {
		return err
	}
	for _, p := range a.Beneficiaries {
		if err := t.insertOnce(ctx, "book beneficiary "+p.Ref, `INSERT INTO appointment_places
			(appointment_id, ref, dose, secret_sealed, status) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`, a.ID, p.Ref, a.Dose, p.SecretSealed, string(p.Status)); err != nil {
			return err
		}
	}
	return nil
}

const appointmentCols = `id, account_id, session_id, dose, slot, status, created_at, code_failures`

// appointments reads the appointments a query selects, with their places.
func (t *tx) appointments(ctx context.Context, what, query string, args ...any) ([]vax.Appointment, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+appointmentCols+` FROM appointments `+query, args...)
	if err != nil {
		return nil, dbErr(err, what)
	}
	var out []vax.Appointment
	for rows.Next() {
		var a vax.Appointment
		var status string
		if err := rows.Scan(&a.ID, &a.AccountID, &a.SessionID, &a.Dose, &a.Slot, &status, &a.CreatedAt,
			&a.CodeFailures); err != nil {
			rows.Close()
			return nil, dbErr(err, what)
		}
		a.Status, a.CreatedAt = vax.AppointmentStatus(status), a.CreatedAt.UTC()
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbErr(err, what)
	}
	for i := range out {
		prows, err := t.tx.Query(ctx, `SELECT ref, secret_sealed, status FROM appointment_places
			WHERE appointment_id = $1 ORDER BY ref`, out[i].ID)
		if err != nil {
			return nil, dbErr(err, what)
		}
		for prows.Next() {
			var p vax.AppointmentPlace
			var status string
			if err := prows.Scan(&p.Ref, &p.SecretSealed, &status); err != nil {
				prows.Close()
				return nil, dbErr(err, what)
			}
			p.Status = vax.AppointmentStatus(status)
			out[i].Beneficiaries = append(out[i].Beneficiaries, p)
		}
		prows.Close()
		if err := prows.Err(); err != nil {
			return nil, dbErr(err, what)
		}
	}
	return out, nil
}

// Appointment returns one appointment with its places.
func (t *tx) Appointment(ctx context.Context, id string) (vax.Appointment, error) {
	if !vax.ValidUUID(id) {
		return vax.Appointment{}, vax.Errorf(vax.NotFound, "appointment not found")
	}
	lock := ""
	if !t.readOnly {
		lock = " FOR UPDATE"
	}
	as, err := t.appointments(ctx, "read appointment", `WHERE id = $1`+lock, strings.ToLower(id))
	if err != nil {
		return vax.Appointment{}, err
	}
	if len(as) == 0 {
		return vax.Appointment{}, vax.Errorf(vax.NotFound, "appointment not found")
	}
	return as[0], nil
}

// AppointmentsOf lists an account's appointments, oldest first.
func (t *tx) AppointmentsOf(ctx context.Context, accountID string) ([]vax.Appointment, error) {
	if !vax.ValidUUID(accountID) {
		return nil, nil
	}
	return t.appointments(ctx, "list appointments", `WHERE account_id = $1 ORDER BY created_at, id`,
		strings.ToLower(accountID))
}

// SessionAppointments lists a session's live appointments, by id.
func (t *tx) SessionAppointments(ctx context.Context, sessionID string) ([]vax.Appointment, error) {
	if !vax.ValidUUID(sessionID) {
		return nil, nil
	}
	return t.appointments(ctx, "list session appointments", `WHERE session_id = $1 AND status = 'live' ORDER BY id`,
		strings.ToLower(sessionID))
}

// CancelPlaces cancels live places and releases their seats.
func (t *tx) CancelPlaces(ctx context.Context, id string, refs []string) (int, error) {
	if err := t.write("cancel appointment"); err != nil {
		return 0, err
	}
	a, err := t.Appointment(ctx, id)
	if err != nil {
		return 0, err
	}
	want := map[string]bool{}
	for _, r := range refs {
		want[r] = true
	}
	n := 0
	for _, p := range a.Beneficiaries {
		if p.Status != vax.AppointmentLive || (refs != nil && !want[p.Ref]) {
			continue
		}
		if _, err := t.tx.Exec(ctx, `UPDATE appointment_places SET status = 'cancelled'
			WHERE appointment_id = $1 AND ref = $2`, a.ID, p.Ref); err != nil {
			return 0, dbErr(err, "cancel appointment place")
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if err := t.release(ctx, a.SessionID, a.Dose, n); err != nil {
		return 0, err
	}
	if n == len(a.Live()) {
		if _, err := t.tx.Exec(ctx, `UPDATE appointments SET status = 'cancelled' WHERE id = $1`, a.ID); err != nil {
			return 0, dbErr(err, "cancel appointment")
		}
	}
	return n, nil
}

// MoveAppointment moves a live appointment to another session and slot.
func (t *tx) MoveAppointment(ctx context.Context, id, sessionID, slot string) error {
	if err := t.write("move appointment"); err != nil {
		return err
	}
	a, err := t.Appointment(ctx, id)
	if err != nil {
		return err
	}
	n := len(a.Live())
	if a.Status != vax.AppointmentLive || n == 0 {
		return vax.Errorf(vax.Conflict, "appointment is cancelled")
	}
	if !vax.ValidUUID(sessionID) {
		return vax.Errorf(vax.NotFound, "session not found")
	}
	sessionID = strings.ToLower(sessionID)
	if sessionID != a.SessionID {
		if err := t.admit(ctx, sessionID, a.Dose, n); err != nil {
			return err
		}
		if err := t.release(ctx, a.SessionID, a.Dose, n); err != nil {
			return err
		}
	}
	if _, err := t.tx.Exec(ctx, `UPDATE appointments SET session_id = $1, slot = $2 WHERE id = $3`,
		sessionID, slot, a.ID); err != nil {
		return dbErr(err, "move appointment")
	}
	return nil
}
