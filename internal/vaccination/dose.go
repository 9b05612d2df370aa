package vaccination

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// MessageDoseDue is the SMS kind of a next-dose reminder.
const MessageDoseDue vax.MessageKind = "dose_due"

// How far administered_at may be from now: a tablet's clock runs a little
// ahead, and offline records are uploaded within a month.
const (
	MaxAhead = 5 * time.Minute
	MaxBack  = 30 * 24 * time.Hour
)

// reminderAt is the time of day (in Location) a next-dose reminder is sent
// on the day the dose falls due.
const reminderAt = 9 * time.Hour

// DoseRequest asks to record a dose given.
type DoseRequest struct {
	Ref     string // beneficiary reference id
	Vaccine string
	Lot     string // lot number, in the centre's stock
	Dose    int
	// CentreID where it was given; 0: the staff member's only centre.
	CentreID int64
	// AdministeredAt is when it was given; zero: now.
	AdministeredAt time.Time
}

// raceLostError marks the loss of a race to record the same dose: the store's
// unique constraint refused our record, so another transaction's is there.
type raceLostError struct{ err error }

func (e raceLostError) Error() string { return "dose recorded concurrently: " + e.err.Error() }
func (e raceLostError) Unwrap() error { return e.err }

// RecordDose records a dose given at a centre by serves, taking it from the
// centre's lot, in one transaction with its ChangeDose event, the OnDose
// hook and the next dose's reminder. It links the beneficiary's live
// appointment for the dose at that centre, if any. It is idempotent: if the dose number
// is already recorded for the beneficiary with the same vaccine, lot and
// centre, that record is returned with created false (no dose is taken
// from the lot twice); with other details, Conflict.
func (s *Service) RecordDose(ctx context.Context, by vax.Staff, r DoseRequest) (vax.Dose, bool, error) {
	d, created, err := s.recordDose(ctx, by, r)
	if err != nil {
		return vax.Dose{}, false, fmt.Errorf("record dose %d of %s: %w", r.Dose, maskRef(r.Ref), err)
	}
	return d, created, nil
}

func (s *Service) recordDose(ctx context.Context, by vax.Staff, r DoseRequest) (vax.Dose, bool, error) {
	if err := allowed(by, atCentre); err != nil {
		return vax.Dose{}, false, err
	}
	r.Vaccine = strings.ToUpper(strings.TrimSpace(r.Vaccine))
	r.Lot = strings.TrimSpace(r.Lot)
	if err := checkRef(r.Ref); err != nil {
		return vax.Dose{}, false, err
	}
	switch {
	case r.Dose < 1 || r.Dose > 10:
		return vax.Dose{}, false, fail(vax.Invalid, ReasonBadRequest, "dose must be 1..10")
	case r.Vaccine == "":
		return vax.Dose{}, false, fail(vax.Invalid, ReasonBadRequest, "vaccine is required")
	case r.Lot == "" || len(r.Lot) > 64:
		return vax.Dose{}, false, fail(vax.Invalid, ReasonBadRequest, "lot must be 1..64 characters")
	}
	centre, err := centreID(by, r.CentreID)
	if err != nil {
		return vax.Dose{}, false, err
	}
	r.CentreID = centre
	now := s.clock.Now()
	at := r.AdministeredAt
	if at.IsZero() {
		at = now
	}
	// Stores keep whole seconds.
	at = at.UTC().Truncate(time.Second)
	switch {
	case at.After(now.Add(MaxAhead)):
		return vax.Dose{}, false, fail(vax.Invalid, ReasonTime, "administered_at is in the future")
	case at.Before(now.Add(-MaxBack)):
		return vax.Dose{}, false, fail(vax.Invalid, ReasonTime, "administered_at is more than 30 days back: doses older than that are not accepted")
	}
	r.AdministeredAt = at

	var (
		d        vax.Dose
		created  bool
		enqueued bool
	)
	err = s.store.InTx(ctx, func(tx vax.Tx) error {
		var err error
		d, created, enqueued, err = s.record(ctx, tx, by, r, now)
		return err
	})
	var raced raceLostError
	if errors.As(err, &raced) {
		// Another transaction recorded this dose between our read and our
		// insert: answer from its record, as a retry would.
		err = s.store.View(ctx, func(tx vax.Tx) error {
			var err error
			d, err = existing(ctx, tx, r)
			return err
		})
		if err == nil && d.ID == "" {
			err = raced.err // the conflict was not this dose's record
		}
		if err != nil {
			return vax.Dose{}, false, err
		}
		return d, false, nil
	}
	if err != nil {
		return vax.Dose{}, false, err
	}
	if enqueued {
		s.notify()
	}
	return d, created, nil
}

