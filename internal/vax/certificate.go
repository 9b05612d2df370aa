package vax

import "time"

// Certificate is the record of a vaccination certificate issued to a
// beneficiary: which doses it attests, when, and whether a later one has
// replaced it. The signed forms (SMART Health Card, EU DCC, PDF) are
// rendered from it and the dose records on demand; the record is what makes
// a certificate exist, exactly once per change, in the transaction of that
// change.
type Certificate struct {
	ID    string // UUID; its revocation id and UVCI derive from it
	Ref   string // the beneficiary
	Doses int    // it attests the beneficiary's first Doses doses
	// Final: the primary series is complete (else provisional).
	Final    bool
	IssuedAt time.Time
	// SupersededBy is the certificate that replaced this one, and
	// SupersededAt when: a superseded certificate is revoked. Empty/zero
	// while current.
	SupersededBy string
	SupersededAt time.Time
}

// Current reports whether no later certificate replaced c.
func (c Certificate) Current() bool { return c.SupersededBy == "" }

// ValidateNew checks what Tx.IssueCertificate requires of a new certificate.
func (c Certificate) ValidateNew() error {
	switch {
	case !ValidUUID(c.ID):
		return Errorf(Invalid, "invalid certificate id %q: want a UUID", c.ID)
	case c.Doses < 1:
		return Errorf(Invalid, "certificate attests %d doses: want at least 1", c.Doses)
	case c.SupersededBy != "" || !c.SupersededAt.IsZero():
		return Errorf(Invalid, "a certificate is issued current, not superseded")
	case c.IssuedAt.IsZero():
		return Errorf(Invalid, "certificate needs an issue time")
	}
	return ValidBeneficiaryRef(c.Ref)
}
