package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// tx is a vax.Tx on one SQLite transaction.
type tx struct {
	tx       *sql.Tx
	clock    vax.Clock
	readOnly bool // a View: write methods fail
	appended bool // AppendChange ran: signal Wakeups after commit
	// seatsMoved lists the sessions whose booked counts this transaction
	// moved and recorded a change for (once each: a batch of admissions to
	// one session records one change).
	seatsMoved map[string]bool
}

var _ vax.Tx = (*tx)(nil)

// writable refuses a write in a View. Calling one there is a bug in the
// caller, not bad input.
func (t *tx) writable(what string) error {
	if t.readOnly {
		return vax.Errorf(vax.Internal, "sqlite: %s: write in a read-only transaction", what)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// list runs a query in tx and scans its rows; nil when there are none.
// Errors name what was being read.
func list[T any](ctx context.Context, tx *sql.Tx, what, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	return out, nil
}

// Meta returns a setting; NotFound when absent.
func (t *tx) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := t.tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE "key" = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", vax.Errorf(vax.NotFound, "setting %q not found", key)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", dbErr(err, "read setting "+key))
	}
	return v, nil
}

// SetMeta inserts or replaces a setting.
func (t *tx) SetMeta(ctx context.Context, key, value string) error {
	if err := t.writable("set setting"); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx,
		`INSERT INTO meta ("key", value) VALUES (?, ?)
		 ON CONFLICT ("key") DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "set setting "+key))
	}
	return nil
}

// PutState inserts or replaces a state.
func (t *tx) PutState(ctx context.Context, s vax.State) error {
	if err := t.writable("put state"); err != nil {
		return err
	}
	names, err := encodeNames(s.LocalNames)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx,
		`INSERT INTO states (id, name, local_names) VALUES (?, ?, ?)
		 ON CONFLICT (id) DO UPDATE SET name = excluded.name, local_names = excluded.local_names`,
		s.ID, s.Name, names)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("put state %d", s.ID)))
	}
	return nil
}

// States lists all states by id.
func (t *tx) States(ctx context.Context) ([]vax.State, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, name, local_names FROM states ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list states"))
	}
	defer rows.Close()
	var out []vax.State
	for rows.Next() {
		var s vax.State
		var names sql.NullString
		if err := rows.Scan(&s.ID, &s.Name, &names); err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list states"))
		}
		if s.LocalNames, err = decodeNames(names); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list states"))
	}
	return out, nil
}

// PutDistrict inserts or replaces a district; NotFound if its state is
// unknown.
func (t *tx) PutDistrict(ctx context.Context, d vax.District) error {
	if err := t.writable("put district"); err != nil {
		return err
	}
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM states WHERE id = ?`, d.StateID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Errorf(vax.NotFound, "put district %d: state %d not found", d.ID, d.StateID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("read state %d", d.StateID)))
	}
	names, err := encodeNames(d.LocalNames)
	if err != nil {
		return err
	}
	// An upsert, not INSERT OR REPLACE: replacing would delete the row
	// that centres refer to.
	_, err = t.tx.ExecContext(ctx,
		`INSERT INTO districts (id, state_id, name, local_names) VALUES (?, ?, ?, ?)
		 ON CONFLICT (id) DO UPDATE SET state_id = excluded.state_id, name = excluded.name,
		   local_names = excluded.local_names`,
		d.ID, d.StateID, d.Name, names)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("put district %d", d.ID)))
	}
	return nil
}

const districtCols = `id, state_id, name, local_names`

func scanDistrict(sc scanner) (vax.District, error) {
	var d vax.District
	var names sql.NullString
	if err := sc.Scan(&d.ID, &d.StateID, &d.Name, &names); err != nil {
		return vax.District{}, err
	}
	var err error
	d.LocalNames, err = decodeNames(names)
	return d, err
}

