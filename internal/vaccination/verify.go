package vaccination

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/vax"
)

// Verified is a booked beneficiary whose secret code checked out: the
// appointment and the person, masked. It never holds the secret code.
type Verified struct {
	AppointmentID string
	SessionID     string
	CentreID      int64
	Dose          int
	Slot          string
	Vaccine       string
	Masked        // the beneficiary
}

// Masked is what a vaccinator sees of a beneficiary: enough to check the
// person in front of them, never the photo-ID number.
type Masked struct {
	Ref          string
	Name         string
	BirthYear    int
	GenderID     int
	PhotoIDType  int
	PhotoIDLast4 string
	DosesGiven   int // dose records so far
}

// Verify checks the 4-digit secret code a booked beneficiary tells the
// vaccinator against their appointment today at a centre by serves.
// MaxCodeFailures wrong codes lock the appointment; each wrong code is
// counted even though Verify fails.
func (s *Service) Verify(ctx context.Context, by vax.Staff, ref, code string) (Verified, error) {
	if err := allowed(by, atCentre); err != nil {
		return Verified{}, err
	}
	if err := checkRef(ref); err != nil {
		return Verified{}, err
	}
	if !fourDigits(code) {
		return Verified{}, fail(vax.Invalid, ReasonWrongCode, "the secret code is 4 digits")
	}
	var (
		v        Verified
		locked   bool
		failures int // after a wrong code; 0 when the code was right
	)
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		v, locked, failures = Verified{}, false, 0
		a, se, b, err := s.appointmentToday(ctx, tx, by, ref)
		if err != nil {
			return err
		}
		if a.CodeFailures >= s.maxFailures {
			locked = true
			return nil
		}
		var sealed []byte
		for _, p := range a.Beneficiaries {
			if p.Ref == ref {
				sealed = p.SecretSealed
			}
		}
		secret, err := s.keys.OpenSealed(sealed, booking.SecretAAD(a.ID, ref))
		if err != nil {
			return fmt.Errorf("open the secret code of appointment %s: %w", a.ID, err)
		}
		if subtle.ConstantTimeCompare(secret, []byte(code)) != 1 {
			// Counted and committed: the failure is reported after.
			failures, err = tx.CodeFailure(ctx, a.ID)
			return err
		}
		doses, err := tx.DosesOf(ctx, ref)
		if err != nil {
			return err
		}
		v = Verified{AppointmentID: a.ID, SessionID: se.ID, CentreID: se.CentreID, Dose: a.Dose, Slot: a.Slot,
			Vaccine: se.Vaccine, Masked: mask(b, len(doses))}
		return nil
	})
	switch {
	case err != nil:
		return Verified{}, fmt.Errorf("verify beneficiary: %w", err)
	case locked:
		return Verified{}, fail(vax.Forbidden, ReasonLocked,
			"this appointment is locked after %d wrong secret codes: the beneficiary must book again", s.maxFailures)
	case failures >= s.maxFailures:
		return Verified{}, fail(vax.Forbidden, ReasonLocked,
			"wrong secret code: this appointment is now locked after %d wrong codes", s.maxFailures)
	case failures > 0:
		left := s.maxFailures - failures
		return Verified{}, fail(vax.Invalid, ReasonWrongCode, "wrong secret code: %d %s left", left, plural(left, "try", "tries"))
	}
	return v, nil
}

// appointmentToday finds ref's live place in an appointment of a session
// today at a centre by covers (NotFound when none, or when ref is unknown).
func (s *Service) appointmentToday(ctx context.Context, tx vax.Tx, by vax.Staff, ref string) (vax.Appointment, vax.Session, vax.Beneficiary, error) {
	none := fail(vax.NotFound, ReasonNoAppointment, "no appointment today at your centre for this beneficiary")
	b, err := tx.Beneficiary(ctx, ref)
	if errors.Is(err, vax.ErrNotFound) {
		return vax.Appointment{}, vax.Session{}, vax.Beneficiary{}, none
	}
	if err != nil {
		return vax.Appointment{}, vax.Session{}, vax.Beneficiary{}, err
	}
	as, err := tx.BeneficiaryAppointments(ctx, ref)
	if err != nil {
		return vax.Appointment{}, vax.Session{}, vax.Beneficiary{}, err
	}
	today := s.today()
	for _, a := range as {
		if !livePlace(a, ref) {
			continue
		}
		se, err := tx.Session(ctx, a.SessionID)
		if err != nil {
			return vax.Appointment{}, vax.Session{}, vax.Beneficiary{}, err
		}
		if se.Date != today {
			continue
		}
		c, err := tx.Centre(ctx, se.CentreID)
		if err != nil {
			return vax.Appointment{}, vax.Session{}, vax.Beneficiary{}, err
		}
		if by.Covers(c) {
			return a, se, b, nil
		}
	}
	return vax.Appointment{}, vax.Session{}, vax.Beneficiary{}, none
}

// livePlace reports whether ref holds a live place in a.
func livePlace(a vax.Appointment, ref string) bool {
	for _, p := range a.Beneficiaries {
		if p.Ref == ref && p.Status == vax.AppointmentLive {
			return a.Status == vax.AppointmentLive
		}
	}
	return false
}

func mask(b vax.Beneficiary, doses int) Masked {
	return Masked{Ref: b.Ref, Name: b.Name, BirthYear: b.BirthYear, GenderID: b.GenderID, PhotoIDType: b.PhotoIDType,
		PhotoIDLast4: b.PhotoIDLast4, DosesGiven: doses}
}

func fourDigits(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