// existing returns the record of dose r.Dose of r.Ref if it matches r
// (zero when there is none), Conflict if it differs.
func existing(ctx context.Context, tx vax.Tx, r DoseRequest) (vax.Dose, error) {
	doses, err := tx.DosesOf(ctx, r.Ref)
	if err != nil {
		return vax.Dose{}, err
	}
	for _, d := range doses {
		if d.Dose == r.Dose {
			if err := same(d, r); err != nil {
				return vax.Dose{}, err
			}
			return d, nil
		}
	}
	return vax.Dose{}, nil
}

// same checks that the record d is what r asks to record: a retry, not a
// second dose under the same number.
func same(d vax.Dose, r DoseRequest) error {
	if d.Vaccine != r.Vaccine || d.Lot != r.Lot || d.CentreID != r.CentreID {
		return fail(vax.Conflict, ReasonDoseRecorded, "dose %d is already recorded for this beneficiary (%s, lot %s, centre %d)",
			r.Dose, d.Vaccine, clip(d.Lot), d.CentreID)
	}
	return nil
}

// record applies the rules and records the dose in tx.
func (s *Service) record(ctx context.Context, tx vax.Tx, by vax.Staff, r DoseRequest, now time.Time) (d vax.Dose, created, enqueued bool, err error) {
	if _, err := centreFor(ctx, tx, by, r.CentreID, atCentre); err != nil {
		return vax.Dose{}, false, false, err
	}
	b, err := tx.Beneficiary(ctx, r.Ref)
	if errors.Is(err, vax.ErrNotFound) {
		return vax.Dose{}, false, false, fail(vax.NotFound, ReasonNoBeneficiary, "beneficiary not found")
	}
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	doses, err := tx.DosesOf(ctx, r.Ref)
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	for _, d := range doses {
		if d.Dose == r.Dose {
			err := same(d, r)
			return d, false, false, err
		}
	}
	v, err := vaccine(ctx, tx, r.Vaccine)
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	day := vax.DateOf(r.AdministeredAt, s.loc)
	if err := s.checkDose(r, v, doses, day); err != nil {
		return vax.Dose{}, false, false, err
	}
	if err := s.checkLot(ctx, tx, r, day); err != nil {
		return vax.Dose{}, false, false, err
	}
	apptID, err := appointmentFor(ctx, tx, r)
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	id, err := s.newID()
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	d = vax.Dose{ID: id, Ref: r.Ref, Dose: r.Dose, Vaccine: v.Name, Lot: r.Lot, CentreID: r.CentreID,
		AppointmentID: apptID, VaccinatorID: by.ID, AdministeredAt: r.AdministeredAt, RecordedAt: now.UTC().Truncate(time.Second)}
	if err := tx.RecordDose(ctx, d); err != nil {
		if errors.Is(err, vax.ErrConflict) {
			return vax.Dose{}, false, false, raceLostError{err}
		}
		return vax.Dose{}, false, false, err
	}
	if err := tx.AppendChange(ctx, vax.ChangeDose, d.ID); err != nil {
		return vax.Dose{}, false, false, err
	}
	if err := s.onDose(ctx, tx, d, b); err != nil {
		return vax.Dose{}, false, false, fmt.Errorf("on dose: %w", err)
	}
	enqueued, err = s.remind(ctx, tx, b, v, r.Dose, day, now)
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	// Last: the lot's row stays locked from here to the commit, and every
	// dose at the centre from that lot queues for it.
	err = tx.UseLot(ctx, r.CentreID, r.Lot)
	if errors.Is(err, vax.ErrFull) {
		return vax.Dose{}, false, false, fail(vax.Conflict, ReasonLotEmpty, "lot %q has no doses left", clip(r.Lot))
	}
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	return d, true, enqueued, nil
}

