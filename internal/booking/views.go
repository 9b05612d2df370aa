package booking

import (
	"context"
	"fmt"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// Vaccination statuses, as Co-WIN names them.
const (
	StatusNotVaccinated       = "Not Vaccinated"
	StatusPartiallyVaccinated = "Partially Vaccinated"
	StatusVaccinated          = "Vaccinated"
)

// Place says where and when a session is held, for a citizen's screens.
type Place struct {
	Session      vax.Session
	Centre       vax.Centre
	StateName    string
	DistrictName string
}

// BeneficiaryView is a beneficiary as its account sees it.
type BeneficiaryView struct {
	vax.Beneficiary
	MobileLast4       string
	VaccinationStatus string
	Vaccine           string   // "" until dose 1
	DoseDates         []string // DD-MM-YYYY per dose received
	Appointments      []AppointmentSummary
}

// AppointmentSummary is one live appointment a beneficiary holds.
type AppointmentSummary struct {
	ID   string
	Dose int
	Slot string
	Place
}

// places resolves sessions to places, caching within one call.
type places struct {
	ctx    context.Context
	tx     vax.Tx
	cache  map[string]Place
	states map[int]string
}

func newPlaces(ctx context.Context, tx vax.Tx) *places {
	return &places{ctx: ctx, tx: tx, cache: map[string]Place{}}
}

func (p *places) get(sessionID string) (Place, error) {
	if pl, ok := p.cache[sessionID]; ok {
		return pl, nil
	}
	se, err := p.tx.Session(p.ctx, sessionID)
	if err != nil {
		return Place{}, fmt.Errorf("session %s: %w", sessionID, err)
	}
	c, err := p.tx.Centre(p.ctx, se.CentreID)
	if err != nil {
		return Place{}, fmt.Errorf("centre %d: %w", se.CentreID, err)
	}
	d, err := p.tx.District(p.ctx, c.DistrictID)
	if err != nil {
		return Place{}, fmt.Errorf("district %d: %w", c.DistrictID, err)
	}
	if p.states == nil {
		ss, err := p.tx.States(p.ctx)
		if err != nil {
			return Place{}, err
		}
		p.states = map[int]string{}
		for _, s := range ss {
			p.states[s.ID] = s.Name
		}
	}
	pl := Place{Session: se, Centre: c, StateName: p.states[c.StateID], DistrictName: d.Name}
	p.cache[sessionID] = pl
	return pl, nil
}

// Beneficiaries lists the account's beneficiaries with their live
// appointments.
func (s *Service) Beneficiaries(ctx context.Context, accountID string) ([]BeneficiaryView, error) {
	var out []BeneficiaryView
	err := s.store.View(ctx, func(tx vax.Tx) error {
		out = out[:0]
		acct, err := tx.Account(ctx, accountID)
		if err != nil {
			return err
		}
		bs, err := tx.BeneficiariesOf(ctx, accountID)
		if err != nil {
			return err
		}
		as, err := tx.AppointmentsOf(ctx, accountID)
		if err != nil {
			return err
		}
		vaccines, err := tx.Vaccines(ctx)
		if err != nil {
			return err
		}
		pl := newPlaces(ctx, tx)
		for _, b := range bs {
			v := BeneficiaryView{Beneficiary: b, MobileLast4: acct.MobileLast4, VaccinationStatus: StatusNotVaccinated}
			doses, err := tx.DosesOf(ctx, b.Ref)
			if err != nil {
				return err
			}
			if len(doses) > 0 {
				v.Vaccine = doses[0].Vaccine
				v.VaccinationStatus = StatusPartiallyVaccinated
				for _, vc := range vaccines {
					if vc.Name == v.Vaccine && len(doses) >= vc.Doses {
						v.VaccinationStatus = StatusVaccinated
					}
				}
				for _, d := range doses {
					v.DoseDates = append(v.DoseDates, vax.DateOf(d.AdministeredAt, s.rules.Location).Cowin())
				}
			}
			for _, a := range as {
				for _, ref := range a.Live() {
					if ref != b.Ref {
						continue
					}
					p, err := pl.get(a.SessionID)
					if err != nil {
						return err
					}
					v.Appointments = append(v.Appointments, AppointmentSummary{ID: a.ID, Dose: a.Dose, Slot: a.Slot, Place: p})
				}
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("beneficiaries: %w", err)
	}
	return out, nil
}

// AppointmentView is one of the account's appointments, secret codes in
// clear: only its account ever sees it.
type AppointmentView struct {
	vax.Appointment
	Place
	People []Person // by ref, like Appointment.Beneficiaries
}

// Person is one beneficiary of an appointment with its secret code.
type Person struct {
	Ref        string
	Name       string
	BirthYear  int
	Status     vax.AppointmentStatus
	SecretCode string
}

// Appointment returns an appointment of the account with its secret codes;
// the same NotFound for an unknown id and another account's.
func (s *Service) Appointment(ctx context.Context, accountID, id string) (AppointmentView, error) {
	var out AppointmentView
	err := s.store.View(ctx, func(tx vax.Tx) error {
		a, err := ownedAppointment(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		p, err := newPlaces(ctx, tx).get(a.SessionID)
		if err != nil {
			return err
		}
		out = AppointmentView{Appointment: a, Place: p}
		for _, pl := range a.Beneficiaries {
			code, err := s.keys.OpenSealed(pl.SecretSealed, SecretAAD(a.ID, pl.Ref))
			if err != nil {
				return fmt.Errorf("open secret code: %w", err)
			}
			per := Person{Ref: pl.Ref, Status: pl.Status, SecretCode: string(code)}
			// A beneficiary deleted after its place was cancelled keeps its
			// place in the history without a name.
			if b, err := tx.Beneficiary(ctx, pl.Ref); err == nil {
				per.Name, per.BirthYear = b.Name, b.BirthYear
			} else if vax.ErrorCode(err) != vax.NotFound {
				return err
			}
			out.People = append(out.People, per)
		}
		return nil
	})
	if err != nil {
		return AppointmentView{}, fmt.Errorf("appointment %s: %w", clip(strings.TrimSpace(id)), err)
	}
	return out, nil
}
