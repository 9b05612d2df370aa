package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Stored alert subscriptions. The single writer connection serialises
// read-write transactions, so MarkAlertTexted's conditional UPDATE is
// decided by one writer at a time (the second finds the row texted), and
// an account's count-then-create cannot pass a cap.

const alertCols = `id, account_id, district_id, pincode, min_age, dose, vaccine, created_at, last_texted_at`

func scanAlertSubscription(sc scanner) (vax.AlertSubscription, error) {
	var s vax.AlertSubscription
	var created int64
	var texted sql.NullInt64
	if err := sc.Scan(&s.ID, &s.AccountID, &s.DistrictID, &s.Pincode, &s.MinAge, &s.Dose, &s.Vaccine,
		&created, &texted); err != nil {
		return vax.AlertSubscription{}, err
	}
	s.CreatedAt, s.LastTextedAt = fromUnix(created), fromNullUnix(texted)
	return s, nil
}

// CreateAlertSubscription inserts s and records its change.
func (t *tx) CreateAlertSubscription(ctx context.Context, s vax.AlertSubscription) error {
	if err := t.writable("create alert subscription"); err != nil {
		return err
	}
	if err := s.ValidateNew(); err != nil {
		return err
	}
	id := strings.ToLower(s.ID)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO alert_subscriptions (id, account_id, district_id, pincode,
			min_age, dose, vaccine, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		id, strings.ToLower(s.AccountID), s.DistrictID, s.Pincode, s.MinAge, s.Dose, s.Vaccine, toUnix(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create alert subscription"))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "create alert subscription"))
	} else if n == 0 {
		return vax.Errorf(vax.Conflict, "alert subscription %s already exists", s.ID)
	}
	return t.AppendChange(ctx, vax.ChangeAlertSubscription, id)
}

// AlertSubscriptionsOf lists an account's subscriptions, oldest first.
func (t *tx) AlertSubscriptionsOf(ctx context.Context, accountID string) ([]vax.AlertSubscription, error) {
	return t.alertSubscriptions(ctx, ` WHERE account_id = ? ORDER BY created_at, id`, strings.ToLower(accountID))
}

// AlertSubscriptions lists every subscription by id.
func (t *tx) AlertSubscriptions(ctx context.Context) ([]vax.AlertSubscription, error) {
	return t.alertSubscriptions(ctx, ` ORDER BY id`)
}

func (t *tx) alertSubscriptions(ctx context.Context, where string, args ...any) ([]vax.AlertSubscription, error) {
	return list(ctx, t.tx, "list alert subscriptions", `SELECT `+alertCols+` FROM alert_subscriptions`+where, args, scanAlertSubscription)
}

// AlertSubscription returns one subscription.
func (t *tx) AlertSubscription(ctx context.Context, id string) (vax.AlertSubscription, error) {
	s, err := scanAlertSubscription(t.tx.QueryRowContext(ctx,
		`SELECT `+alertCols+` FROM alert_subscriptions WHERE id = ?`, strings.ToLower(id)))
	return one(s, err, "alert subscription not found", "read alert subscription")
}

// DeleteAlertSubscription deletes one subscription and records its change.
func (t *tx) DeleteAlertSubscription(ctx context.Context, id string) error {
	if err := t.writable("delete alert subscription"); err != nil {
		return err
	}
	id = strings.ToLower(id)
	res, err := t.tx.ExecContext(ctx, `DELETE FROM alert_subscriptions WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "delete alert subscription"))
	}
	if err := affected(res, "alert subscription"); err != nil {
		return err
	}
	return t.AppendChange(ctx, vax.ChangeAlertSubscription, id)
}

// MarkAlertTexted moves the subscription's LastTextedAt to at unless it was
// texted within every before at, and records its change when it did.
func (t *tx) MarkAlertTexted(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error) {
	if err := t.writable("mark alert subscription texted"); err != nil {
		return false, err
	}
	if every <= 0 {
		return false, vax.Errorf(vax.Invalid, "invalid SMS interval %s: want a positive duration", every)
	}
	id = strings.ToLower(id)
	at = at.Truncate(time.Second)
	res, err := t.tx.ExecContext(ctx, `UPDATE alert_subscriptions SET last_texted_at = ?
		WHERE id = ? AND (last_texted_at IS NULL OR last_texted_at <= ?)`,
		toUnix(at), id, toUnix(at.Add(-every)))
	if err != nil {
		return false, fmt.Errorf("sqlite: %w", dbErr(err, "mark alert subscription texted"))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: %w", dbErr(err, "mark alert subscription texted"))
	}
	if n == 0 {
		// Throttled, or gone.
		if _, err := t.AlertSubscription(ctx, id); err != nil {
			return false, err
		}
		return false, nil
	}
	return true, t.AppendChange(ctx, vax.ChangeAlertSubscription, id)
}
