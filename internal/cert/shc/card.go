package shc

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Constants of the SMART Health Cards framework and its FHIR profile.
const (
	// CredentialType is the one required verifiable-credential type.
	CredentialType = "https://smarthealth.cards#health-card"
	// FHIRVersion is the FHIR release the bundle follows.
	FHIRVersion = "4.0.1"
	// SystemCVX is the CDC's vaccine code system (CVX).
	SystemCVX = "http://hl7.org/fhir/sid/cvx"
	// SystemSNOMED is SNOMED CT.
	SystemSNOMED = "http://snomed.info/sct"
)

// Patient is the holder of a card.
type Patient struct {
	Family    string
	Given     []string
	Text      string // the whole name, when it is not split (FHIR HumanName.text)
	BirthDate string // FHIR date: YYYY, YYYY-MM or YYYY-MM-DD
}

// Name returns the patient's name for display: the given names then the
// family name, or the whole name.
func (p Patient) Name() string {
	if p.Family == "" && len(p.Given) == 0 {
		return p.Text
	}
	return strings.TrimSpace(strings.Join(append(append([]string{}, p.Given...), p.Family), " "))
}

// Immunization is one dose given.
type Immunization struct {
	System    string // code system of Code; SystemCVX when empty
	Code      string // vaccine code, e.g. CVX "210"
	Date      vax.Date
	Performer string // the organisation that gave the dose (performer.actor.display); optional
	Lot       string // optional
}

// Card is the content of a SMART Health Card for vaccinations.
type Card struct {
	Issuer        string    // iss: the issuer's base URL, without a trailing '/'
	NotBefore     time.Time // nbf: when the card was issued
	Expires       time.Time // exp: zero for no expiry
	RevocationID  string    // vc.rid; empty: the card cannot be revoked on its own
	Patient       Patient
	Immunizations []Immunization
}

// Wire shapes. Field order follows the specification's examples, so the
// minified JSON is stable for a given card.
type payloadJSON struct {
	Iss string      `json:"iss"`
	Nbf json.Number `json:"nbf"`
	Exp json.Number `json:"exp,omitempty"`
	VC  vcJSON      `json:"vc"`
}

type vcJSON struct {
	Type              []string    `json:"type"`
	CredentialSubject subjectJSON `json:"credentialSubject"`
	Rid               string      `json:"rid,omitempty"`
}

type subjectJSON struct {
	FHIRVersion string          `json:"fhirVersion"`
	FHIRBundle  json.RawMessage `json:"fhirBundle"`
}

type bundleJSON struct {
	ResourceType string      `json:"resourceType"`
	Type         string      `json:"type"`
	Entry        []entryJSON `json:"entry"`
}

type entryJSON struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
}

type patientJSON struct {
	ResourceType string      `json:"resourceType"`
	Name         []humanName `json:"name,omitempty"`
	BirthDate    string      `json:"birthDate,omitempty"`
}

