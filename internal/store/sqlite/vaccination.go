package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// Staff, vaccine lots, dose records, the centre queue and adverse events.
// Ids are stored in lower case, as PostgreSQL's uuid type returns them.
// The single writer connection serialises every write, so a conditional
// UPDATE (a lot's use, a code failure) or a unique constraint (one record
// per beneficiary and dose) decides between concurrent callers.

const staffCols = `id, name, mobile_hash, mobile_sealed, mobile_last4, role, district_id, state_id,
	status, created_by, created_at, updated_at`

func scanStaff(sc scanner) (vax.Staff, error) {
	var s vax.Staff
	var role, status string
	var created, updated int64
	if err := sc.Scan(&s.ID, &s.Name, &s.MobileHash, &s.MobileSealed, &s.MobileLast4, &role, &s.DistrictID,
		&s.StateID, &status, &s.CreatedBy, &created, &updated); err != nil {
		return vax.Staff{}, err
	}
	s.Role, s.Status = vax.Role(role), vax.StaffStatus(status)
	s.CreatedAt, s.UpdatedAt = fromUnix(created), fromUnix(updated)
	return s, nil
}

// CreateStaff inserts s and its centres; Conflict if its id or mobile hash
// is taken.
func (t *tx) CreateStaff(ctx context.Context, s vax.Staff) error {
	if err := t.writable("create staff"); err != nil {
		return err
	}
	if !vax.ValidUUID(s.ID) {
		return vax.Errorf(vax.Invalid, "invalid staff id %q: want a UUID", s.ID)
	}
	id := strings.ToLower(s.ID)
	_, err := t.tx.ExecContext(ctx, `INSERT INTO staff (`+staffCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, s.Name, s.MobileHash, s.MobileSealed, s.MobileLast4, string(s.Role), s.DistrictID, s.StateID,
		string(s.Status), strings.ToLower(s.CreatedBy), toUnix(s.CreatedAt), toUnix(s.UpdatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create staff"))
	}
	return t.putStaffCentres(ctx, id, s.CentreIDs)
}

// putStaffCentres inserts the centres of staff member id.
func (t *tx) putStaffCentres(ctx context.Context, id string, centres []int64) error {
	for _, c := range centres {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO staff_centres (staff_id, centre_id) VALUES (?, ?)
			ON CONFLICT DO NOTHING`, id, c)
		if err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "put staff centre"))
		}
	}
	return nil
}

// UpdateStaff replaces the name, role, scope, status and UpdatedAt of s.ID.
func (t *tx) UpdateStaff(ctx context.Context, s vax.Staff) error {
	if err := t.writable("update staff"); err != nil {
		return err
	}
	id := strings.ToLower(s.ID)
	res, err := t.tx.ExecContext(ctx, `UPDATE staff SET name = ?, role = ?, district_id = ?, state_id = ?,
		status = ?, updated_at = ? WHERE id = ?`,
		s.Name, string(s.Role), s.DistrictID, s.StateID, string(s.Status), toUnix(s.UpdatedAt), id)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "update staff"))
	}
	if err := affected(res, "staff member"); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM staff_centres WHERE staff_id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "update staff centres"))
	}
	return t.putStaffCentres(ctx, id, s.CentreIDs)
}

// Staff returns one staff member; NotFound when unknown.
func (t *tx) Staff(ctx context.Context, id string) (vax.Staff, error) {
	ss, err := t.staff(ctx, "read staff", `WHERE id = ?`, strings.ToLower(id))
	if err != nil {
		return vax.Staff{}, err
	}
	if len(ss) == 0 {
		return vax.Staff{}, vax.Errorf(vax.NotFound, "staff member not found")
	}
	return ss[0], nil
}

// StaffByMobile returns the staff member whose mobile hash is one of
// hashes; NotFound when none.
func (t *tx) StaffByMobile(ctx context.Context, hashes []string) (vax.Staff, error) {
	if len(hashes) == 0 {
		return vax.Staff{}, vax.Errorf(vax.NotFound, "staff member not found")
	}
	ss, err := t.staff(ctx, "find staff by mobile",
		`WHERE mobile_hash IN (`+placeholders(len(hashes))+`) ORDER BY created_at, id LIMIT 1`, anyStrings(hashes)...)
	if err != nil {
		return vax.Staff{}, err
	}
	if len(ss) == 0 {
		return vax.Staff{}, vax.Errorf(vax.NotFound, "staff member not found")
	}
	return ss[0], nil
}

// StaffList lists staff matching q, by id.
func (t *tx) StaffList(ctx context.Context, q vax.StaffQuery) ([]vax.Staff, error) {
	var where []string
	var args []any
	if q.CentreID != 0 {
		where = append(where, `EXISTS (SELECT 1 FROM staff_centres sc WHERE sc.staff_id = staff.id AND sc.centre_id = ?)`)
		args = append(args, q.CentreID)
	}
	// Only district admins have a district, and only they and state admins
	// a state; centre staff are in the area of any of their centres.
	if q.DistrictID != 0 {
		where = append(where, `(district_id = ? OR EXISTS (SELECT 1 FROM staff_centres sc
			JOIN centres c ON c.id = sc.centre_id WHERE sc.staff_id = staff.id AND c.district_id = ?))`)
		args = append(args, q.DistrictID, q.DistrictID)
	}
	if q.StateID != 0 {
		where = append(where, `(state_id = ? OR EXISTS (SELECT 1 FROM staff_centres sc
			JOIN centres c ON c.id = sc.centre_id WHERE sc.staff_id = staff.id AND c.state_id = ?))`)
		args = append(args, q.StateID, q.StateID)
	}
	if q.Role != "" {
		where, args = append(where, `role = ?`), append(args, string(q.Role))
	}
	where, args = append(where, `id > ?`), append(args, strings.ToLower(q.AfterID))
	args = append(args, vax.PageSize(q.Limit))
	return t.staff(ctx, "list staff", `WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
}

// staff reads the staff members a query selects, with their centres.
func (t *tx) staff(ctx context.Context, what, query string, args ...any) ([]vax.Staff, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+staffCols+` FROM staff `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	var out []vax.Staff
	at := map[string]int{}
	for rows.Next() {
		s, err := scanStaff(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
		}
		at[s.ID] = len(out)
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	if len(out) == 0 {
		return nil, nil
	}
	ids := make([]string, len(out))
	for i, s := range out {
		ids[i] = s.ID
	}
	crows, err := t.tx.QueryContext(ctx, `SELECT staff_id, centre_id FROM staff_centres
		WHERE staff_id IN (`+placeholders(len(ids))+`) ORDER BY staff_id, centre_id`, anyStrings(ids)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	defer crows.Close()
	for crows.Next() {
		var id string
		var c int64
		if err := crows.Scan(&id, &c); err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
		}
		out[at[id]].CentreIDs = append(out[at[id]].CentreIDs, c)
	}
	if err := crows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	return out, nil
}

// Lots.

const lotCols = `centre_id, number, vaccine, manufacturer, expiry, received, used, created_at`

func scanLot(sc scanner) (vax.Lot, error) {
	var l vax.Lot
	var expiry string
	var created int64
	if err := sc.Scan(&l.CentreID, &l.Number, &l.Vaccine, &l.Manufacturer, &expiry, &l.Received, &l.Used,
		&created); err != nil {
		return vax.Lot{}, err
	}
	d, err := vax.ParseISODate(expiry)
	if err != nil {
		return vax.Lot{}, vax.Wrap(vax.Internal, err, "sqlite: stored lot expiry")
	}
	l.Expiry, l.CreatedAt = d, fromUnix(created)
	return l, nil
}

// CreateLot inserts l; Conflict if the centre has a lot with its number,
// NotFound if the centre or the vaccine is unknown.
func (t *tx) CreateLot(ctx context.Context, l vax.Lot) error {
	if err := t.writable("create lot"); err != nil {
		return err
	}
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM centres WHERE id = ?`, l.CentreID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Errorf(vax.NotFound, "create lot: centre %d not found", l.CentreID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("read centre %d", l.CentreID)))
	}
	if err := t.checkVaccine(ctx, l.Vaccine); err != nil {
		return fmt.Errorf("create lot: %w", err)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO lots (`+lotCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		l.CentreID, l.Number, l.Vaccine, l.Manufacturer, l.Expiry.String(), l.Received, l.Used, toUnix(l.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create lot"))
	}
	return nil
}

// Lot returns one lot of a centre; NotFound when unknown.
func (t *tx) Lot(ctx context.Context, centreID int64, number string) (vax.Lot, error) {
	l, err := scanLot(t.tx.QueryRowContext(ctx, `SELECT `+lotCols+` FROM lots WHERE centre_id = ? AND number = ?`,
		centreID, number))
	return one(l, err, "lot not found", "read lot")
}

// Lots lists a centre's lots by number.
func (t *tx) Lots(ctx context.Context, centreID int64) ([]vax.Lot, error) {
	return list(ctx, t.tx, "list lots", `SELECT `+lotCols+` FROM lots WHERE centre_id = ? ORDER BY number`, []any{centreID}, scanLot)
}

// UseLot takes one dose from a lot with one conditional UPDATE: Full when
// it is used up, NotFound when unknown.
func (t *tx) UseLot(ctx context.Context, centreID int64, number string) error {
	if err := t.writable("use lot"); err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE lots SET used = used + 1
		WHERE centre_id = ? AND number = ? AND used < received`, centreID, number)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "use lot"))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "use lot"))
	} else if n == 1 {
		return nil
	}
	if _, err := t.Lot(ctx, centreID, number); err != nil {
		return err
	}
	return vax.Errorf(vax.Full, "lot %s is used up", number)
}

// Doses.

const doseCols = `id, ref, dose, vaccine, lot, centre_id, appointment_id, vaccinator_id, administered_at, recorded_at`

func scanDose(sc scanner) (vax.Dose, error) {
	var d vax.Dose
	var appt sql.NullString
	var administered, recorded int64
	if err := sc.Scan(&d.ID, &d.Ref, &d.Dose, &d.Vaccine, &d.Lot, &d.CentreID, &appt, &d.VaccinatorID,
		&administered, &recorded); err != nil {
		return vax.Dose{}, err
	}
	d.AppointmentID = appt.String
	d.AdministeredAt, d.RecordedAt = fromUnix(administered), fromUnix(recorded)
	return d, nil
}

// RecordDose inserts d; Conflict if its id is taken or its beneficiary has
// a record for d.Dose.
func (t *tx) RecordDose(ctx context.Context, d vax.Dose) error {
	if err := t.writable("record dose"); err != nil {
		return err
	}
	if !vax.ValidUUID(d.ID) {
		return vax.Errorf(vax.Invalid, "invalid dose id %q: want a UUID", d.ID)
	}
	var appt any // NULL for a walk-in
	if d.AppointmentID != "" {
		appt = strings.ToLower(d.AppointmentID)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO doses (`+doseCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		strings.ToLower(d.ID), d.Ref, d.Dose, d.Vaccine, d.Lot, d.CentreID, appt, strings.ToLower(d.VaccinatorID),
		toUnix(d.AdministeredAt), toUnix(d.RecordedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "record dose"))
	}
	return nil
}

// Dose returns one dose record; NotFound when unknown.
func (t *tx) Dose(ctx context.Context, id string) (vax.Dose, error) {
	d, err := scanDose(t.tx.QueryRowContext(ctx, `SELECT `+doseCols+` FROM doses WHERE id = ?`, strings.ToLower(id)))
	return one(d, err, "dose record not found", "read dose")
}

// DosesOf lists a beneficiary's dose records in dose order.
func (t *tx) DosesOf(ctx context.Context, ref string) ([]vax.Dose, error) {
	return list(ctx, t.tx, "list doses", `SELECT `+doseCols+` FROM doses WHERE ref = ? ORDER BY dose`, []any{ref}, scanDose)
}

// BeneficiaryAppointments lists the appointments in which ref holds a
// place, live or cancelled, oldest first, with all their places.
func (t *tx) BeneficiaryAppointments(ctx context.Context, ref string) ([]vax.Appointment, error) {
	return t.appointments(ctx, "list beneficiary appointments",
		`WHERE id IN (SELECT appointment_id FROM appointment_places WHERE ref = ?) ORDER BY created_at, id`, ref)
}

// CodeFailure counts one wrong secret code with one UPDATE … RETURNING, so
// concurrent failures each count.
func (t *tx) CodeFailure(ctx context.Context, id string) (int, error) {
	if err := t.writable("count code failure"); err != nil {
		return 0, err
	}
	var n int
	err := t.tx.QueryRowContext(ctx, `UPDATE appointments SET code_failures = code_failures + 1
		WHERE id = ? RETURNING code_failures`, strings.ToLower(id)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, vax.Errorf(vax.NotFound, "appointment not found")
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", dbErr(err, "count code failure"))
	}
	return n, nil
}

// CentreQueue lists the live places in appointments of the centre's open
// sessions on date, by slot, appointment creation and ref.
func (t *tx) CentreQueue(ctx context.Context, centreID int64, date vax.Date) ([]vax.QueueEntry, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT a.id, a.session_id, a.slot, a.dose, p.ref,
			b.name, b.birth_year, b.gender_id, coalesce(d.id, '')
		FROM sessions s
		JOIN appointments a ON a.session_id = s.id AND a.status = 'live'
		JOIN appointment_places p ON p.appointment_id = a.id AND p.status = 'live'
		JOIN beneficiaries b ON b.ref = p.ref
		LEFT JOIN doses d ON d.ref = p.ref AND d.dose = a.dose
		WHERE s.centre_id = ? AND s.date = ? AND s.status = 'open'
		ORDER BY a.slot, a.created_at, p.ref, a.id`, centreID, date.String())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "read centre queue"))
	}
	defer rows.Close()
	var out []vax.QueueEntry
	for rows.Next() {
		var e vax.QueueEntry
		if err := rows.Scan(&e.AppointmentID, &e.SessionID, &e.Slot, &e.Dose, &e.Ref,
			&e.Name, &e.BirthYear, &e.GenderID, &e.DoseID); err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "read centre queue"))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "read centre queue"))
	}
	return out, nil
}

// Adverse events.

const eventCols = `id, dose_id, ref, centre_id, district_id, severity, symptoms, onset, reporter_id, reported_at`

func scanEvent(sc scanner) (vax.AdverseEvent, error) {
	var e vax.AdverseEvent
	var severity string
	var symptoms sql.NullString
	var onset, reported int64
	if err := sc.Scan(&e.ID, &e.DoseID, &e.Ref, &e.CentreID, &e.DistrictID, &severity, &symptoms, &onset,
		&e.ReporterID, &reported); err != nil {
		return vax.AdverseEvent{}, err
	}
	e.Severity = vax.Severity(severity)
	e.Onset, e.ReportedAt = fromUnix(onset), fromUnix(reported)
	if err := decodeJSON(symptoms, &e.Symptoms, "symptoms"); err != nil {
		return vax.AdverseEvent{}, err
	}
	return e, nil
}

// RecordAdverseEvent inserts e; Conflict if its id is taken.
func (t *tx) RecordAdverseEvent(ctx context.Context, e vax.AdverseEvent) error {
	if err := t.writable("record adverse event"); err != nil {
		return err
	}
	if !vax.ValidUUID(e.ID) {
		return vax.Errorf(vax.Invalid, "invalid adverse event id %q: want a UUID", e.ID)
	}
	symptoms, err := encodeJSON(append([]string{}, e.Symptoms...), "symptoms")
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO adverse_events (`+eventCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		strings.ToLower(e.ID), strings.ToLower(e.DoseID), e.Ref, e.CentreID, e.DistrictID, string(e.Severity),
		symptoms, toUnix(e.Onset), strings.ToLower(e.ReporterID), toUnix(e.ReportedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "record adverse event"))
	}
	return nil
}

