package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// Captcha challenges: one row per account. The single writer connection
// serialises takes, and a take deletes what it returns, so an answer is
// checked at most once.

// PutCaptcha stores the account's challenge, replacing any previous one.
func (t *tx) PutCaptcha(ctx context.Context, c vax.CaptchaChallenge) error {
	if err := t.writable("put captcha"); err != nil {
		return err
	}
	if !vax.ValidUUID(c.AccountID) {
		return vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", c.AccountID)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO captchas (account_id, answer_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET answer_hash = excluded.answer_hash,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
		strings.ToLower(c.AccountID), c.AnswerHash, toUnix(c.CreatedAt), toUnix(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "put captcha"))
	}
	return nil
}

// TakeCaptcha returns the account's challenge and deletes it.
func (t *tx) TakeCaptcha(ctx context.Context, accountID string) (vax.CaptchaChallenge, error) {
	if err := t.writable("take captcha"); err != nil {
		return vax.CaptchaChallenge{}, err
	}
	var c vax.CaptchaChallenge
	var created, expires int64
	err := t.tx.QueryRowContext(ctx, `DELETE FROM captchas WHERE account_id = ?
		RETURNING account_id, answer_hash, created_at, expires_at`, strings.ToLower(accountID)).
		Scan(&c.AccountID, &c.AnswerHash, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return vax.CaptchaChallenge{}, vax.Errorf(vax.NotFound, "captcha not found")
	}
	if err != nil {
		return vax.CaptchaChallenge{}, fmt.Errorf("sqlite: %w", dbErr(err, "take captcha"))
	}
	c.CreatedAt, c.ExpiresAt = fromUnix(created), fromUnix(expires)
	return c, nil
}
