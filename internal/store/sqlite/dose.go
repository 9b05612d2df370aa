package sqlite

import (
	"context"
	"errors"

	"github.com/vaxport/vaxport/internal/vax"
)

// The dose path. SQLite runs in-process, so a round trip costs no more than
// a function call: DoseFacts and CommitDose are the single-call methods in
// order, which keeps their semantics those methods' by construction.

// DoseFacts reads what recording a dose of ref at the centre from its lot
// needs; missing things are zero.
func (t *tx) DoseFacts(ctx context.Context, ref string, centreID int64, lot string) (vax.DoseFacts, error) {
	var f vax.DoseFacts
	var err error
	if f.Centre, err = t.Centre(ctx, centreID); err != nil && !errors.Is(err, vax.ErrNotFound) {
		return vax.DoseFacts{}, err
	}
	if f.Lot, err = t.Lot(ctx, centreID, lot); err != nil && !errors.Is(err, vax.ErrNotFound) {
		return vax.DoseFacts{}, err
	}
	f.Beneficiary, err = t.Beneficiary(ctx, ref)
	switch {
	case err == nil:
		if f.Account, err = t.Account(ctx, f.Beneficiary.AccountID); err != nil && !errors.Is(err, vax.ErrNotFound) {
			return vax.DoseFacts{}, err
		}
	case !errors.Is(err, vax.ErrNotFound):
		return vax.DoseFacts{}, err
	}
	if f.Doses, err = t.DosesOf(ctx, ref); err != nil {
		return vax.DoseFacts{}, err
	}
	as, err := t.BeneficiaryAppointments(ctx, ref)
	if err != nil {
		return vax.DoseFacts{}, err
	}
	for _, a := range as {
		if a.Status != vax.AppointmentLive || !livePlace(a, ref) {
			continue
		}
		s, err := t.Session(ctx, a.SessionID)
		if err != nil {
			return vax.DoseFacts{}, err
		}
		if f.SessionCentre == nil {
			f.SessionCentre = map[string]int64{}
		}
		a.Beneficiaries = nil
		f.Appointments = append(f.Appointments, a)
		f.SessionCentre[a.ID] = s.CentreID
	}
	return f, nil
}

// livePlace reports whether ref holds a live place in a.
func livePlace(a vax.Appointment, ref string) bool {
	for _, p := range a.Beneficiaries {
		if p.Ref == ref {
			return p.Status == vax.AppointmentLive
		}
	}
	return false
}

// CommitDose writes the dose, its change, its certificate, its messages and
// the lot's decrement, as the single calls would.
func (t *tx) CommitDose(ctx context.Context, w vax.DoseWrite) error {
	if err := t.RecordDose(ctx, w.Dose); err != nil {
		return err
	}
	if err := t.AppendChange(ctx, vax.ChangeDose, w.Dose.ID); err != nil {
		return err
	}
	if w.Certificate != nil {
		if err := t.IssueCertificate(ctx, *w.Certificate); err != nil {
			return err
		}
	}
	for _, m := range w.Messages {
		if err := t.EnqueueMessage(ctx, m); err != nil {
			return err
		}
	}
	return t.UseLot(ctx, w.Dose.CentreID, w.Dose.Lot)
}