// District returns one district; NotFound when unknown.
func (t *tx) District(ctx context.Context, id int) (vax.District, error) {
	d, err := scanDistrict(t.tx.QueryRowContext(ctx,
		`SELECT `+districtCols+` FROM districts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return vax.District{}, vax.Errorf(vax.NotFound, "district %d not found", id)
	}
	if err != nil {
		return vax.District{}, fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("read district %d", id)))
	}
	return d, nil
}

// Districts lists a state's districts by id.
func (t *tx) Districts(ctx context.Context, stateID int) ([]vax.District, error) {
	rows, err := t.tx.QueryContext(ctx,
		`SELECT `+districtCols+` FROM districts WHERE state_id = ? ORDER BY id`, stateID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list districts"))
	}
	defer rows.Close()
	var out []vax.District
	for rows.Next() {
		d, err := scanDistrict(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list districts"))
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list districts"))
	}
	return out, nil
}

// PutVaccine inserts or replaces a vaccine by name.
func (t *tx) PutVaccine(ctx context.Context, v vax.Vaccine) error {
	if err := t.writable("put vaccine"); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx,
		`INSERT INTO vaccines (name, doses, interval_days, dcc_product, dcc_manufacturer, dcc_prophylaxis)
		 VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET doses = excluded.doses, interval_days = excluded.interval_days,
		   dcc_product = excluded.dcc_product, dcc_manufacturer = excluded.dcc_manufacturer,
		   dcc_prophylaxis = excluded.dcc_prophylaxis`,
		v.Name, v.Doses, v.IntervalDays, v.DCCProduct, v.DCCManufacturer, v.DCCProphylaxis)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "put vaccine "+v.Name))
	}
	return nil
}

// Vaccines lists all vaccines by name.
func (t *tx) Vaccines(ctx context.Context) ([]vax.Vaccine, error) {
	rows, err := t.tx.QueryContext(ctx,
		`SELECT name, doses, interval_days, dcc_product, dcc_manufacturer, dcc_prophylaxis
		 FROM vaccines ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list vaccines"))
	}
	defer rows.Close()
	var out []vax.Vaccine
	for rows.Next() {
		var v vax.Vaccine
		if err := rows.Scan(&v.Name, &v.Doses, &v.IntervalDays, &v.DCCProduct, &v.DCCManufacturer, &v.DCCProphylaxis); err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list vaccines"))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list vaccines"))
	}
	return out, nil
}

// checkDistrict reports NotFound if districtID is unknown and Invalid if
// it is not in stateID.
func (t *tx) checkDistrict(ctx context.Context, stateID, districtID int) error {
	var got int
	err := t.tx.QueryRowContext(ctx, `SELECT state_id FROM districts WHERE id = ?`, districtID).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Errorf(vax.NotFound, "district %d not found", districtID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("read district %d", districtID)))
	}
	if got != stateID {
		return vax.Errorf(vax.Invalid, "district %d is not in state %d", districtID, stateID)
	}
	return nil
}

const centreCols = `id, name, address, state_id, district_id, block_name, pincode, lat, long,
	open_from, open_to, fee_type, fees`

// CreateCentre inserts c; with c.ID 0 SQLite assigns max(id)+1, so
// assigned ids stay above every explicit one.
func (t *tx) CreateCentre(ctx context.Context, c vax.Centre) (int64, error) {
	if err := t.writable("create centre"); err != nil {
		return 0, err
	}
	if err := t.checkDistrict(ctx, c.StateID, c.DistrictID); err != nil {
		return 0, fmt.Errorf("create centre: %w", err)
	}
	fees, err := encodeFees(c.Fees)
	if err != nil {
		return 0, err
	}
	var id any // NULL asks SQLite for the next rowid
	if c.ID != 0 {
		id = c.ID
	}
	var got int64
	err = t.tx.QueryRowContext(ctx,
		`INSERT INTO centres (`+centreCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		id, c.Name, c.Address, c.StateID, c.DistrictID, c.BlockName, c.Pincode, c.Lat, c.Long,
		c.From, c.To, string(c.FeeType), fees).Scan(&got)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("create centre %d", c.ID)))
	}
	return got, nil
}

