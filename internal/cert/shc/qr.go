package shc

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// QRPrefix starts the text of every SMART Health Card QR code.
const QRPrefix = "shc:/"

// MaxSingleQR is the longest JWS the specification puts in one QR code: 1195
// characters fit version 22 at error correction L in numeric mode.
const MaxSingleQR = 1195

// EncodeQR returns the numeric QR text of a JWS: "shc:/" and, for each
// character c, two digits for c − 45. A JWS longer than MaxSingleQR is
// refused: the specification deprecates chunked codes for new cards.
func EncodeQR(jws string) (string, error) {
	if len(jws) > MaxSingleQR {
		return "", vax.Errorf(vax.Invalid, "JWS of %d characters does not fit a single QR code (at most %d)", len(jws), MaxSingleQR)
	}
	var b strings.Builder
	b.Grow(len(QRPrefix) + 2*len(jws))
	b.WriteString(QRPrefix)
	for i := range len(jws) {
		c := jws[i]
		if c < '-' || c > 'z' {
			return "", vax.Errorf(vax.Invalid, "JWS character %q at %d cannot be encoded numerically", c, i)
		}
		v := c - '-'
		b.WriteByte('0' + v/10)
		b.WriteByte('0' + v%10)
	}
	return b.String(), nil
}

// DecodeQR returns the JWS in QR texts: one text "shc:/digits", or every
// chunk "shc:/i/n/digits" of a chunked card (i from 1 to n, in any order,
// each exactly once). The prefix is matched without regard to case, as QR
// readers may upper-case it.
func DecodeQR(texts ...string) (string, error) {
	if len(texts) == 0 {
		return "", vax.Errorf(vax.Invalid, "no SMART Health Card QR text")
	}
	if len(texts) == 1 {
		body, ok := cutPrefix(texts[0])
		if !ok {
			return "", vax.Errorf(vax.Invalid, "QR text does not start with %q", QRPrefix)
		}
		if !strings.Contains(body, "/") {
			return digitsToJWS(body)
		}
	}
	chunks := make([]string, len(texts))
	for _, t := range texts {
		body, ok := cutPrefix(t)
		if !ok {
			return "", vax.Errorf(vax.Invalid, "QR text does not start with %q", QRPrefix)
		}
		parts := strings.Split(body, "/")
		if len(parts) != 3 {
			return "", vax.Errorf(vax.Invalid, "chunked QR text: want shc:/INDEX/TOTAL/DIGITS")
		}
		i, err1 := strconv.Atoi(parts[0])
		n, err2 := strconv.Atoi(parts[1])
		if err1 != nil || err2 != nil || n != len(texts) || i < 1 || i > n {
			return "", vax.Errorf(vax.Invalid, "chunk %s/%s of a card given in %d chunks", parts[0], parts[1], len(texts))
		}
		if chunks[i-1] != "" {
			return "", vax.Errorf(vax.Invalid, "chunk %d given twice", i)
		}
		if parts[2] == "" {
			return "", vax.Errorf(vax.Invalid, "chunk %d is empty", i)
		}
		chunks[i-1] = parts[2]
	}
	return digitsToJWS(strings.Join(chunks, ""))
}

func cutPrefix(s string) (string, bool) {
	if len(s) < len(QRPrefix) || !strings.EqualFold(s[:len(QRPrefix)], QRPrefix) {
		return "", false
	}
	return s[len(QRPrefix):], true
}

func digitsToJWS(d string) (string, error) {
	if len(d) == 0 || len(d)%2 != 0 {
		return "", vax.Errorf(vax.Invalid, "QR digits: want a non-empty even number of digits, got %d", len(d))
	}
	if len(d)/2 > MaxJWS {
		return "", vax.Errorf(vax.Invalid, "QR text is too long")
	}
	out := make([]byte, len(d)/2)
	for i := range out {
		a, b := d[2*i], d[2*i+1]
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return "", vax.Errorf(vax.Invalid, "QR digits: %q at %d is not a digit pair", d[2*i:2*i+2], 2*i)
		}
		v := (a-'0')*10 + (b - '0')
		if v > 'z'-'-' {
			return "", vax.Errorf(vax.Invalid, "QR digits: pair %q at %d is above 77", d[2*i:2*i+2], 2*i)
		}
		out[i] = v + '-'
	}
	return string(out), nil
}

// File is a .smart-health-card file: {"verifiableCredential": [JWS, ...]}.
type File struct {
	VerifiableCredential []string `json:"verifiableCredential"`
}

// ParseFile returns the JWSs of a .smart-health-card file.
func ParseFile(data []byte) ([]string, error) {
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "not a .smart-health-card file: want {\"verifiableCredential\": [JWS, ...]}")
	}
	if len(f.VerifiableCredential) == 0 {
		return nil, vax.Errorf(vax.Invalid, ".smart-health-card file holds no credential")
	}
	return f.VerifiableCredential, nil
}
