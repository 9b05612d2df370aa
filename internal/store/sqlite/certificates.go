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

// Certificates. The single writer connection (BEGIN IMMEDIATE) serialises
// issues, so superseding the current row and inserting the new one cannot
// interleave with another issue; the partial unique index on (ref) WHERE
// superseded_by IS NULL backs the one-current-certificate rule anyway.

const certificateCols = `id, ref, doses, final, issued_at, superseded_by, superseded_at`

func scanCertificate(sc scanner) (vax.Certificate, error) {
	var c vax.Certificate
	var issued int64
	var by sql.NullString
	var at sql.NullInt64
	err := sc.Scan(&c.ID, &c.Ref, &c.Doses, &c.Final, &issued, &by, &at)
	c.IssuedAt = fromUnix(issued)
	c.SupersededBy = by.String
	if at.Valid {
		c.SupersededAt = fromUnix(at.Int64)
	}
	return c, err
}

// IssueCertificate supersedes c.Ref's current certificate, if any, by c and
// inserts c.
func (t *tx) IssueCertificate(ctx context.Context, c vax.Certificate) error {
	if err := t.writable("issue certificate"); err != nil {
		return err
	}
	if err := c.ValidateNew(); err != nil {
		return err
	}
	id := strings.ToLower(c.ID)
	// Refuse a taken id before touching the current row, so a Conflict
	// leaves the transaction as it was.
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM certificates WHERE id = ?`, id).Scan(&one)
	if err == nil {
		return vax.Errorf(vax.Conflict, "issue certificate: id already exists")
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %w", dbErr(err, "issue certificate"))
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE certificates SET superseded_by = ?, superseded_at = ?
		WHERE ref = ? AND superseded_by IS NULL`, id, toUnix(c.IssuedAt), c.Ref); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "issue certificate"))
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO certificates (`+certificateCols+`)
		VALUES (?, ?, ?, ?, ?, NULL, NULL)`, id, c.Ref, c.Doses, c.Final, toUnix(c.IssuedAt)); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "issue certificate"))
	}
	return nil
}

// CurrentCertificate returns ref's current certificate; NotFound when none.
func (t *tx) CurrentCertificate(ctx context.Context, ref string) (vax.Certificate, error) {
	c, err := scanCertificate(t.tx.QueryRowContext(ctx, `SELECT `+certificateCols+`
		FROM certificates WHERE ref = ? AND superseded_by IS NULL`, ref))
	return one(c, err, "no certificate issued yet", "read current certificate")
}

// Certificate returns one certificate; NotFound when unknown.
func (t *tx) Certificate(ctx context.Context, id string) (vax.Certificate, error) {
	c, err := scanCertificate(t.tx.QueryRowContext(ctx, `SELECT `+certificateCols+`
		FROM certificates WHERE id = ?`, strings.ToLower(id)))
	return one(c, err, "certificate not found", "read certificate")
}

// SupersededCertificates lists certificates superseded after since, oldest
// supersession first, then by id.
func (t *tx) SupersededCertificates(ctx context.Context, since time.Time, limit int) ([]vax.Certificate, error) {
	// Stored times are whole seconds: "after since" is "at or after the
	// first whole second after since".
	rows, err := t.tx.QueryContext(ctx, `SELECT `+certificateCols+` FROM certificates
		WHERE superseded_at IS NOT NULL AND superseded_at >= ?
		ORDER BY superseded_at, id LIMIT ?`, afterUnix(since), vax.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list superseded certificates"))
	}
	defer rows.Close()
	var out []vax.Certificate
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list superseded certificates"))
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "list superseded certificates"))
	}
	return out, nil
}

// afterUnix returns the first whole second strictly after t.
func afterUnix(t time.Time) int64 { return t.Unix() + 1 }
