package postgres

import (
	"context"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Idempotency keys. A claim is one INSERT … ON CONFLICT that replaces only
// an expired record; concurrent claims of one key take turns on its row.

const idemCols = `account_id, key, request_hash, status, body, created_at, expires_at`

// ClaimIdempotency inserts r unless a live record holds its key.
func (t *tx) ClaimIdempotency(ctx context.Context, r vax.IdempotencyRecord) (vax.IdempotencyRecord, bool, error) {
	if err := t.write("ClaimIdempotency"); err != nil {
		return vax.IdempotencyRecord{}, false, err
	}
	if !vax.ValidUUID(r.AccountID) {
		return vax.IdempotencyRecord{}, false, vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", r.AccountID)
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO idempotency (`+idemCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = EXCLUDED.status,
			body = EXCLUDED.body, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
		WHERE idempotency.expires_at <= EXCLUDED.created_at`,
		r.AccountID, r.Key, r.RequestHash, r.Status, r.Body, stamp(r.CreatedAt), stamp(r.ExpiresAt))
	if err != nil {
		return vax.IdempotencyRecord{}, false, dbErr(err, "claim idempotency key")
	}
	var got vax.IdempotencyRecord
	err = t.tx.QueryRow(ctx, `SELECT `+idemCols+` FROM idempotency WHERE account_id = $1 AND key = $2 FOR UPDATE`,
		r.AccountID, r.Key).Scan(&got.AccountID, &got.Key, &got.RequestHash, &got.Status, &got.Body, &got.CreatedAt, &got.ExpiresAt)
	if err != nil {
		return vax.IdempotencyRecord{}, false, dbErr(err, "read idempotency key")
	}
	got.CreatedAt, got.ExpiresAt = got.CreatedAt.UTC(), got.ExpiresAt.UTC()
	return got, tag.RowsAffected() == 1, nil
}

// CompleteIdempotency stores a record's answer.
func (t *tx) CompleteIdempotency(ctx context.Context, r vax.IdempotencyRecord) error {
	if err := t.write("CompleteIdempotency"); err != nil {
		return err
	}
	if !vax.ValidUUID(r.AccountID) {
		return vax.Errorf(vax.NotFound, "idempotency key not found")
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	tag, err := t.tx.Exec(ctx, `UPDATE idempotency SET status = $1, body = $2,
		expires_at = coalesce($3, expires_at) WHERE account_id = $4 AND key = $5`,
		r.Status, r.Body, nullStamp(r.ExpiresAt), r.AccountID, r.Key)
	if err != nil {
		return dbErr(err, "complete idempotency key")
	}
	if tag.RowsAffected() == 0 {
		return vax.Errorf(vax.NotFound, "idempotency key not found")
	}
	return nil
}

// DeleteIdempotency deletes one record.
func (t *tx) DeleteIdempotency(ctx context.Context, accountID, key string) error {
	if err := t.write("DeleteIdempotency"); err != nil {
		return err
	}
	if !vax.ValidUUID(accountID) {
		return nil
	}
	_, err := t.tx.Exec(ctx, `DELETE FROM idempotency WHERE account_id = $1 AND key = $2`, accountID, key)
	return dbErr(err, "delete idempotency key")
}

// DeleteIdempotencyBefore deletes records that expired before t.
func (t *tx) DeleteIdempotencyBefore(ctx context.Context, before time.Time) (int64, error) {
	if err := t.write("DeleteIdempotencyBefore"); err != nil {
		return 0, err
	}
	tag, err := t.tx.Exec(ctx, `DELETE FROM idempotency WHERE expires_at < $1`, ceilSecond(before))
	if err != nil {
		return 0, dbErr(err, "prune idempotency keys")
	}
	return tag.RowsAffected(), nil
}