// UpdateCentre replaces every field of centre c.ID.
func (t *tx) UpdateCentre(ctx context.Context, c vax.Centre) error {
	if err := t.writable("update centre"); err != nil {
		return err
	}
	if err := t.checkDistrict(ctx, c.StateID, c.DistrictID); err != nil {
		return fmt.Errorf("update centre %d: %w", c.ID, err)
	}
	fees, err := encodeFees(c.Fees)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx,
		`UPDATE centres SET name = ?, address = ?, state_id = ?, district_id = ?, block_name = ?,
		   pincode = ?, lat = ?, long = ?, open_from = ?, open_to = ?, fee_type = ?, fees = ?
		 WHERE id = ?`,
		c.Name, c.Address, c.StateID, c.DistrictID, c.BlockName, c.Pincode, c.Lat, c.Long,
		c.From, c.To, string(c.FeeType), fees, c.ID)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("update centre %d", c.ID)))
	}
	return affected(res, fmt.Sprintf("centre %d", c.ID))
}

func scanCentre(sc scanner) (vax.Centre, error) {
	var c vax.Centre
	var feeType string
	var fees sql.NullString
	if err := sc.Scan(&c.ID, &c.Name, &c.Address, &c.StateID, &c.DistrictID, &c.BlockName, &c.Pincode,
		&c.Lat, &c.Long, &c.From, &c.To, &feeType, &fees); err != nil {
		return vax.Centre{}, err
	}
	c.FeeType = vax.FeeType(feeType)
	var err error
	c.Fees, err = decodeFees(fees)
	return c, err
}

// Centre returns one centre; NotFound when unknown.
func (t *tx) Centre(ctx context.Context, id int64) (vax.Centre, error) {
	c, err := scanCentre(t.tx.QueryRowContext(ctx, `SELECT `+centreCols+` FROM centres WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Centre{}, vax.Errorf(vax.NotFound, "centre %d not found", id)
	}
	if err != nil {
		return vax.Centre{}, fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("read centre %d", id)))
	}
	return c, nil
}

// Centres lists centres matching q by ascending id.
func (t *tx) Centres(ctx context.Context, q vax.CentreQuery) ([]vax.Centre, error) {
	var where []string
	var args []any
	if q.DistrictID != 0 {
		where, args = append(where, "district_id = ?"), append(args, q.DistrictID)
	}
	if q.Pincode != 0 {
		where, args = append(where, "pincode = ?"), append(args, q.Pincode)
	}
	where, args = append(where, "id > ?"), append(args, q.AfterID)
	args = append(args, vax.PageSize(q.Limit))
	rows, err := t.tx.QueryContext(ctx,
		`SELECT `+centreCols+` FROM centres WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`,
		args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list centres"))
	}
	defer rows.Close()
	var out []vax.Centre
	for rows.Next() {
		c, err := scanCentre(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list centres"))
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list centres"))
	}
	return out, nil
}

// checkVaccine reports NotFound if the vaccine is unknown.
func (t *tx) checkVaccine(ctx context.Context, name string) error {
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM vaccines WHERE name = ?`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Errorf(vax.NotFound, "vaccine %s not found", name)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "read vaccine "+name))
	}
	return nil
}

