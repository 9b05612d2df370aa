package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vaxport/vaxport/internal/vax"
)

// tx is a vax.Tx on one pgx transaction, or on the pool (Store.Read).
type tx struct {
	s        *Store
	tx       conn
	readOnly bool
	notified bool // AppendChange has queued this transaction's NOTIFY
	// seatsMoved lists the sessions whose booked counts this transaction
	// moved and recorded a change for (once each: a batch of admissions to
	// one session records one change).
	seatsMoved map[string]bool
}

var _ vax.Tx = (*tx)(nil)

// conn is what a tx sends its statements on: a pgx transaction, or the
// pool itself, where each statement (or batch) is a transaction of its own.
type conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// querier is what list reads from: a transaction or the pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// list runs a query and scans its rows; nil when there are none.
func list[T any](ctx context.Context, q querier, what, sql string, args []any, scan func(pgx.Row) (T, error)) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, dbErr(err, what)
	}
	out, err := pgx.AppendRows([]T(nil), rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if err != nil {
		return nil, dbErr(err, what)
	}
	return out, nil
}

// now is the clock's time as the store keeps it: UTC, whole seconds.
func (t *tx) now() time.Time { return t.s.clock.Now().UTC().Truncate(time.Second) }

// write refuses a write method in View before it reaches the server (where
// it would fail too, and abort the transaction).
func (t *tx) write(method string) error {
	if t.readOnly {
		return errReadOnly(method)
	}
	return nil
}

// Meta returns a setting; NotFound when absent.
func (t *tx) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := t.tx.QueryRow(ctx, "SELECT value FROM meta WHERE key = $1", key).Scan(&v)
	if err != nil {
		return "", dbErr(err, fmt.Sprintf("setting %q", key))
	}
	return v, nil
}

// SetMeta inserts or replaces a setting.
func (t *tx) SetMeta(ctx context.Context, key, value string) error {
	if err := t.write("SetMeta"); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx,
		"INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		key, value)
	return dbErr(err, fmt.Sprintf("set %q", key))
}

// names is how local names are stored: never JSON null.
func names(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// nilIfEmpty returns nil for an empty map, as a caller that stored none
// gave it.
func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// PutState inserts or replaces a state.
func (t *tx) PutState(ctx context.Context, st vax.State) error {
	if err := t.write("PutState"); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO states (id, name, local_names) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, local_names = excluded.local_names`,
		st.ID, st.Name, names(st.LocalNames))
	return dbErr(err, fmt.Sprintf("put state %d", st.ID))
}

// States lists all states by id.
func (t *tx) States(ctx context.Context) ([]vax.State, error) {
	return list(ctx, t.tx, "list states", "SELECT id, name, local_names FROM states ORDER BY id", nil,
		func(r pgx.Row) (vax.State, error) {
			var st vax.State
			err := r.Scan(&st.ID, &st.Name, &st.LocalNames)
			st.LocalNames = nilIfEmpty(st.LocalNames)
			return st, err
		})
}

// PutDistrict inserts or replaces a district; NotFound if its state is
// unknown. The state is checked in the statement itself, so an unknown one
// raises no error on the server and the transaction stays usable.
func (t *tx) PutDistrict(ctx context.Context, d vax.District) error {
	if err := t.write("PutDistrict"); err != nil {
		return err
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO districts (id, state_id, name, local_names)
		SELECT $1::integer, $2::integer, $3::text, $4::jsonb WHERE EXISTS (SELECT 1 FROM states WHERE id = $2)
		ON CONFLICT (id) DO UPDATE SET state_id = excluded.state_id, name = excluded.name,
			local_names = excluded.local_names`,
		d.ID, d.StateID, d.Name, names(d.LocalNames))
	if err != nil {
		return dbErr(err, fmt.Sprintf("put district %d", d.ID))
	}
	if tag.RowsAffected() == 0 {
		return vax.Errorf(vax.NotFound, "district %d: state %d not found", d.ID, d.StateID)
	}
	return nil
}

const districtCols = "id, state_id, name, local_names"

func scanDistrict(r pgx.Row) (vax.District, error) {
	var d vax.District
	err := r.Scan(&d.ID, &d.StateID, &d.Name, &d.LocalNames)
	d.LocalNames = nilIfEmpty(d.LocalNames)
	return d, err
}

// District returns one district; NotFound when unknown.
func (t *tx) District(ctx context.Context, id int) (vax.District, error) {
	d, err := scanDistrict(t.tx.QueryRow(ctx, "SELECT "+districtCols+" FROM districts WHERE id = $1", id))
	if err != nil {
		return vax.District{}, dbErr(err, fmt.Sprintf("district %d", id))
	}
	return d, nil
}

