package certificates

import (
	"crypto/ecdsa"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/cert/pdf"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/vax"
)

// Issued is a certificate with its signed forms.
type Issued struct {
	Certificate vax.Certificate
	SHC         string // SMART Health Card QR text, "shc:/…"
	JWS         string // the SMART Health Card itself (a compact JWS)
	DCC         string // EU DCC QR text, "HC1:…"
	KeyID       string // the SHC kid that signed it
	SignedAt    time.Time
}

// What the certificates say about their issuer.
const (
	// Country is where the doses were given (DCC co) and the DCC issuing
	// country (CWT iss).
	Country = issuer.Country
	// Authority is the certificate issuer a DCC and the PDF name (DCC is:
	// at most 80 characters).
	Authority = "Ministry of Health and Family Welfare, Government of India"
)

// dccValidity is how long a signed DCC is valid (its CWT exp): a verifier
// wants a recent signature, and For signs again on demand.
const dccValidity = 365 * 24 * time.Hour

// resignAfter is how long a cached signature is served before For signs
// again, so a served DCC always has most of its validity left.
const resignAfter = 24 * time.Hour

func (s *Service) fresh(is Issued) bool { return s.clock.Now().Sub(is.SignedAt) < resignAfter }

// sign renders and signs f's certificate with the active key kid of m, and
// caches the result.
func (s *Service) sign(m *issuer.Material, kid string, f facts) (Issued, error) {
	priv, _, ok := s.keys.CertPrivateKey(kid)
	if !ok {
		return Issued{}, vax.Errorf(vax.Internal, "certificates: the published key %s is not in the keyring", kid)
	}
	signer := m.Signers[0]
	if pub, ok := signer.Certificate().PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) {
		return Issued{}, vax.Errorf(vax.Internal, "certificates: the active DCC signer is not key %s", kid)
	}
	family, given := splitName(f.ben.Name)
	card := shc.Card{
		Issuer: m.Issuer, NotBefore: f.cert.IssuedAt, RevocationID: s.rid(f.cert.ID),
		Patient: shc.Patient{Family: family, Given: nonEmpty(given), BirthDate: fmt.Sprintf("%04d", f.ben.BirthYear)},
	}
	for _, d := range f.doses {
		v, ok := vaccineNamed(f.vaccines, d.Vaccine)
		if !ok {
			return Issued{}, vax.Errorf(vax.Internal, "certificate %s: dose of unknown vaccine %q", f.cert.ID, d.Vaccine)
		}
		code, err := shc.CVX(v)
		if err != nil {
			return Issued{}, fmt.Errorf("certificate %s: %w", f.cert.ID, err)
		}
		card.Immunizations = append(card.Immunizations, shc.Immunization{System: shc.SystemCVX, Code: code,
			Date: vax.DateOf(d.AdministeredAt, s.loc), Performer: f.centres[d.CentreID].Name, Lot: d.Lot})
	}
	jws, err := shc.Sign(card, kid, priv)
	if err != nil {
		return Issued{}, fmt.Errorf("certificate %s: %w", f.cert.ID, err)
	}
	shcText, err := shc.EncodeQR(jws)
	if err != nil {
		return Issued{}, fmt.Errorf("certificate %s: %w", f.cert.ID, err)
	}

	last := f.doses[len(f.doses)-1]
	v, _ := vaccineNamed(f.vaccines, last.Vaccine) // checked above
	uvci, err := UVCI(f.cert.ID)
	if err != nil {
		return Issued{}, fmt.Errorf("certificate %s: %w", f.cert.ID, err)
	}
	entry, err := dcc.NewVaccination(v, last.Dose, max(v.Doses, last.Dose), vax.DateOf(last.AdministeredAt, s.loc),
		Country, Authority, uvci)
	if err != nil {
		return Issued{}, fmt.Errorf("certificate %s: %w", f.cert.ID, err)
	}
	name, err := dcc.NewName(family, given)
	if err != nil {
		return Issued{}, fmt.Errorf("certificate %s: %w", f.cert.ID, err)
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	iat, exp := now, now.Add(dccValidity)
	if nb := signer.Certificate().NotBefore; iat.Before(nb) {
		iat = nb.UTC() // a key created moments ago, on a node whose clock is behind
	}
	if na := signer.Certificate().NotAfter; exp.After(na) {
		exp = na.UTC() // Sign refuses once that leaves nothing: rotate the key
	}
	dccText, err := signer.Sign(dcc.Certificate{Name: name, DateOfBirth: fmt.Sprintf("%04d", f.ben.BirthYear),
		Vaccinations: []dcc.Vaccination{entry}}, Country, iat, exp)
	if err != nil {
		return Issued{}, fmt.Errorf("certificate %s: %w", f.cert.ID, err)
	}
	is := Issued{Certificate: f.cert, SHC: shcText, JWS: jws, DCC: dccText, KeyID: kid, SignedAt: s.clock.Now()}
	s.signed.put(f.cert.ID+"|"+kid, is)
	return is, nil
}

