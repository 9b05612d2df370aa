package vaccination

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// RecordDose records a dose given at a centre by `by`, taking it from the
// centre's lot, in one transaction with its ChangeDose event, its
// certificate (Config.Certify) and the next dose's reminder. It links the
// beneficiary's live appointment for the dose at that centre, if any. It is
// idempotent: if the dose number
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

// record applies the rules and records the dose in tx: one read of
// everything it needs (Tx.DoseFacts), one write of everything it changes
// (Tx.CommitDose), so a dose costs two round trips to the store.
func (s *Service) record(ctx context.Context, tx vax.Tx, by vax.Staff, r DoseRequest, now time.Time) (d vax.Dose, created, enqueued bool, err error) {
	f, err := tx.DoseFacts(ctx, r.Ref, r.CentreID, r.Lot)
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	if err := covers(by, f.Centre, r.CentreID, atCentre); err != nil {
		return vax.Dose{}, false, false, err
	}
	b := f.Beneficiary
	if b.Ref == "" {
		return vax.Dose{}, false, false, fail(vax.NotFound, ReasonNoBeneficiary, "beneficiary not found")
	}
	for _, d := range f.Doses {
		if d.Dose == r.Dose {
			err := same(d, r)
			return d, false, false, err
		}
	}
	v, err := s.vaccine(ctx, tx, r.Vaccine)
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	day := vax.DateOf(r.AdministeredAt, s.loc)
	if err := s.checkDose(r, v, f.Doses, day); err != nil {
		return vax.Dose{}, false, false, err
	}
	if err := checkLot(f.Lot, r, day); err != nil {
		return vax.Dose{}, false, false, err
	}
	id, err := s.newID()
	if err != nil {
		return vax.Dose{}, false, false, err
	}
	d = vax.Dose{ID: id, Ref: r.Ref, Dose: r.Dose, Vaccine: v.Name, Lot: r.Lot, CentreID: r.CentreID,
		AppointmentID: appointmentFor(f, r), VaccinatorID: by.ID, AdministeredAt: r.AdministeredAt, RecordedAt: now.UTC().Truncate(time.Second)}
	w := vax.DoseWrite{Dose: d, FirstCertificate: len(f.Doses) == 0}
	series := v
	if len(f.Doses) > 0 {
		if series, err = s.vaccine(ctx, tx, f.Doses[0].Vaccine); err != nil {
			return vax.Dose{}, false, false, err
		}
	}
	if w.Certificate, err = s.certify(append(slices.Clip(f.Doses), d), series); err != nil {
		return vax.Dose{}, false, false, fmt.Errorf("certificate: %w", err)
	}
	if f.Account.ID != "" {
		m, ok, err := s.reminder(f.Account, b, v, r.Dose, day, now)
		if err != nil {
			return vax.Dose{}, false, false, err
		}
		if ok {
			w.Messages = append(w.Messages, m)
		}
	}
	switch err := tx.CommitDose(ctx, w); {
	case errors.Is(err, vax.ErrConflict):
		return vax.Dose{}, false, false, raceLostError{err}
	case errors.Is(err, vax.ErrFull):
		return vax.Dose{}, false, false, fail(vax.Conflict, ReasonLotEmpty, "lot %q has no doses left", clip(r.Lot))
	case errors.Is(err, vax.ErrNotFound):
		return vax.Dose{}, false, false, fail(vax.Invalid, ReasonUnknownLot, "lot %q is not in this centre's stock", clip(r.Lot))
	case err != nil:
		return vax.Dose{}, false, false, err
	}
	return d, true, len(w.Messages) > 0, nil
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

// checkLot checks that the lot l (zero: not in the centre's stock) is of
// the vaccine, not expired on day and not empty; CommitDose takes the dose
// from it.
func checkLot(l vax.Lot, r DoseRequest, day vax.Date) error {
	switch {
	case l.Number == "":
		return fail(vax.Invalid, ReasonUnknownLot, "lot %q is not in this centre's stock", clip(r.Lot))
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
func appointmentFor(f vax.DoseFacts, r DoseRequest) string {
	for _, a := range f.Appointments {
		if a.Dose == r.Dose && f.SessionCentre[a.ID] == r.CentreID {
			return a.ID
		}
	}
	return ""
}

// reminder returns the SMS to the beneficiary's account for the next dose
// of the primary series, due interval days after day at 09:00 (false when
// the series is complete).
func (s *Service) reminder(acct vax.Account, b vax.Beneficiary, v vax.Vaccine, dose int, day vax.Date, now time.Time) (vax.OutboxMessage, bool, error) {
	if dose >= v.Doses {
		return vax.OutboxMessage{}, false, nil
	}
	to, err := s.mobile(acct)
	if err != nil {
		return vax.OutboxMessage{}, false, fmt.Errorf("reminder: %w", err)
	}
	id, err := s.newID()
	if err != nil {
		return vax.OutboxMessage{}, false, err
	}
	due := day.AddDays(s.interval(v))
	text := fmt.Sprintf("vaxport: dose %d of %s for beneficiary %s is due from %s. Book a slot or visit a centre.",
		dose+1, v.Name, maskRef(b.Ref), due.Cowin())
	m, err := outbox.Seal(s.keys, outbox.Message{ID: id, Kind: MessageDoseDue, To: to, Text: text,
		CreatedAt: now, NotBefore: due.Start(s.loc).Add(reminderAt)})
	return m, err == nil, err
}