// CreateSession inserts s as given, booked counts included (an import
// carries them); UpdatedAt is the clock's now.
func (t *tx) CreateSession(ctx context.Context, s vax.Session) error {
	if err := t.writable("create session"); err != nil {
		return err
	}
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM centres WHERE id = ?`, s.CentreID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Errorf(vax.NotFound, "create session %s: centre %d not found", s.ID, s.CentreID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, fmt.Sprintf("read centre %d", s.CentreID)))
	}
	if err := t.checkVaccine(ctx, s.Vaccine); err != nil {
		return fmt.Errorf("create session %s: %w", s.ID, err)
	}
	slots, err := encodeSlots(s.Slots)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx,
		`INSERT INTO sessions (`+sessionInsertCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.CentreID, s.Date.String(), s.Vaccine, s.MinAge, s.MaxAge, s.AllowAllAge,
		s.Capacity1, s.Capacity2, s.Booked1, s.Booked2, slots, string(s.Status), toUnix(t.clock.Now()))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create session "+s.ID))
	}
	return nil
}

// UpdateSession replaces the session's date, vaccine, ages, capacities,
// slots and status, leaving its centre and booked counts; Conflict if a
// capacity would fall below what is booked.
func (t *tx) UpdateSession(ctx context.Context, s vax.Session) error {
	if err := t.writable("update session"); err != nil {
		return err
	}
	// The writer holds the database's write lock from BEGIN IMMEDIATE, so
	// the booked counts read here cannot move before the UPDATE.
	var booked1, booked2 int
	err := t.tx.QueryRowContext(ctx, `SELECT booked1, booked2 FROM sessions WHERE id = ?`, s.ID).
		Scan(&booked1, &booked2)
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Errorf(vax.NotFound, "session %s not found", s.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "read session "+s.ID))
	}
	s.Booked1, s.Booked2 = booked1, booked2
	if err := s.CheckCapacity(); err != nil {
		return fmt.Errorf("update session %s: %w", s.ID, err)
	}
	if err := t.checkVaccine(ctx, s.Vaccine); err != nil {
		return fmt.Errorf("update session %s: %w", s.ID, err)
	}
	slots, err := encodeSlots(s.Slots)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx,
		`UPDATE sessions SET date = ?, vaccine = ?, min_age = ?, max_age = ?, allow_all_age = ?,
		   capacity1 = ?, capacity2 = ?, slots = ?, status = ?, updated_at = ?
		 WHERE id = ? AND booked1 <= ? AND booked2 <= ?`,
		s.Date.String(), s.Vaccine, s.MinAge, s.MaxAge, s.AllowAllAge, s.Capacity1, s.Capacity2,
		slots, string(s.Status), toUnix(t.clock.Now()), s.ID, s.Capacity1, s.Capacity2)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "update session "+s.ID))
	}
	// The write lock makes the booked condition redundant; it is kept so
	// capacity holds even if that ever changes.
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "update session "+s.ID))
	} else if n == 0 {
		return vax.Errorf(vax.Conflict, "update session %s: capacity below the seats booked", s.ID)
	}
	return nil
}

const (
	sessionInsertCols = `id, centre_id, date, vaccine, min_age, max_age, allow_all_age,
	capacity1, capacity2, booked1, booked2, slots, status, updated_at`
	sessionCols = `s.id, s.centre_id, s.date, s.vaccine, s.min_age, s.max_age, s.allow_all_age,
	s.capacity1, s.capacity2, s.booked1, s.booked2, s.slots, s.status, s.updated_at`
)

func scanSession(sc scanner) (vax.Session, error) {
	var s vax.Session
	var date, status string
	var slots sql.NullString
	var updated int64
	if err := sc.Scan(&s.ID, &s.CentreID, &date, &s.Vaccine, &s.MinAge, &s.MaxAge, &s.AllowAllAge,
		&s.Capacity1, &s.Capacity2, &s.Booked1, &s.Booked2, &slots, &status, &updated); err != nil {
		return vax.Session{}, err
	}
	d, err := vax.ParseISODate(date)
	if err != nil {
		return vax.Session{}, vax.Wrap(vax.Internal, err, "sqlite: stored session date")
	}
	s.Date = d
	s.Status = vax.SessionStatus(status)
	s.UpdatedAt = fromUnix(updated)
	s.Slots, err = decodeSlots(slots)
	return s, err
}

// Session returns one session; NotFound when unknown.
func (t *tx) Session(ctx context.Context, id string) (vax.Session, error) {
	s, err := scanSession(t.tx.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions s WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Session{}, vax.Errorf(vax.NotFound, "session %s not found", id)
	}
	if err != nil {
		return vax.Session{}, fmt.Errorf("sqlite: %w", dbErr(err, "read session "+id))
	}
	return s, nil
}

// Sessions lists sessions matching q by id; DistrictID and Pincode filter
// through the session's centre.
func (t *tx) Sessions(ctx context.Context, q vax.SessionQuery) ([]vax.Session, error) {
	from := `sessions s`
	var where []string
	var args []any
	if q.DistrictID != 0 || q.Pincode != 0 {
		from += ` JOIN centres c ON c.id = s.centre_id`
		if q.DistrictID != 0 {
			where, args = append(where, "c.district_id = ?"), append(args, q.DistrictID)
		}
		if q.Pincode != 0 {
			where, args = append(where, "c.pincode = ?"), append(args, q.Pincode)
		}
	}
	if q.CentreID != 0 {
		where, args = append(where, "s.centre_id = ?"), append(args, q.CentreID)
	}
	if !q.From.IsZero() {
		where, args = append(where, "s.date >= ?"), append(args, q.From.String())
	}
	if !q.To.IsZero() {
		where, args = append(where, "s.date <= ?"), append(args, q.To.String())
	}
	where, args = append(where, "s.id > ?"), append(args, q.AfterID)
	args = append(args, vax.PageSize(q.Limit))
	rows, err := t.tx.QueryContext(ctx,
		`SELECT `+sessionCols+` FROM `+from+` WHERE `+strings.Join(where, " AND ")+` ORDER BY s.id LIMIT ?`,
		args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list sessions"))
	}
	defer rows.Close()
	var out []vax.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list sessions"))
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list sessions"))
	}
	return out, nil
}

// AppendChange records a change stamped with the clock's now.
func (t *tx) AppendChange(ctx context.Context, kind vax.ChangeKind, key string) error {
	if err := t.writable("append change"); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO changes (kind, "key", at) VALUES (?, ?, ?)`,
		string(kind), key, toUnix(t.clock.Now()))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "append change"))
	}
	t.appended = true
	return nil
}

