package keyring

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// TokenKey returns the active token key: its kid (for the JWT header) and a
// copy of its 32-byte HMAC secret.
func (k *Keyring) TokenKey() (kid string, secret []byte) {
	key := k.st.Load().active[KindToken]
	return key.id, bytes.Clone(key.secret)
}

// TokenKeyByID returns a copy of the secret of token key kid, active or not,
// to verify a JWT signed before a rotation.
func (k *Keyring) TokenKeyByID(kid string) ([]byte, bool) {
	key := k.st.Load().byID[kid]
	if key == nil || key.kind != KindToken {
		return nil, false
	}
	return bytes.Clone(key.secret), true
}

// CertKey describes a certificate signing key by its public half.
type CertKey struct {
	ID      string // RFC 7638 JWK thumbprint of Public
	Public  *ecdsa.PublicKey
	Created time.Time
	Active  bool
}

// CertKey returns the active certificate key: its kid (the RFC 7638
// thumbprint) and its P-256 private key, to sign with. The private key must
// never be logged or served.
func (k *Keyring) CertKey() (kid string, key *ecdsa.PrivateKey) {
	c := k.st.Load().active[KindCert]
	return c.id, c.priv
}

// CertPrivateKey returns the private key and creation time of certificate
// key kid, active or not: to build the DCC signer certificate of every key
// a deployment publishes. The private key must never be logged or served.
func (k *Keyring) CertPrivateKey(kid string) (*ecdsa.PrivateKey, time.Time, bool) {
	c := k.st.Load().byID[kid]
	if c == nil || c.kind != KindCert {
		return nil, time.Time{}, false
	}
	return c.priv, c.created, true
}

// CertKeys returns every certificate key, active first and then newest to
// oldest, for verification and for publishing a key set.
func (k *Keyring) CertKeys() []CertKey {
	st := k.st.Load()
	keys := st.newest(KindCert)
	out := make([]CertKey, len(keys))
	for i, c := range keys {
		out[i] = CertKey{ID: c.id, Public: &c.priv.PublicKey, Created: c.created, Active: i == 0}
	}
	return out
}

// Thumbprint returns the RFC 7638 JWK thumbprint of a P-256 public key: the
// unpadded base64url SHA-256 of its canonical JWK
// {"crv":"P-256","kty":"EC","x":…,"y":…}. SMART Health Cards use it as kid.
func Thumbprint(pub *ecdsa.PublicKey) (string, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return "", vax.Errorf(vax.Invalid, "thumbprint: not a P-256 public key")
	}
	point, err := pub.Bytes() // 0x04 || x || y, each 32 bytes big-endian
	if err != nil {
		return "", vax.Wrap(vax.Invalid, err, "thumbprint: invalid public key")
	}
	x := base64.RawURLEncoding.EncodeToString(point[1:33])
	y := base64.RawURLEncoding.EncodeToString(point[33:65])
	// Members in lexicographic order, no whitespace (RFC 7638 §3.2). The
	// values are base64url, so they need no JSON escaping.
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// newCertKey draws a P-256 private key from random by rejection sampling
// (FIPS 186-5 A.2.2): a 32-byte candidate is kept if it is a valid scalar
// (non-zero, below the group order), which fails with probability about
// 2^-32. Unlike ecdsa.GenerateKey, which ignores its reader since Go 1.26,
// this honours the injected random source.
func newCertKey(random io.Reader) (*ecdsa.PrivateKey, error) {
	var buf [32]byte
	defer clear(buf[:])
	for range 64 {
		if _, err := io.ReadFull(random, buf[:]); err != nil {
			return nil, vax.Wrap(vax.Internal, err, "cannot read random bytes for a cert key")
		}
		if priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), buf[:]); err == nil {
			return priv, nil
		}
	}
	return nil, vax.Errorf(vax.Internal, "cannot draw a P-256 key: the random source gives no valid scalar")
}
