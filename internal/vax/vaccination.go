package vax

import "time"

// Dose is one vaccine dose given to a beneficiary: the record the whole
// programme exists for. A beneficiary has at most one record per dose
// number (the store enforces it).
type Dose struct {
	ID             string // UUID
	Ref            string // the beneficiary
	Dose           int    // 1.. (primary series, then precaution doses)
	Vaccine        string // vaccine name, as Vaccine.Name
	Lot            string // lot number, from the centre's stock
	CentreID       int64
	AppointmentID  string // the appointment it fulfilled; "" for a walk-in
	VaccinatorID   string // the staff member who recorded it
	AdministeredAt time.Time
	RecordedAt     time.Time
}

// Lot is a batch of vaccine a centre received. Used counts the doses
// recorded from it; it never exceeds Received.
type Lot struct {
	CentreID     int64
	Number       string // the manufacturer's lot number, unique per centre
	Vaccine      string
	Manufacturer string
	Expiry       Date // usable through this date
	Received     int  // doses received
	Used         int  // doses recorded from it
	CreatedAt    time.Time
}

// Validate checks a lot's own fields.
func (l Lot) Validate() error {
	switch {
	case l.CentreID <= 0:
		return Errorf(Invalid, "lot needs a centre")
	case len(l.Number) == 0 || len(l.Number) > 64:
		return Errorf(Invalid, "lot number must be 1..64 characters")
	case l.Vaccine == "":
		return Errorf(Invalid, "lot needs a vaccine")
	case len(l.Manufacturer) == 0 || len(l.Manufacturer) > 200:
		return Errorf(Invalid, "lot needs a manufacturer (up to 200 characters)")
	case !l.Expiry.Valid():
		return Errorf(Invalid, "lot needs a valid expiry date")
	case l.Received < 0 || l.Received > 10_000_000 || l.Used < 0 || l.Used > l.Received:
		return Errorf(Invalid, "lot doses must be 0..10000000, used within received")
	}
	return nil
}

// Remaining returns the doses left in the lot.
func (l Lot) Remaining() int { return l.Received - l.Used }

// Severity grades an adverse event following immunization (AEFI), as the
// WHO classification does.
type Severity string

// The severities. Serious events (death, hospitalisation, disability,
// life-threatening) are flagged to the district.
const (
	SeverityMinor   Severity = "minor"
	SeveritySevere  Severity = "severe"
	SeveritySerious Severity = "serious"
)

// ParseSeverity parses a severity.
func ParseSeverity(s string) (Severity, error) {
	switch Severity(s) {
	case SeverityMinor, SeveritySevere, SeveritySerious:
		return Severity(s), nil
	}
	return "", Errorf(Invalid, "invalid severity %q: want minor, severe or serious", s)
}

// AdverseEvent is an adverse event following immunization, linked to the
// dose it followed.
type AdverseEvent struct {
	ID         string // UUID
	DoseID     string
	Ref        string // the dose's beneficiary
	CentreID   int64  // the dose's centre
	DistrictID int    // the centre's district: whose admins see it
	Severity   Severity
	Symptoms   []string // 1..20, each 1..100 characters
	Onset      time.Time
	ReporterID string // the staff member who reported it
	ReportedAt time.Time
}

// AdverseEventQuery selects adverse events, newest first. Zero fields do
// not filter. Pages are keyset: pass the last event's ReportedAt and ID.
type AdverseEventQuery struct {
	DistrictID int
	CentreID   int64
	Severity   Severity
	BeforeTime time.Time
	BeforeID   string
	Limit      int // 0: the store's default; never more than MaxLimit
}

// QueueEntry is one beneficiary expected at a centre on a day: a live place
// in an appointment of one of its sessions, with whether the dose is given.
type QueueEntry struct {
	AppointmentID string
	SessionID     string
	Slot          string
	Dose          int
	Ref           string
	Name          string
	BirthYear     int
	GenderID      int
	DoseID        string // the recorded dose; "" while waiting
}

// DoseFacts is what recording a dose reads, in one go (Tx.DoseFacts): a
// dose is a hot path, and each read is a round trip to the database.
type DoseFacts struct {
	Centre      Centre      // zero ID: unknown centre
	Beneficiary Beneficiary // zero Ref: unknown beneficiary
	Account     Account     // the beneficiary's account; zero ID: none (a walk-in without a mobile)
	Doses       []Dose      // the beneficiary's dose records, in dose order
	Lot         Lot         // the centre's lot; zero Number: unknown lot
	// Appointments are the beneficiary's live appointments in which its
	// own place is live, without their places (Beneficiaries is nil), with
	// the centre of each one's session by appointment id.
	Appointments  []Appointment
	SessionCentre map[string]int64
}

// DoseWrite is everything recording a dose writes (Tx.CommitDose).
type DoseWrite struct {
	Dose Dose
	// Certificate, if not nil, is issued with the dose (as IssueCertificate).
	Certificate *Certificate
	// FirstCertificate says the beneficiary had no dose before this one,
	// so it has no certificate to supersede: the store may skip looking for
	// one. Should one exist after all, it is superseded as usual.
	FirstCertificate bool
	// Messages are enqueued with the dose (as EnqueueMessage).
	Messages []OutboxMessage
}
