package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// Certificates. Issuing is on the dose's hot path, so it is one statement
// in the common case; the partial unique index on (ref) WHERE superseded_by
// IS NULL is what keeps a beneficiary at one current certificate when two
// issues for it run at once (see IssueCertificate).

const certificateCols = `id::text, ref, doses, final, issued_at, COALESCE(superseded_by::text, ''), superseded_at`

func scanCertificate(r pgx.Row) (vax.Certificate, error) {
	var c vax.Certificate
	var at *time.Time
	err := r.Scan(&c.ID, &c.Ref, &c.Doses, &c.Final, &c.IssuedAt, &c.SupersededBy, &at)
	c.IssuedAt = c.IssuedAt.UTC()
	c.SupersededAt = fromNull(at)
	return c, err
}

// issueSQL supersedes the current certificate of $2 by $1 and inserts $1
// as current. Under READ COMMITTED a concurrent issue for the same
// beneficiary either holds the current row (the UPDATE waits for it and,
// once it commits, finds the row no longer current) or has inserted its own
// current row (the INSERT waits for it and, once it commits, conflicts on
// the partial unique index). Either way this statement inserts nothing and
// IssueCertificate runs it again on a fresh snapshot, in which the winner's
// certificate is the current one to supersede. The UPDATE also waits until
// the id is known to be free, so a taken id supersedes nothing.
const issueSQL = `WITH old AS (
	UPDATE certificates SET superseded_by = $1, superseded_at = $5
	WHERE ref = $2 AND superseded_by IS NULL
	  AND NOT EXISTS (SELECT 1 FROM certificates WHERE id = $1)
	RETURNING id
)
INSERT INTO certificates (id, ref, doses, final, issued_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING`

// issueAttempts bounds the reruns of issueSQL. Before rerunning, an issue
// takes an advisory lock on the beneficiary, so reruns take turns; only an
// issue on its first, unlocked attempt can still get in first, once, so a
// rerun loses at most once per concurrent issue for the same beneficiary.
const issueAttempts = 64

// IssueCertificate supersedes c.Ref's current certificate, if any, by c and
// inserts c.
func (t *tx) IssueCertificate(ctx context.Context, c vax.Certificate) error {
	if err := t.write("IssueCertificate"); err != nil {
		return err
	}
	switch {
	case !vax.ValidUUID(c.ID):
		return vax.Errorf(vax.Invalid, "invalid certificate id %q: want a UUID", c.ID)
	case c.Doses < 1:
		return vax.Errorf(vax.Invalid, "certificate attests %d doses: want at least 1", c.Doses)
	case c.SupersededBy != "" || !c.SupersededAt.IsZero():
		return vax.Errorf(vax.Invalid, "a certificate is issued current, not superseded")
	case c.IssuedAt.IsZero():
		return vax.Errorf(vax.Invalid, "certificate needs an issue time")
	}
	if err := vax.ValidBeneficiaryRef(c.Ref); err != nil {
		return err
	}
	for i := range issueAttempts {
		tag, err := t.tx.Exec(ctx, issueSQL, c.ID, c.Ref, c.Doses, c.Final, stamp(c.IssuedAt))
		if err != nil {
			return dbErr(err, "issue certificate")
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		if i == 0 {
			// Another issue for c.Ref got in first: queue behind the others
			// that did not (the common case, one issue at a time, never
			// takes this lock).
			if _, err := t.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("vaxport certificate "+c.Ref)); err != nil {
				return dbErr(err, "issue certificate")
			}
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

// CurrentCertificate returns ref's current certificate; NotFound when none.
func (t *tx) CurrentCertificate(ctx context.Context, ref string) (vax.Certificate, error) {
	c, err := scanCertificate(t.tx.QueryRow(ctx, `SELECT `+certificateCols+`
		FROM certificates WHERE ref = $1 AND superseded_by IS NULL`, planEach, ref))
	if errors.Is(err, pgx.ErrNoRows) {
		return vax.Certificate{}, vax.Errorf(vax.NotFound, "no certificate issued yet")
	}
	if err != nil {
		return vax.Certificate{}, dbErr(err, "read current certificate")
	}
	return c, nil
}

// Certificate returns one certificate; NotFound when unknown (or not a
// UUID).
func (t *tx) Certificate(ctx context.Context, id string) (vax.Certificate, error) {
	if !vax.ValidUUID(id) {
		return vax.Certificate{}, vax.Errorf(vax.NotFound, "certificate not found")
	}
	c, err := scanCertificate(t.tx.QueryRow(ctx, `SELECT `+certificateCols+`
		FROM certificates WHERE id = $1::uuid`, planEach, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return vax.Certificate{}, vax.Errorf(vax.NotFound, "certificate not found")
	}
	if err != nil {
		return vax.Certificate{}, dbErr(err, "read certificate")
	}
	return c, nil
}

// SupersededCertificates lists certificates superseded after since, oldest
// supersession first, then by id.
func (t *tx) SupersededCertificates(ctx context.Context, since time.Time, limit int) ([]vax.Certificate, error) {
	return list(ctx, t.tx, "list superseded certificates", `SELECT `+certificateCols+` FROM certificates
		WHERE superseded_at IS NOT NULL AND superseded_at > $1
		ORDER BY superseded_at, id LIMIT $2`, []any{planEach, since.UTC(), vax.PageSize(limit)}, scanCertificate)
}
