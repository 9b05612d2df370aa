package vax_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/vaxport/vaxport/internal/vax"
)

func TestVerhoeff(t *testing.T) {
	// Known values: 236 → 3 (the textbook example), 12345 → 1, and an
	// Aadhaar-style 11-digit body.
	tests := []struct {
		body string
		want byte
	}{
		{"236", '3'},
		{"12345", '1'},
		{"0", '4'},
		{"142857", '0'},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			if got := vax.VerhoeffDigit(tt.body); got != tt.want {
				t.Errorf("VerhoeffDigit(%q) = %c, want %c", tt.body, got, tt.want)
			}
			if !vax.VerhoeffValid(tt.body + string(tt.want)) {
				t.Errorf("VerhoeffValid(%q) = false", tt.body+string(tt.want))
			}
		})
	}
}

func TestVerhoeffCatchesTypos(t *testing.T) {
	ref, err := vax.NewBeneficiaryRef(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := vax.ValidBeneficiaryRef(ref); err != nil {
		t.Fatalf("fresh ref %s invalid: %v", ref, err)
	}
	b := []byte(ref)
	// Every single-digit substitution is caught.
	for i := range b {
		orig := b[i]
		for d := byte('0'); d <= '9'; d++ {
			if d == orig {
				continue
			}
			b[i] = d
			if vax.VerhoeffValid(string(b)) {
				t.Errorf("substitution at %d (%s) not caught", i, b)
			}
		}
		b[i] = orig
	}
	// Every adjacent transposition of distinct digits is caught.
	for i := 0; i+1 < len(b); i++ {
		if b[i] == b[i+1] {
			continue
		}
		b[i], b[i+1] = b[i+1], b[i]
		if vax.VerhoeffValid(string(b)) {
			t.Errorf("transposition at %d (%s) not caught", i, b)
		}
		b[i], b[i+1] = b[i+1], b[i]
	}
}

func TestNewBeneficiaryRef(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		ref, err := vax.NewBeneficiaryRef(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(ref) != vax.RefLen || ref[0] == '0' {
			t.Fatalf("ref %q: want %d digits, no leading zero", ref, vax.RefLen)
		}
		if seen[ref] {
			t.Fatalf("duplicate ref %s", ref)
		}
		seen[ref] = true
	}
	for _, bad := range []string{"", "123", "1234567890123a", strings.Repeat("1", 15)} {
		if err := vax.ValidBeneficiaryRef(bad); vax.ErrorCode(err) != vax.Invalid {
			t.Errorf("ValidBeneficiaryRef(%q) = %v, want Invalid", bad, err)
		}
	}
}

func TestUUID(t *testing.T) {
	id, err := vax.NewUUID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !vax.ValidUUID(id) || id[14] != '4' || !strings.ContainsAny(id[19:20], "89ab") {
		t.Errorf("NewUUID = %q, want a canonical v4 UUID", id)
	}
	for _, bad := range []string{"", "9ec9f4a1-09d0-435f-a75e-3bf3952e7d1", "9ec9f4a1x09d0-435f-a75e-3bf3952e7d1b", "9ec9f4a1-09d0-435f-a75e-3bf3952e7d1g"} {
		if vax.ValidUUID(bad) {
			t.Errorf("ValidUUID(%q) = true", bad)
		}
	}
	if !vax.ValidUUID("9ec9f4a1-09d0-435f-a75e-3bf3952e7d1b") {
		t.Error("ValidUUID rejects Co-WIN's example session id")
	}
}