// Districts lists a state's districts by id.
func (t *tx) Districts(ctx context.Context, stateID int) ([]vax.District, error) {
	return list(ctx, t.tx, fmt.Sprintf("list districts of state %d", stateID),
		"SELECT "+districtCols+" FROM districts WHERE state_id = $1 ORDER BY id", []any{stateID}, scanDistrict)
}

// PutVaccine inserts or replaces a vaccine by name.
func (t *tx) PutVaccine(ctx context.Context, v vax.Vaccine) error {
	if err := t.write("PutVaccine"); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO vaccines
		(name, doses, interval_days, dcc_product, dcc_manufacturer, dcc_prophylaxis)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (name) DO UPDATE SET doses = excluded.doses, interval_days = excluded.interval_days,
			dcc_product = excluded.dcc_product, dcc_manufacturer = excluded.dcc_manufacturer,
			dcc_prophylaxis = excluded.dcc_prophylaxis`,
		v.Name, v.Doses, v.IntervalDays, v.DCCProduct, v.DCCManufacturer, v.DCCProphylaxis)
	return dbErr(err, fmt.Sprintf("put vaccine %s", v.Name))
}

// Vaccines lists all vaccines by name (byte order: the column is COLLATE "C").
func (t *tx) Vaccines(ctx context.Context) ([]vax.Vaccine, error) {
	return list(ctx, t.tx, "list vaccines", `SELECT name, doses, interval_days, dcc_product, dcc_manufacturer,
		dcc_prophylaxis FROM vaccines ORDER BY name`, nil,
		func(r pgx.Row) (vax.Vaccine, error) {
			var v vax.Vaccine
			err := r.Scan(&v.Name, &v.Doses, &v.IntervalDays, &v.DCCProduct, &v.DCCManufacturer, &v.DCCProphylaxis)
			return v, err
		})
}

// fee is a vax.Fee as stored in centres.fees (jsonb).
type fee struct {
	Vaccine string `json:"vaccine"`
	Amount  int    `json:"amount"`
}

func feesOut(fs []vax.Fee) []fee {
	out := make([]fee, 0, len(fs))
	for _, f := range fs {
		out = append(out, fee(f))
	}
	return out
}

func feesIn(fs []fee) []vax.Fee {
	if len(fs) == 0 {
		return nil
	}
	out := make([]vax.Fee, 0, len(fs))
	for _, f := range fs {
		out = append(out, vax.Fee(f))
	}
	return out
}

const centreCols = `id, name, address, state_id, district_id, block_name, pincode, lat, long,
	open_from, open_to, fee_type, fees`

func scanCentre(r pgx.Row) (vax.Centre, error) {
	var c vax.Centre
	var fs []fee
	err := r.Scan(&c.ID, &c.Name, &c.Address, &c.StateID, &c.DistrictID, &c.BlockName, &c.Pincode,
		&c.Lat, &c.Long, &c.From, &c.To, &c.FeeType, &fs)
	c.Fees = feesIn(fs)
	return c, err
}

// checkDistrict checks that c's district exists and is in c's state.
func (t *tx) checkDistrict(ctx context.Context, c vax.Centre) error {
	var stateID int
	err := t.tx.QueryRow(ctx, "SELECT state_id FROM districts WHERE id = $1", c.DistrictID).Scan(&stateID)
	if errors.Is(err, pgx.ErrNoRows) {
		return vax.Errorf(vax.NotFound, "district %d not found", c.DistrictID)
	}
	if err != nil {
		return dbErr(err, fmt.Sprintf("district %d", c.DistrictID))
	}
	if stateID != c.StateID {
		return vax.Errorf(vax.Invalid, "district %d is not in state %d", c.DistrictID, c.StateID)
	}
	return nil
}

// maxIDCollisions bounds CreateCentre's retries when an assigned id is
// already taken (by an explicit id inserted by a concurrent transaction).
const maxIDCollisions = 100

// CreateCentre inserts c with c.ID, or with the next id of centres_id_seq
// when c.ID is 0. An explicit id moves the sequence past it, so later
// assigned ids stay above it; should an assigned id still be taken (two
// transactions racing), the next one is tried.
func (t *tx) CreateCentre(ctx context.Context, c vax.Centre) (int64, error) {
	if err := t.write("CreateCentre"); err != nil {
		return 0, err
	}
	if err := t.checkDistrict(ctx, c); err != nil {
		return 0, fmt.Errorf("create centre: %w", err)
	}
	const insert = `INSERT INTO centres (` + centreCols + `)
		VALUES (%s, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO NOTHING RETURNING id`
	args := []any{c.Name, c.Address, c.StateID, c.DistrictID, c.BlockName, c.Pincode,
		c.Lat, c.Long, c.From, c.To, string(c.FeeType), feesOut(c.Fees)}
	if c.ID == 0 {
		q := fmt.Sprintf(insert, "nextval('centres_id_seq')")
		for range maxIDCollisions {
			var id int64
			err := t.tx.QueryRow(ctx, q, args...).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // the id drawn is taken: draw the next
			}
			if err != nil {
				return 0, dbErr(err, "create centre")
			}
			return id, nil
		}
		return 0, vax.Errorf(vax.Internal, "create centre: %d assigned ids in a row were taken", maxIDCollisions)
	}
	var id int64
	err := t.tx.QueryRow(ctx, fmt.Sprintf(insert, "$13"), append(args, c.ID)...).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, vax.Errorf(vax.Conflict, "centre %d already exists", c.ID)
	}
	if err != nil {
		return 0, dbErr(err, fmt.Sprintf("create centre %d", c.ID))
	}
	// Move the sequence up to the explicit id, never down. A sequence with
	// is_called false hands out last_value next, so it must move even when
	// last_value is the explicit id itself.
	if _, err := t.tx.Exec(ctx, `SELECT setval('centres_id_seq', $1::bigint) FROM centres_id_seq
		WHERE last_value < $1::bigint OR (last_value = $1::bigint AND NOT is_called)`, c.ID); err != nil {
		return 0, dbErr(err, fmt.Sprintf("create centre %d: move id sequence", c.ID))
	}
	return id, nil
}

// UpdateCentre replaces every field of centre c.ID; NotFound if absent (or
// if its new district is unknown), Invalid if the district is not in
// c.StateID.
func (t *tx) UpdateCentre(ctx context.Context, c vax.Centre) error {
	if err := t.write("UpdateCentre"); err != nil {
		return err
	}
	if err := t.checkDistrict(ctx, c); err != nil {
		return fmt.Errorf("update centre %d: %w", c.ID, err)
	}
	tag, err := t.tx.Exec(ctx, `UPDATE centres SET name = $2, address = $3, state_id = $4, district_id = $5,
		block_name = $6, pincode = $7, lat = $8, long = $9, open_from = $10, open_to = $11,
		fee_type = $12, fees = $13 WHERE id = $1`,
		c.ID, c.Name, c.Address, c.StateID, c.DistrictID, c.BlockName, c.Pincode,
		c.Lat, c.Long, c.From, c.To, string(c.FeeType), feesOut(c.Fees))
	if err != nil {
		return dbErr(err, fmt.Sprintf("update centre %d", c.ID))
	}
	if tag.RowsAffected() == 0 {
		return vax.Errorf(vax.NotFound, "centre %d not found", c.ID)
	}
	return nil
}

// Centre returns one centre; NotFound when unknown.
func (t *tx) Centre(ctx context.Context, id int64) (vax.Centre, error) {
	c, err := scanCentre(t.tx.QueryRow(ctx, "SELECT "+centreCols+" FROM centres WHERE id = $1", id))
	if err != nil {
		return vax.Centre{}, dbErr(err, fmt.Sprintf("centre %d", id))
	}
	return c, nil
}

// filter builds a WHERE clause with numbered parameters.
type filter struct {
	conds []string
	args  []any
}

// add adds cond, whose "?" stands for arg.
func (f *filter) add(cond string, arg any) {
	f.args = append(f.args, arg)
	f.conds = append(f.conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(f.args))))
}

// where returns " WHERE …" or "".
func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// limit returns " LIMIT $n" for the page size of limit.
func (f *filter) limit(limit int) string {
	f.args = append(f.args, vax.PageSize(limit))
	return " LIMIT $" + strconv.Itoa(len(f.args))
}

// Centres lists centres matching q by ascending id.
func (t *tx) Centres(ctx context.Context, q vax.CentreQuery) ([]vax.Centre, error) {
	var f filter
	if q.DistrictID != 0 {
		f.add("district_id = ?", q.DistrictID)
	}
	if q.Pincode != 0 {
		f.add("pincode = ?", q.Pincode)
	}
	if q.AfterID != 0 {
		f.add("id > ?", q.AfterID)
	}
	sql := "SELECT " + centreCols + " FROM centres" + f.where() + " ORDER BY id"
	sql += f.limit(q.Limit)
	return list(ctx, t.tx, "list centres", sql, f.args, scanCentre)
}

// sessionCols are the sessions columns, qualified by s so that queries
// joining centres can use them.
const sessionCols = `s.id::text, s.centre_id, s.date, s.vaccine, s.min_age, s.max_age, s.allow_all_age,
	s.capacity1, s.capacity2, s.booked1, s.booked2, s.slots, s.status, s.updated_at`

func scanSession(r pgx.Row) (vax.Session, error) {
	var s vax.Session
	var day time.Time
	err := r.Scan(&s.ID, &s.CentreID, &day, &s.Vaccine, &s.MinAge, &s.MaxAge, &s.AllowAllAge,
		&s.Capacity1, &s.Capacity2, &s.Booked1, &s.Booked2, &s.Slots, &s.Status, &s.UpdatedAt)
	s.Date = vax.DateOf(day, time.UTC)
	if len(s.Slots) == 0 {
		s.Slots = nil // empty comes back as nil, as the other stores do
	}
	s.UpdatedAt = s.UpdatedAt.UTC()
	return s, err
}

// slots is how slot labels are stored: never NULL.
func slots(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// day is a civil date as the date column takes it: midnight UTC.
func day(d vax.Date) time.Time { return d.Start(time.UTC) }

// CreateSession inserts s, stamping UpdatedAt with the clock. Conflict if
// s.ID is taken, NotFound if its centre or vaccine is unknown, Invalid if
// s.ID is not a UUID. All three are found without a server error, so the
// transaction stays usable.
func (t *tx) CreateSession(ctx context.Context, s vax.Session) error {
	if err := t.write("CreateSession"); err != nil {
		return err
	}
	if !vax.ValidUUID(s.ID) {
		return vax.Errorf(vax.Invalid, "invalid session id %q: want a UUID", s.ID)
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO sessions (id, centre_id, date, vaccine, min_age, max_age,
			allow_all_age, capacity1, capacity2, booked1, booked2, slots, status, updated_at)
		SELECT $1::uuid, $2::bigint, $3::date, $4::text, $5::integer, $6::integer, $7::boolean,
			$8::integer, $9::integer, $10::integer, $11::integer, $12::text[], $13::text, $14::timestamptz
		WHERE EXISTS (SELECT 1 FROM centres WHERE id = $2) AND EXISTS (SELECT 1 FROM vaccines WHERE name = $4)
		ON CONFLICT (id) DO NOTHING`,
		s.ID, s.CentreID, day(s.Date), s.Vaccine, s.MinAge, s.MaxAge, s.AllowAllAge,
		s.Capacity1, s.Capacity2, s.Booked1, s.Booked2, slots(s.Slots), string(s.Status), t.now())
	if err != nil {
		return dbErr(err, fmt.Sprintf("create session %s", s.ID))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var taken, centre, vaccine bool
	if err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1::uuid),
		EXISTS (SELECT 1 FROM centres WHERE id = $2), EXISTS (SELECT 1 FROM vaccines WHERE name = $3)`,
		s.ID, s.CentreID, s.Vaccine).Scan(&taken, &centre, &vaccine); err != nil {
		return dbErr(err, fmt.Sprintf("create session %s", s.ID))
	}
	switch {
	case taken:
		return vax.Errorf(vax.Conflict, "session %s already exists", s.ID)
	case !centre:
		return vax.Errorf(vax.NotFound, "create session %s: centre %d not found", s.ID, s.CentreID)
	case !vaccine:
		return vax.Errorf(vax.NotFound, "create session %s: vaccine %s not found", s.ID, s.Vaccine)
	}
	// The row was absent a moment ago and its references present: a
	// concurrent transaction changed them between the two statements.
	return vax.Errorf(vax.Conflict, "create session %s: changed concurrently, try again", s.ID)
}

// UpdateSession replaces session s.ID's date, vaccine, ages, capacities,
// slots and status, stamping UpdatedAt; booked counts stay. NotFound if the
// session or the vaccine is unknown; Conflict if a capacity would fall below
// the seats booked.
func (t *tx) UpdateSession(ctx context.Context, s vax.Session) error {
	if err := t.write("UpdateSession"); err != nil {
		return err
	}
	if !vax.ValidUUID(s.ID) {
		return vax.Errorf(vax.NotFound, "session %q not found", s.ID)
	}
	// Lock the row so booked counts cannot move between the check and the
	// update.
	var cur vax.Session
	err := t.tx.QueryRow(ctx, "SELECT booked1, booked2 FROM sessions WHERE id = $1::uuid FOR UPDATE", s.ID).
		Scan(&cur.Booked1, &cur.Booked2)
	if errors.Is(err, pgx.ErrNoRows) {
		return vax.Errorf(vax.NotFound, "session %s not found", s.ID)
	}
	if err != nil {
		return dbErr(err, fmt.Sprintf("update session %s", s.ID))
	}
	cur.Capacity1, cur.Capacity2 = s.Capacity1, s.Capacity2
	if err := cur.CheckCapacity(); err != nil {
		return fmt.Errorf("update session %s: %w", s.ID, err)
	}
	tag, err := t.tx.Exec(ctx, `UPDATE sessions SET date = $2, vaccine = $3, min_age = $4, max_age = $5,
		allow_all_age = $6, capacity1 = $7, capacity2 = $8, slots = $9, status = $10, updated_at = $11
		WHERE id = $1::uuid AND EXISTS (SELECT 1 FROM vaccines WHERE name = $3)
		AND booked1 <= $7 AND booked2 <= $8`,
		s.ID, day(s.Date), s.Vaccine, s.MinAge, s.MaxAge, s.AllowAllAge,
		s.Capacity1, s.Capacity2, slots(s.Slots), string(s.Status), t.now())
	if err != nil {
		return dbErr(err, fmt.Sprintf("update session %s", s.ID))
	}
	if tag.RowsAffected() == 0 {
		// The row lock above makes the booked condition redundant; it is
		// kept so capacity holds even if the lock is ever dropped.
		var known bool
		if err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM vaccines WHERE name = $1)`, s.Vaccine).Scan(&known); err != nil {
			return dbErr(err, fmt.Sprintf("update session %s", s.ID))
		}
		if known {
			return vax.Errorf(vax.Conflict, "update session %s: capacity below the seats booked", s.ID)
		}
		return vax.Errorf(vax.NotFound, "update session %s: vaccine %s not found", s.ID, s.Vaccine)
	}
	return nil
}

