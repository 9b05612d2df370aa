package dcc

import (
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// uvciCharset is the alphabet of the UVCI checksum (eHealth Network
// guidelines on verifiable vaccination certificates, Annex 2, and the DCC
// schema FAQ "UVCI checksum"): Luhn mod N with N = 38 over the whole
// identifier, "URN:UVCI:" included.
const uvciCharset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"

// UVCIChecksum returns the Luhn mod 38 check character of s (upper case,
// characters of the UVCI alphabet only).
func UVCIChecksum(s string) (byte, error) {
	n := len(uvciCharset)
	factor, sum := 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		cp := strings.IndexByte(uvciCharset, s[i])
		if cp < 0 {
			return 0, vax.Errorf(vax.Invalid, "UVCI character %q is outside A–Z, 0–9, '/' and ':'", s[i])
		}
		addend := factor * cp
		if factor == 2 {
			factor = 1
		} else {
			factor = 2
		}
		sum += addend/n + addend%n
	}
	return uvciCharset[(n-sum%n)%n], nil
}

// NewUVCI returns the unique certificate identifier
// "URN:UVCI:01:<country>:<opaque>#<checksum>" (version 01, schema option 3:
// an opaque unique string). opaque is upper-case A–Z, 0–9 and '/', such as
// a base32 certificate id; the result is at most 80 characters.
func NewUVCI(country, opaque string) (string, error) {
	if len(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z' {
		return "", vax.Errorf(vax.Invalid, "UVCI country %q: want two upper-case letters", country)
	}
	if opaque == "" || strings.ContainsRune(opaque, ':') {
		return "", vax.Errorf(vax.Invalid, "UVCI opaque part %q: want A–Z, 0–9 and '/'", opaque)
	}
	body := "URN:UVCI:01:" + country + ":" + opaque
	sum, err := UVCIChecksum(body)
	if err != nil {
		return "", err
	}
	id := body + "#" + string(sum)
	if len(id) > 80 {
		return "", vax.Errorf(vax.Invalid, "UVCI %q is longer than 80 characters", id)
	}
	return id, nil
}

// CheckUVCI checks an identifier NewUVCI would write: the "URN:UVCI:01:"
// form with a correct checksum.
func CheckUVCI(id string) error {
	body, sum, ok := strings.Cut(id, "#")
	if !ok || len(sum) != 1 || !strings.HasPrefix(body, "URN:UVCI:01:") || len(id) > 80 {
		return vax.Errorf(vax.Invalid, "UVCI %q: want URN:UVCI:01:CC:OPAQUE#C", id)
	}
	want, err := UVCIChecksum(body)
	if err != nil {
		return err
	}
	if sum[0] != want {
		return vax.Errorf(vax.Invalid, "UVCI %q: checksum %q, want %q", id, sum, want)
	}
	return nil
}
