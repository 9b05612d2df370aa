package vax

import "time"

// Beneficiary is a person registered under a citizen account, who can be
// booked for doses. The photo-ID number is never stored in clear:
// PhotoIDHash (a keyed blind index, unique nationally) finds it,
// PhotoIDSealed holds it encrypted and PhotoIDLast4 is what screens show.
type Beneficiary struct {
	Ref           string // 14-digit reference id with a Verhoeff check digit
	AccountID     string // the account that registered it (UUID)
	Name          string
	BirthYear     int
	GenderID      int // see the Co-WIN genders list
	PhotoIDType   int // see the Co-WIN idTypes list
	PhotoIDHash   string
	PhotoIDSealed []byte
	PhotoIDLast4  string
	Comorbidity   bool
	CreatedAt     time.Time
}

// AppointmentStatus says whether an appointment (or one beneficiary's place
// in it) still holds a seat.
type AppointmentStatus string

// The appointment statuses.
const (
	AppointmentLive      AppointmentStatus = "live"
	AppointmentCancelled AppointmentStatus = "cancelled"
)

// Appointment is one schedule call: 1–4 beneficiaries of one account booked
// for one dose in one session and slot. Each beneficiary holds one seat of
// that dose while its place is live; the session's booked count for the
// dose always equals the live places in its appointments.
type Appointment struct {
	ID        string // UUID: Co-WIN's appointment_confirmation_no
	AccountID string
	SessionID string
	Dose      int // 1 or 2 (later precaution doses)
	Slot      string
	Status    AppointmentStatus // live while any place is live
	CreatedAt time.Time
	// CodeFailures counts wrong secret codes entered for it at a centre
	// (Tx.CodeFailure); enough of them lock it.
	CodeFailures  int
	Beneficiaries []AppointmentPlace
}

// AppointmentPlace is one beneficiary's place in an appointment. The 4-digit
// secret code is kept sealed: the citizen sees it, a vaccinator only checks
// what the citizen tells them.
type AppointmentPlace struct {
	Ref          string
	SecretSealed []byte
	Status       AppointmentStatus
}

// Live returns the refs whose places are live.
func (a Appointment) Live() []string {
	var refs []string
	for _, p := range a.Beneficiaries {
		if p.Status == AppointmentLive {
			refs = append(refs, p.Ref)
		}
	}
	return refs
}

// ValidateNew checks what Tx.BookAppointment requires of a new appointment.
func (a Appointment) ValidateNew() error {
	switch {
	case !ValidUUID(a.ID):
		return Errorf(Invalid, "invalid appointment id %q: want a UUID", a.ID)
	case !ValidUUID(a.AccountID):
		return Errorf(Invalid, "invalid account id %q: want a UUID", a.AccountID)
	case !ValidUUID(a.SessionID):
		return Errorf(NotFound, "session not found")
	case a.Dose < 1:
		return Errorf(Invalid, "invalid dose %d", a.Dose)
	case len(a.Beneficiaries) == 0:
		return Errorf(Invalid, "appointment needs beneficiaries")
	case a.Status != AppointmentLive:
		return Errorf(Invalid, "a new appointment must be live")
	}
	seen := map[string]bool{}
	for _, p := range a.Beneficiaries {
		if p.Status != AppointmentLive {
			return Errorf(Invalid, "a new appointment's places must be live")
		}
		if seen[p.Ref] {
			return Errorf(Invalid, "beneficiary %s given twice", p.Ref)
		}
		seen[p.Ref] = true
	}
	return nil
}

// IdempotencyRecord remembers a request made with an Idempotency-Key, so a
// retry gets the first answer instead of acting twice. Keys are scoped to
// the account.
type IdempotencyRecord struct {
	AccountID   string
	Key         string
	RequestHash string // hash of the method, path and body: the same key with another request is refused
	Status      int    // the HTTP status answered; 0 while the first request runs
	Body        []byte // the answer's body
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// BookingFacts is what the booking rules read about a batch of schedule
// requests, in one go (Tx.BookingFacts).
type BookingFacts struct {
	Beneficiaries map[string]Beneficiary // by ref; unknown refs are absent
	LiveDoses     map[string][]int       // by ref: the doses it holds a live place for
	Accounts      map[string]Account     // the beneficiaries' accounts, by lower-case id
	Doses         map[string][]Dose      // by ref: its dose records, in dose order
}
