package vaccination

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/vax"
)

// WalkIn is a person registered on the spot at a centre.
type WalkIn struct {
	// CentreID where they walked in; 0: the staff member's only centre. It
	// only authorises: beneficiaries belong to no centre.
	CentreID int64
	booking.NewBeneficiary
	// Mobile (optional): the beneficiary joins that number's account, so
	// the person can later sign in with it and see the record.
	Mobile string
}

// RegisterWalkIn registers a walk-in beneficiary. With a mobile number it
// goes under that number's account (created if need be); without one,
// under a fresh account id that no account owns.
func (s *Service) RegisterWalkIn(ctx context.Context, by vax.Staff, w WalkIn) (vax.Beneficiary, error) {
	if err := allowed(by, atCentre); err != nil {
		return vax.Beneficiary{}, err
	}
	centre, err := centreID(by, w.CentreID)
	if err != nil {
		return vax.Beneficiary{}, err
	}
	w.Mobile = strings.TrimSpace(w.Mobile)
	if w.Mobile != "" && !validMobile(w.Mobile) {
		return vax.Beneficiary{}, fail(vax.Invalid, ReasonBadRequest, "invalid mobile number: want 10 digits")
	}
	var b vax.Beneficiary
	err = s.store.InTx(ctx, func(tx vax.Tx) error {
		if _, err := centreFor(ctx, tx, by, centre, atCentre); err != nil {
			return err
		}
		accountID, err := s.newID()
		if err != nil {
			return err
		}
		if w.Mobile != "" {
			acct, _, err := s.account(ctx, tx, w.Mobile)
			if err != nil {
				return fmt.Errorf("account of the walk-in's mobile: %w", err)
			}
			accountID = acct.ID
		}
		b, err = s.register(ctx, tx, accountID, w.NewBeneficiary)
		return err
	})
	if err != nil {
		return vax.Beneficiary{}, fmt.Errorf("register walk-in: %w", err)
	}
	return b, nil
}

// validMobile reports whether m is an Indian 10-digit mobile number.
func validMobile(m string) bool {
	if len(m) != 10 || m[0] < '6' {
		return false
	}
	for i := range len(m) {
		if m[i] < '0' || m[i] > '9' {
			return false
		}
	}
	return true
}

// Queue lists the beneficiaries expected at a centre on a day (centre 0:
// by's only centre; zero date: today), with the doses already given. It
// returns the centre and date it resolved them to.
func (s *Service) Queue(ctx context.Context, by vax.Staff, centre int64, date vax.Date) ([]vax.QueueEntry, int64, vax.Date, error) {
	if err := allowed(by, atCentre); err != nil {
		return nil, 0, vax.Date{}, err
	}
	id, err := centreID(by, centre)
	if err != nil {
		return nil, 0, vax.Date{}, err
	}
	if date.IsZero() {
		date = s.today()
	}
	if !date.Valid() {
		return nil, 0, vax.Date{}, fail(vax.Invalid, ReasonBadRequest, "invalid date")
	}
	var q []vax.QueueEntry
	err = s.store.View(ctx, func(tx vax.Tx) error {
		if _, err := centreFor(ctx, tx, by, id, atCentre); err != nil {
			return err
		}
		var err error
		q, err = tx.CentreQueue(ctx, id, date)
		return err
	})
	if err != nil {
		return nil, 0, vax.Date{}, fmt.Errorf("queue of centre %d: %w", id, err)
	}
	return q, id, date, nil
}

// CreateLot adds a lot to a centre's stock (l.CentreID 0: by's only
// centre). Facility admins, and district, state and national admins over
// the centre, may.
func (s *Service) CreateLot(ctx context.Context, by vax.Staff, l vax.Lot) (vax.Lot, error) {
	if err := allowed(by, manageLots); err != nil {
		return vax.Lot{}, err
	}
	id, err := centreID(by, l.CentreID)
	if err != nil {
		return vax.Lot{}, err
	}
	l.CentreID = id
	l.Number = strings.TrimSpace(l.Number)
	l.Vaccine = strings.TrimSpace(l.Vaccine)
	l.Manufacturer = strings.TrimSpace(l.Manufacturer)
	l.Used = 0
	l.CreatedAt = s.clock.Now().UTC().Truncate(time.Second)
	if err := l.Validate(); err != nil {
		return vax.Lot{}, fail(vax.Invalid, ReasonBadLot, "%s", vax.ErrorMessage(err))
	}
	if l.Expiry.Before(s.today()) {
		return vax.Lot{}, fail(vax.Invalid, ReasonBadLot, "lot expired on %s", l.Expiry.Cowin())
	}
	err = s.store.InTx(ctx, func(tx vax.Tx) error {
		if _, err := centreFor(ctx, tx, by, id, manageLots); err != nil {
			return err
		}
		if _, err := s.vaccine(ctx, tx, l.Vaccine); err != nil {
			return err
		}
		err := tx.CreateLot(ctx, l)
		if errors.Is(err, vax.ErrConflict) {
			return fail(vax.Conflict, ReasonLotExists, "centre %d already has lot %q", id, clip(l.Number))
		}
		return err
	})
	if err != nil {
		return vax.Lot{}, fmt.Errorf("create lot: %w", err)
	}
	return l, nil
}

// Lots lists a centre's lots (centre 0: by's only centre), or only the
// usable ones: not expired today, with doses left.
func (s *Service) Lots(ctx context.Context, by vax.Staff, centre int64, usableOnly bool) ([]vax.Lot, error) {
	if err := allowed(by, anyRole); err != nil {
		return nil, err
	}
	id, err := centreID(by, centre)
	if err != nil {
		return nil, err
	}
	var ls []vax.Lot
	err = s.store.View(ctx, func(tx vax.Tx) error {
		if _, err := centreFor(ctx, tx, by, id, anyRole); err != nil {
			return err
		}
		var err error
		ls, err = tx.Lots(ctx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lots of centre %d: %w", id, err)
	}
	if !usableOnly {
		return ls, nil
	}
	today := s.today()
	usable := ls[:0]
	for _, l := range ls {
		if !today.After(l.Expiry) && l.Remaining() > 0 {
			usable = append(usable, l)
		}
	}
	return usable, nil
}
