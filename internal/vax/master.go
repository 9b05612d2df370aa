package vax

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// State is a state or union territory, with Co-WIN's id.
type State struct {
	ID   int
	Name string
	// LocalNames maps a language tag ("hi", "ml", …) to the name in that
	// language; English is Name.
	LocalNames map[string]string
}

// District is a district of a state, with Co-WIN's id.
type District struct {
	ID         int
	StateID    int
	Name       string
	LocalNames map[string]string
}

// LocalName returns the name in the first of langs that has one, or name.
func LocalName(name string, local map[string]string, langs ...string) string {
	for _, l := range langs {
		if n, ok := local[l]; ok && n != "" {
			return n
		}
	}
	return name
}

// Vaccine is a vaccine product as operators configure it: data, not code.
type Vaccine struct {
	Name         string // Co-WIN's wire name: "COVISHIELD", "COVAXIN", "SPUTNIK V"
	Doses        int    // doses in the primary series
	IntervalDays int    // minimum days between consecutive doses of the series
	// EU DCC value-set codes (ehn-dcc-valuesets).
	DCCProduct      string // vaccine-medicinal-product, e.g. "Covishield"
	DCCManufacturer string // vaccine-mah-manf, e.g. "ORG-100001981" (Serum Institute)
	DCCProphylaxis  string // vaccine-prophylaxis, e.g. "29061000087103"
}

// Validate checks a vaccine definition.
func (v Vaccine) Validate() error {
	switch {
	case v.Name == "" || strings.TrimSpace(v.Name) != v.Name || strings.ToUpper(v.Name) != v.Name:
		return Errorf(Invalid, "vaccine name %q must be non-empty upper case", v.Name)
	case v.Doses < 1 || v.Doses > 5:
		return Errorf(Invalid, "vaccine %s: doses must be 1..5", v.Name)
	case v.IntervalDays < 0 || v.IntervalDays > 366:
		return Errorf(Invalid, "vaccine %s: interval must be 0..366 days", v.Name)
	}
	return nil
}

// FeeType says whether a centre charges.
type FeeType string

// The fee types, spelt as Co-WIN sends them.
const (
	Free FeeType = "Free"
	Paid FeeType = "Paid"
)

// ParseFeeType parses "Free" or "Paid" (any case).
func ParseFeeType(s string) (FeeType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "free":
		return Free, nil
	case "paid":
		return Paid, nil
	}
	return "", Errorf(Invalid, "invalid fee type %q: want Free or Paid", s)
}

// Fee is what a Paid centre charges for one dose of a vaccine, in rupees.
type Fee struct {
	Vaccine string
	Amount  int
}

// Centre is a vaccination centre.
type Centre struct {
	ID         int64
	Name       string
	Address    string
	StateID    int
	DistrictID int
	BlockName  string
	Pincode    int
	Lat, Long  float64
	From, To   string // opening hours, "HH:MM:SS" local time
	FeeType    FeeType
	Fees       []Fee // Paid centres: one per vaccine offered; empty for Free
}

