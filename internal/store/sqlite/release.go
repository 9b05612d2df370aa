package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Fair release. The single writer connection serialises read-write
// transactions, which is the locking the interface promises (a draw holds
// entries off, and they it), and every check runs before the first write,
// so a refused call writes nothing. Release and arrival times are unix
// milliseconds, creation and draw times unix seconds.

// releaseCols are the releases columns, qualified by r, with the release's
// sessions (a JSON array) in the order given at creation.
const releaseCols = `r.id, r.release_at, r.window_seconds, r.seed, r.seed_hash, r.status, r.created_by,
	r.created_at, r.drawn_at, (SELECT json_group_array(rs.session_id ORDER BY rs.position)
		FROM release_sessions rs WHERE rs.release_id = r.id)`

func scanRelease(sc scanner) (vax.Release, error) {
	var r vax.Release
	var status string
	var releaseAt, window, created int64
	var drawn sql.NullInt64
	var sessions sql.NullString
	if err := sc.Scan(&r.ID, &releaseAt, &window, &r.Seed, &r.SeedHash, &status, &r.CreatedBy, &created,
		&drawn, &sessions); err != nil {
		return vax.Release{}, err
	}
	r.Status, r.ReleaseAt, r.CreatedAt = vax.ReleaseStatus(status), fromMillis(releaseAt), fromUnix(created)
	r.Window = time.Duration(window) * time.Second
	if drawn.Valid {
		r.DrawnAt = fromUnix(drawn.Int64)
	}
	err := decodeJSON(sessions, &r.SessionIDs, "release sessions")
	return r, err
}

// entryCols are the release_entries columns.
const entryCols = `id, release_id, account_id, session_id, dose, slot, refs, arrived_at, node, rank, status,
	appointment_id, reason`

func scanEntry(sc scanner) (vax.ReleaseEntry, error) {
	var e vax.ReleaseEntry
	var refs sql.NullString
	var arrived int64
	var status string
	if err := sc.Scan(&e.ID, &e.ReleaseID, &e.AccountID, &e.SessionID, &e.Dose, &e.Slot, &refs, &arrived,
		&e.Node, &e.Rank, &status, &e.AppointmentID, &e.Reason); err != nil {
		return vax.ReleaseEntry{}, err
	}
	e.ArrivedAt, e.Status = fromMillis(arrived), vax.EntryStatus(status)
	err := decodeJSON(refs, &e.Refs, "entry refs")
	return e, err
}

// CreateRelease inserts r and holds its sessions, after checking them all.
func (t *tx) CreateRelease(ctx context.Context, r vax.Release) error {
	if err := t.writable("create release"); err != nil {
		return err
	}
	if err := r.ValidateNew(); err != nil {
		return err
	}
	id := strings.ToLower(r.ID)
	ids := make([]string, len(r.SessionIDs))
	for i, sid := range r.SessionIDs {
		ids[i] = strings.ToLower(sid)
	}
	type state struct{ open, released bool }
	found := map[string]state{}
	for start := 0; start < len(ids); start += 500 { // under SQLite's parameter limit
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := t.tx.QueryContext(ctx, `SELECT s.id, s.status = 'open' AND s.booked1 = 0 AND s.booked2 = 0,
				EXISTS (SELECT 1 FROM release_sessions rs WHERE rs.session_id = s.id)
			FROM sessions s WHERE s.id IN (`+placeholders(len(chunk))+`)`, anyStrings(chunk)...)
		if err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "create release: read sessions"))
		}
		for rows.Next() {
			var sid string
			var st state
			if err := rows.Scan(&sid, &st.open, &st.released); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: %w", dbErr(err, "create release: read sessions"))
			}
			found[sid] = st
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "create release: read sessions"))
		}
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
	res, err := t.tx.ExecContext(ctx, `INSERT INTO releases (id, release_at, window_seconds, seed, seed_hash,
			status, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		id, toMillis(r.ReleaseAt), int64(r.Window/time.Second), r.Seed, r.SeedHash, string(r.Status), r.CreatedBy,
		toUnix(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create release "+id))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create release "+id))
	} else if n == 0 {
		return vax.Errorf(vax.Conflict, "release %s already exists", id)
	}
	now := toUnix(t.clock.Now())
	for i, sid := range ids {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO release_sessions (session_id, release_id, position)
			VALUES (?, ?, ?)`, sid, id, i+1); err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "create release: place session "+sid))
		}
		if _, err := t.tx.ExecContext(ctx, `UPDATE sessions SET status = 'held', updated_at = ? WHERE id = ?`,
			now, sid); err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "create release: hold session "+sid))
		}
		if err := t.seatsChanged(ctx, sid); err != nil {
			return err
		}
	}
	return t.AppendChange(ctx, vax.ChangeRelease, id)
}

