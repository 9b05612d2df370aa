package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// Fair release. CreateRelease checks and locks the sessions (in id order,
// so two creations cannot deadlock) before it writes, so a refused creation
// writes nothing. An entry is one statement on the rush path: it takes a
// shared lock on the release row (a draw's exclusive lock waits for the
// entries in flight, and later entries for the draw), looks for an entry
// already holding one of its beneficiaries and otherwise inserts the entry
// and its release_refs rows, whose primary key settles entries racing on
// any node. Release and arrival times keep milliseconds, creation and draw
// times whole seconds.

// releaseCols are the releases columns, qualified by r, with the release's
// sessions in the order given at creation.
const releaseCols = `r.id::text, r.release_at, r.window_seconds, r.seed, r.seed_hash, r.status, r.created_by,
	r.created_at, r.drawn_at, ARRAY(SELECT rs.session_id::text FROM release_sessions rs
		WHERE rs.release_id = r.id ORDER BY rs.position)`

func scanRelease(row pgx.Row) (vax.Release, error) {
	var r vax.Release
	var window int64
	var drawn *time.Time
	err := row.Scan(&r.ID, &r.ReleaseAt, &window, &r.Seed, &r.SeedHash, &r.Status, &r.CreatedBy,
		&r.CreatedAt, &drawn, &r.SessionIDs)
	r.ReleaseAt, r.CreatedAt, r.DrawnAt = r.ReleaseAt.UTC(), r.CreatedAt.UTC(), fromNull(drawn)
	r.Window = time.Duration(window) * time.Second
	return r, err
}

// entryCols are the release_entries columns, qualified by e.
const entryCols = `e.id::text, e.release_id::text, e.account_id::text, e.session_id::text, e.dose, e.slot,
	e.refs, e.arrived_at, e.node, e.rank, e.status, e.appointment_id, e.reason`

func scanEntry(row pgx.Row) (vax.ReleaseEntry, error) {
	var e vax.ReleaseEntry
	err := row.Scan(&e.ID, &e.ReleaseID, &e.AccountID, &e.SessionID, &e.Dose, &e.Slot, &e.Refs, &e.ArrivedAt,
		&e.Node, &e.Rank, &e.Status, &e.AppointmentID, &e.Reason)
	e.ArrivedAt = e.ArrivedAt.UTC()
	return e, err
}

// lower returns ids in lower case, as the store returns UUIDs.
func lower(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strings.ToLower(id)
	}
	return out
}

