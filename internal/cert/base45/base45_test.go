package base45_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/vaxport/vaxport/internal/cert/base45"
	"github.com/vaxport/vaxport/internal/vax"
)

// RFC 9285 §4.3 and §4.4 examples.
var rfcVectors = []struct{ plain, encoded string }{
	{"AB", "BB8"},
	{"Hello!!", "%69 VD92EX0"},
	{"base-45", "UJCLQE7W581"},
	{"ietf!", "QED8WEX0"},
	{"", ""},
}

func TestEncodeRFC9285(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.plain, func(t *testing.T) {
			if got := base45.Encode([]byte(v.plain)); got != v.encoded {
				t.Errorf("Encode(%q) = %q, want %q", v.plain, got, v.encoded)
			}
			if got := base45.EncodedLen(len(v.plain)); got != len(v.encoded) {
				t.Errorf("EncodedLen(%d) = %d, want %d", len(v.plain), got, len(v.encoded))
			}
		})
	}
}

func TestDecodeRFC9285(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.encoded, func(t *testing.T) {
			got, err := base45.Decode(v.encoded)
			if err != nil {
				t.Fatalf("Decode(%q): %v", v.encoded, err)
			}
			if string(got) != v.plain {
				t.Errorf("Decode(%q) = %q, want %q", v.encoded, got, v.plain)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	for _, s := range []string{
		"GGW",        // 65536: one more than two bytes hold (RFC 9285 §4.2)
		"GG",         // 256: one more than one byte holds
		"A",          // a lone character
		"QED8WEX0AB", // 10 characters: a lone one is left over
		"qed8wex0",   // lower case is outside the alphabet
		"QED8WE_0",   // '_' is outside the alphabet
		"BB8é",       // non-ASCII
		"ZZZ",        // 35+35*45+35*2025 = 72485 > 65535
	} {
		t.Run(s, func(t *testing.T) {
			got, err := base45.Decode(s)
			if err == nil {
				t.Fatalf("Decode(%q) = %q, want an error", s, got)
			}
			if !errors.Is(err, vax.ErrInvalid) {
				t.Errorf("Decode(%q) error %v, want code Invalid", s, err)
			}
		})
	}
}

func TestRoundTripAllBytes(t *testing.T) {
	src := make([]byte, 0, 513)
	for i := range 256 {
		src = append(src, byte(i), byte(255-i))
	}
	src = append(src, 0xFF) // odd length
	for n := range len(src) + 1 {
		enc := base45.Encode(src[:n])
		got, err := base45.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(%d bytes)): %v", n, err)
		}
		if !bytes.Equal(got, src[:n]) {
			t.Fatalf("round trip of %d bytes: got %x, want %x", n, got, src[:n])
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range rfcVectors {
		f.Add(v.encoded)
	}
	f.Add("GGW")
	f.Add("6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0B3KL6QM5/OVGA/MAT%ZSP")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := base45.Decode(s)
		if err != nil {
			return
		}
		// Every valid encoding is canonical: re-encoding gives it back.
		if got := base45.Encode(b); got != s {
			t.Fatalf("Encode(Decode(%q)) = %q", s, got)
		}
	})
}
