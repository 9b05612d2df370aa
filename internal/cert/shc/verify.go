package shc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// ErrRevoked is in the chain of Verify's error when the card is revoked.
var ErrRevoked = errors.New("revoked")

// Verified is a card whose signature verified.
type Verified struct {
	Card
	KeyID string
}

// Verify checks a compact JWS card at time at against trust, in this order:
// form, header (alg ES256, kid, zip DEF), a trusted key with that kid, the
// signature, the raw DEFLATE payload and its content, the issuer binding of
// the key, nbf ≤ at < exp, and revocation.
//
// The error, an Invalid *vax.Error, says why the card is not valid; when the
// card is revoked, ErrRevoked is in its chain. The returned card is non-nil
// exactly when the signature verified, even if the card is then refused
// (expired, not yet valid, revoked): a verifier may show whose card it is,
// never the content of a card it could not authenticate.
func Verify(jws string, trust *Trust, at time.Time) (*Verified, error) {
	j, err := ParseJWS(jws)
	if err != nil {
		return nil, err
	}
	if err := j.CheckHeader(); err != nil {
		return nil, err
	}
	var key Key
	ok := false
	if trust != nil {
		key, ok = trust.keys[j.Header.Kid]
	}
	if !ok {
		return nil, vax.Errorf(vax.Invalid, "no trusted issuer key has kid %q", j.Header.Kid)
	}
	if err := j.VerifySignature(key.Public); err != nil {
		return nil, err
	}
	raw, err := j.Inflate()
	if err != nil {
		return nil, err
	}
	card, err := ParsePayload(raw)
	if err != nil {
		return nil, err
	}
	v := &Verified{Card: card, KeyID: key.ID}
	if key.Issuer != "" && card.Issuer != key.Issuer {
		return v, vax.Errorf(vax.Invalid, "card issuer %q is not the issuer %q its key %q is trusted for", card.Issuer, key.Issuer, key.ID)
	}
	if at.Before(card.NotBefore) {
		return v, vax.Errorf(vax.Invalid, "card is not valid before %s", card.NotBefore.UTC().Format(time.RFC3339))
	}
	if !card.Expires.IsZero() && !at.Before(card.Expires) {
		return v, vax.Errorf(vax.Invalid, "card expired at %s", card.Expires.UTC().Format(time.RFC3339))
	}
	if card.RevocationID != "" {
		crl, have := trust.crls[key.ID]
		if have && crl.revokes(card.RevocationID, unixFloat(card.NotBefore)) {
			return v, vax.Wrap(vax.Invalid, ErrRevoked, fmt.Sprintf("card is revoked (rid %s in the CRL of key %s, version %d)", card.RevocationID, key.ID, crl.Ctr))
		}
		// The issuer publishes revocations for this key (crlVersion), so a
		// card cannot be judged without a list at least that recent.
		if key.CRLVersion > 0 && (!have || crl.Ctr < key.CRLVersion) {
			got := "none"
			if have {
				got = fmt.Sprintf("version %d", crl.Ctr)
			}
			return v, vax.Errorf(vax.Invalid, "cannot check revocation: key %s has CRL version %d, the trust set has %s", key.ID, key.CRLVersion, got)
		}
	}
	return v, nil
}

