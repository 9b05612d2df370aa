package postgres

import (
	"context"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// Accounts, OTP transactions and token revocations.

// planEach, as a query's first argument, has PostgreSQL plan the query for
// its actual arguments each time (pgx caches only its description). The
// tables here start empty and grow fast: a plan cached while a table was
// empty (a sequential scan, or the wrong index) would otherwise stay in use
// on that connection, scanning the whole table per call, until an ANALYZE
// happened to invalidate it. Planning these small queries costs far less.
const planEach = pgx.QueryExecModeCacheDescribe

// stamp is a time as the store keeps it outside the outbox: UTC, whole
// seconds.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// nullStamp is stamp(t), or NULL when t is zero.
func nullStamp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	s := stamp(t)
	return &s
}

// fromNull is a read nullable time: zero when NULL, UTC otherwise.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// ceilSecond is the first whole second at or after t.
func ceilSecond(t time.Time) time.Time {
	s := t.UTC().Truncate(time.Second)
	if s.Before(t) {
		s = s.Add(time.Second)
	}
	return s
}

// insertOnce runs an INSERT … ON CONFLICT DO NOTHING and reports Conflict
// when it inserted nothing, so a taken key leaves the transaction usable.
func (t *tx) insertOnce(ctx context.Context, what, sql string, args ...any) error {
	tag, err := t.tx.Exec(ctx, sql, args...)
	if err != nil {
		return dbErr(err, what)
	}
	if tag.RowsAffected() == 0 {
		return vax.Errorf(vax.Conflict, "%s: already exists", what)
	}
	return nil
}

// CreateAccount inserts a; Conflict if its id or mobile hash is taken.
func (t *tx) CreateAccount(ctx context.Context, a vax.Account) error {
	if err := t.write("CreateAccount"); err != nil {
		return err
	}
	if !vax.ValidUUID(a.ID) {
		return vax.Errorf(vax.Invalid, "invalid account id %q: want a UUID", a.ID)
	}
	return t.insertOnce(ctx, "create account", `INSERT INTO accounts
		(id, mobile_hash, mobile_sealed, mobile_last4, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`,
		a.ID, a.MobileHash, a.MobileSealed, a.MobileLast4, stamp(a.CreatedAt))
}

const accountCols = "id::text, mobile_hash, mobile_sealed, mobile_last4, created_at"