// affected turns an UPDATE that matched no row into NotFound.
func affected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "update "+what))
	}
	if n == 0 {
		return vax.Errorf(vax.NotFound, "%s not found", what)
	}
	return nil
}

// JSON columns. Empty maps and lists are stored as NULL and read back as
// nil, so a round trip of an empty value compares equal to nil.

// fee is a Fee's stored JSON form, independent of Go field names.
type fee struct {
	Vaccine string `json:"vaccine"`
	Amount  int    `json:"amount"`
}

func encodeNames(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	return encodeJSON(m, "local names")
}

func decodeNames(v sql.NullString) (map[string]string, error) {
	var m map[string]string
	if err := decodeJSON(v, &m, "local names"); err != nil || len(m) == 0 {
		return nil, err
	}
	return m, nil
}

func encodeFees(fs []vax.Fee) (any, error) {
	if len(fs) == 0 {
		return nil, nil
	}
	out := make([]fee, len(fs))
	for i, f := range fs {
		out[i] = fee(f)
	}
	return encodeJSON(out, "fees")
}

func decodeFees(v sql.NullString) ([]vax.Fee, error) {
	var fs []fee
	if err := decodeJSON(v, &fs, "fees"); err != nil || len(fs) == 0 {
		return nil, err
	}
	out := make([]vax.Fee, len(fs))
	for i, f := range fs {
		out[i] = vax.Fee(f)
	}
	return out, nil
}

func encodeSlots(slots []string) (any, error) {
	if len(slots) == 0 {
		return nil, nil
	}
	return encodeJSON(slots, "slots")
}

func decodeSlots(v sql.NullString) ([]string, error) {
	var slots []string
	if err := decodeJSON(v, &slots, "slots"); err != nil || len(slots) == 0 {
		return nil, err
	}
	return slots, nil
}

func encodeJSON(v any, what string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "sqlite: encode "+what)
	}
	return string(b), nil
}

func decodeJSON(v sql.NullString, dst any, what string) error {
	if !v.Valid || v.String == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(v.String), dst); err != nil {
		return vax.Wrap(vax.Internal, err, "sqlite: stored "+what)
	}
	return nil
}