// sessionsChanged records a ChangeSession for each of ids not yet recorded
// in this transaction (see seatsChanged), with one statement, so that a
// later booking of those sessions in the same transaction (the draw) adds
// none.
func (t *tx) sessionsChanged(ctx context.Context, ids []string) error {
	var keys []string
	for _, id := range ids {
		if !t.seatsMoved[id] {
			keys = append(keys, id)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	q := `INSERT INTO changes (kind, key, at) SELECT $1, k, $3 FROM unnest($2::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n`
	if !t.notified {
		q = `WITH c AS (` + q + ` RETURNING seq)
			SELECT pg_notify('` + notifyChannel + `', coalesce(current_schema(), '')) WHERE EXISTS (SELECT 1 FROM c)`
	}
	if _, err := t.tx.Exec(ctx, q, string(vax.ChangeSession), keys, t.now()); err != nil {
		return dbErr(err, "record session changes")
	}
	t.notified = true
	if t.seatsMoved == nil {
		t.seatsMoved = map[string]bool{}
	}
	for _, k := range keys {
		t.seatsMoved[k] = true
	}
	return nil
}

// CreateRelease inserts r and holds its sessions. The sessions are locked
// and checked first: a refused release writes nothing.
func (t *tx) CreateRelease(ctx context.Context, r vax.Release) error {
	if err := t.write("CreateRelease"); err != nil {
		return err
	}
	if err := r.ValidateNew(); err != nil {
		return err
	}
	id, ids := strings.ToLower(r.ID), lower(r.SessionIDs)
	type state struct {
		open     bool // open with no seat booked
		released bool // in a release already
	}
	found := map[string]state{}
	rows, err := t.tx.Query(ctx, `SELECT s.id::text, s.status = 'open' AND s.booked1 = 0 AND s.booked2 = 0,
			EXISTS (SELECT 1 FROM release_sessions rs WHERE rs.session_id = s.id)
		FROM sessions s WHERE s.id = ANY($1::uuid[]) ORDER BY s.id FOR UPDATE`, ids)
	if err != nil {
		return dbErr(err, "create release: lock sessions")
	}
	for rows.Next() {
		var sid string
		var st state
		if err := rows.Scan(&sid, &st.open, &st.released); err != nil {
			rows.Close()
			return dbErr(err, "create release: lock sessions")
		}
		found[sid] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbErr(err, "create release: lock sessions")
	}
	for _, sid := range ids {
		if _, ok := found[sid]; !ok {
			return vax.Errorf(vax.NotFound, "session %s not found", sid)
		}
	}
	for _, sid := range ids {
		if st := found[sid]; !st.open || st.released {
			return vax.Errorf(vax.Conflict, "session %s cannot be held: not open, has bookings, or already released", sid)
		}
	}
	var inserted, placed, held int
	err = t.tx.QueryRow(ctx, `WITH ir AS (INSERT INTO releases (id, release_at, window_seconds, seed, seed_hash,
				status, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id),
		rs AS (INSERT INTO release_sessions (session_id, release_id, position)
			SELECT u.id, ir.id, u.pos FROM unnest($9::uuid[]) WITH ORDINALITY AS u(id, pos), ir
			ON CONFLICT DO NOTHING RETURNING 1),
		hs AS (UPDATE sessions SET status = 'held', updated_at = $10
			WHERE id = ANY($9::uuid[]) AND status = 'open' AND booked1 = 0 AND booked2 = 0
				AND EXISTS (SELECT 1 FROM ir)
			RETURNING 1)
		SELECT (SELECT count(*) FROM ir), (SELECT count(*) FROM rs), (SELECT count(*) FROM hs)`,
		id, millis(r.ReleaseAt), int64(r.Window/time.Second), r.Seed, r.SeedHash, string(r.Status), r.CreatedBy,
		stamp(r.CreatedAt), ids, t.now()).Scan(&inserted, &placed, &held)
	if err != nil {
		return dbErr(err, "create release "+id)
	}
	switch {
	case inserted == 0:
		return vax.Errorf(vax.Conflict, "release %s already exists", id)
	case placed != len(ids) || held != len(ids):
		// The row locks above make this unreachable; the conditions are
		// kept so a session is never held twice even if the locks go.
		return vax.Errorf(vax.Conflict, "create release %s: sessions changed concurrently, try again", id)
	}
	if err := t.sessionsChanged(ctx, ids); err != nil {
		return err
	}
	return t.AppendChange(ctx, vax.ChangeRelease, id)
}

// Release returns one release; in a read-write transaction its row stays
// locked FOR UPDATE.
func (t *tx) Release(ctx context.Context, id string) (vax.Release, error) {
	if !vax.ValidUUID(id) {
		return vax.Release{}, vax.Errorf(vax.NotFound, "release not found")
	}
	q := "SELECT " + releaseCols + " FROM releases r WHERE r.id = $1"
	if !t.readOnly {
		q += " FOR UPDATE"
	}
	r, err := scanRelease(t.tx.QueryRow(ctx, q, strings.ToLower(id)))
	return one(r, err, "release not found", "read release")
}

// ReleaseOfSession returns the release that holds or held a session.
func (t *tx) ReleaseOfSession(ctx context.Context, sessionID string) (vax.Release, error) {
	if !vax.ValidUUID(sessionID) {
		return vax.Release{}, vax.Errorf(vax.NotFound, "session in no release")
	}
	r, err := scanRelease(t.tx.QueryRow(ctx, "SELECT "+releaseCols+` FROM releases r
		JOIN release_sessions h ON h.release_id = r.id WHERE h.session_id = $1`, strings.ToLower(sessionID)))
	return one(r, err, "session in no release", "read release of session")
}

// Releases lists releases by release time then id, of one status or all.
func (t *tx) Releases(ctx context.Context, status vax.ReleaseStatus) ([]vax.Release, error) {
	var f filter
	if status != "" {
		f.add("r.status = ?", string(status))
	}
	return list(ctx, t.tx, "list releases",
		"SELECT "+releaseCols+" FROM releases r"+f.where()+" ORDER BY r.release_at, r.id", f.args, scanRelease)
}

// EnterRelease records e in one statement (see the top of this file). A
// concurrent entry naming one of the same beneficiaries that commits
// between this statement's snapshot and its insert wins on release_refs:
// this entry is then deleted again and the winner returned with false, as
// if it had come first, so nothing is half-written and no error surfaces.
func (t *tx) EnterRelease(ctx context.Context, e vax.ReleaseEntry) (vax.ReleaseEntry, bool, error) {
	if err := t.write("EnterRelease"); err != nil {
		return vax.ReleaseEntry{}, false, err
	}
	if err := e.ValidateNew(); err != nil {
		return vax.ReleaseEntry{}, false, err
	}
	e.ID, e.ReleaseID = strings.ToLower(e.ID), strings.ToLower(e.ReleaseID)
	e.AccountID, e.SessionID = strings.ToLower(e.AccountID), strings.ToLower(e.SessionID)
	e.ArrivedAt = millis(e.ArrivedAt)
	// The refs rows are inserted in one (sorted) order, so two entries
	// sharing beneficiaries wait for each other rather than deadlock.
	distinct := slices.Compact(slices.Sorted(slices.Values(e.Refs)))
	var status, holder *string
	var inserted, placed int
	err := t.tx.QueryRow(ctx, `WITH r AS (SELECT status FROM releases WHERE id = $1 FOR SHARE),
		held AS (SELECT rr.entry_id::text AS id FROM unnest($2::text[]) WITH ORDINALITY AS u(ref, ord)
			JOIN release_refs rr ON rr.release_id = $1 AND rr.ref = u.ref
			ORDER BY u.ord LIMIT 1),
		ie AS (INSERT INTO release_entries (id, release_id, account_id, session_id, dose, slot, refs,
				arrived_at, node, status)
			SELECT $3::uuid, $1::uuid, $4::uuid, $5::uuid, $6::integer, $7::text, $2::text[], $8::timestamptz,
				$9::text, $10::text
			WHERE EXISTS (SELECT 1 FROM r WHERE status = 'scheduled') AND NOT EXISTS (SELECT 1 FROM held)
			ON CONFLICT DO NOTHING RETURNING 1),
		ir AS (INSERT INTO release_refs (release_id, ref, entry_id)
			SELECT $1, u.ref, $3 FROM unnest($11::text[]) AS u(ref) WHERE EXISTS (SELECT 1 FROM ie)
			ON CONFLICT DO NOTHING RETURNING 1)
		SELECT (SELECT status FROM r), (SELECT id FROM held), (SELECT count(*) FROM ie), (SELECT count(*) FROM ir)`,
		planEach, e.ReleaseID, e.Refs, e.ID, e.AccountID, e.SessionID, e.Dose, e.Slot, e.ArrivedAt, e.Node,
		string(e.Status), distinct).Scan(&status, &holder, &inserted, &placed)
	if err != nil {
		return vax.ReleaseEntry{}, false, dbErr(err, "enter release")
	}
	switch {
	case status == nil:
		return vax.ReleaseEntry{}, false, vax.Errorf(vax.NotFound, "release not found")
	case *status != string(vax.ReleaseScheduled):
		return vax.ReleaseEntry{}, false, vax.Errorf(vax.Conflict, "release already drawn")
	case holder != nil:
		first, err := t.ReleaseEntry(ctx, *holder)
		return first, false, err
	case inserted == 0:
		return vax.ReleaseEntry{}, false, vax.Errorf(vax.Conflict, "entry %s already exists", e.ID)
	case placed == len(distinct):
		return e, true, nil
	}
	return t.lostEntry(ctx, e)
}

// lostEntry deletes entry e, which lost a beneficiary to a concurrent
// entry, and returns the first entry now holding one of e's beneficiaries.
// This statement's fresh snapshot sees the winner: it committed before
// e's insert could go on.
func (t *tx) lostEntry(ctx context.Context, e vax.ReleaseEntry) (vax.ReleaseEntry, bool, error) {
	first, err := scanEntry(t.tx.QueryRow(ctx, `WITH dr AS (DELETE FROM release_refs WHERE release_id = $1 AND entry_id = $2),
			de AS (DELETE FROM release_entries WHERE id = $2)
		SELECT `+entryCols+` FROM release_entries e WHERE e.id = (
			SELECT rr.entry_id FROM unnest($3::text[]) WITH ORDINALITY AS u(ref, ord)
			JOIN release_refs rr ON rr.release_id = $1 AND rr.ref = u.ref AND rr.entry_id <> $2
			ORDER BY u.ord LIMIT 1)`, e.ReleaseID, e.ID, e.Refs))
	if errors.Is(err, pgx.ErrNoRows) {
		return vax.ReleaseEntry{}, false, vax.Errorf(vax.Conflict, "enter release: entries changed concurrently, try again")
	}
	if err != nil {
		return vax.ReleaseEntry{}, false, dbErr(err, "enter release")
	}
	return first, false, nil
}

// ReleaseEntry returns one entry.
func (t *tx) ReleaseEntry(ctx context.Context, id string) (vax.ReleaseEntry, error) {
	if !vax.ValidUUID(id) {
		return vax.ReleaseEntry{}, vax.Errorf(vax.NotFound, "release entry not found")
	}
	e, err := scanEntry(t.tx.QueryRow(ctx, "SELECT "+entryCols+" FROM release_entries e WHERE e.id = $1",
		strings.ToLower(id)))
	return one(e, err, "release entry not found", "read release entry")
}

// ReleaseEntries lists a release's entries by arrival then id.
func (t *tx) ReleaseEntries(ctx context.Context, releaseID string) ([]vax.ReleaseEntry, error) {
	if !vax.ValidUUID(releaseID) {
		return nil, nil
	}
	return list(ctx, t.tx, "list release entries", "SELECT "+entryCols+` FROM release_entries e
		WHERE e.release_id = $1 ORDER BY e.arrived_at, e.id`, []any{planEach, strings.ToLower(releaseID)}, scanEntry)
}

// DrawRelease marks the release drawn and opens its held sessions.
func (t *tx) DrawRelease(ctx context.Context, id string, drawnAt time.Time) error {
	if err := t.write("DrawRelease"); err != nil {
		return err
	}
	if !vax.ValidUUID(id) {
		return vax.Errorf(vax.NotFound, "release not found")
	}
	id = strings.ToLower(id)
	tag, err := t.tx.Exec(ctx, `UPDATE releases SET status = 'drawn', drawn_at = $2
		WHERE id = $1 AND status = 'scheduled'`, id, stamp(drawnAt))
	if err != nil {
		return dbErr(err, "draw release")
	}
	if tag.RowsAffected() == 0 {
		var known bool
		if err := t.tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM releases WHERE id = $1)", id).Scan(&known); err != nil {
			return dbErr(err, "draw release")
		}
		if !known {
			return vax.Errorf(vax.NotFound, "release not found")
		}
		return vax.Errorf(vax.Conflict, "release already drawn")
	}
	rows, err := t.tx.Query(ctx, `UPDATE sessions s SET status = 'open', updated_at = $2
		FROM release_sessions rs WHERE rs.release_id = $1 AND s.id = rs.session_id AND s.status = 'held'
		RETURNING s.id::text`, id, t.now())
	if err != nil {
		return dbErr(err, "draw release: open sessions")
	}
	opened, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return dbErr(err, "draw release: open sessions")
	}
	slices.Sort(opened) // RETURNING gives no order
	if err := t.sessionsChanged(ctx, opened); err != nil {
		return err
	}
	return t.AppendChange(ctx, vax.ChangeRelease, id)
}