var timeOfDay = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$`)

// Validate checks a centre's fields (not its references to other records).
func (c Centre) Validate() error {
	switch {
	case c.ID < 0:
		return Errorf(Invalid, "centre id must be positive")
	case strings.TrimSpace(c.Name) == "" || len(c.Name) > 200:
		return Errorf(Invalid, "centre name must be 1..200 characters")
	case len(c.Address) > 500 || len(c.BlockName) > 200:
		return Errorf(Invalid, "centre address or block name too long")
	case c.StateID <= 0 || c.DistrictID <= 0:
		return Errorf(Invalid, "centre needs a state and a district")
	case c.Pincode < 110000 || c.Pincode > 999999:
		return Errorf(Invalid, "invalid PIN code %d: want 6 digits", c.Pincode)
	case c.Lat < -90 || c.Lat > 90 || c.Long < -180 || c.Long > 180:
		return Errorf(Invalid, "invalid coordinates %g,%g", c.Lat, c.Long)
	case !timeOfDay.MatchString(c.From) || !timeOfDay.MatchString(c.To):
		return Errorf(Invalid, "opening hours must be HH:MM:SS")
	case c.From >= c.To:
		return Errorf(Invalid, "opening hours: from %s is not before to %s", c.From, c.To)
	}
	switch c.FeeType {
	case Free:
		if len(c.Fees) > 0 {
			return Errorf(Invalid, "a Free centre has no fees")
		}
	case Paid:
		if len(c.Fees) == 0 {
			return Errorf(Invalid, "a Paid centre needs a fee per vaccine")
		}
	default:
		return Errorf(Invalid, "invalid fee type %q: want Free or Paid", c.FeeType)
	}
	seen := map[string]bool{}
	for _, f := range c.Fees {
		if f.Vaccine == "" || f.Amount < 0 || f.Amount > 100000 {
			return Errorf(Invalid, "invalid fee %s %d", f.Vaccine, f.Amount)
		}
		if seen[f.Vaccine] {
			return Errorf(Invalid, "fee for %s given twice", f.Vaccine)
		}
		seen[f.Vaccine] = true
	}
	return nil
}

// Fee returns the centre's fee for vaccine in rupees (0 when Free or unset).
func (c Centre) Fee(vaccine string) int {
	for _, f := range c.Fees {
		if f.Vaccine == vaccine {
			return f.Amount
		}
	}
	return 0
}

// SessionStatus is a session's lifecycle state.
type SessionStatus string

// The session statuses.
const (
	SessionOpen      SessionStatus = "open"
	SessionCancelled SessionStatus = "cancelled"
	// SessionHeld: in a fair release not yet drawn (Release). Its seats
	// are shown but only the release's draw books them; only
	// Tx.CreateRelease holds a session and only Tx.DrawRelease opens it.
	SessionHeld SessionStatus = "held"
)

// ParseSessionStatus parses a session status.
func ParseSessionStatus(s string) (SessionStatus, error) {
	switch SessionStatus(s) {
	case SessionOpen, SessionCancelled, SessionHeld:
		return SessionStatus(s), nil
	}
	return "", Errorf(Invalid, "invalid session status %q: want open or cancelled", s)
}

// Session is one vaccine offered at one centre on one civil date. Slots are
// labels shown to citizens; capacity is per session and dose.
type Session struct {
	ID          string // UUID
	CentreID    int64
	Date        Date
	Vaccine     string
	MinAge      int
	MaxAge      int  // 0: none
	AllowAllAge bool // true: no upper age limit applies, whatever MaxAge says
	Capacity1   int  // dose-1 seats
	Capacity2   int  // dose-2 seats
	Booked1     int
	Booked2     int
	Slots       []string // e.g. "09:00AM-11:00AM"
	Status      SessionStatus
	UpdatedAt   time.Time
}

// Available returns the free seats for dose 1 and dose 2; a cancelled
// session has none.
func (s Session) Available() (dose1, dose2 int) {
	if s.Status == SessionCancelled {
		return 0, 0
	}
	return max(s.Capacity1-s.Booked1, 0), max(s.Capacity2-s.Booked2, 0)
}

var slotLabel = regexp.MustCompile(`^(0[0-9]|1[0-2]):[0-5][0-9](AM|PM)-(0[0-9]|1[0-2]):[0-5][0-9](AM|PM)$`)

// ValidSlot reports whether s is a slot label like "09:00AM-11:00AM".
func ValidSlot(s string) bool { return slotLabel.MatchString(s) }

// Validate checks a session's own fields.
func (s Session) Validate() error {
	switch {
	case !ValidUUID(s.ID):
		return Errorf(Invalid, "invalid session id %q: want a UUID", s.ID)
	case s.CentreID <= 0:
		return Errorf(Invalid, "session needs a centre")
	case !s.Date.Valid():
		return Errorf(Invalid, "session needs a valid date")
	case s.Vaccine == "":
		return Errorf(Invalid, "session needs a vaccine")
	case s.MinAge < 0 || s.MinAge > 120:
		return Errorf(Invalid, "minimum age must be 0..120")
	case s.MaxAge != 0 && (s.MaxAge < s.MinAge || s.MaxAge > 150):
		return Errorf(Invalid, "maximum age must be at least the minimum age")
	case s.Capacity1 < 0 || s.Capacity2 < 0 || s.Capacity1 > 100000 || s.Capacity2 > 100000:
		return Errorf(Invalid, "capacity must be 0..100000 per dose")
	case s.Booked1 < 0 || s.Booked2 < 0:
		return Errorf(Invalid, "booked counts cannot be negative")
	case len(s.Slots) == 0 || len(s.Slots) > 48:
		return Errorf(Invalid, "session needs 1..48 slots")
	}
	if _, err := ParseSessionStatus(string(s.Status)); err != nil {
		return err
	}
	for _, sl := range s.Slots {
		if !ValidSlot(sl) {
			return Errorf(Invalid, "invalid slot %q: want like 09:00AM-11:00AM", sl)
		}
	}
	return nil
}

// CheckCapacity refuses a capacity below what is already booked.
func (s Session) CheckCapacity() error {
	if s.Capacity1 < s.Booked1 || s.Capacity2 < s.Booked2 {
		return Errorf(Conflict, "capacity %d/%d is below the %d/%d seats already booked",
			s.Capacity1, s.Capacity2, s.Booked1, s.Booked2)
	}
	return nil
}

// String names a session for logs (no personal data).
func (s Session) String() string {
	return fmt.Sprintf("session %s (centre %d, %s, %s)", s.ID, s.CentreID, s.Date, s.Vaccine)
}