// Session returns one session; NotFound when unknown (or not a UUID).
func (t *tx) Session(ctx context.Context, id string) (vax.Session, error) {
	if !vax.ValidUUID(id) {
		return vax.Session{}, vax.Errorf(vax.NotFound, "session %q not found", id)
	}
	s, err := scanSession(t.tx.QueryRow(ctx, "SELECT "+sessionCols+" FROM sessions s WHERE s.id = $1::uuid", id))
	if err != nil {
		return vax.Session{}, dbErr(err, fmt.Sprintf("session %s", id))
	}
	return s, nil
}

// Sessions lists sessions matching q, ordered by id.
func (t *tx) Sessions(ctx context.Context, q vax.SessionQuery) ([]vax.Session, error) {
	if q.AfterID != "" && !vax.ValidUUID(q.AfterID) {
		return nil, vax.Errorf(vax.Invalid, "invalid session id %q to list after: want a UUID", q.AfterID)
	}
	var f filter
	from := " FROM sessions s"
	if q.DistrictID != 0 || q.Pincode != 0 {
		from += " JOIN centres c ON c.id = s.centre_id"
	}
	if q.CentreID != 0 {
		f.add("s.centre_id = ?", q.CentreID)
	}
	if q.DistrictID != 0 {
		f.add("c.district_id = ?", q.DistrictID)
	}
	if q.Pincode != 0 {
		f.add("c.pincode = ?", q.Pincode)
	}
	if !q.From.IsZero() {
		f.add("s.date >= ?::date", day(q.From))
	}
	if !q.To.IsZero() {
		f.add("s.date <= ?::date", day(q.To))
	}
	if q.AfterID != "" {
		f.add("s.id > ?::uuid", q.AfterID)
	}
	sql := "SELECT " + sessionCols + from + f.where() + " ORDER BY s.id"
	sql += f.limit(q.Limit)
	return list(ctx, t.tx, "list sessions", sql, f.args, scanSession)
}

// AppendChange records a change. The transaction's first one also queues
// a NOTIFY, which PostgreSQL delivers to every listening node at commit
// (and drops on rollback).
func (t *tx) AppendChange(ctx context.Context, kind vax.ChangeKind, key string) error {
	if err := t.write("AppendChange"); err != nil {
		return err
	}
	q := "INSERT INTO changes (kind, key, at) VALUES ($1, $2, $3)"
	if !t.notified {
		q = `WITH c AS (INSERT INTO changes (kind, key, at) VALUES ($1, $2, $3) RETURNING seq)
			SELECT pg_notify('` + notifyChannel + `', coalesce(current_schema(), '')) FROM c`
	}
	if _, err := t.tx.Exec(ctx, q, string(kind), key, t.now()); err != nil {
		return dbErr(err, fmt.Sprintf("record %s change %s", kind, key))
	}
	t.notified = true
	return nil
}