func unixFloat(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

func timeFromNumber(n json.Number) (time.Time, error) {
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 253402300799 {
		return time.Time{}, vax.Errorf(vax.Invalid, "time %q is not a number of seconds since 1970", string(n))
	}
	sec, frac := math.Modf(f)
	// Round to milliseconds: the specification's examples carry 3 decimals.
	return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
}

// ParsePayload reads an inflated card payload: iss, nbf, optional exp, the
// vc with its type, rid and FHIR Bundle, and from the bundle the patient
// and the completed immunizations.
func ParsePayload(raw []byte) (Card, error) {
	var p payloadJSON
	if err := json.Unmarshal(raw, &p); err != nil {
		return Card{}, vax.Wrap(vax.Invalid, err, "card payload is not the expected JSON")
	}
	if p.Iss == "" {
		return Card{}, vax.Errorf(vax.Invalid, "card payload has no iss")
	}
	if p.Nbf == "" {
		return Card{}, vax.Errorf(vax.Invalid, "card payload has no nbf")
	}
	nbf, err := timeFromNumber(p.Nbf)
	if err != nil {
		return Card{}, fmt.Errorf("card nbf: %w", err)
	}
	c := Card{Issuer: p.Iss, NotBefore: nbf, RevocationID: p.VC.Rid}
	if p.Exp != "" {
		if c.Expires, err = timeFromNumber(p.Exp); err != nil {
			return Card{}, fmt.Errorf("card exp: %w", err)
		}
	}
	if !slices.Contains(p.VC.Type, CredentialType) {
		return Card{}, vax.Errorf(vax.Invalid, "card vc.type does not include %q", CredentialType)
	}
	if c.RevocationID != "" {
		if err := checkRID(c.RevocationID); err != nil {
			return Card{}, fmt.Errorf("card: %w", err)
		}
	}
	if !strings.HasPrefix(p.VC.CredentialSubject.FHIRVersion, "4.") {
		return Card{}, vax.Errorf(vax.Invalid, "card fhirVersion %q: want FHIR R4 (4.x)", p.VC.CredentialSubject.FHIRVersion)
	}
	var b bundleJSON
	if err := json.Unmarshal(p.VC.CredentialSubject.FHIRBundle, &b); err != nil || b.ResourceType != "Bundle" {
		return Card{}, vax.Errorf(vax.Invalid, "card credentialSubject.fhirBundle is not a FHIR Bundle")
	}
	havePatient := false
	for i, e := range b.Entry {
		var kind struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(e.Resource, &kind); err != nil {
			return Card{}, vax.Errorf(vax.Invalid, "bundle entry %d is not a FHIR resource", i)
		}
		switch kind.ResourceType {
		case "Patient":
			if havePatient {
				return Card{}, vax.Errorf(vax.Invalid, "bundle holds more than one Patient")
			}
			havePatient = true
			var pj patientJSON
			if err := json.Unmarshal(e.Resource, &pj); err != nil {
				return Card{}, vax.Errorf(vax.Invalid, "bundle entry %d: malformed Patient", i)
			}
			if len(pj.Name) > 0 {
				n := pj.Name[0]
				c.Patient = Patient{Family: n.Family, Given: n.Given, Text: n.Text}
			}
			c.Patient.BirthDate = pj.BirthDate
		case "Immunization":
			var ij immunizationJSON
			if err := json.Unmarshal(e.Resource, &ij); err != nil {
				return Card{}, vax.Errorf(vax.Invalid, "bundle entry %d: malformed Immunization", i)
			}
			if ij.Status != "completed" {
				continue // e.g. entered-in-error: not a dose given
			}
			if len(ij.VaccineCode.Coding) == 0 {
				return Card{}, vax.Errorf(vax.Invalid, "bundle entry %d: Immunization has no vaccine code", i)
			}
			cd := ij.VaccineCode.Coding[0]
			for _, alt := range ij.VaccineCode.Coding {
				if alt.System == SystemCVX {
					cd = alt
					break
				}
			}
			date, err := vax.ParseISODate(ij.OccurrenceDateTime[:min(10, len(ij.OccurrenceDateTime))])
			if err != nil {
				return Card{}, vax.Errorf(vax.Invalid, "bundle entry %d: Immunization occurrenceDateTime %q is not a date", i, ij.OccurrenceDateTime)
			}
			im := Immunization{System: cd.System, Code: cd.Code, Date: date, Lot: ij.LotNumber}
			if len(ij.Performer) > 0 {
				im.Performer = ij.Performer[0].Actor.Display
			}
			c.Immunizations = append(c.Immunizations, im)
		}
	}
	if !havePatient {
		return Card{}, vax.Errorf(vax.Invalid, "bundle holds no Patient")
	}
	return c, nil
}
