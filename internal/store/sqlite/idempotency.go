package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Idempotency keys. The single writer connection serialises claims.

const idemCols = `account_id, key, request_hash, status, body, created_at, expires_at`

// ClaimIdempotency inserts r unless a live record holds its key.
func (t *tx) ClaimIdempotency(ctx context.Context, r vax.IdempotencyRecord) (vax.IdempotencyRecord, bool, error) {
	if err := t.writable("claim idempotency key"); err != nil {
		return vax.IdempotencyRecord{}, false, err
	}
	if !vax.ValidUUID(r.AccountID) {
		return vax.IdempotencyRecord{}, false, vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", r.AccountID)
	}
	r.AccountID = strings.ToLower(r.AccountID)
	var got vax.IdempotencyRecord
	var created, expires int64
	err := t.tx.QueryRowContext(ctx, `SELECT `+idemCols+` FROM idempotency WHERE account_id = ? AND key = ?`,
		r.AccountID, r.Key).Scan(&got.AccountID, &got.Key, &got.RequestHash, &got.Status, &got.Body, &created, &expires)
	switch {
	case err == nil:
		got.CreatedAt, got.ExpiresAt = fromUnix(created), fromUnix(expires)
		if got.Body == nil {
			got.Body = []byte{}
		}
		if got.ExpiresAt.After(r.CreatedAt) {
			return got, false, nil
		}
	case !errors.Is(err, sql.ErrNoRows):
		return vax.IdempotencyRecord{}, false, fmt.Errorf("sqlite: %w", dbErr(err, "read idempotency key"))
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	_, err = t.tx.ExecContext(ctx, `INSERT OR REPLACE INTO idempotency (`+idemCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.AccountID, r.Key, r.RequestHash, r.Status, r.Body, toUnix(r.CreatedAt), toUnix(r.ExpiresAt))
	if err != nil {
		return vax.IdempotencyRecord{}, false, fmt.Errorf("sqlite: %w", dbErr(err, "claim idempotency key"))
	}
	r.CreatedAt, r.ExpiresAt = fromUnix(toUnix(r.CreatedAt)), fromUnix(toUnix(r.ExpiresAt))
	return r, true, nil
}

// CompleteIdempotency stores a record's answer.
func (t *tx) CompleteIdempotency(ctx context.Context, r vax.IdempotencyRecord) error {
	if err := t.writable("complete idempotency key"); err != nil {
		return err
	}
	if r.Body == nil {
		r.Body = []byte{}
	}
	q := `UPDATE idempotency SET status = ?, body = ? WHERE account_id = ? AND key = ?`
	args := []any{r.Status, r.Body, strings.ToLower(r.AccountID), r.Key}
	if !r.ExpiresAt.IsZero() {
		q = `UPDATE idempotency SET status = ?, body = ?, expires_at = ? WHERE account_id = ? AND key = ?`
		args = []any{r.Status, r.Body, toUnix(r.ExpiresAt), strings.ToLower(r.AccountID), r.Key}
	}
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "complete idempotency key"))
	}
	return affected(res, "idempotency key")
}

// DeleteIdempotency deletes one record.
func (t *tx) DeleteIdempotency(ctx context.Context, accountID, key string) error {
	if err := t.writable("delete idempotency key"); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM idempotency WHERE account_id = ? AND key = ?`,
		strings.ToLower(accountID), key); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "delete idempotency key"))
	}
	return nil
}

// DeleteIdempotencyBefore deletes records that expired before t.
func (t *tx) DeleteIdempotencyBefore(ctx context.Context, before time.Time) (int64, error) {
	if err := t.writable("prune idempotency keys"); err != nil {
		return 0, err
	}
	res, err := t.tx.ExecContext(ctx, `DELETE FROM idempotency WHERE expires_at < ?`, unixCeil(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", dbErr(err, "prune idempotency keys"))
	}
	n, _ := res.RowsAffected()
	return n, nil
}
