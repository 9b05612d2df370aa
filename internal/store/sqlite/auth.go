package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Accounts, OTP transactions and token revocations. Ids are stored in lower
// case, as PostgreSQL's uuid type returns them, so both stores agree.

// nullUnix is t in unix seconds, or NULL when t is zero.
func nullUnix(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return toUnix(t)
}

// fromNullUnix is the inverse of nullUnix.
func fromNullUnix(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromUnix(v.Int64)
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// anyStrings converts ss for a variadic query.
func anyStrings(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// CreateAccount inserts a; Conflict if its id or mobile hash is taken.
func (t *tx) CreateAccount(ctx context.Context, a vax.Account) error {
	if err := t.writable("create account"); err != nil {
		return err
	}
	if !vax.ValidUUID(a.ID) {
		return vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", a.ID)
	}
	_, err := t.tx.ExecContext(ctx,
		`INSERT INTO accounts (id, mobile_hash, mobile_sealed, mobile_last4, created_at) VALUES (?, ?, ?, ?, ?)`,
		strings.ToLower(a.ID), a.MobileHash, a.MobileSealed, a.MobileLast4, toUnix(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create account"))
	}
	return nil
}

const accountCols = `id, mobile_hash, mobile_sealed, mobile_last4, created_at`

func scanAccount(sc scanner) (vax.Account, error) {
	var a vax.Account
	var created int64
	if err := sc.Scan(&a.ID, &a.MobileHash, &a.MobileSealed, &a.MobileLast4, &created); err != nil {
		return vax.Account{}, err
	}
	a.CreatedAt = fromUnix(created)
	return a, nil
}

// Account returns one account; NotFound when unknown.
func (t *tx) Account(ctx context.Context, id string) (vax.Account, error) {
	a, err := scanAccount(t.tx.QueryRowContext(ctx,
		`SELECT `+accountCols+` FROM accounts WHERE id = ?`, strings.ToLower(id)))
	return one(a, err, "account not found", "read account")
}

// AccountByMobile returns the account whose mobile hash is one of hashes.
func (t *tx) AccountByMobile(ctx context.Context, hashes []string) (vax.Account, error) {
	if len(hashes) == 0 {
		return vax.Account{}, vax.Errorf(vax.NotFound, "account not found")
	}
	a, err := scanAccount(t.tx.QueryRowContext(ctx,
		`SELECT `+accountCols+` FROM accounts WHERE mobile_hash IN (`+placeholders(len(hashes))+`)
		 ORDER BY created_at, id LIMIT 1`, anyStrings(hashes)...))
	return one(a, err, "account not found", "find account by mobile")
}

// CreateOTPTxn inserts o; Conflict if its id is taken.
func (t *tx) CreateOTPTxn(ctx context.Context, o vax.OTPTxn) error {
	if err := t.writable("create OTP transaction"); err != nil {
		return err
	}
	if !vax.ValidUUID(o.ID) {
		return vax.Errorf(vax.Invalid, "invalid txnId %q: want a UUID", o.ID)
	}
	_, err := t.tx.ExecContext(ctx,
		`INSERT INTO otp_txns (id, mobile_hash, mobile_sealed, code_hash, created_at, expires_at, attempts, used_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		strings.ToLower(o.ID), o.MobileHash, o.MobileSealed, o.CodeHash, toUnix(o.CreatedAt), toUnix(o.ExpiresAt),
		o.Attempts, nullUnix(o.UsedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create OTP transaction"))
	}
	return nil
}

const otpCols = `id, mobile_hash, mobile_sealed, code_hash, created_at, expires_at, attempts, used_at`

func scanOTP(sc scanner) (vax.OTPTxn, error) {
	var o vax.OTPTxn
	var created, expires int64
	var used sql.NullInt64
	if err := sc.Scan(&o.ID, &o.MobileHash, &o.MobileSealed, &o.CodeHash, &created, &expires, &o.Attempts, &used); err != nil {
		return vax.OTPTxn{}, err
	}
	o.CreatedAt, o.ExpiresAt, o.UsedAt = fromUnix(created), fromUnix(expires), fromNullUnix(used)
	return o, nil
}

// OTPTxn returns one OTP transaction. The single writer connection already
// serialises read-write transactions, so no row lock is needed.
func (t *tx) OTPTxn(ctx context.Context, id string) (vax.OTPTxn, error) {
	o, err := scanOTP(t.tx.QueryRowContext(ctx,
		`SELECT `+otpCols+` FROM otp_txns WHERE id = ?`, strings.ToLower(id)))
	return one(o, err, "OTP transaction not found", "read OTP transaction")
}

// UpdateOTPTxn stores o's attempts and use time.
func (t *tx) UpdateOTPTxn(ctx context.Context, o vax.OTPTxn) error {
	if err := t.writable("update OTP transaction"); err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE otp_txns SET attempts = ?, used_at = ? WHERE id = ?`,
		o.Attempts, nullUnix(o.UsedAt), strings.ToLower(o.ID))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "update OTP transaction"))
	}
	return affected(res, "OTP transaction")
}

