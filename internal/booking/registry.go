package booking

import (
	"strings"
	"unicode"

	"github.com/vaxport/vaxport/internal/vax"
)

// IDType is a photo-ID document a beneficiary registers with.
type IDType struct {
	ID   int
	Name string
}

// IDTypes are the photo-ID types, with the ids Co-WIN clients know (NPR
// smart card takes 10, an id Co-WIN left unused).
var IDTypes = []IDType{
	{1, "Aadhaar Card"},
	{2, "Driving License"},
	{6, "PAN Card"},
	{8, "Passport"},
	{9, "Pension Passbook"},
	{10, "NPR Smart Card"},
	{12, "Voter ID"},
	{16, "Ration Card"},
}

// Gender is a gender choice.
type Gender struct {
	ID   int
	Name string
}

// Genders are Co-WIN's gender choices.
var Genders = []Gender{{1, "Male"}, {2, "Female"}, {3, "Others"}}

// GenderName returns the name of a gender id ("" when unknown).
func GenderName(id int) string {
	for _, g := range Genders {
		if g.ID == id {
			return g.Name
		}
	}
	return ""
}

// IDTypeName returns the name of a photo-ID type id ("" when unknown).
func IDTypeName(id int) string {
	for _, t := range IDTypes {
		if t.ID == id {
			return t.Name
		}
	}
	return ""
}

// NewBeneficiary is what a citizen registers.
type NewBeneficiary struct {
	Name          string
	BirthYear     int
	GenderID      int
	PhotoIDType   int
	PhotoIDNumber string
	Comorbidity   bool
}

// normalize checks nb against the registry and returns it cleaned: name
// trimmed, the photo-ID number upper case without spaces or dashes.
func (nb NewBeneficiary) normalize(thisYear int) (NewBeneficiary, error) {
	nb.Name = strings.Join(strings.Fields(nb.Name), " ")
	nb.PhotoIDNumber = strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, nb.PhotoIDNumber))
	bad := func(format string, args ...any) (NewBeneficiary, error) {
		return NewBeneficiary{}, fail(vax.Invalid, ReasonBadBeneficiary, format, args...)
	}
	switch {
	case nb.Name == "" || len(nb.Name) > 100:
		return bad("name must be 1..100 characters")
	case strings.IndexFunc(nb.Name, func(r rune) bool { return unicode.IsControl(r) || unicode.IsDigit(r) }) >= 0:
		return bad("name must not contain digits or control characters")
	case nb.BirthYear < thisYear-125 || nb.BirthYear > thisYear:
		return bad("birth year must be between %d and %d", thisYear-125, thisYear)
	case GenderName(nb.GenderID) == "":
		return bad("unknown gender id %d", nb.GenderID)
	case IDTypeName(nb.PhotoIDType) == "":
		return bad("unknown photo ID type %d", nb.PhotoIDType)
	case len(nb.PhotoIDNumber) < 4 || len(nb.PhotoIDNumber) > 20:
		return bad("photo ID number must be 4..20 characters")
	case strings.IndexFunc(nb.PhotoIDNumber, func(r rune) bool { return !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z') }) >= 0:
		return bad("photo ID number must be letters and digits")
	case nb.PhotoIDType == 1 && (len(nb.PhotoIDNumber) != 12 || !vax.VerhoeffValid(nb.PhotoIDNumber)):
		return bad("invalid Aadhaar number")
	}
	return nb, nil
}
