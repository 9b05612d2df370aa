package booking_test

import (
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/vax"
)

var ist = time.FixedZone("IST", 5*3600+1800)

// ruleNow is 10:00 IST on 1 June 2021.
var ruleNow = time.Date(2021, time.June, 1, 10, 0, 0, 0, ist)

var (
	today       = vax.Date{Year: 2021, Month: time.June, Day: 1}
	covishield  = vax.Vaccine{Name: "COVISHIELD", Doses: 2, IntervalDays: 84}
	covaxin     = vax.Vaccine{Name: "COVAXIN", Doses: 2, IntervalDays: 28}
	sputnik     = vax.Vaccine{Name: "SPUTNIK V", Doses: 2, IntervalDays: 21}
	defaultRule = mustRules(booking.Rules{Location: ist})
)

func mustRules(r booking.Rules) booking.Rules {
	r, err := r.WithDefaults()
	if err != nil {
		panic(err)
	}
	return r
}

func ruleSession(d vax.Date, v vax.Vaccine) vax.Session {
	return vax.Session{ID: "00000000-0000-4000-8000-000000000001", CentreID: 1, Date: d, Vaccine: v.Name,
		MinAge: 18, MaxAge: 44, Capacity1: 10, Capacity2: 10, Slots: []string{"09:00AM-11:00AM"}, Status: vax.SessionOpen}
}

