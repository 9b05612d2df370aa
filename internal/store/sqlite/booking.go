package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// Beneficiaries and appointments. Seat admission is one conditional UPDATE
// of the session's booked count in the transaction that inserts the places;
// the single writer connection serialises it with every other write.

const beneficiaryCols = `ref, account_id, name, birth_year, gender_id, photo_id_type, photo_id_hash,
	photo_id_sealed, photo_id_last4, comorbidity, created_at`

func scanBeneficiary(sc scanner) (vax.Beneficiary, error) {
	var b vax.Beneficiary
	var created int64
	err := sc.Scan(&b.Ref, &b.AccountID, &b.Name, &b.BirthYear, &b.GenderID, &b.PhotoIDType, &b.PhotoIDHash,
		&b.PhotoIDSealed, &b.PhotoIDLast4, &b.Comorbidity, &created)
	b.CreatedAt = fromUnix(created)
	return b, err
}

// CreateBeneficiary inserts b; Conflict if its ref or photo-ID hash is taken.
func (t *tx) CreateBeneficiary(ctx context.Context, b vax.Beneficiary) error {
	if err := t.writable("create beneficiary"); err != nil {
		return err
	}
	if err := vax.ValidBeneficiaryRef(b.Ref); err != nil {
		return err
	}
	if !vax.ValidUUID(b.AccountID) {
		return vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", b.AccountID)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO beneficiaries (`+beneficiaryCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.Ref, strings.ToLower(b.AccountID), b.Name, b.BirthYear, b.GenderID, b.PhotoIDType, b.PhotoIDHash,
		b.PhotoIDSealed, b.PhotoIDLast4, b.Comorbidity, toUnix(b.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create beneficiary"))
	}
	return nil
}

// ReserveBeneficiary counts; the single writer connection (BEGIN
// IMMEDIATE) already excludes every other write transaction.
func (t *tx) ReserveBeneficiary(ctx context.Context, accountID string, hashes []string) (int, bool, error) {
	if err := t.writable("reserve beneficiary"); err != nil {
		return 0, false, err
	}
	if !vax.ValidUUID(accountID) {
		return 0, false, vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", accountID)
	}
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM beneficiaries WHERE account_id = ?`,
		strings.ToLower(accountID)).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("sqlite: %w", dbErr(err, "reserve beneficiary"))
	}
	for _, h := range hashes {
		var one int
		err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM beneficiaries WHERE photo_id_hash = ?`, h).Scan(&one)
		if err == nil {
			return n, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, false, fmt.Errorf("sqlite: %w", dbErr(err, "reserve beneficiary"))
		}
	}
	return n, false, nil
}

// Beneficiary returns one beneficiary; NotFound when unknown.
func (t *tx) Beneficiary(ctx context.Context, ref string) (vax.Beneficiary, error) {
	b, err := scanBeneficiary(t.tx.QueryRowContext(ctx,
		`SELECT `+beneficiaryCols+` FROM beneficiaries WHERE ref = ?`, ref))
	return one(b, err, "beneficiary not found", "read beneficiary")
}

// BeneficiariesOf lists an account's beneficiaries, oldest first.
func (t *tx) BeneficiariesOf(ctx context.Context, accountID string) ([]vax.Beneficiary, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+beneficiaryCols+` FROM beneficiaries
		WHERE account_id = ? ORDER BY created_at, ref`, strings.ToLower(accountID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list beneficiaries"))
	}
	defer rows.Close()
	var out []vax.Beneficiary
	for rows.Next() {
		b, err := scanBeneficiary(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list beneficiaries"))
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list beneficiaries"))
	}
	return out, nil
}

// DeleteBeneficiary deletes one beneficiary unless it holds a live place.
func (t *tx) DeleteBeneficiary(ctx context.Context, ref string) error {
	if err := t.writable("delete beneficiary"); err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `DELETE FROM beneficiaries WHERE ref = ?
		AND NOT EXISTS (SELECT 1 FROM appointment_places WHERE ref = ? AND status = 'live')`, ref, ref)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "delete beneficiary"))
	}
	if n, _ := res.RowsAffected(); n == 1 {
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
	res, err := t.tx.ExecContext(ctx, `UPDATE sessions SET `+booked+` = `+booked+` + ?
		WHERE id = ? AND status = 'open' AND `+booked+` + ? <= `+capacity,
		n, strings.ToLower(sessionID), n)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "admit seats"))
	}
	if k, _ := res.RowsAffected(); k == 1 {
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
	_, err := t.tx.ExecContext(ctx, `UPDATE sessions SET `+booked+` = max(`+booked+` - ?, 0) WHERE id = ?`,
		n, strings.ToLower(sessionID))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "release seats"))
	}
	return t.seatsChanged(ctx, strings.ToLower(sessionID))
}

