package dcc

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/vaxport/vaxport/internal/vax"
)

// Version is the schema version vaxport writes in "ver".
const Version = "1.3.0"

// TargetCOVID19 is the disease-agent-targeted code for COVID-19 (SNOMED CT).
const TargetCOVID19 = "840539006"

// Name is the holder's name: as written, and standardised (ICAO 9303
// transliteration: A–Z and '<').
type Name struct {
	Family    string `json:"fn,omitempty"`
	FamilyStd string `json:"fnt,omitempty"`
	Given     string `json:"gn,omitempty"`
	GivenStd  string `json:"gnt,omitempty"`
}

// String returns the name for display: given then family, as written, or
// else standardised.
func (n Name) String() string {
	g, f := n.Given, n.Family
	if g == "" && f == "" {
		g, f = strings.ReplaceAll(n.GivenStd, "<", " "), strings.ReplaceAll(n.FamilyStd, "<", " ")
	}
	return strings.TrimSpace(g + " " + f)
}

// Vaccination is one entry of the vaccination group "v".
type Vaccination struct {
	Target       string // tg: disease or agent targeted
	Prophylaxis  string // vp: vaccine-prophylaxis value set
	Product      string // mp: vaccine-medicinal-product value set
	Manufacturer string // ma: vaccine-mah-manf value set
	Dose         int    // dn: dose number
	Doses        int    // sd: total doses in the series
	Date         string // dt: date of vaccination, YYYY-MM-DD
	Country      string // co: country of vaccination, ISO 3166-1 alpha-2
	Issuer       string // is: certificate issuer (at most 80 characters)
	ID           string // ci: UVCI
}

// Certificate is the content of a DCC. vaxport issues vaccination
// certificates; a verified foreign test or recovery certificate shows its
// group sizes only.
type Certificate struct {
	Version      string
	Name         Name
	DateOfBirth  string // YYYY, YYYY-MM or YYYY-MM-DD, or empty
	Vaccinations []Vaccination
	Tests        int // entries in the test group "t"
	Recoveries   int // entries in the recovery group "r"
}

// Kind returns the certificate type: 'v' vaccination, 't' test, 'r'
// recovery, or 0 when it is not exactly one of them.
func (c Certificate) Kind() byte {
	var k byte
	n := 0
	if len(c.Vaccinations) > 0 {
		k, n = 'v', n+1
	}
	if c.Tests > 0 {
		k, n = 't', n+1
	}
	if c.Recoveries > 0 {
		k, n = 'r', n+1
	}
	if n != 1 {
		return 0
	}
	return k
}

// NewName builds a Name from a family and a given name as written,
// standardising each (see Transliterate). At least one must be present.
func NewName(family, given string) (Name, error) {
	n := Name{Family: strings.TrimSpace(family), Given: strings.TrimSpace(given)}
	if n.Family == "" && n.Given == "" {
		return Name{}, vax.Errorf(vax.Invalid, "DCC name: no family or given name")
	}
	var err error
	if n.FamilyStd, err = Transliterate(n.Family); err != nil {
		return Name{}, fmt.Errorf("DCC family name: %w", err)
	}
	if n.GivenStd, err = Transliterate(n.Given); err != nil {
		return Name{}, fmt.Errorf("DCC given name: %w", err)
	}
	if len(n.Family) > 80 || len(n.Given) > 80 || len(n.FamilyStd) > 80 || len(n.GivenStd) > 80 {
		return Name{}, vax.Errorf(vax.Invalid, "DCC name: longer than 80 characters")
	}
	return n, nil
}

