package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// Staff, vaccine lots, dose records and adverse events. The dose path
// (UseLot, RecordDose, DosesOf) runs at thousands per second: each is one
// statement, and concurrency is left to the row lock of one conditional
// UPDATE (UseLot, CodeFailure) or to a unique constraint (RecordDose).

const staffCols = `s.id::text, s.name, s.mobile_hash, s.mobile_sealed, s.mobile_last4, s.role,
	s.district_id, s.state_id, s.status, s.created_by, s.created_at, s.updated_at,
	ARRAY(SELECT c.centre_id FROM staff_centres c WHERE c.staff_id = s.id ORDER BY c.centre_id)`

func scanStaff(r pgx.Row) (vax.Staff, error) {
	var s vax.Staff
	var role, status string
	err := r.Scan(&s.ID, &s.Name, &s.MobileHash, &s.MobileSealed, &s.MobileLast4, &role,
		&s.DistrictID, &s.StateID, &status, &s.CreatedBy, &s.CreatedAt, &s.UpdatedAt, &s.CentreIDs)
	s.Role, s.Status = vax.Role(role), vax.StaffStatus(status)
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	if len(s.CentreIDs) == 0 {
		s.CentreIDs = nil
	}
	return s, err
}

// centreIDs is a scope's centres as stored: ascending, each once, never
// NULL.
func centreIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return append([]int64{}, slices.Compact(out)...)
}

// CreateStaff inserts s and its centres in one statement; Conflict if its
// id or mobile hash is taken (nothing is inserted then).
func (t *tx) CreateStaff(ctx context.Context, s vax.Staff) error {
	if err := t.write("CreateStaff"); err != nil {
		return err
	}
	if !vax.ValidUUID(s.ID) {
		return vax.Errorf(vax.Invalid, "invalid staff id %q: want a UUID", s.ID)
	}
	var n int
	err := t.tx.QueryRow(ctx, `WITH s AS (INSERT INTO staff (id, name, mobile_hash, mobile_sealed, mobile_last4,
			role, district_id, state_id, status, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING RETURNING id),
		c AS (INSERT INTO staff_centres (staff_id, centre_id) SELECT s.id, u FROM s, unnest($13::bigint[]) AS u)
		SELECT count(*) FROM s`,
		s.ID, s.Name, s.MobileHash, s.MobileSealed, s.MobileLast4, string(s.Role), s.DistrictID, s.StateID,
		string(s.Status), s.CreatedBy, stamp(s.CreatedAt), stamp(s.UpdatedAt), centreIDs(s.CentreIDs)).Scan(&n)
	if err != nil {
		return dbErr(err, "create staff")
	}
	if n == 0 {
		return vax.Errorf(vax.Conflict, "create staff: id or mobile number already registered")
	}
	return nil
}

// UpdateStaff replaces s.ID's name, role, scope, status and UpdatedAt in
// one statement: the row is updated, centres it no longer has are deleted
// and new ones inserted (the two touch disjoint rows).
func (t *tx) UpdateStaff(ctx context.Context, s vax.Staff) error {
	if err := t.write("UpdateStaff"); err != nil {
		return err
	}
	if !vax.ValidUUID(s.ID) {
		return vax.Errorf(vax.NotFound, "staff member not found")
	}
	var n int
	err := t.tx.QueryRow(ctx, `WITH s AS (UPDATE staff SET name = $2, role = $3, district_id = $4, state_id = $5,
			status = $6, updated_at = $7 WHERE id = $1 RETURNING id),
		d AS (DELETE FROM staff_centres WHERE staff_id IN (SELECT id FROM s) AND centre_id <> ALL($8::bigint[])),
		c AS (INSERT INTO staff_centres (staff_id, centre_id) SELECT s.id, u FROM s, unnest($8::bigint[]) AS u
			ON CONFLICT DO NOTHING)
		SELECT count(*) FROM s`,
		s.ID, s.Name, string(s.Role), s.DistrictID, s.StateID, string(s.Status), stamp(s.UpdatedAt),
		centreIDs(s.CentreIDs)).Scan(&n)
	if err != nil {
		return dbErr(err, "update staff")
	}
	if n == 0 {
		return vax.Errorf(vax.NotFound, "staff member not found")
	}
	return nil
}