// Release returns one release. The writer connection is the lock.
func (t *tx) Release(ctx context.Context, id string) (vax.Release, error) {
	r, err := scanRelease(t.tx.QueryRowContext(ctx, `SELECT `+releaseCols+` FROM releases r WHERE r.id = ?`,
		strings.ToLower(id)))
	return one(r, err, "release not found", "read release")
}

// ReleaseOfSession returns the release that holds or held a session.
func (t *tx) ReleaseOfSession(ctx context.Context, sessionID string) (vax.Release, error) {
	r, err := scanRelease(t.tx.QueryRowContext(ctx, `SELECT `+releaseCols+` FROM releases r
		JOIN release_sessions h ON h.release_id = r.id WHERE h.session_id = ?`, strings.ToLower(sessionID)))
	return one(r, err, "session in no release", "read release of session")
}

// Releases lists releases by release time then id, of one status or all.
func (t *tx) Releases(ctx context.Context, status vax.ReleaseStatus) ([]vax.Release, error) {
	q, args := `SELECT `+releaseCols+` FROM releases r`, []any(nil)
	if status != "" {
		q, args = q+` WHERE r.status = ?`, append(args, string(status))
	}
	return list(ctx, t.tx, "list releases", q+` ORDER BY r.release_at, r.id`, args, scanRelease)
}

// EnterRelease records e unless one of its beneficiaries has an entry in
// the release already, which it returns instead.
func (t *tx) EnterRelease(ctx context.Context, e vax.ReleaseEntry) (vax.ReleaseEntry, bool, error) {
	if err := t.writable("enter release"); err != nil {
		return vax.ReleaseEntry{}, false, err
	}
	if err := e.ValidateNew(); err != nil {
		return vax.ReleaseEntry{}, false, err
	}
	e.ID, e.ReleaseID = strings.ToLower(e.ID), strings.ToLower(e.ReleaseID)
	e.AccountID, e.SessionID = strings.ToLower(e.AccountID), strings.ToLower(e.SessionID)
	e.ArrivedAt = fromMillis(toMillis(e.ArrivedAt))
	var status string
	err := t.tx.QueryRowContext(ctx, `SELECT status FROM releases WHERE id = ?`, e.ReleaseID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return vax.ReleaseEntry{}, false, vax.Errorf(vax.NotFound, "release not found")
	}
	if err != nil {
		return vax.ReleaseEntry{}, false, fmt.Errorf("sqlite: %w", dbErr(err, "enter release"))
	}
	if status != string(vax.ReleaseScheduled) {
		return vax.ReleaseEntry{}, false, vax.Errorf(vax.Conflict, "release already drawn")
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(e.Refs)))
	holders := map[string]string{} // ref → entry id
	rows, err := t.tx.QueryContext(ctx, `SELECT ref, entry_id FROM release_refs
		WHERE release_id = ? AND ref IN (`+placeholders(len(distinct))+`)`,
		append([]any{e.ReleaseID}, anyStrings(distinct)...)...)
	if err != nil {
		return vax.ReleaseEntry{}, false, fmt.Errorf("sqlite: %w", dbErr(err, "enter release"))
	}
	for rows.Next() {
		var ref, entry string
		if err := rows.Scan(&ref, &entry); err != nil {
			rows.Close()
			return vax.ReleaseEntry{}, false, fmt.Errorf("sqlite: %w", dbErr(err, "enter release"))
		}
		holders[ref] = entry
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return vax.ReleaseEntry{}, false, fmt.Errorf("sqlite: %w", dbErr(err, "enter release"))
	}
	for _, ref := range e.Refs {
		if id, ok := holders[ref]; ok {
			first, err := t.ReleaseEntry(ctx, id)
			return first, false, err
		}
	}
	refs, err := encodeJSON(e.Refs, "entry refs")
	if err != nil {
		return vax.ReleaseEntry{}, false, err
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO release_entries (`+entryCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		e.ID, e.ReleaseID, e.AccountID, e.SessionID, e.Dose, e.Slot, refs, toMillis(e.ArrivedAt), e.Node,
		e.Rank, string(e.Status), e.AppointmentID, e.Reason)
	if err != nil {
		return vax.ReleaseEntry{}, false, fmt.Errorf("sqlite: %w", dbErr(err, "enter release"))
	}
	if n, err := res.RowsAffected(); err != nil {
		return vax.ReleaseEntry{}, false, fmt.Errorf("sqlite: %w", dbErr(err, "enter release"))
	} else if n == 0 {
		return vax.ReleaseEntry{}, false, vax.Errorf(vax.Conflict, "entry %s already exists", e.ID)
	}
	for _, ref := range distinct {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO release_refs (release_id, ref, entry_id) VALUES (?, ?, ?)`,
			e.ReleaseID, ref, e.ID); err != nil {
			return vax.ReleaseEntry{}, false, fmt.Errorf("sqlite: %w", dbErr(err, "enter release"))
		}
	}
	return e, true, nil
}