// BookAppointment admits the seats and inserts a.
func (t *tx) BookAppointment(ctx context.Context, a vax.Appointment) error {
	if err := t.writable("book appointment"); err != nil {
		return err
	}
	if err := a.ValidateNew(); err != nil {
		return err
	}
	if err := t.admit(ctx, a.SessionID, a.Dose, len(a.Beneficiaries)); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO appointments (id, account_id, session_id, dose, slot, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, strings.ToLower(a.ID), strings.ToLower(a.AccountID), strings.ToLower(a.SessionID),
		a.Dose, a.Slot, string(a.Status), toUnix(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "book appointment"))
	}
	for _, p := range a.Beneficiaries {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO appointment_places (appointment_id, ref, dose, secret_sealed, status)
			VALUES (?, ?, ?, ?, ?)`, strings.ToLower(a.ID), p.Ref, a.Dose, p.SecretSealed, string(p.Status))
		if err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "book appointment place"))
		}
	}
	return nil
}

const appointmentCols = `id, account_id, session_id, dose, slot, status, created_at, code_failures`

// appointments reads the appointments a query selects, with their places.
func (t *tx) appointments(ctx context.Context, what, query string, args ...any) ([]vax.Appointment, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+appointmentCols+` FROM appointments `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	var out []vax.Appointment
	for rows.Next() {
		var a vax.Appointment
		var created int64
		var status string
		if err := rows.Scan(&a.ID, &a.AccountID, &a.SessionID, &a.Dose, &a.Slot, &status, &created, &a.CodeFailures); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
		}
		a.Status, a.CreatedAt = vax.AppointmentStatus(status), fromUnix(created)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	for i := range out {
		prows, err := t.tx.QueryContext(ctx, `SELECT ref, secret_sealed, status FROM appointment_places
			WHERE appointment_id = ? ORDER BY ref`, out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
		}
		for prows.Next() {
			var p vax.AppointmentPlace
			var status string
			if err := prows.Scan(&p.Ref, &p.SecretSealed, &status); err != nil {
				prows.Close()
				return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
			}
			p.Status = vax.AppointmentStatus(status)
			out[i].Beneficiaries = append(out[i].Beneficiaries, p)
		}
		prows.Close()
		if err := prows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
		}
	}
	return out, nil
}

// Appointment returns one appointment with its places.
func (t *tx) Appointment(ctx context.Context, id string) (vax.Appointment, error) {
	as, err := t.appointments(ctx, "read appointment", `WHERE id = ?`, strings.ToLower(id))
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
	return t.appointments(ctx, "list appointments", `WHERE account_id = ? ORDER BY created_at, id`,
		strings.ToLower(accountID))
}

// SessionAppointments lists a session's live appointments, by id.
func (t *tx) SessionAppointments(ctx context.Context, sessionID string) ([]vax.Appointment, error) {
	return t.appointments(ctx, "list session appointments", `WHERE session_id = ? AND status = 'live' ORDER BY id`,
		strings.ToLower(sessionID))
}

// CancelPlaces cancels live places and releases their seats.
func (t *tx) CancelPlaces(ctx context.Context, id string, refs []string) (int, error) {
	if err := t.writable("cancel appointment"); err != nil {
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
		if _, err := t.tx.ExecContext(ctx, `UPDATE appointment_places SET status = 'cancelled'
			WHERE appointment_id = ? AND ref = ?`, a.ID, p.Ref); err != nil {
			return 0, fmt.Errorf("sqlite: %w", dbErr(err, "cancel appointment place"))
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
		if _, err := t.tx.ExecContext(ctx, `UPDATE appointments SET status = 'cancelled' WHERE id = ?`, a.ID); err != nil {
			return 0, fmt.Errorf("sqlite: %w", dbErr(err, "cancel appointment"))
		}
	}
	return n, nil
}

// MoveAppointment moves a live appointment to another session and slot.
func (t *tx) MoveAppointment(ctx context.Context, id, sessionID, slot string) error {
	if err := t.writable("move appointment"); err != nil {
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
	if _, err := t.tx.ExecContext(ctx, `UPDATE appointments SET session_id = ?, slot = ? WHERE id = ?`,
		sessionID, slot, a.ID); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "move appointment"))
	}
	return nil
}