// Staff returns one staff member; NotFound when unknown (or not a UUID).
func (t *tx) Staff(ctx context.Context, id string) (vax.Staff, error) {
	if !vax.ValidUUID(id) {
		return vax.Staff{}, vax.Errorf(vax.NotFound, "staff member not found")
	}
	s, err := scanStaff(t.tx.QueryRow(ctx, "SELECT "+staffCols+" FROM staff s WHERE s.id = $1::uuid", id))
	return one(s, err, "staff member not found", "read staff member")
}

// StaffByMobile returns the staff member whose mobile hash is one of
// hashes.
func (t *tx) StaffByMobile(ctx context.Context, hashes []string) (vax.Staff, error) {
	s, err := scanStaff(t.tx.QueryRow(ctx, "SELECT "+staffCols+
		" FROM staff s WHERE s.mobile_hash = ANY($1) ORDER BY s.created_at, s.id LIMIT 1", hashes))
	return one(s, err, "staff member not found", "find staff by mobile")
}

// StaffList lists staff matching q, by id. An area matches the admins
// scoped to it (state admins carry no district, so only their state
// matches them) and anyone with a centre in it.
func (t *tx) StaffList(ctx context.Context, q vax.StaffQuery) ([]vax.Staff, error) {
	if q.AfterID != "" && !vax.ValidUUID(q.AfterID) {
		return nil, vax.Errorf(vax.Invalid, "invalid staff id %q to list after: want a UUID", q.AfterID)
	}
	var f filter
	if q.CentreID != 0 {
		f.add("s.id IN (SELECT staff_id FROM staff_centres WHERE centre_id = ?)", q.CentreID)
	}
	if q.DistrictID != 0 {
		f.add(`(s.district_id = ? OR s.id IN (SELECT sc.staff_id FROM staff_centres sc
			JOIN centres c ON c.id = sc.centre_id WHERE c.district_id = ?))`, q.DistrictID)
	}
	if q.StateID != 0 {
		f.add(`(s.state_id = ? OR s.id IN (SELECT sc.staff_id FROM staff_centres sc
			JOIN centres c ON c.id = sc.centre_id WHERE c.state_id = ?))`, q.StateID)
	}
	if q.Role != "" {
		f.add("s.role = ?", string(q.Role))
	}
	if q.AfterID != "" {
		f.add("s.id > ?::uuid", q.AfterID)
	}
	sql := "SELECT " + staffCols + " FROM staff s" + f.where() + " ORDER BY s.id" + f.limit(q.Limit)
	return list(ctx, t.tx, "list staff", sql, f.args, scanStaff)
}

const lotCols = "centre_id, number, vaccine, manufacturer, expiry, received, used, created_at"

func scanLot(r pgx.Row) (vax.Lot, error) {
	var l vax.Lot
	var expiry time.Time
	err := r.Scan(&l.CentreID, &l.Number, &l.Vaccine, &l.Manufacturer, &expiry, &l.Received, &l.Used, &l.CreatedAt)
	l.Expiry, l.CreatedAt = vax.DateOf(expiry, time.UTC), l.CreatedAt.UTC()
	return l, err
}

