package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// The outbox keeps times to the millisecond; NULL is the zero time.

func millis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func nullMillis(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	m := millis(t)
	return &m
}

// messageCols are the outbox columns, qualified by o.
const messageCols = `o.id::text, o.kind, o.payload, o.created_at, o.expires_at, o.status, o.attempts,
	o.next_attempt_at, o.claimed_by, o.claimed_until, o.provider, o.provider_ref, o.sent_at, o.done_at`

func scanMessage(r pgx.Row) (vax.OutboxMessage, error) {
	var m vax.OutboxMessage
	var expires, claimed, sent, done *time.Time
	err := r.Scan(&m.ID, &m.Kind, &m.Payload, &m.CreatedAt, &expires, &m.Status, &m.Attempts,
		&m.NextAttemptAt, &m.ClaimedBy, &claimed, &m.Provider, &m.ProviderRef, &sent, &done)
	m.CreatedAt, m.NextAttemptAt = m.CreatedAt.UTC(), m.NextAttemptAt.UTC()
	m.ExpiresAt, m.ClaimedUntil, m.SentAt, m.DoneAt = fromNull(expires), fromNull(claimed), fromNull(sent), fromNull(done)
	return m, err
}

// checkMessage refuses a message EnqueueMessage cannot store.
func checkMessage(m vax.OutboxMessage) error {
	if !vax.ValidUUID(m.ID) {
		return vax.Errorf(vax.Invalid, "invalid message id %q: want a UUID", m.ID)
	}
	if _, err := vax.ParseMessageStatus(string(m.Status)); err != nil {
		return fmt.Errorf("enqueue message %s: %w", m.ID, err)
	}
	if len(m.Payload) == 0 {
		return vax.Errorf(vax.Invalid, "enqueue message %s: empty payload", m.ID)
	}
	return nil
}

// EnqueueMessage inserts m; Conflict if its id is taken.
func (t *tx) EnqueueMessage(ctx context.Context, m vax.OutboxMessage) error {
	if err := t.write("EnqueueMessage"); err != nil {
		return err
	}
	if err := checkMessage(m); err != nil {
		return err
	}
	return t.insertOnce(ctx, "enqueue message "+m.ID, enqueueSQL,
		m.ID, string(m.Kind), m.Payload, millis(m.CreatedAt), nullMillis(m.ExpiresAt), string(m.Status),
		m.Attempts, millis(m.NextAttemptAt), m.ClaimedBy, nullMillis(m.ClaimedUntil), m.Provider,
		m.ProviderRef, nullMillis(m.SentAt), nullMillis(m.DoneAt))
}

// ClaimMessages claims due, unclaimed pending messages with FOR UPDATE SKIP
// LOCKED: a row another node's transaction is claiming or updating is passed
// over, never waited for, so dispatchers on many nodes take disjoint
// batches. A claim is a lease: if its holder dies, the row is due again once
// ClaimedUntil has passed.
func (t *tx) ClaimMessages(ctx context.Context, c vax.MessageClaim) ([]vax.OutboxMessage, error) {
	if err := t.write("ClaimMessages"); err != nil {
		return nil, err
	}
	out, err := list(ctx, t.tx, "claim messages", `WITH c AS (
			SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2
				AND (claimed_until IS NULL OR claimed_until <= $2)
			ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		UPDATE outbox o SET claimed_by = $1, claimed_until = $3 FROM c WHERE o.id = c.id
		RETURNING `+messageCols,
		[]any{planEach, c.By, millis(c.Now), nullMillis(c.Until), vax.PageSize(c.Limit)}, scanMessage)
	if err != nil {
		return nil, err
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

// Messages returns the messages with the given ids that exist, by id,
// locking their rows (in id order) in a read-write transaction.
func (t *tx) Messages(ctx context.Context, ids []string) ([]vax.OutboxMessage, error) {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if vax.ValidUUID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return nil, nil
	}
	q := "SELECT " + messageCols + " FROM outbox o WHERE o.id = ANY($1::uuid[]) ORDER BY o.id"
	if !t.readOnly {
		q += " FOR UPDATE"
	}
	return list(ctx, t.tx, "read messages", q, []any{planEach, valid}, scanMessage)
}

// UpdateMessages stores each message's delivery fields in one statement.
func (t *tx) UpdateMessages(ctx context.Context, ms []vax.OutboxMessage) error {
	if err := t.write("UpdateMessages"); err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	n := len(ms)
	var (
		ids, statuses, claimedBy, providers, refs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		attempts                                  = make([]int32, n)
		next                                      = make([]time.Time, n)
		claimedUntil, sent, done                  = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	)
	seen := make(map[string]bool, n)
	for i, m := range ms {
		id := strings.ToLower(m.ID)
		if !vax.ValidUUID(id) {
			return vax.Errorf(vax.NotFound, "message %q not found", m.ID)
		}
		if seen[id] {
			return vax.Errorf(vax.Invalid, "update messages: message %s given twice", id)
		}
		seen[id] = true
		if _, err := vax.ParseMessageStatus(string(m.Status)); err != nil {
			return fmt.Errorf("update message %s: %w", m.ID, err)
		}
		ids[i], statuses[i], claimedBy[i], providers[i], refs[i] = id, string(m.Status), m.ClaimedBy, m.Provider, m.ProviderRef
		attempts[i], next[i] = int32(m.Attempts), millis(m.NextAttemptAt)
		claimedUntil[i], sent[i], done[i] = nullMillis(m.ClaimedUntil), nullMillis(m.SentAt), nullMillis(m.DoneAt)
	}
	tag, err := t.tx.Exec(ctx, `UPDATE outbox o SET status = u.status, attempts = u.attempts,
			next_attempt_at = u.next, claimed_by = u.claimed_by, claimed_until = u.claimed_until,
			provider = u.provider, provider_ref = u.ref, sent_at = u.sent, done_at = u.done
		FROM unnest($1::uuid[], $2::text[], $3::integer[], $4::timestamptz[], $5::text[], $6::timestamptz[],
			$7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[])
			AS u(id, status, attempts, next, claimed_by, claimed_until, provider, ref, sent, done)
		WHERE o.id = u.id`,
		planEach, ids, statuses, attempts, next, claimedBy, claimedUntil, providers, refs, sent, done)
	if err != nil {
		return dbErr(err, "update messages")
	}
	if tag.RowsAffected() != int64(n) {
		return vax.Errorf(vax.NotFound, "update messages: %d of %d messages not found", int64(n)-tag.RowsAffected(), n)
	}
	return nil
}

// DeleteMessages deletes finished messages created before a time.
func (t *tx) DeleteMessages(ctx context.Context, before time.Time) (int64, error) {
	if err := t.write("DeleteMessages"); err != nil {
		return 0, err
	}
	tag, err := t.tx.Exec(ctx, "DELETE FROM outbox WHERE status <> 'pending' AND created_at < $1", planEach, before.UTC())
	if err != nil {
		return 0, dbErr(err, "delete messages")
	}
	return tag.RowsAffected(), nil
}