// render draws the PDF of f's certificate signed as is.
func (s *Service) render(f facts, is Issued) ([]byte, error) {
	c := pdf.Certificate{
		Reference: f.ben.Ref, Name: f.ben.Name, BirthYear: f.ben.BirthYear,
		IDType: booking.IDTypeName(f.ben.PhotoIDType), MaskedID: "XXXXXXXX" + f.ben.PhotoIDLast4,
		Issuer: Authority, Issued: f.cert.IssuedAt, VerifyURL: s.verifyURL, SHC: is.SHC, DCC: is.DCC,
	}
	for _, d := range f.doses {
		v, _ := vaccineNamed(f.vaccines, d.Vaccine)
		c.Doses = append(c.Doses, pdf.Dose{Vaccine: d.Vaccine, Dose: d.Dose, Of: max(v.Doses, d.Dose),
			Date: vax.DateOf(d.AdministeredAt, s.loc), Batch: d.Lot})
	}
	c.Centre = f.centres[f.doses[len(f.doses)-1].CentreID].Name
	doc, err := pdf.Render(c)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", f.cert.ID, err)
	}
	return doc, nil
}

// splitName splits a name as registered into a family name (its last word)
// and given names (the rest). Co-WIN registers one free-text name; the last
// word is the family name for most, and a one-word name is all family.
func splitName(name string) (family, given string) {
	words := strings.Fields(name)
	if len(words) == 0 {
		return "", ""
	}
	return words[len(words)-1], strings.Join(words[:len(words)-1], " ")
}

func nonEmpty(given string) []string {
	if given == "" {
		return nil
	}
	return strings.Fields(given)
}

// ridLabel keys revocation ids apart from every other keyed hash.
const ridLabel = "cert rid v1|"

// rid returns the revocation id a card of certificate id carries: the first
// 8 bytes of the keyed hash of the id under the active pii key, base64url
// (11 characters). Keyed, so a rid in a public revocation list cannot be
// linked to a certificate id (which the DCC's UVCI shows) by anyone without
// the keyring.
func (s *Service) rid(id string) string {
	return base64.RawURLEncoding.EncodeToString(s.keys.Hash(ridLabel + strings.ToLower(id)).Sum[:8])
}

// rids returns the revocation ids of certificate id under every pii key: a
// card signed before a pii key rotation carries the rid of the key then
// active.
func (s *Service) rids(id string) []string {
	hs := s.keys.Hashes(ridLabel + strings.ToLower(id))
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.RawURLEncoding.EncodeToString(h.Sum[:8])
	}
	return out
}

// UVCI returns the DCC unique certificate identifier of certificate id:
// "URN:UVCI:01:IN:" and the id's 32 hex digits, upper case, with its check
// character.
func UVCI(id string) (string, error) {
	return dcc.NewUVCI(Country, strings.ToUpper(strings.ReplaceAll(id, "-", "")))
}
