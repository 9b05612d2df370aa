// Package base45 implements the Base45 encoding of RFC 9285, which EU
// Digital COVID Certificates use to put compressed binary data into the
// alphanumeric mode of a QR code.
//
// It owns the encoding only; it never interprets what it encodes.
package base45

import (
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// alphabet is RFC 9285 §4's table: value i is alphabet[i]. It is exactly the
// character set of a QR code's alphanumeric mode.
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// decodeTable maps a byte to its value, or -1.
var decodeTable = func() [256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = -1
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = int16(i)
	}
	return t
}()

// EncodedLen returns the length of the encoding of n bytes.
func EncodedLen(n int) int { return n/2*3 + n%2*2 }

// Encode returns the Base45 encoding of src: each pair of bytes [a, b] is
// n = a*256 + b written as three characters c, d, e with n = c + d*45 +
// e*45²; a final odd byte is written as two characters.
func Encode(src []byte) string {
	var b strings.Builder
	b.Grow(EncodedLen(len(src)))
	for i := 0; i+1 < len(src); i += 2 {
		n := int(src[i])<<8 | int(src[i+1])
		b.WriteByte(alphabet[n%45])
		b.WriteByte(alphabet[n/45%45])
		b.WriteByte(alphabet[n/2025])
	}
	if len(src)%2 == 1 {
		n := int(src[len(src)-1])
		b.WriteByte(alphabet[n%45])
		b.WriteByte(alphabet[n/45])
	}
	return b.String()
}

// Decode returns the bytes that s encodes. It fails, with an Invalid error,
// on a character outside the alphabet, on a length that leaves a single
// character over, and on a triplet or pair whose value does not fit in two
// bytes or one byte (RFC 9285 §4.2: "GGW" is 65535 + 1, "GG" is 255 + 1).
func Decode(s string) ([]byte, error) {
	if len(s)%3 == 1 {
		return nil, vax.Errorf(vax.Invalid, "base45: length %d leaves a lone character", len(s))
	}
	out := make([]byte, 0, len(s)/3*2+1)
	for i := 0; i < len(s); i += 3 {
		end := min(i+3, len(s))
		n := 0
		mul := 1
		for j := i; j < end; j++ {
			v := decodeTable[s[j]]
			if v < 0 {
				return nil, vax.Errorf(vax.Invalid, "base45: invalid character %q at %d", s[j], j)
			}
			n += int(v) * mul
			mul *= 45
		}
		if end-i == 3 {
			if n > 0xFFFF {
				return nil, vax.Errorf(vax.Invalid, "base45: triplet %q at %d exceeds 65535", s[i:end], i)
			}
			out = append(out, byte(n>>8), byte(n))
			continue
		}
		if n > 0xFF {
			return nil, vax.Errorf(vax.Invalid, "base45: pair %q at %d exceeds 255", s[i:end], i)
		}
		out = append(out, byte(n))
	}
	return out, nil
}