// icao maps Latin letters with diacritics to their ICAO 9303 (Part 3,
// section 6) transliteration. Letters A–Z map to themselves.
var icao = map[rune]string{
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A", 'Ä': "AE", 'Å': "AA", 'Æ': "AE",
	'Ç': "C", 'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E", 'Ì': "I", 'Í': "I",
	'Î': "I", 'Ï': "I", 'Ð': "D", 'Ñ': "N", 'Ò': "O", 'Ó': "O", 'Ô': "O",
	'Õ': "O", 'Ö': "OE", 'Ø': "OE", 'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "UE",
	'Ý': "Y", 'Þ': "TH", 'ß': "SS", 'Ÿ': "Y",
	'Ā': "A", 'Ă': "A", 'Ą': "A", 'Ć': "C", 'Ĉ': "C", 'Ċ': "C", 'Č': "C",
	'Ď': "D", 'Đ': "D", 'Ē': "E", 'Ĕ': "E", 'Ė': "E", 'Ę': "E", 'Ě': "E",
	'Ĝ': "G", 'Ğ': "G", 'Ġ': "G", 'Ģ': "G", 'Ĥ': "H", 'Ħ': "H", 'Ĩ': "I",
	'Ī': "I", 'Ĭ': "I", 'Į': "I", 'İ': "I", 'Ĳ': "IJ", 'Ĵ': "J",
	'Ķ': "K", 'Ĺ': "L", 'Ļ': "L", 'Ľ': "L", 'Ŀ': "L", 'Ł': "L", 'Ń': "N",
	'Ņ': "N", 'Ň': "N", 'Ŋ': "N", 'Ō': "O", 'Ŏ': "O", 'Ő': "O", 'Œ': "OE",
	'Ŕ': "R", 'Ŗ': "R", 'Ř': "R", 'Ś': "S", 'Ŝ': "S", 'Ş': "S", 'Š': "S",
	'Ţ': "T", 'Ť': "T", 'Ŧ': "T", 'Ũ': "U", 'Ū': "U", 'Ŭ': "U", 'Ů': "U",
	'Ű': "U", 'Ų': "U", 'Ŵ': "W", 'Ŷ': "Y", 'Ź': "Z", 'Ż': "Z", 'Ž': "Z",
}

// Transliterate returns s standardised as ICAO 9303 machine-readable zone
// text: upper case A–Z, Latin diacritics transliterated (Ä → AE, Č → C),
// spaces, hyphens, commas and other separators as the filler '<', and
// apostrophes and full stops dropped ("d'Červenková Panklová" →
// "DCERVENKOVA<PANKLOVA"). Letters of other scripts are refused: a name in
// another script needs its Latin spelling from the holder's documents.
func Transliterate(s string) (string, error) {
	var b strings.Builder
	pendingFiller := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '\'' || r == '’' || r == '.':
			continue
		case unicode.IsSpace(r) || r == '-' || r == ',' || r == '<' || r == '‐':
			pendingFiller = b.Len() > 0
			continue
		}
		u := unicode.ToUpper(r)
		var t string
		switch {
		case u >= 'A' && u <= 'Z':
			t = string(u)
		case icao[u] != "":
			t = icao[u]
		default:
			return "", vax.Errorf(vax.Invalid, "cannot transliterate %q in %q to ICAO 9303 Latin letters", r, s)
		}
		if pendingFiller {
			b.WriteByte('<')
			pendingFiller = false
		}
		b.WriteString(t)
	}
	return b.String(), nil
}

// NewVaccination builds the vaccination entry for dose dose of a series of
// of doses of vaccine v given on date in country, with the issuer's name
// and the certificate's UVCI. The vaccine's DCC codes must be active codes
// of the EU value sets.
func NewVaccination(v vax.Vaccine, dose, of int, date vax.Date, country, issuer, uvci string) (Vaccination, error) {
	switch {
	case dose < 1 || of < 1:
		return Vaccination{}, vax.Errorf(vax.Invalid, "DCC vaccination: dose %d of %d: want positive numbers", dose, of)
	case !date.Valid():
		return Vaccination{}, vax.Errorf(vax.Invalid, "DCC vaccination: invalid date")
	case issuer == "" || len(issuer) > 80:
		return Vaccination{}, vax.Errorf(vax.Invalid, "DCC vaccination: issuer must have 1 to 80 characters")
	}
	if _, ok := CountryName(country); !ok {
		return Vaccination{}, vax.Errorf(vax.Invalid, "DCC vaccination: %q is not a country of the value set", country)
	}
	if err := CheckUVCI(uvci); err != nil {
		return Vaccination{}, fmt.Errorf("DCC vaccination: %w", err)
	}
	for _, c := range []struct{ set, code string }{
		{setProduct, v.DCCProduct}, {setManufacturer, v.DCCManufacturer}, {setProphylaxis, v.DCCProphylaxis},
	} {
		if !activeCode(c.set, c.code) {
			return Vaccination{}, vax.Errorf(vax.Invalid, "DCC vaccination: vaccine %q: %q is not an active code of %s", v.Name, c.code, c.set)
		}
	}
	return Vaccination{
		Target: TargetCOVID19, Prophylaxis: v.DCCProphylaxis, Product: v.DCCProduct, Manufacturer: v.DCCManufacturer,
		Dose: dose, Doses: of, Date: date.String(), Country: country, Issuer: issuer, ID: uvci,
	}, nil
}
