package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// BookAppointments reads the session's free seats once, takes the seats
// that fit with one UPDATE and inserts the booked appointments, places and
// messages; the single writer connection serialises it with every other
// write, and the batch pays one commit.
func (t *tx) BookAppointments(ctx context.Context, as []vax.Appointment, msgs []vax.OutboxMessage) ([]bool, error) {
	if err := t.writable("book appointments"); err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, nil
	}
	if msgs != nil && len(msgs) != len(as) {
		return nil, vax.Errorf(vax.Invalid, "book appointments: %d messages for %d appointments", len(msgs), len(as))
	}
	for _, a := range as {
		if err := a.ValidateNew(); err != nil {
			return nil, err
		}
		if !strings.EqualFold(a.SessionID, as[0].SessionID) || a.Dose != as[0].Dose {
			return nil, vax.Errorf(vax.Invalid, "book appointments: one session and dose per batch")
		}
	}
	sid, dose := strings.ToLower(as[0].SessionID), as[0].Dose
	booked, capacity := seatCols(dose)
	var open bool
	var free int
	err := t.tx.QueryRowContext(ctx, `SELECT status = 'open', `+capacity+` - `+booked+` FROM sessions WHERE id = ?`, sid).
		Scan(&open, &free)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vax.Errorf(vax.NotFound, "session not found")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "admit seats"))
	}
	out := make([]bool, len(as))
	take := 0
	for i, a := range as {
		if n := len(a.Beneficiaries); open && n <= free-take {
			out[i], take = true, take+n
		}
	}
	if take == 0 {
		return out, nil
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE sessions SET `+booked+` = `+booked+` + ? WHERE id = ?`, take, sid); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "admit seats"))
	}
	for i, a := range as {
		if !out[i] {
			continue
		}
		_, err := t.tx.ExecContext(ctx, `INSERT INTO appointments (id, account_id, session_id, dose, slot, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, strings.ToLower(a.ID), strings.ToLower(a.AccountID), sid,
			a.Dose, a.Slot, string(a.Status), toUnix(a.CreatedAt))
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "book appointment"))
		}
		for _, p := range a.Beneficiaries {
			_, err := t.tx.ExecContext(ctx, `INSERT INTO appointment_places (appointment_id, ref, dose, secret_sealed, status)
				VALUES (?, ?, ?, ?, ?)`, strings.ToLower(a.ID), p.Ref, a.Dose, p.SecretSealed, string(p.Status))
			if err != nil {
				return nil, fmt.Errorf("sqlite: %w", dbErr(err, "book appointment place"))
			}
		}
		if msgs != nil {
			if err := t.EnqueueMessage(ctx, msgs[i]); err != nil {
				return nil, err
			}
		}
	}
	if err := t.seatsChanged(ctx, sid); err != nil {
		return nil, err
	}
	return out, nil
}

// BookingFacts reads beneficiaries, their live doses, their dose records
// and their accounts.
func (t *tx) BookingFacts(ctx context.Context, refs []string) (vax.BookingFacts, error) {
	f := vax.BookingFacts{Beneficiaries: map[string]vax.Beneficiary{}, LiveDoses: map[string][]int{},
		Accounts: map[string]vax.Account{}, Doses: map[string][]vax.Dose{}}
	for _, ref := range refs {
		b, err := t.Beneficiary(ctx, ref)
		if vax.ErrorCode(err) == vax.NotFound {
			continue
		}
		if err != nil {
			return vax.BookingFacts{}, err
		}
		f.Beneficiaries[ref] = b
		rows, err := t.tx.QueryContext(ctx, `SELECT dose FROM appointment_places WHERE ref = ? AND status = 'live'`, ref)
		if err != nil {
			return vax.BookingFacts{}, fmt.Errorf("sqlite: %w", dbErr(err, "read live doses"))
		}
		for rows.Next() {
			var d int
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return vax.BookingFacts{}, fmt.Errorf("sqlite: %w", dbErr(err, "read live doses"))
			}
			f.LiveDoses[ref] = append(f.LiveDoses[ref], d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return vax.BookingFacts{}, fmt.Errorf("sqlite: %w", dbErr(err, "read live doses"))
		}
		ds, err := t.DosesOf(ctx, ref)
		if err != nil {
			return vax.BookingFacts{}, err
		}
		if len(ds) > 0 {
			f.Doses[ref] = ds
		}
	}
	for _, b := range f.Beneficiaries {
		id := strings.ToLower(b.AccountID)
		if _, ok := f.Accounts[id]; ok {
			continue
		}
		a, err := t.Account(ctx, id)
		if vax.ErrorCode(err) == vax.NotFound {
			continue
		}
		if err != nil {
			return vax.BookingFacts{}, err
		}
		f.Accounts[id] = a
	}
	return f, nil
}