// AdverseEvents lists events matching q, newest first, keyset-paged on
// (reported_at, id).
func (t *tx) AdverseEvents(ctx context.Context, q vax.AdverseEventQuery) ([]vax.AdverseEvent, error) {
	where := []string{"1 = 1"}
	var args []any
	if q.DistrictID != 0 {
		where, args = append(where, "district_id = ?"), append(args, q.DistrictID)
	}
	if q.CentreID != 0 {
		where, args = append(where, "centre_id = ?"), append(args, q.CentreID)
	}
	if q.Severity != "" {
		where, args = append(where, "severity = ?"), append(args, string(q.Severity))
	}
	if !q.BeforeTime.IsZero() {
		at := toUnix(q.BeforeTime)
		where = append(where, "(reported_at < ? OR (reported_at = ? AND id < ?))")
		args = append(args, at, at, strings.ToLower(q.BeforeID))
	}
	args = append(args, vax.PageSize(q.Limit))
	rows, err := t.tx.QueryContext(ctx, `SELECT `+eventCols+` FROM adverse_events
		WHERE `+strings.Join(where, " AND ")+` ORDER BY reported_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list adverse events"))
	}
	defer rows.Close()
	var out []vax.AdverseEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list adverse events"))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list adverse events"))
	}
	return out, nil
}