// CreateLot inserts l; Conflict if the centre has a lot of that number,
// NotFound if the centre or vaccine is unknown. All three are found without
// a server error, so the transaction stays usable (as in CreateSession).
func (t *tx) CreateLot(ctx context.Context, l vax.Lot) error {
	if err := t.write("CreateLot"); err != nil {
		return err
	}
	what := fmt.Sprintf("create lot %q of centre %d", l.Number, l.CentreID)
	tag, err := t.tx.Exec(ctx, `INSERT INTO lots (`+lotCols+`)
		SELECT $1::bigint, $2::text, $3::text, $4::text, $5::date, $6::integer, $7::integer, $8::timestamptz
		WHERE EXISTS (SELECT 1 FROM centres WHERE id = $1) AND EXISTS (SELECT 1 FROM vaccines WHERE name = $3)
		ON CONFLICT (centre_id, number) DO NOTHING`,
		l.CentreID, l.Number, l.Vaccine, l.Manufacturer, day(l.Expiry), l.Received, l.Used, stamp(l.CreatedAt))
	if err != nil {
		return dbErr(err, what)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var taken, centre, vaccine bool
	if err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM lots WHERE centre_id = $1 AND number = $2),
		EXISTS (SELECT 1 FROM centres WHERE id = $1), EXISTS (SELECT 1 FROM vaccines WHERE name = $3)`,
		l.CentreID, l.Number, l.Vaccine).Scan(&taken, &centre, &vaccine); err != nil {
		return dbErr(err, what)
	}
	switch {
	case taken:
		return vax.Errorf(vax.Conflict, "%s: already exists", what)
	case !centre:
		return vax.Errorf(vax.NotFound, "%s: centre not found", what)
	case !vaccine:
		return vax.Errorf(vax.NotFound, "%s: vaccine %s not found", what, l.Vaccine)
	}
	return vax.Errorf(vax.Conflict, "%s: changed concurrently, try again", what)
}

// Lot returns one lot of a centre; NotFound when unknown.
func (t *tx) Lot(ctx context.Context, centreID int64, number string) (vax.Lot, error) {
	l, err := scanLot(t.tx.QueryRow(ctx, "SELECT "+lotCols+" FROM lots WHERE centre_id = $1 AND number = $2",
		centreID, number))
	if err != nil {
		return vax.Lot{}, dbErr(err, fmt.Sprintf("lot %q of centre %d", number, centreID))
	}
	return l, nil
}

// Lots lists a centre's lots by number (byte order: the column is COLLATE
// "C").
func (t *tx) Lots(ctx context.Context, centreID int64) ([]vax.Lot, error) {
	return list(ctx, t.tx, fmt.Sprintf("list lots of centre %d", centreID),
		"SELECT "+lotCols+" FROM lots WHERE centre_id = $1 ORDER BY number", []any{centreID}, scanLot)
}

// UseLot takes one dose from a lot with one conditional UPDATE: under READ
// COMMITTED concurrent ones queue on the row lock and each re-checks
// used < received on the latest version, so a lot is never overdrawn. The
// same statement tells an unknown lot (NotFound) from an empty one (Full).
func (t *tx) UseLot(ctx context.Context, centreID int64, number string) error {
	if err := t.write("UseLot"); err != nil {
		return err
	}
	var used, exists bool
	err := t.tx.QueryRow(ctx, useLotSQL, planEach, centreID, number, nil).Scan(&used, &exists)
	switch {
	case err != nil:
		return dbErr(err, fmt.Sprintf("use lot %q of centre %d", number, centreID))
	case used:
		return nil
	case !exists:
		return vax.Errorf(vax.NotFound, "lot %q of centre %d not found", number, centreID)
	}
	return vax.Errorf(vax.Full, "lot %q of centre %d has no doses left", number, centreID)
}

// doseCols are the doses columns but ref, qualified by d.
const doseCols = `d.id::text, d.dose, d.vaccine, d.lot, d.centre_id, d.appointment_id::text, d.vaccinator_id::text,
	d.administered_at, d.recorded_at`

// nullDose receives doseCols from an outer join, where a beneficiary
// without dose records has them all NULL.
type nullDose struct {
	id, vaccine, lot, appointmentID, vaccinatorID *string
	dose                                          *int
	centreID                                      *int64
	administeredAt, recordedAt                    *time.Time
}

// dest returns the scan destinations of doseCols.
func (n *nullDose) dest() []any {
	return []any{&n.id, &n.dose, &n.vaccine, &n.lot, &n.centreID, &n.appointmentID, &n.vaccinatorID,
		&n.administeredAt, &n.recordedAt}
}

// record returns ref's dose record, or false when the join found none.
func (n *nullDose) record(ref string) (vax.Dose, bool) {
	if n.id == nil {
		return vax.Dose{}, false
	}
	d := vax.Dose{ID: *n.id, Ref: ref, Dose: *n.dose, Vaccine: *n.vaccine, Lot: *n.lot, CentreID: *n.centreID,
		VaccinatorID: *n.vaccinatorID, AdministeredAt: n.administeredAt.UTC(), RecordedAt: n.recordedAt.UTC()}
	if n.appointmentID != nil {
		d.AppointmentID = *n.appointmentID
	}
	return d, true
}

func scanDose(r pgx.Row) (vax.Dose, error) {
	var n nullDose
	var ref string
	if err := r.Scan(append([]any{&ref}, n.dest()...)...); err != nil {
		return vax.Dose{}, err
	}
	d, _ := n.record(ref)
	return d, nil
}

// optionalUUID is an optional id as a nullable uuid column takes it.
func optionalUUID(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

// checkDose refuses a dose record RecordDose cannot store.
func checkDose(d vax.Dose) error {
	switch {
	case !vax.ValidUUID(d.ID):
		return vax.Errorf(vax.Invalid, "invalid dose id %q: want a UUID", d.ID)
	case d.AppointmentID != "" && !vax.ValidUUID(d.AppointmentID):
		return vax.Errorf(vax.Invalid, "invalid appointment id %q: want a UUID", d.AppointmentID)
	case !vax.ValidUUID(d.VaccinatorID):
		return vax.Errorf(vax.Invalid, "invalid vaccinator id %q: want a UUID", d.VaccinatorID)
	}
	return nil
}

// RecordDose inserts d. The unique (ref, dose) constraint decides between
// concurrent records of one dose: ON CONFLICT DO NOTHING waits for the
// other insert and, if it commits, inserts nothing (Conflict), leaving the
// transaction usable.
func (t *tx) RecordDose(ctx context.Context, d vax.Dose) error {
	if err := t.write("RecordDose"); err != nil {
		return err
	}
	if err := checkDose(d); err != nil {
		return err
	}
	return t.insertOnce(ctx, "record dose", recordDoseSQL,
		d.ID, d.Ref, d.Dose, d.Vaccine, d.Lot, d.CentreID, optionalUUID(d.AppointmentID), d.VaccinatorID,
		stamp(d.AdministeredAt), stamp(d.RecordedAt))
}

// Dose returns one dose record; NotFound when unknown (or not a UUID).
func (t *tx) Dose(ctx context.Context, id string) (vax.Dose, error) {
	if !vax.ValidUUID(id) {
		return vax.Dose{}, vax.Errorf(vax.NotFound, "dose record not found")
	}
	d, err := scanDose(t.tx.QueryRow(ctx, "SELECT d.ref, "+doseCols+" FROM doses d WHERE d.id = $1::uuid", planEach, id))
	return one(d, err, "dose record not found", "read dose record")
}

// DosesOf lists a beneficiary's dose records in dose order (the unique
// (ref, dose) index returns them so).
func (t *tx) DosesOf(ctx context.Context, ref string) ([]vax.Dose, error) {
	return list(ctx, t.tx, "list dose records",
		"SELECT d.ref, "+doseCols+" FROM doses d WHERE d.ref = $1 ORDER BY d.dose", []any{planEach, ref}, scanDose)
}

// BeneficiaryAppointments lists the appointments in which ref holds a
// place, live or cancelled, oldest first.
func (t *tx) BeneficiaryAppointments(ctx context.Context, ref string) ([]vax.Appointment, error) {
	return t.appointments(ctx, "list beneficiary appointments",
		`WHERE id IN (SELECT appointment_id FROM appointment_places WHERE ref = $1) ORDER BY created_at, id`,
		planEach, ref)
}

// CodeFailure counts a wrong secret code with one UPDATE … RETURNING:
// concurrent failures queue on the row lock, so each counts and each
// sees its own total.
func (t *tx) CodeFailure(ctx context.Context, id string) (int, error) {
	if err := t.write("CodeFailure"); err != nil {
		return 0, err
	}
	if !vax.ValidUUID(id) {
		return 0, vax.Errorf(vax.NotFound, "appointment not found")
	}
	var n int
	err := t.tx.QueryRow(ctx, `UPDATE appointments SET code_failures = code_failures + 1
		WHERE id = $1::uuid RETURNING code_failures`, planEach, id).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, vax.Errorf(vax.NotFound, "appointment not found")
	}
	if err != nil {
		return 0, dbErr(err, "count wrong secret code")
	}
	return n, nil
}

// CentreQueue lists the live places of the centre's open sessions on date.
// Slots and refs sort byte-wise, as in the SQLite store; the appointment id
// breaks the remaining ties so the order is total.
func (t *tx) CentreQueue(ctx context.Context, centreID int64, date vax.Date) ([]vax.QueueEntry, error) {
	return list(ctx, t.tx, fmt.Sprintf("list queue of centre %d", centreID),
		`SELECT a.id::text, a.session_id::text, a.slot, a.dose, b.ref, b.name, b.birth_year, b.gender_id,
			coalesce(d.id::text, '')
		FROM sessions s
		JOIN appointments a ON a.session_id = s.id AND a.status = 'live'
		JOIN appointment_places p ON p.appointment_id = a.id AND p.status = 'live'
		JOIN beneficiaries b ON b.ref = (p.ref COLLATE "C")
		LEFT JOIN doses d ON d.ref = b.ref AND d.dose = a.dose
		WHERE s.centre_id = $1 AND s.date = $2::date AND s.status = 'open'
		ORDER BY a.slot COLLATE "C", a.created_at, b.ref, a.id`,
		[]any{planEach, centreID, day(date)},
		func(r pgx.Row) (vax.QueueEntry, error) {
			var e vax.QueueEntry
			err := r.Scan(&e.AppointmentID, &e.SessionID, &e.Slot, &e.Dose, &e.Ref, &e.Name, &e.BirthYear,
				&e.GenderID, &e.DoseID)
			return e, err
		})
}

const adverseEventCols = `id::text, dose_id::text, ref, centre_id, district_id, severity, symptoms, onset,
	reporter_id::text, reported_at`

func scanAdverseEvent(r pgx.Row) (vax.AdverseEvent, error) {
	var e vax.AdverseEvent
	var severity string
	err := r.Scan(&e.ID, &e.DoseID, &e.Ref, &e.CentreID, &e.DistrictID, &severity, &e.Symptoms, &e.Onset,
		&e.ReporterID, &e.ReportedAt)
	e.Severity, e.Onset, e.ReportedAt = vax.Severity(severity), e.Onset.UTC(), e.ReportedAt.UTC()
	if len(e.Symptoms) == 0 {
		e.Symptoms = nil
	}
	return e, err
}

// RecordAdverseEvent inserts e; Conflict if its id is taken.
func (t *tx) RecordAdverseEvent(ctx context.Context, e vax.AdverseEvent) error {
	if err := t.write("RecordAdverseEvent"); err != nil {
		return err
	}
	for _, id := range []string{e.ID, e.DoseID, e.ReporterID} {
		if !vax.ValidUUID(id) {
			return vax.Errorf(vax.Invalid, "record adverse event: invalid id %q: want a UUID", id)
		}
	}
	symptoms := e.Symptoms
	if symptoms == nil {
		symptoms = []string{}
	}
	return t.insertOnce(ctx, "record adverse event", `INSERT INTO adverse_events (id, dose_id, ref, centre_id,
		district_id, severity, symptoms, onset, reporter_id, reported_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		e.ID, e.DoseID, e.Ref, e.CentreID, e.DistrictID, string(e.Severity), symptoms, stamp(e.Onset),
		e.ReporterID, stamp(e.ReportedAt))
}

