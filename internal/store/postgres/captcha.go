package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// Captcha challenges: one row per account. A take is one DELETE …
// RETURNING, so of concurrent takes (on any node) the first deletes the
// row and the others, once it commits, find none: an answer is checked at
// most once.

// PutCaptcha stores the account's challenge, replacing any previous one.
func (t *tx) PutCaptcha(ctx context.Context, c vax.CaptchaChallenge) error {
	if err := t.write("PutCaptcha"); err != nil {
		return err
	}
	if !vax.ValidUUID(c.AccountID) {
		return vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", c.AccountID)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO captchas (account_id, answer_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id) DO UPDATE SET answer_hash = EXCLUDED.answer_hash,
			created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
		planEach, c.AccountID, c.AnswerHash, stamp(c.CreatedAt), stamp(c.ExpiresAt))
	return dbErr(err, "put captcha")
}

// TakeCaptcha returns the account's challenge and deletes it.
func (t *tx) TakeCaptcha(ctx context.Context, accountID string) (vax.CaptchaChallenge, error) {
	if err := t.write("TakeCaptcha"); err != nil {
		return vax.CaptchaChallenge{}, err
	}
	if !vax.ValidUUID(accountID) {
		return vax.CaptchaChallenge{}, vax.Errorf(vax.NotFound, "captcha not found")
	}
	var c vax.CaptchaChallenge
	err := t.tx.QueryRow(ctx, `DELETE FROM captchas WHERE account_id = $1::uuid
		RETURNING account_id::text, answer_hash, created_at, expires_at`, planEach, accountID).
		Scan(&c.AccountID, &c.AnswerHash, &c.CreatedAt, &c.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return vax.CaptchaChallenge{}, vax.Errorf(vax.NotFound, "captcha not found")
	}
	if err != nil {
		return vax.CaptchaChallenge{}, dbErr(err, "take captcha")
	}
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	return c, nil
}