// ReleaseEntry returns one entry.
func (t *tx) ReleaseEntry(ctx context.Context, id string) (vax.ReleaseEntry, error) {
	e, err := scanEntry(t.tx.QueryRowContext(ctx, `SELECT `+entryCols+` FROM release_entries WHERE id = ?`,
		strings.ToLower(id)))
	return one(e, err, "release entry not found", "read release entry")
}

// ReleaseEntries lists a release's entries by arrival then id.
func (t *tx) ReleaseEntries(ctx context.Context, releaseID string) ([]vax.ReleaseEntry, error) {
	return list(ctx, t.tx, "list release entries", `SELECT `+entryCols+` FROM release_entries
		WHERE release_id = ? ORDER BY arrived_at, id`, []any{strings.ToLower(releaseID)}, scanEntry)
}

// DrawRelease marks the release drawn and opens its held sessions.
func (t *tx) DrawRelease(ctx context.Context, id string, drawnAt time.Time) error {
	if err := t.writable("draw release"); err != nil {
		return err
	}
	id = strings.ToLower(id)
	var status string
	err := t.tx.QueryRowContext(ctx, `SELECT status FROM releases WHERE id = ?`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Errorf(vax.NotFound, "release not found")
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "draw release"))
	}
	if status != string(vax.ReleaseScheduled) {
		return vax.Errorf(vax.Conflict, "release already drawn")
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE releases SET status = 'drawn', drawn_at = ? WHERE id = ?`,
		toUnix(drawnAt), id); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "draw release"))
	}
	rows, err := t.tx.QueryContext(ctx, `UPDATE sessions SET status = 'open', updated_at = ?
		WHERE status = 'held' AND id IN (SELECT session_id FROM release_sessions WHERE release_id = ?)
		RETURNING id`, toUnix(t.clock.Now()), id)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "draw release: open sessions"))
	}
	var opened []string
	for rows.Next() {
		var sid string
		if err := rows.Scan(&sid); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: %w", dbErr(err, "draw release: open sessions"))
		}
		opened = append(opened, sid)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "draw release: open sessions"))
	}
	slices.Sort(opened) // RETURNING gives no order
	for _, sid := range opened {
		// seatsChanged, so that the draw's bookings of these sessions in
		// the same transaction add no second change.
		if err := t.seatsChanged(ctx, sid); err != nil {
			return err
		}
	}
	return t.AppendChange(ctx, vax.ChangeRelease, id)
}

// SetEntryOutcomes stores the draw's outcomes once every entry is known
// to exist, so a refused call changes nothing.
func (t *tx) SetEntryOutcomes(ctx context.Context, entries []vax.ReleaseEntry) error {
	if err := t.writable("set entry outcomes"); err != nil {
		return err
	}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		id := strings.ToLower(e.ID)
		if seen[id] {
			return vax.Errorf(vax.Invalid, "set entry outcomes: entry %s given twice", id)
		}
		seen[id] = true
		var one int
		err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM release_entries WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return vax.Errorf(vax.NotFound, "release entry %s not found", id)
		}
		if err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "set entry outcomes"))
		}
	}
	for _, e := range entries {
		if _, err := t.tx.ExecContext(ctx, `UPDATE release_entries SET rank = ?, status = ?, appointment_id = ?,
			reason = ? WHERE id = ?`, e.Rank, string(e.Status), e.AppointmentID, e.Reason, strings.ToLower(e.ID)); err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "set entry outcomes"))
		}
	}
	return nil
}
