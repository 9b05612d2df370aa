package vax

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
)

// Verhoeff tables (dihedral group D5), as used by Aadhaar: the check digit
// catches every single-digit error and every adjacent transposition.
var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	verhoeffInv = [10]byte{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// VerhoeffDigit returns the check digit to append to the decimal string
// digits. It panics if digits holds a non-digit.
func VerhoeffDigit(digits string) byte {
	var c byte
	for i := range len(digits) {
		ch := digits[len(digits)-1-i]
		if ch < '0' || ch > '9' {
			panic("vax: VerhoeffDigit of a non-digit")
		}
		c = verhoeffD[c][verhoeffP[(i+1)%8][ch-'0']]
	}
	return '0' + verhoeffInv[c]
}

// VerhoeffValid reports whether s is all digits and its last digit is the
// Verhoeff check digit of the rest.
func VerhoeffValid(s string) bool {
	if len(s) < 2 {
		return false
	}
	var c byte
	for i := range len(s) {
		ch := s[len(s)-1-i]
		if ch < '0' || ch > '9' {
			return false
		}
		c = verhoeffD[c][verhoeffP[i%8][ch-'0']]
	}
	return c == 0
}

// RefLen is the length of a beneficiary reference id.
const RefLen = 14

// NewBeneficiaryRef returns a random 14-digit beneficiary reference id whose
// last digit is a Verhoeff check digit. The first digit is never 0, so the id
// survives a client that parses it as a number.
func NewBeneficiaryRef(random io.Reader) (string, error) {
	// 1e12 ≤ n < 1e13: exactly 13 digits, leading digit non-zero.
	n, err := rand.Int(random, big.NewInt(9_000_000_000_000))
	if err != nil {
		return "", fmt.Errorf("beneficiary reference: %w", err)
	}
	body := fmt.Sprintf("%013d", n.Int64()+1_000_000_000_000)
	return body + string(VerhoeffDigit(body)), nil
}

// ValidBeneficiaryRef checks a beneficiary reference id's shape and check
// digit, so a typo is refused before any lookup.
func ValidBeneficiaryRef(ref string) error {
	if len(ref) != RefLen || !VerhoeffValid(ref) {
		return Errorf(Invalid, "invalid beneficiary reference id: want %d digits with a valid check digit", RefLen)
	}
	return nil
}

// NewUUID returns a random (version 4) UUID in its canonical text form.
func NewUUID(random io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("uuid: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return FormatUUID(b), nil
}

// FormatUUID formats 16 bytes as a canonical lower-case UUID.
func FormatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ValidUUID reports whether s is a canonical lower- or upper-case UUID.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