type humanName struct {
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type immunizationJSON struct {
	ResourceType       string          `json:"resourceType"`
	Status             string          `json:"status"`
	VaccineCode        codeableConcept `json:"vaccineCode"`
	Patient            reference       `json:"patient"`
	OccurrenceDateTime string          `json:"occurrenceDateTime"`
	Performer          []performer     `json:"performer,omitempty"`
	LotNumber          string          `json:"lotNumber,omitempty"`
}

type codeableConcept struct {
	Coding []coding `json:"coding"`
}

type coding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

type reference struct {
	Reference string `json:"reference"`
}

type performer struct {
	Actor struct {
		Display string `json:"display"`
	} `json:"actor"`
}

// Payload returns the minified JWS payload of c: {iss, nbf, [exp,] vc}. The
// FHIR Bundle uses the specification's minified form: fullUrl "resource:N",
// references "resource:0", no resource ids, no text or meta.
func Payload(c Card) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	entries := make([]entryJSON, 0, 1+len(c.Immunizations))
	name := humanName{Family: c.Patient.Family, Given: c.Patient.Given}
	if c.Patient.Family == "" && len(c.Patient.Given) == 0 {
		name = humanName{Text: c.Patient.Text}
	}
	p, err := json.Marshal(patientJSON{ResourceType: "Patient", Name: []humanName{name}, BirthDate: c.Patient.BirthDate})
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "cannot encode the patient")
	}
	entries = append(entries, entryJSON{FullURL: "resource:0", Resource: p})
	for i, im := range c.Immunizations {
		sys := im.System
		if sys == "" {
			sys = SystemCVX
		}
		r := immunizationJSON{
			ResourceType:       "Immunization",
			Status:             "completed",
			VaccineCode:        codeableConcept{Coding: []coding{{System: sys, Code: im.Code}}},
			Patient:            reference{Reference: "resource:0"},
			OccurrenceDateTime: im.Date.String(),
			LotNumber:          im.Lot,
		}
		if im.Performer != "" {
			var pf performer
			pf.Actor.Display = im.Performer
			r.Performer = []performer{pf}
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, vax.Wrap(vax.Internal, err, "cannot encode an immunization")
		}
		entries = append(entries, entryJSON{FullURL: "resource:" + strconv.Itoa(i+1), Resource: b})
	}
	bundle, err := json.Marshal(bundleJSON{ResourceType: "Bundle", Type: "collection", Entry: entries})
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "cannot encode the FHIR bundle")
	}
	pl := payloadJSON{
		Iss: c.Issuer,
		Nbf: json.Number(strconv.FormatInt(c.NotBefore.Unix(), 10)),
		VC: vcJSON{
			Type:              []string{CredentialType},
			CredentialSubject: subjectJSON{FHIRVersion: FHIRVersion, FHIRBundle: bundle},
			Rid:               c.RevocationID,
		},
	}
	if !c.Expires.IsZero() {
		pl.Exp = json.Number(strconv.FormatInt(c.Expires.Unix(), 10))
	}
	out, err := json.Marshal(pl)
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "cannot encode the card payload")
	}
	return out, nil
}

func (c Card) validate() error {
	switch {
	case c.Issuer == "":
		return vax.Errorf(vax.Invalid, "card: no issuer URL")
	case strings.HasSuffix(c.Issuer, "/"):
		return vax.Errorf(vax.Invalid, "card: issuer URL %q must not end with '/'", c.Issuer)
	case !strings.HasPrefix(c.Issuer, "https://") && !strings.HasPrefix(c.Issuer, "http://"):
		return vax.Errorf(vax.Invalid, "card: issuer %q is not an http(s) URL", c.Issuer)
	case c.NotBefore.IsZero():
		return vax.Errorf(vax.Invalid, "card: no issuance time (nbf)")
	case !c.Expires.IsZero() && !c.Expires.After(c.NotBefore):
		return vax.Errorf(vax.Invalid, "card: expiry %s is not after issuance %s", c.Expires.UTC().Format(time.RFC3339), c.NotBefore.UTC().Format(time.RFC3339))
	case c.Patient.Name() == "":
		return vax.Errorf(vax.Invalid, "card: the patient has no name")
	case len(c.Immunizations) == 0:
		return vax.Errorf(vax.Invalid, "card: no immunization")
	}
	if c.RevocationID != "" {
		if err := checkRID(c.RevocationID); err != nil {
			return fmt.Errorf("card: %w", err)
		}
	}
	if c.Patient.BirthDate != "" && !validPartialDate(c.Patient.BirthDate) {
		return vax.Errorf(vax.Invalid, "card: birth date %q is not YYYY, YYYY-MM or YYYY-MM-DD", c.Patient.BirthDate)
	}
	for i, im := range c.Immunizations {
		if im.Code == "" {
			return vax.Errorf(vax.Invalid, "card: immunization %d has no vaccine code", i+1)
		}
		if !im.Date.Valid() {
			return vax.Errorf(vax.Invalid, "card: immunization %d has no valid date", i+1)
		}
	}
	return nil
}

// validPartialDate reports whether s is a FHIR date: YYYY, YYYY-MM or
// YYYY-MM-DD, naming a real year, month or day.
func validPartialDate(s string) bool {
	var layout string
	switch len(s) {
	case 4:
		layout = "2006"
	case 7:
		layout = "2006-01"
	case 10:
		layout = time.DateOnly
	default:
		return false
	}
	_, err := time.Parse(layout, s)
	return err == nil
}
