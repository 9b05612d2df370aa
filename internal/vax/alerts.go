package vax

import (
	"strings"
	"time"
)

// AlertSubscription is a stored slot alert: an account asked once to be
// texted when seats open in a district or a PIN code for its age, dose and
// vaccine, and is texted whether or not it has a stream open, by whichever
// node sees the seats open. Unlike a stream's subscription it lives in the
// store, so every node matches it, and LastTextedAt throttles its SMS
// deployment-wide (Tx.MarkAlertTexted).
type AlertSubscription struct {
	ID         string // UUID
	AccountID  string // UUID
	DistrictID int    // exactly one of DistrictID and Pincode is set
	Pincode    int
	// MinAge is the subscriber's age in years, matched against a
	// session's age band (Co-WIN's "18+"/"45+"); 0 accepts every session.
	MinAge  int
	Dose    int    // 1 or 2; 0 accepts either
	Vaccine string // upper case; "" accepts any
	// CreatedAt and LastTextedAt are whole seconds, UTC, as stored.
	CreatedAt    time.Time
	LastTextedAt time.Time // zero: never texted
}

// ValidateNew checks what Tx.CreateAlertSubscription requires of a new
// subscription. The rules a citizen is told about (PIN code shape, age
// range) are the alerts package's; this keeps the store's rows sane.
func (s AlertSubscription) ValidateNew() error {
	switch {
	case !ValidUUID(s.ID):
		return Errorf(Invalid, "invalid alert subscription id %q: want a UUID", s.ID)
	case !ValidUUID(s.AccountID):
		return Errorf(Invalid, "invalid account id %q: want a UUID", s.AccountID)
	case (s.DistrictID > 0) == (s.Pincode > 0) || s.DistrictID < 0 || s.Pincode < 0:
		return Errorf(Invalid, "an alert subscription names exactly one of a district or a PIN code")
	case s.MinAge < 0 || s.Dose < 0 || s.Dose > 2:
		return Errorf(Invalid, "invalid age or dose")
	case s.Vaccine != strings.ToUpper(s.Vaccine):
		return Errorf(Invalid, "vaccine names are stored upper case")
	case s.CreatedAt.IsZero():
		return Errorf(Invalid, "an alert subscription needs a creation time")
	case !s.LastTextedAt.IsZero():
		return Errorf(Invalid, "a new alert subscription has not been texted")
	}
	return nil
}
