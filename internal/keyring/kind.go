package keyring

import "github.com/vaxport/vaxport/internal/vax"

// Kind is the closed set of key kinds a keyring holds.
type Kind string

// The key kinds.
const (
	KindPII   Kind = "pii"   // blind indexes and encryption of personal data
	KindToken Kind = "token" // HMAC secrets for citizen and staff JWTs
	KindCert  Kind = "cert"  // ECDSA P-256 keys that sign certificates
)

// kinds lists every Kind in the order Init creates them.
var kinds = []Kind{KindPII, KindToken, KindCert}

// ParseKind parses "pii", "token" or "cert".
func ParseKind(s string) (Kind, error) {
	k := Kind(s)
	if !k.valid() {
		return "", vax.Errorf(vax.Invalid, "unknown key kind %q: want pii, token or cert", s)
	}
	return k, nil
}

func (k Kind) valid() bool {
	switch k {
	case KindPII, KindToken, KindCert:
		return true
	}
	return false
}