// OTPTxnsByMobile lists a number's OTP transactions since a time. The
// single writer connection serialises read-write transactions, which is
// the per-number lock the interface promises.
func (t *tx) OTPTxnsByMobile(ctx context.Context, hashes []string, since time.Time) ([]vax.OTPTxn, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	args := append(anyStrings(hashes), unixCeil(since))
	rows, err := t.tx.QueryContext(ctx,
		`SELECT `+otpCols+` FROM otp_txns WHERE mobile_hash IN (`+placeholders(len(hashes))+`)
		 AND created_at >= ? ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list OTP transactions"))
	}
	defer rows.Close()
	var out []vax.OTPTxn
	for rows.Next() {
		o, err := scanOTP(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list OTP transactions"))
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list OTP transactions"))
	}
	return out, nil
}

// deleteBefore runs a DELETE and returns the rows it removed.
func (t *tx) deleteBefore(ctx context.Context, what, query string, args ...any) (int64, error) {
	if err := t.writable(what); err != nil {
		return 0, err
	}
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	return n, nil
}

// DeleteOTPTxns deletes OTP transactions created before a time.
func (t *tx) DeleteOTPTxns(ctx context.Context, before time.Time) (int64, error) {
	return t.deleteBefore(ctx, "delete OTP transactions",
		`DELETE FROM otp_txns WHERE created_at < ?`, unixCeil(before))
}

// RevokeToken records a revocation, keeping the later Until of two.
func (t *tx) RevokeToken(ctx context.Context, r vax.Revocation) error {
	if err := t.writable("revoke token"); err != nil {
		return err
	}
	if r.ID == "" {
		return vax.Errorf(vax.Invalid, "revoke token: empty id")
	}
	_, err := t.tx.ExecContext(ctx,
		`INSERT INTO revocations (id, until) VALUES (?, ?)
		 ON CONFLICT (id) DO UPDATE SET until = max(until, excluded.until)`, r.ID, toUnix(r.Until))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "revoke token"))
	}
	return nil
}

// Revocations lists the revocations in force after a time, by id.
func (t *tx) Revocations(ctx context.Context, after time.Time) ([]vax.Revocation, error) {
	rows, err := t.tx.QueryContext(ctx,
		`SELECT id, until FROM revocations WHERE until > ? ORDER BY id`, after.Unix())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list revocations"))
	}
	defer rows.Close()
	var out []vax.Revocation
	for rows.Next() {
		var r vax.Revocation
		var until int64
		if err := rows.Scan(&r.ID, &until); err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list revocations"))
		}
		r.Until = fromUnix(until)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list revocations"))
	}
	return out, nil
}

// DeleteRevocations deletes revocations that ended before a time.
func (t *tx) DeleteRevocations(ctx context.Context, before time.Time) (int64, error) {
	return t.deleteBefore(ctx, "delete revocations",
		`DELETE FROM revocations WHERE until < ?`, unixCeil(before))
}
