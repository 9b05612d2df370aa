package booking

import (
	"fmt"
	"slices"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// The wire error codes (Co-WIN style) this package gives its errors, as
// Reason. APPOIN0040, APPOIN0025 and USRAUT0024 are Co-WIN's own; the others
// are vaxport's, in the same style.
//
//	code        status  meaning
//	APPOIN0040  409     session fully booked for the dose
//	APPOIN0025  400     dose requested before the previous dose
//	APPOIN0041  400     beneficiary's age outside the session's limits
//	APPOIN0042  400     vaccine differs from the earlier doses
//	APPOIN0043  400     minimum interval since the previous dose not reached
//	APPOIN0045  400     dose beyond the vaccine's series (+ precaution doses)
//	APPOIN0046  409     beneficiary already has a live appointment for the dose
//	APPOIN0047  400     session date outside the booking window or past the cut-off
//	APPOIN0048  400     slot not offered by the session
//	APPOIN0049  400     1..4 distinct beneficiaries required
//	APPOIN0050  404     session not found
//	APPOIN0051  404     appointment not found
//	APPOIN0052  409     session cancelled
//	APPOIN0053  409     appointment already cancelled
//	APPOIN0054  409     dose already given
//	APPOIN0055  400     invalid dose number
//	APPOIN0060  409     session held for a fair release: its seats go by a draw at the release time
//	APPOIN0061  409     request pooled for a fair release's draw (the body carries its request id)
//	USRAUT0024  400     beneficiary not registered (unknown, or another account's)
//	BENEFI0001  400     invalid beneficiary details
//	BENEFI0002  409     photo-ID number already registered
//	BENEFI0003  409     account already has the maximum number of beneficiaries
//	BENEFI0004  409     beneficiary has a live appointment or a dose: cannot delete
//	BENEFI0005  400     malformed beneficiary reference id (length or check digit)
const (
	ReasonFull             = "APPOIN0040"
	ReasonDoseOrder        = "APPOIN0025"
	ReasonAge              = "APPOIN0041"
	ReasonVaccine          = "APPOIN0042"
	ReasonInterval         = "APPOIN0043"
	ReasonSeries           = "APPOIN0045"
	ReasonLiveAppointment  = "APPOIN0046"
	ReasonWindow           = "APPOIN0047"
	ReasonSlot             = "APPOIN0048"
	ReasonCount            = "APPOIN0049"
	ReasonNoSession        = "APPOIN0050"
	ReasonNoAppointment    = "APPOIN0051"
	ReasonSessionCancelled = "APPOIN0052"
	ReasonCancelled        = "APPOIN0053"
	ReasonDoseGiven        = "APPOIN0054"
	ReasonBadDose          = "APPOIN0055"
	ReasonHeld             = "APPOIN0060"
	ReasonPooled           = "APPOIN0061"
	ReasonNotRegistered    = "USRAUT0024"
	ReasonBadBeneficiary   = "BENEFI0001"
	ReasonPhotoIDTaken     = "BENEFI0002"
	ReasonTooMany          = "BENEFI0003"
	ReasonUndeletable      = "BENEFI0004"
	ReasonBadRef           = "BENEFI0005"
)

// fail returns an *vax.Error with a wire reason.
func fail(code vax.Code, reason, format string, args ...any) *vax.Error {
	e := vax.Errorf(code, format, args...)
	e.Reason = reason
	return e
}

// Rules are the booking parameters. Zero fields take DefaultRules' values.
type Rules struct {
	// MaxBeneficiaries per account (Co-WIN: 4, later 6); also the most
	// beneficiaries one appointment may hold.
	MaxBeneficiaries int
	// WindowDays: sessions from today to today+WindowDays (civil dates in
	// Location) can be booked.
	WindowDays int
	// CutOff is the time of day (since midnight in Location) after which a
	// session of that day can no longer be booked or rescheduled into.
	CutOff time.Duration
	// IntervalDays overrides a vaccine's minimum interval between doses, by
	// vaccine name.
	IntervalDays map[string]int
	// PrecautionDoses allowed after a vaccine's primary series.
	PrecautionDoses int
	// Location is the civil time zone of dates (--tz); nil: Asia/Kolkata's
	// fixed +05:30.
	Location *time.Location
}

// DefaultRules are Co-WIN's launch parameters.
var DefaultRules = Rules{
	MaxBeneficiaries: 4,
	WindowDays:       14,
	CutOff:           15 * time.Hour,
	Location:         time.FixedZone("IST", 5*3600+1800),
}

// WithDefaults returns r with zero fields set from DefaultRules; Invalid if a
// field is out of range.
func (r Rules) WithDefaults() (Rules, error) {
	d := DefaultRules
	if r.MaxBeneficiaries == 0 {
		r.MaxBeneficiaries = d.MaxBeneficiaries
	}
	if r.WindowDays == 0 {
		r.WindowDays = d.WindowDays
	}
	if r.CutOff == 0 {
		r.CutOff = d.CutOff
	}
	if r.Location == nil {
		r.Location = d.Location
	}
	switch {
	case r.MaxBeneficiaries < 1 || r.MaxBeneficiaries > 10:
		return r, vax.Errorf(vax.Invalid, "booking: max beneficiaries must be 1..10")
	case r.WindowDays < 0 || r.WindowDays > 366:
		return r, vax.Errorf(vax.Invalid, "booking: window must be 0..366 days")
	case r.CutOff < 0 || r.CutOff > 24*time.Hour:
		return r, vax.Errorf(vax.Invalid, "booking: cut-off must be within the day")
	case r.PrecautionDoses < 0 || r.PrecautionDoses > 3:
		return r, vax.Errorf(vax.Invalid, "booking: precaution doses must be 0..3")
	}
	for name, days := range r.IntervalDays {
		if days < 0 || days > 365 {
			return r, vax.Errorf(vax.Invalid, "booking: interval for %s must be 0..365 days", name)
		}
	}
	return r, nil
}

// Interval returns the minimum days between doses of v.
func (r Rules) Interval(v vax.Vaccine) int {
	if d, ok := r.IntervalDays[v.Name]; ok {
		return d
	}
	return v.IntervalDays
}

// DoseRecord is a dose a beneficiary received.
type DoseRecord struct {
	Dose    int
	Vaccine string
	Date    vax.Date
}

// Booking is what one schedule (or reschedule) asks for.
type Booking struct {
	Now     time.Time
	Session vax.Session
	Vaccine vax.Vaccine // the session's vaccine
	Dose    int
	Slot    string
}

// Candidate is one beneficiary as the rules see it.
type Candidate struct {
	BirthYear int
	History   []DoseRecord // doses received, in dose order
	// LiveForDose: the beneficiary already holds a live appointment place
	// for the booking's dose (ignored when rescheduling that appointment).
	LiveForDose bool
}

// sessionRule checks a booking regardless of who is booked.
type sessionRule struct {
	name  string
	check func(r Rules, b Booking) error
}

// candidateRule checks one beneficiary against a booking.
type candidateRule struct {
	name  string
	check func(r Rules, b Booking, c Candidate) error
}

// sessionRules are checked in order; the first failure is the answer.
var sessionRules = []sessionRule{
	{"dose number", func(_ Rules, b Booking) error {
		if b.Dose < 1 || b.Dose > 5 {
			return fail(vax.Invalid, ReasonBadDose, "dose must be 1..5")
		}
		return nil
	}},
	{"session open", func(_ Rules, b Booking) error {
		if b.Session.Status != vax.SessionOpen {
			return fail(vax.Conflict, ReasonSessionCancelled, "this session has been cancelled")
		}
		return nil
	}},
	{"slot offered", func(_ Rules, b Booking) error {
		if !slices.Contains(b.Session.Slots, b.Slot) {
			return fail(vax.Invalid, ReasonSlot, "slot %q is not offered by this session", clip(b.Slot))
		}
		return nil
	}},
	{"booking window", func(r Rules, b Booking) error {
		today := vax.DateOf(b.Now, r.Location)
		d := b.Session.Date
		if d.Before(today) || today.AddDays(r.WindowDays).Before(d) {
			return fail(vax.Invalid, ReasonWindow, "sessions can be booked from today to %d days ahead", r.WindowDays)
		}
		if d == today && b.Now.Sub(today.Start(r.Location)) >= r.CutOff {
			return fail(vax.Invalid, ReasonWindow, "booking for today's sessions closed at %s", clock(r.CutOff))
		}
		return nil
	}},
	{"series length", func(r Rules, b Booking) error {
		if most := b.Vaccine.Doses + r.PrecautionDoses; b.Dose > most {
			return fail(vax.Invalid, ReasonSeries, "%s has %d doses", b.Vaccine.Name, most)
		}
		return nil
	}},
}

// candidateRules are checked in order for each beneficiary.
var candidateRules = []candidateRule{
	{"age", func(_ Rules, b Booking, c Candidate) error {
		age := b.Session.Date.Year - c.BirthYear
		if age < b.Session.MinAge {
			return fail(vax.Invalid, ReasonAge, "this session is for ages %d and above", b.Session.MinAge)
		}
		if b.Session.MaxAge != 0 && !b.Session.AllowAllAge && age > b.Session.MaxAge {
			return fail(vax.Invalid, ReasonAge, "this session is for ages %d to %d", b.Session.MinAge, b.Session.MaxAge)
		}
		return nil
	}},
	{"dose given", func(_ Rules, b Booking, c Candidate) error {
		if b.Dose <= len(c.History) {
			return fail(vax.Conflict, ReasonDoseGiven, "dose %d has already been given", b.Dose)
		}
		return nil
	}},
	{"dose order", func(_ Rules, b Booking, c Candidate) error {
		if b.Dose > len(c.History)+1 {
			return fail(vax.Invalid, ReasonDoseOrder, "dose %d cannot be booked before dose %d", b.Dose, len(c.History)+1)
		}
		return nil
	}},
	{"same vaccine", func(_ Rules, b Booking, c Candidate) error {
		if len(c.History) > 0 && c.History[0].Vaccine != b.Session.Vaccine {
			return fail(vax.Invalid, ReasonVaccine, "earlier doses were %s; this session offers %s",
				c.History[0].Vaccine, b.Session.Vaccine)
		}
		return nil
	}},
	{"interval", func(r Rules, b Booking, c Candidate) error {
		if len(c.History) == 0 {
			return nil
		}
		last := c.History[len(c.History)-1].Date
		if days := r.Interval(b.Vaccine); last.DaysUntil(b.Session.Date) < days {
			return fail(vax.Invalid, ReasonInterval, "dose %d is due %d days after the previous dose, from %s",
				b.Dose, days, last.AddDays(days).Cowin())
		}
		return nil
	}},
	{"one live appointment per dose", func(_ Rules, b Booking, c Candidate) error {
		if c.LiveForDose {
			return fail(vax.Conflict, ReasonLiveAppointment, "already booked for dose %d", b.Dose)
		}
		return nil
	}},
}

// Check applies every rule to a booking of the candidates and returns the
// first failure: an *vax.Error with the rule's wire Reason.
func (r Rules) Check(b Booking, cs ...Candidate) error {
	for _, rule := range sessionRules {
		if err := rule.check(r, b); err != nil {
			return err
		}
	}
	for _, c := range cs {
		for _, rule := range candidateRules {
			if err := rule.check(r, b, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// clock formats a time of day like 15:00.
func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// clip shortens untrusted input echoed in a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