// SetEntryOutcomes stores the draw's outcomes with one UPDATE, which
// changes nothing unless every entry exists.
func (t *tx) SetEntryOutcomes(ctx context.Context, entries []vax.ReleaseEntry) error {
	if err := t.write("SetEntryOutcomes"); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	n := len(entries)
	ids, statuses, appts, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ranks := make([]int32, n)
	seen := make(map[string]bool, n)
	for i, e := range entries {
		id := strings.ToLower(e.ID)
		if !vax.ValidUUID(id) {
			return vax.Errorf(vax.NotFound, "release entry not found")
		}
		if seen[id] {
			return vax.Errorf(vax.Invalid, "set entry outcomes: entry %s given twice", id)
		}
		seen[id] = true
		ids[i], ranks[i], statuses[i], appts[i], reasons[i] = id, int32(e.Rank), string(e.Status), e.AppointmentID, e.Reason
	}
	tag, err := t.tx.Exec(ctx, `WITH u AS (SELECT id, rank, status, appt, reason
			FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::text[], $5::text[]) AS u(id, rank, status, appt, reason))
		UPDATE release_entries e SET rank = u.rank, status = u.status, appointment_id = u.appt, reason = u.reason
		FROM u WHERE e.id = u.id
			AND (SELECT count(*) FROM release_entries x WHERE x.id IN (SELECT id FROM u)) = $6`,
		planEach, ids, ranks, statuses, appts, reasons, n)
	if err != nil {
		return dbErr(err, "set entry outcomes")
	}
	if tag.RowsAffected() != int64(n) {
		return vax.Errorf(vax.NotFound, "set entry outcomes: some of %d entries not found", n)
	}
	return nil
}
