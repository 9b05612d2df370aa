package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// Certificates. Issuing is on the dose's hot path, so it is one round trip
// (see IssueCertificate).

const certificateCols = `id::text, ref, doses, final, issued_at, COALESCE(superseded_by::text, ''), superseded_at`

func scanCertificate(r pgx.Row) (vax.Certificate, error) {
	var c vax.Certificate
	var at *time.Time
	err := r.Scan(&c.ID, &c.Ref, &c.Doses, &c.Final, &c.IssuedAt, &c.SupersededBy, &at)
	c.IssuedAt = c.IssuedAt.UTC()
	c.SupersededAt = fromNull(at)
	return c, err
}

// Issuing takes three statements sent as one pipelined batch (one round
// trip): a transaction-scoped advisory lock on the beneficiary, so that
// concurrent issues for one beneficiary take turns; then, each on a fresh
// READ COMMITTED snapshot that sees every earlier issue for it committed,
// supersedeCertificateSQL marks the current certificate superseded by the
// new id and insertCertificateSQL inserts the new one. (One statement with
// a data-modifying CTE would not do: its INSERT runs before the CTE's
// UPDATE and conflicts with the row about to be superseded.) The partial
// unique index on (ref) WHERE superseded_by IS NULL still guards writers
// that do not take the lock: against one of those the INSERT inserts
// nothing, and IssueCertificate runs the pair again. The UPDATE checks that
// the id is free, so a taken id supersedes nothing.
const (
	supersedeCertificateSQL = `UPDATE certificates SET superseded_by = $1, superseded_at = $3
		WHERE ref = $2 AND superseded_by IS NULL AND NOT EXISTS (SELECT 1 FROM certificates WHERE id = $1)`
	issueCertificateSQL = `INSERT INTO certificates (id, ref, doses, final, issued_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
)

// certificateLock is the advisory lock key of a beneficiary's certificates.
func certificateLock(ref string) int64 { return lockKey("vaxport certificate " + ref) }

// issueAttempts bounds the runs of the supersede-and-insert pair. Under
// the lock, only a writer that does not take it can make one insert
// nothing, so more than a few means something is wrong.
const issueAttempts = 8

// IssueCertificate supersedes c.Ref's current certificate, if any, by c and
// inserts c.
func (t *tx) IssueCertificate(ctx context.Context, c vax.Certificate) error {
	if err := t.write("IssueCertificate"); err != nil {
		return err
	}
	if err := c.ValidateNew(); err != nil {
		return err
	}
	for attempt := range issueAttempts {
		b := &pgx.Batch{}
		if attempt == 0 {
			b.Queue("SELECT pg_advisory_xact_lock($1)", certificateLock(c.Ref))
		}
		b.Queue(supersedeCertificateSQL, c.ID, c.Ref, stamp(c.IssuedAt))
		b.Queue(issueCertificateSQL, c.ID, c.Ref, c.Doses, c.Final, stamp(c.IssuedAt))
		inserted, err := sendIssue(t.tx.SendBatch(ctx, b), b.Len())
		if err != nil {
			return dbErr(err, "issue certificate")
		}
		if inserted {
			return nil
		}
		var taken bool
		if err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM certificates WHERE id = $1)`, c.ID).Scan(&taken); err != nil {
			return dbErr(err, "issue certificate")
		}
		if taken {
			return vax.Errorf(vax.Conflict, "issue certificate: id already exists")
		}
	}
	return vax.Errorf(vax.Unavailable, "issue certificate: too many concurrent issues for one beneficiary, try again")
}

// sendIssue reads the results of an issue batch of n statements and
// reports whether its last, the INSERT, inserted the certificate.
func sendIssue(br pgx.BatchResults, n int) (inserted bool, err error) {
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	for i := range n {
		tag, err := br.Exec()
		if err != nil {
			return false, err
		}
		if i == n-1 {
			inserted = tag.RowsAffected() == 1
		}
	}
	return inserted, nil
}

// CurrentCertificate returns ref's current certificate; NotFound when none.
func (t *tx) CurrentCertificate(ctx context.Context, ref string) (vax.Certificate, error) {
	c, err := scanCertificate(t.tx.QueryRow(ctx, `SELECT `+certificateCols+`
		FROM certificates WHERE ref = $1 AND superseded_by IS NULL`, planEach, ref))
	return one(c, err, "no certificate issued yet", "read current certificate")
}

// Certificate returns one certificate; NotFound when unknown (or not a
// UUID).
func (t *tx) Certificate(ctx context.Context, id string) (vax.Certificate, error) {
	if !vax.ValidUUID(id) {
		return vax.Certificate{}, vax.Errorf(vax.NotFound, "certificate not found")
	}
	c, err := scanCertificate(t.tx.QueryRow(ctx, `SELECT `+certificateCols+`
		FROM certificates WHERE id = $1::uuid`, planEach, id))
	return one(c, err, "certificate not found", "read certificate")
}

// SupersededCertificates lists certificates superseded after since, oldest
// supersession first, then by id.
func (t *tx) SupersededCertificates(ctx context.Context, since time.Time, limit int) ([]vax.Certificate, error) {
	return list(ctx, t.tx, "list superseded certificates", `SELECT `+certificateCols+` FROM certificates
		WHERE superseded_at IS NOT NULL AND superseded_at > $1
		ORDER BY superseded_at, id LIMIT $2`, []any{planEach, since.UTC(), vax.PageSize(limit)}, scanCertificate)
}