// AdverseEvents lists events matching q, newest first. A page continues
// strictly after (BeforeTime, BeforeID) in that order; a BeforeTime without
// BeforeID continues before that second.
func (t *tx) AdverseEvents(ctx context.Context, q vax.AdverseEventQuery) ([]vax.AdverseEvent, error) {
	if q.BeforeID != "" && !vax.ValidUUID(q.BeforeID) {
		return nil, vax.Errorf(vax.Invalid, "invalid adverse event id %q to list before: want a UUID", q.BeforeID)
	}
	var f filter
	if q.DistrictID != 0 {
		f.add("district_id = ?", q.DistrictID)
	}
	if q.CentreID != 0 {
		f.add("centre_id = ?", q.CentreID)
	}
	if q.Severity != "" {
		f.add("severity = ?", string(q.Severity))
	}
	if !q.BeforeTime.IsZero() {
		if q.BeforeID != "" {
			// A row comparison takes two arguments; filter.add takes one.
			f.args = append(f.args, stamp(q.BeforeTime), strings.ToLower(q.BeforeID))
			f.conds = append(f.conds, fmt.Sprintf("(reported_at, id) < ($%d::timestamptz, $%d::uuid)",
				len(f.args)-1, len(f.args)))
		} else {
			f.add("reported_at < ?::timestamptz", stamp(q.BeforeTime))
		}
	}
	sql := "SELECT " + adverseEventCols + " FROM adverse_events" + f.where() +
		" ORDER BY reported_at DESC, id DESC" + f.limit(q.Limit)
	return list(ctx, t.tx, "list adverse events", sql, f.args, scanAdverseEvent)
}
