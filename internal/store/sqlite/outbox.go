package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// The outbox keeps times in unix milliseconds; NULL is the zero time.

func toMillis(t time.Time) int64 { return t.UnixMilli() }

// millisCeil returns the first whole millisecond at or after t.
func millisCeil(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) > 0 {
		ms++
	}
	return ms
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return toMillis(t)
}

func fromNullMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMillis(v.Int64)
}

const messageCols = `id, kind, payload, created_at, expires_at, status, attempts, next_attempt_at,
	claimed_by, claimed_until, provider, provider_ref, sent_at, done_at`

func scanMessage(sc scanner) (vax.OutboxMessage, error) {
	var m vax.OutboxMessage
	var kind, status string
	var created, next int64
	var expires, claimed, sent, done sql.NullInt64
	if err := sc.Scan(&m.ID, &kind, &m.Payload, &created, &expires, &status, &m.Attempts, &next,
		&m.ClaimedBy, &claimed, &m.Provider, &m.ProviderRef, &sent, &done); err != nil {
		return vax.OutboxMessage{}, err
	}
	m.Kind, m.Status = vax.MessageKind(kind), vax.MessageStatus(status)
	m.CreatedAt, m.NextAttemptAt = fromMillis(created), fromMillis(next)
	m.ExpiresAt, m.ClaimedUntil = fromNullMillis(expires), fromNullMillis(claimed)
	m.SentAt, m.DoneAt = fromNullMillis(sent), fromNullMillis(done)
	return m, nil
}

// EnqueueMessage inserts m; Conflict if its id is taken.
func (t *tx) EnqueueMessage(ctx context.Context, m vax.OutboxMessage) error {
	if err := t.writable("enqueue message"); err != nil {
		return err
	}
	if !vax.ValidUUID(m.ID) {
		return vax.Errorf(vax.Invalid, "invalid message id %q: want a UUID", m.ID)
	}
	if _, err := vax.ParseMessageStatus(string(m.Status)); err != nil {
		return fmt.Errorf("enqueue message %s: %w", m.ID, err)
	}
	if len(m.Payload) == 0 {
		return vax.Errorf(vax.Invalid, "enqueue message %s: empty payload", m.ID)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO outbox (`+messageCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		strings.ToLower(m.ID), string(m.Kind), m.Payload, toMillis(m.CreatedAt), nullMillis(m.ExpiresAt),
		string(m.Status), m.Attempts, toMillis(m.NextAttemptAt), m.ClaimedBy, nullMillis(m.ClaimedUntil),
		m.Provider, m.ProviderRef, nullMillis(m.SentAt), nullMillis(m.DoneAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "enqueue message "+m.ID))
	}
	return nil
}

// ClaimMessages claims due, unclaimed pending messages. The single writer
// connection means no other transaction holds any of them.
func (t *tx) ClaimMessages(ctx context.Context, c vax.MessageClaim) ([]vax.OutboxMessage, error) {
	if err := t.writable("claim messages"); err != nil {
		return nil, err
	}
	now := toMillis(c.Now)
	rows, err := t.tx.QueryContext(ctx, `UPDATE outbox SET claimed_by = ?, claimed_until = ?
		WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
			AND (claimed_until IS NULL OR claimed_until <= ?)
			ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING `+messageCols,
		c.By, nullMillis(c.Until), now, now, vax.PageSize(c.Limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "claim messages"))
	}
	defer rows.Close()
	var out []vax.OutboxMessage
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "claim messages"))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "claim messages"))
	}
	// RETURNING gives no order.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NextAttemptAt.Equal(out[j].NextAttemptAt) {
			return out[i].NextAttemptAt.Before(out[j].NextAttemptAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Messages returns the messages with the given ids that exist, by id. The
// single writer connection serialises read-write transactions, which is the
// lock the interface promises.
func (t *tx) Messages(ctx context.Context, ids []string) ([]vax.OutboxMessage, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	lower := make([]string, len(ids))
	for i, id := range ids {
		lower[i] = strings.ToLower(id)
	}
	var out []vax.OutboxMessage
	// Chunks keep the statement under SQLite's parameter limit.
	for start := 0; start < len(lower); start += 500 {
		chunk := lower[start:min(start+500, len(lower))]
		rows, err := t.tx.QueryContext(ctx,
			`SELECT `+messageCols+` FROM outbox WHERE id IN (`+placeholders(len(chunk))+`)`, anyStrings(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "read messages"))
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: %w", dbErr(err, "read messages"))
			}
			out = append(out, m)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "read messages"))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// UpdateMessages stores each message's delivery fields.
func (t *tx) UpdateMessages(ctx context.Context, ms []vax.OutboxMessage) error {
	if err := t.writable("update messages"); err != nil {
		return err
	}
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		id := strings.ToLower(m.ID)
		if seen[id] {
			return vax.Errorf(vax.Invalid, "update messages: message %s given twice", id)
		}
		seen[id] = true
		if _, err := vax.ParseMessageStatus(string(m.Status)); err != nil {
			return fmt.Errorf("update message %s: %w", m.ID, err)
		}
	}
	for _, m := range ms {
		res, err := t.tx.ExecContext(ctx, `UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?,
			claimed_by = ?, claimed_until = ?, provider = ?, provider_ref = ?, sent_at = ?, done_at = ?
			WHERE id = ?`,
			string(m.Status), m.Attempts, toMillis(m.NextAttemptAt), m.ClaimedBy, nullMillis(m.ClaimedUntil),
			m.Provider, m.ProviderRef, nullMillis(m.SentAt), nullMillis(m.DoneAt), strings.ToLower(m.ID))
		if err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "update message "+m.ID))
		}
		if err := affected(res, "message "+m.ID); err != nil {
			return err
		}
	}
	return nil
}

// DeleteMessages deletes finished messages created before a time.
func (t *tx) DeleteMessages(ctx context.Context, before time.Time) (int64, error) {
	return t.deleteBefore(ctx, "delete messages",
		`DELETE FROM outbox WHERE status <> 'pending' AND created_at < ?`, millisCeil(before))
}