// checkDose applies the series rules to dose r of vaccine v given on day,
// after the beneficiary's earlier doses.
func (s *Service) checkDose(r DoseRequest, v vax.Vaccine, doses []vax.Dose, day vax.Date) error {
	if r.Dose != len(doses)+1 {
		return fail(vax.Invalid, ReasonDoseOrder, "this beneficiary has %d %s recorded: the next is dose %d, not %d",
			len(doses), plural(len(doses), "dose", "doses"), len(doses)+1, r.Dose)
	}
	if most := v.Doses + s.precaution; r.Dose > most {
		return fail(vax.Invalid, ReasonSeries, "%s has %d doses", v.Name, most)
	}
	if len(doses) == 0 {
		return nil
	}
	if doses[0].Vaccine != v.Name {
		return fail(vax.Invalid, ReasonVaccine, "earlier doses were %s, not %s", doses[0].Vaccine, v.Name)
	}
	last := vax.DateOf(doses[len(doses)-1].AdministeredAt, s.loc)
	if days := s.interval(v); last.DaysUntil(day) < days {
		return fail(vax.Invalid, ReasonInterval, "dose %d is due %d days after the previous dose, from %s",
			r.Dose, days, last.AddDays(days).Cowin())
	}
	return nil
}

// checkLot checks that lot r.Lot is in the centre's stock, of the vaccine
// and not expired on day; UseLot takes the dose from it at the end of the
// transaction.
func (s *Service) checkLot(ctx context.Context, tx vax.Tx, r DoseRequest, day vax.Date) error {
	l, err := tx.Lot(ctx, r.CentreID, r.Lot)
	if errors.Is(err, vax.ErrNotFound) {
		return fail(vax.Invalid, ReasonUnknownLot, "lot %q is not in this centre's stock", clip(r.Lot))
	}
	if err != nil {
		return err
	}
	switch {
	case l.Vaccine != r.Vaccine:
		return fail(vax.Invalid, ReasonLotVaccine, "lot %q is %s, not %s", clip(r.Lot), l.Vaccine, clip(r.Vaccine))
	case day.After(l.Expiry):
		return fail(vax.Invalid, ReasonLotExpired, "lot %q expired on %s", clip(r.Lot), l.Expiry.Cowin())
	case l.Remaining() <= 0:
		return fail(vax.Conflict, ReasonLotEmpty, "lot %q has no doses left", clip(r.Lot))
	}
	return nil
}

// appointmentFor returns the id of the beneficiary's live appointment for
// the dose at the centre, or "" (a walk-in).
func appointmentFor(ctx context.Context, tx vax.Tx, r DoseRequest) (string, error) {
	as, err := tx.BeneficiaryAppointments(ctx, r.Ref)
	if err != nil {
		return "", err
	}
	for _, a := range as {
		if a.Dose != r.Dose || !livePlace(a, r.Ref) {
			continue
		}
		se, err := tx.Session(ctx, a.SessionID)
		if err != nil {
			return "", err
		}
		if se.CentreID == r.CentreID {
			return a.ID, nil
		}
	}
	return "", nil
}

// remind enqueues, in tx, one SMS to the beneficiary's account for the
// next dose of the primary series, due interval days after day at 09:00.
// A beneficiary without an account (a walk-in without a mobile) gets none.
func (s *Service) remind(ctx context.Context, tx vax.Tx, b vax.Beneficiary, v vax.Vaccine, dose int, day vax.Date, now time.Time) (bool, error) {
	if dose >= v.Doses {
		return false, nil
	}
	acct, err := tx.Account(ctx, b.AccountID)
	if errors.Is(err, vax.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	to, err := s.mobile(acct)
	if err != nil {
		return false, fmt.Errorf("reminder: %w", err)
	}
	id, err := s.newID()
	if err != nil {
		return false, err
	}
	due := day.AddDays(s.interval(v))
	text := fmt.Sprintf("vaxport: dose %d of %s for beneficiary %s is due from %s. Book a slot or visit a centre.",
		dose+1, v.Name, maskRef(b.Ref), due.Cowin())
	err = outbox.Enqueue(ctx, tx, s.keys, outbox.Message{ID: id, Kind: MessageDoseDue, To: to, Text: text,
		CreatedAt: now, NotBefore: due.Start(s.loc).Add(reminderAt)})
	if err != nil {
		return false, err
	}
	return true, nil
}