func scanAccount(r pgx.Row) (vax.Account, error) {
	var a vax.Account
	err := r.Scan(&a.ID, &a.MobileHash, &a.MobileSealed, &a.MobileLast4, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// Account returns one account; NotFound when unknown (or not a UUID).
func (t *tx) Account(ctx context.Context, id string) (vax.Account, error) {
	if !vax.ValidUUID(id) {
		return vax.Account{}, vax.Errorf(vax.NotFound, "account not found")
	}
	a, err := scanAccount(t.tx.QueryRow(ctx, "SELECT "+accountCols+" FROM accounts WHERE id = $1::uuid", planEach, id))
	return one(a, err, "account not found", "read account")
}

// AccountByMobile returns the account whose mobile hash is one of hashes.
func (t *tx) AccountByMobile(ctx context.Context, hashes []string) (vax.Account, error) {
	a, err := scanAccount(t.tx.QueryRow(ctx, "SELECT "+accountCols+
		" FROM accounts WHERE mobile_hash = ANY($1) ORDER BY created_at, id LIMIT 1", planEach, hashes))
	return one(a, err, "account not found", "find account by mobile")
}

// CreateOTPTxn inserts o; Conflict if its id is taken.
func (t *tx) CreateOTPTxn(ctx context.Context, o vax.OTPTxn) error {
	if err := t.write("CreateOTPTxn"); err != nil {
		return err
	}
	if !vax.ValidUUID(o.ID) {
		return vax.Errorf(vax.Invalid, "invalid txnId %q: want a UUID", o.ID)
	}
	return t.insertOnce(ctx, "create OTP transaction", `INSERT INTO otp_txns
		(id, mobile_hash, mobile_sealed, code_hash, created_at, expires_at, attempts, used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		o.ID, o.MobileHash, o.MobileSealed, o.CodeHash, stamp(o.CreatedAt), stamp(o.ExpiresAt), o.Attempts, nullStamp(o.UsedAt))
}

const otpCols = "id::text, mobile_hash, mobile_sealed, code_hash, created_at, expires_at, attempts, used_at"

func scanOTP(r pgx.Row) (vax.OTPTxn, error) {
	var o vax.OTPTxn
	var used *time.Time
	err := r.Scan(&o.ID, &o.MobileHash, &o.MobileSealed, &o.CodeHash, &o.CreatedAt, &o.ExpiresAt, &o.Attempts, &used)
	o.CreatedAt, o.ExpiresAt, o.UsedAt = o.CreatedAt.UTC(), o.ExpiresAt.UTC(), fromNull(used)
	return o, err
}

// OTPTxn returns one OTP transaction, locking its row in a read-write
// transaction.
func (t *tx) OTPTxn(ctx context.Context, id string) (vax.OTPTxn, error) {
	if !vax.ValidUUID(id) {
		return vax.OTPTxn{}, vax.Errorf(vax.NotFound, "OTP transaction not found")
	}
	q := "SELECT " + otpCols + " FROM otp_txns WHERE id = $1::uuid"
	if !t.readOnly {
		q += " FOR UPDATE"
	}
	o, err := scanOTP(t.tx.QueryRow(ctx, q, planEach, id))
	return one(o, err, "OTP transaction not found", "read OTP transaction")
}

// UpdateOTPTxn stores o's attempts and use time.
func (t *tx) UpdateOTPTxn(ctx context.Context, o vax.OTPTxn) error {
	if err := t.write("UpdateOTPTxn"); err != nil {
		return err
	}
	if !vax.ValidUUID(o.ID) {
		return vax.Errorf(vax.NotFound, "OTP transaction not found")
	}
	tag, err := t.tx.Exec(ctx, "UPDATE otp_txns SET attempts = $2, used_at = $3 WHERE id = $1::uuid",
		planEach, o.ID, o.Attempts, nullStamp(o.UsedAt))
	if err != nil {
		return dbErr(err, "update OTP transaction")
	}
	if tag.RowsAffected() == 0 {
		return vax.Errorf(vax.NotFound, "OTP transaction not found")
	}
	return nil
}

// lockKey maps a name to a transaction-level advisory lock key.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// OTPTxnsByMobile lists a number's OTP transactions since a time. In a
// read-write transaction it first takes an advisory lock on the number's
// first hash, released at commit or rollback: requests for one number on
// any node take turns, while requests for other numbers never wait. The
// lock is its own statement, so the read's snapshot (READ COMMITTED: one
// per statement) is taken after the lock is granted and sees what the
// previous holder committed.
func (t *tx) OTPTxnsByMobile(ctx context.Context, hashes []string, since time.Time) ([]vax.OTPTxn, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	if !t.readOnly {
		if _, err := t.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("vaxport otp "+hashes[0])); err != nil {
			return nil, dbErr(err, "lock mobile number")
		}
	}
	return list(ctx, t.tx, "list OTP transactions",
		"SELECT "+otpCols+" FROM otp_txns WHERE mobile_hash = ANY($1) AND created_at >= $2 ORDER BY created_at, id",
		[]any{planEach, hashes, ceilSecond(since)}, scanOTP)
}

// DeleteOTPTxns deletes OTP transactions created before a time.
func (t *tx) DeleteOTPTxns(ctx context.Context, before time.Time) (int64, error) {
	if err := t.write("DeleteOTPTxns"); err != nil {
		return 0, err
	}
	tag, err := t.tx.Exec(ctx, "DELETE FROM otp_txns WHERE created_at < $1", planEach, before.UTC())
	if err != nil {
		return 0, dbErr(err, "delete OTP transactions")
	}
	return tag.RowsAffected(), nil
}

// RevokeToken records a revocation, keeping the later Until of two.
func (t *tx) RevokeToken(ctx context.Context, r vax.Revocation) error {
	if err := t.write("RevokeToken"); err != nil {
		return err
	}
	if r.ID == "" {
		return vax.Errorf(vax.Invalid, "revoke token: empty id")
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO revocations (id, until) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET until = greatest(revocations.until, excluded.until)`,
		r.ID, stamp(r.Until))
	return dbErr(err, "revoke token")
}

// Revocations lists the revocations in force after a time, by id.
func (t *tx) Revocations(ctx context.Context, after time.Time) ([]vax.Revocation, error) {
	return list(ctx, t.tx, "list revocations",
		"SELECT id, until FROM revocations WHERE until > $1 ORDER BY id", []any{planEach, after.UTC()},
		func(r pgx.Row) (vax.Revocation, error) {
			var rv vax.Revocation
			err := r.Scan(&rv.ID, &rv.Until)
			rv.Until = rv.Until.UTC()
			return rv, err
		})
}

// DeleteRevocations deletes revocations that ended before a time.
func (t *tx) DeleteRevocations(ctx context.Context, before time.Time) (int64, error) {
	if err := t.write("DeleteRevocations"); err != nil {
		return 0, err
	}
	tag, err := t.tx.Exec(ctx, "DELETE FROM revocations WHERE until < $1", planEach, before.UTC())
	if err != nil {
		return 0, dbErr(err, "delete revocations")
	}
	return tag.RowsAffected(), nil
}
