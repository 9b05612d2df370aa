package vax

import (
	"fmt"
	"strconv"
	"time"
)

// Date is a civil date (a day in the deployment's time zone, --tz) with no
// time of day: a session's day, "today", a booking window. The zero Date is
// "no date".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// Today returns the civil date now in loc.
func Today(c Clock, loc *time.Location) Date { return DateOf(c.Now(), loc) }

// ParseISODate parses "YYYY-MM-DD".
func ParseISODate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, Errorf(Invalid, "invalid date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t, time.UTC), nil
}

// ParseCowinDate parses Co-WIN's "DD-MM-YYYY", and "DD-MM-YY" (which some
// clients send) as a year in 2000–2099.
func ParseCowinDate(s string) (Date, error) {
	bad := Errorf(Invalid, "invalid date %q: want DD-MM-YYYY", s)
	if len(s) != 10 && len(s) != 8 {
		return Date{}, bad
	}
	if s[2] != '-' || s[5] != '-' {
		return Date{}, bad
	}
	d, err1 := strconv.Atoi(s[0:2])
	m, err2 := strconv.Atoi(s[3:5])
	y, err3 := strconv.Atoi(s[6:])
	if err1 != nil || err2 != nil || err3 != nil || y < 0 || s[6] == '+' || s[6] == '-' {
		return Date{}, bad
	}
	if len(s) == 8 {
		y += 2000
	}
	date := Date{y, time.Month(m), d}
	if !date.Valid() {
		return Date{}, bad
	}
	return date, nil
}

// Valid reports whether d names a real calendar day.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return DateOf(d.t(), time.UTC) == d
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

func (d Date) t() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String formats d as "YYYY-MM-DD", the form stores and vaxport's own API use.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Cowin formats d as "DD-MM-YYYY", the Co-WIN wire form.
func (d Date) Cowin() string {
	return fmt.Sprintf("%02d-%02d-%04d", d.Day, int(d.Month), d.Year)
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return DateOf(d.t().AddDate(0, 0, n), time.UTC) }

// DaysUntil returns the number of days from d to e (negative if e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e.t().Sub(d.t()).Hours() / 24) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.t().Before(e.t()) }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.t().After(e.t()) }

// Start returns the first instant of d in loc.
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}
