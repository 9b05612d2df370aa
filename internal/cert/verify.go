package cert

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/cert/qr"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/vax"
)

// MaxInput bounds what Verify reads (8 MiB: a photographed QR code as PNG).
const MaxInput = 8 << 20

// Verify checks the certificate in input at time at against trust. input
// is a QR text ("shc:/…", chunked SHC texts one per line, or "HC1:…"), a
// compact SHC JWS, a .smart-health-card file, or a PNG image of a QR code.
// A single trailing newline is allowed; other trailing characters are not.
func Verify(input []byte, trust *Trust, at time.Time) Result {
	res := verify(input, trust, at)
	if res.Doses == nil {
		res.Doses = []Dose{}
	}
	return res
}

func verify(input []byte, trust *Trust, at time.Time) Result {
	if len(input) > MaxInput {
		return Result{Reason: "input is too large"}
	}
	if qr.IsPNG(input) {
		text, err := qr.DecodePNG(input)
		if err != nil {
			return Result{Reason: vax.ErrorMessage(err)}
		}
		input = []byte(text)
	}
	text := string(input)
	if s, ok := strings.CutSuffix(text, "\n"); ok {
		text = strings.TrimSuffix(s, "\r")
	}
	if trust.Empty() {
		return Result{Format: detect(text), Reason: "no trust: load a trust file (a JWKS, signer certificates or a vaxport trust bundle)"}
	}
	switch detect(text) {
	case FormatDCC:
		return verifyDCC(text, trust, at)
	case FormatSHC:
		jws, err := shcJWS(text)
		if err != nil {
			return Result{Format: FormatSHC, Reason: vax.ErrorMessage(err)}
		}
		return verifySHC(jws, trust, at)
	}
	return Result{Reason: "not a certificate: want a QR text (shc:/… or HC1:…), a SMART Health Card JWS or file, or a PNG image of a QR code"}
}

// detect names the format of a text by its shape.
func detect(text string) Format {
	switch {
	case len(text) >= 5 && strings.EqualFold(text[:5], shc.QRPrefix):
		return FormatSHC
	case strings.HasPrefix(text, "{"):
		return FormatSHC
	case strings.Count(text, ".") == 2 && !strings.ContainsAny(text, ":{"):
		return FormatSHC
	case len(text) >= 4 && text[3] == ':' && isUpperAlnum(text[:3]):
		return FormatDCC // "HC1:"; other HCERT contexts are refused by dcc.Unprefix
	}
	return ""
}

func isUpperAlnum(s string) bool {
	for i := range len(s) {
		if !(s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

// shcJWS extracts the JWS from an SHC input: QR text(s), a file, or a JWS.
func shcJWS(text string) (string, error) {
	switch {
	case strings.HasPrefix(text, "{"):
		jwss, err := shc.ParseFile([]byte(text))
		if err != nil {
			return "", err
		}
		if len(jwss) != 1 {
			return "", vax.Errorf(vax.Invalid, "the file holds %d cards: verify one at a time", len(jwss))
		}
		return jwss[0], nil
	case strings.Contains(text, "."):
		return text, nil
	}
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	return shc.DecodeQR(lines...)
}

func verifySHC(jws string, trust *Trust, at time.Time) Result {
	res := Result{Format: FormatSHC, Valid: true}
	v, err := shc.Verify(jws, &trust.SHC, at)
	if err != nil {
		res.Valid = false
		res.Reason = vax.ErrorMessage(err)
		res.Revoked = errors.Is(err, shc.ErrRevoked)
	}
	if v == nil {
		return res
	}
	res.Issuer, res.KeyID = v.Issuer, v.KeyID
	res.Holder = &Holder{Name: v.Patient.Name(), BirthDate: v.Patient.BirthDate}
	ims := slices.Clone(v.Immunizations)
	slices.SortStableFunc(ims, func(a, b shc.Immunization) int { return compareDates(a.Date, b.Date) })
	for i, im := range ims {
		res.Doses = append(res.Doses, Dose{
			Vaccine: shc.DisplayName(im.System, im.Code),
			Dose:    i + 1,
			Date:    im.Date.String(),
			Issuer:  im.Performer,
		})
	}
	return res
}

func compareDates(a, b vax.Date) int {
	switch {
	case a == b:
		return 0
	case a.Year != b.Year:
		return a.Year - b.Year
	case a.Month != b.Month:
		return int(a.Month) - int(b.Month)
	}
	return a.Day - b.Day
}

func verifyDCC(text string, trust *Trust, at time.Time) Result {
	res := Result{Format: FormatDCC, Valid: true}
	v, err := dcc.Verify(text, &trust.DCC, at)
	if err != nil {
		res.Valid = false
		res.Reason = vax.ErrorMessage(err)
	}
	if v == nil {
		return res
	}
	res.Issuer, res.KeyID = v.Issuer, base64.StdEncoding.EncodeToString(v.KID)
	c := v.Certificate
	res.Holder = &Holder{Name: c.Name.String(), BirthDate: c.DateOfBirth}
	for _, e := range c.Vaccinations {
		res.Doses = append(res.Doses, Dose{
			Vaccine: dcc.ProductName(e.Product),
			Dose:    e.Dose,
			Of:      e.Doses,
			Date:    e.Date,
			Country: e.Country,
			Issuer:  e.Issuer,
		})
	}
	return res
}
