package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// Stored alert subscriptions. MarkAlertTexted is one conditional UPDATE:
// under READ COMMITTED a second node marking the same row waits for the
// first to commit, then re-checks the condition against the row the first
// wrote and finds it throttled, so exactly one of them texts. An account's
// listing in a read-write transaction takes an advisory lock on the
// account first, so a count-then-create cannot pass a cap.

const alertCols = `id::text, account_id::text, district_id, pincode, min_age, dose, vaccine, created_at, last_texted_at`

func scanAlertSubscription(row pgx.Row) (vax.AlertSubscription, error) {
	var s vax.AlertSubscription
	var texted *time.Time
	err := row.Scan(&s.ID, &s.AccountID, &s.DistrictID, &s.Pincode, &s.MinAge, &s.Dose, &s.Vaccine,
		&s.CreatedAt, &texted)
	s.CreatedAt, s.LastTextedAt = s.CreatedAt.UTC(), fromNull(texted)
	return s, err
}

// CreateAlertSubscription inserts s and records its change.
func (t *tx) CreateAlertSubscription(ctx context.Context, s vax.AlertSubscription) error {
	if err := t.write("CreateAlertSubscription"); err != nil {
		return err
	}
	if err := s.ValidateNew(); err != nil {
		return err
	}
	// ON CONFLICT DO NOTHING: a taken id is Conflict without aborting the
	// transaction.
	tag, err := t.tx.Exec(ctx, `INSERT INTO alert_subscriptions (id, account_id, district_id, pincode,
			min_age, dose, vaccine, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
		planEach, s.ID, s.AccountID, s.DistrictID, s.Pincode, s.MinAge, s.Dose, s.Vaccine, stamp(s.CreatedAt))
	if err != nil {
		return dbErr(err, "create alert subscription")
	}
	if tag.RowsAffected() == 0 {
		return vax.Errorf(vax.Conflict, "alert subscription %s already exists", s.ID)
	}
	return t.AppendChange(ctx, vax.ChangeAlertSubscription, strings.ToLower(s.ID))
}

// AlertSubscriptionsOf lists an account's subscriptions, oldest first.
func (t *tx) AlertSubscriptionsOf(ctx context.Context, accountID string) ([]vax.AlertSubscription, error) {
	if !vax.ValidUUID(accountID) {
		return nil, nil
	}
	accountID = strings.ToLower(accountID)
	if !t.readOnly {
		if _, err := t.tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("vaxport alerts account "+accountID)); err != nil {
			return nil, dbErr(err, "lock account's alert subscriptions")
		}
	}
	return list(ctx, t.tx, "list alert subscriptions",
		"SELECT "+alertCols+" FROM alert_subscriptions WHERE account_id = $1::uuid ORDER BY created_at, id",
		[]any{planEach, accountID}, scanAlertSubscription)
}

// AlertSubscriptions lists every subscription by id.
func (t *tx) AlertSubscriptions(ctx context.Context) ([]vax.AlertSubscription, error) {
	return list(ctx, t.tx, "list alert subscriptions",
		"SELECT "+alertCols+" FROM alert_subscriptions ORDER BY id", nil, scanAlertSubscription)
}

// AlertSubscription returns one subscription.
func (t *tx) AlertSubscription(ctx context.Context, id string) (vax.AlertSubscription, error) {
	if !vax.ValidUUID(id) {
		return vax.AlertSubscription{}, vax.Errorf(vax.NotFound, "alert subscription not found")
	}
	s, err := scanAlertSubscription(t.tx.QueryRow(ctx,
		"SELECT "+alertCols+" FROM alert_subscriptions WHERE id = $1::uuid", planEach, id))
	return one(s, err, "alert subscription not found", "read alert subscription")
}

// DeleteAlertSubscription deletes one subscription and records its change.
func (t *tx) DeleteAlertSubscription(ctx context.Context, id string) error {
	if err := t.write("DeleteAlertSubscription"); err != nil {
		return err
	}
	if !vax.ValidUUID(id) {
		return vax.Errorf(vax.NotFound, "alert subscription not found")
	}
	tag, err := t.tx.Exec(ctx, "DELETE FROM alert_subscriptions WHERE id = $1::uuid", planEach, id)
	if err != nil {
		return dbErr(err, "delete alert subscription")
	}
	if tag.RowsAffected() == 0 {
		return vax.Errorf(vax.NotFound, "alert subscription not found")
	}
	return t.AppendChange(ctx, vax.ChangeAlertSubscription, strings.ToLower(id))
}

// MarkAlertTexted moves the subscription's LastTextedAt to at unless it was
// texted within every before at, and records its change when it did.
func (t *tx) MarkAlertTexted(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error) {
	if err := t.write("MarkAlertTexted"); err != nil {
		return false, err
	}
	if every <= 0 {
		return false, vax.Errorf(vax.Invalid, "invalid SMS interval %s: want a positive duration", every)
	}
	if !vax.ValidUUID(id) {
		return false, vax.Errorf(vax.NotFound, "alert subscription not found")
	}
	at = stamp(at)
	var marked, exists bool
	err := t.tx.QueryRow(ctx, `WITH u AS (UPDATE alert_subscriptions SET last_texted_at = $2
			WHERE id = $1::uuid AND (last_texted_at IS NULL OR last_texted_at <= $3) RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM alert_subscriptions WHERE id = $1::uuid)`,
		planEach, id, at, at.Add(-every)).Scan(&marked, &exists)
	if err != nil {
		return false, dbErr(err, "mark alert subscription texted")
	}
	if !exists {
		return false, vax.Errorf(vax.NotFound, "alert subscription not found")
	}
	if !marked {
		return false, nil
	}
	return true, t.AppendChange(ctx, vax.ChangeAlertSubscription, strings.ToLower(id))
}