func TestRules(t *testing.T) {
	base := booking.Booking{Now: ruleNow, Session: ruleSession(today.AddDays(1), covishield), Vaccine: covishield, Dose: 1, Slot: "09:00AM-11:00AM"}
	adult := booking.Candidate{BirthYear: 1990}
	dose1 := func(v vax.Vaccine, d vax.Date) booking.Candidate {
		return booking.Candidate{BirthYear: 1990, History: []booking.DoseRecord{{Dose: 1, Vaccine: v.Name, Date: d}}}
	}
	with := func(f func(*booking.Booking)) booking.Booking { b := base; f(&b); return b }
	cases := []struct {
		name   string
		rules  booking.Rules
		b      booking.Booking
		c      booking.Candidate
		code   vax.Code
		reason string
	}{
		{"eligible", defaultRule, base, adult, "", ""},
		{"dose 0", defaultRule, with(func(b *booking.Booking) { b.Dose = 0 }), adult, vax.Invalid, booking.ReasonBadDose},
		{"session cancelled", defaultRule, with(func(b *booking.Booking) { b.Session.Status = vax.SessionCancelled }), adult, vax.Conflict, booking.ReasonSessionCancelled},
		{"slot not offered", defaultRule, with(func(b *booking.Booking) { b.Slot = "01:00PM-03:00PM" }), adult, vax.Invalid, booking.ReasonSlot},
		{"session yesterday", defaultRule, with(func(b *booking.Booking) { b.Session.Date = today.AddDays(-1) }), adult, vax.Invalid, booking.ReasonWindow},
		{"session beyond window", defaultRule, with(func(b *booking.Booking) { b.Session.Date = today.AddDays(15) }), adult, vax.Invalid, booking.ReasonWindow},
		{"last day of window", defaultRule, with(func(b *booking.Booking) { b.Session.Date = today.AddDays(14) }), adult, "", ""},
		{"today before cut-off", defaultRule, with(func(b *booking.Booking) { b.Session.Date = today }), adult, "", ""},
		{"today after cut-off", defaultRule, with(func(b *booking.Booking) {
			b.Session.Date = today
			b.Now = time.Date(2021, time.June, 1, 15, 0, 0, 0, ist)
		}), adult, vax.Invalid, booking.ReasonWindow},
		{"civil date in tz", defaultRule, with(func(b *booking.Booking) {
			// 23:00 UTC on 31 May is already 1 June in IST: yesterday's session is closed.
			b.Now = time.Date(2021, time.May, 31, 23, 0, 0, 0, time.UTC)
			b.Session.Date = today.AddDays(-1)
		}), adult, vax.Invalid, booking.ReasonWindow},
		{"dose beyond series", defaultRule, with(func(b *booking.Booking) { b.Dose = 3 }), adult, vax.Invalid, booking.ReasonSeries},
		{"precaution dose allowed", mustRules(booking.Rules{Location: ist, PrecautionDoses: 1}), with(func(b *booking.Booking) { b.Dose = 3 }),
			booking.Candidate{BirthYear: 1990, History: []booking.DoseRecord{{1, "COVISHIELD", today.AddDays(-200)}, {2, "COVISHIELD", today.AddDays(-100)}}}, "", ""},
		{"too young", defaultRule, base, booking.Candidate{BirthYear: 2004}, vax.Invalid, booking.ReasonAge},
		{"just 18 by year", defaultRule, base, booking.Candidate{BirthYear: 2003}, "", ""},
		{"too old", defaultRule, base, booking.Candidate{BirthYear: 1970}, vax.Invalid, booking.ReasonAge},
		{"allow all age", defaultRule, with(func(b *booking.Booking) { b.Session.AllowAllAge = true }), booking.Candidate{BirthYear: 1940}, "", ""},
		{"no max age", defaultRule, with(func(b *booking.Booking) { b.Session.MaxAge = 0 }), booking.Candidate{BirthYear: 1940}, "", ""},
		{"dose 1 again", defaultRule, base, dose1(covishield, today.AddDays(-100)), vax.Conflict, booking.ReasonDoseGiven},
		{"dose 2 before dose 1", defaultRule, with(func(b *booking.Booking) { b.Dose = 2 }), adult, vax.Invalid, booking.ReasonDoseOrder},
		{"dose 2 other vaccine", defaultRule, with(func(b *booking.Booking) { b.Dose = 2 }), dose1(covaxin, today.AddDays(-100)), vax.Invalid, booking.ReasonVaccine},
		{"covishield interval short", defaultRule, with(func(b *booking.Booking) { b.Dose = 2 }), dose1(covishield, today.AddDays(1-83)), vax.Invalid, booking.ReasonInterval},
		{"covishield interval met", defaultRule, with(func(b *booking.Booking) { b.Dose = 2 }), dose1(covishield, today.AddDays(1-84)), "", ""},
		{"covaxin interval short", defaultRule, with(func(b *booking.Booking) { b.Dose = 2; b.Vaccine = covaxin; b.Session.Vaccine = covaxin.Name }), dose1(covaxin, today.AddDays(1-27)), vax.Invalid, booking.ReasonInterval},
		{"covaxin interval met", defaultRule, with(func(b *booking.Booking) { b.Dose = 2; b.Vaccine = covaxin; b.Session.Vaccine = covaxin.Name }), dose1(covaxin, today.AddDays(1-28)), "", ""},
		{"sputnik interval short", defaultRule, with(func(b *booking.Booking) { b.Dose = 2; b.Vaccine = sputnik; b.Session.Vaccine = sputnik.Name }), dose1(sputnik, today.AddDays(1-20)), vax.Invalid, booking.ReasonInterval},
		{"interval override", mustRules(booking.Rules{Location: ist, IntervalDays: map[string]int{"COVISHIELD": 28}}), with(func(b *booking.Booking) { b.Dose = 2 }), dose1(covishield, today.AddDays(1-28)), "", ""},
		{"live appointment for the dose", defaultRule, base, booking.Candidate{BirthYear: 1990, LiveForDose: true}, vax.Conflict, booking.ReasonLiveAppointment},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.rules.Check(c.b, c.c)
			if c.code == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if vax.ErrorCode(err) != c.code || vax.ErrorReason(err) != c.reason {
				t.Fatalf("got %v (code %s, reason %q), want code %s, reason %s", err, vax.ErrorCode(err), vax.ErrorReason(err), c.code, c.reason)
			}
		})
	}
}

func TestRulesWithDefaults(t *testing.T) {
	for name, r := range map[string]booking.Rules{
		"max beneficiaries": {MaxBeneficiaries: 11},
		"window":            {WindowDays: -1},
		"cut-off":           {CutOff: 25 * time.Hour},
		"precaution":        {PrecautionDoses: 4},
		"interval":          {IntervalDays: map[string]int{"COVAXIN": -1}},
	} {
		if _, err := r.WithDefaults(); vax.ErrorCode(err) != vax.Invalid {
			t.Errorf("%s: got %v, want Invalid", name, err)
		}
	}
	r, err := booking.Rules{}.WithDefaults()
	if err != nil || r.MaxBeneficiaries != 4 || r.CutOff != 15*time.Hour || r.Location == nil {
		t.Errorf("defaults: got %+v, %v", r, err)
	}
}
