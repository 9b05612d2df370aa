package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// sealVersion is the first byte of sealed data.
const sealVersion = 1

// Hash is a blind index: HMAC-SHA256 of a value under the pii key KeyID.
// Equal values give equal hashes under the same key, so stores look values up
// and enforce uniqueness by hash without holding the value.
type Hash struct {
	KeyID string
	Sum   []byte // 32 bytes
}

// String formats h as "kid:base64url(sum)" (no padding), the form stores keep.
func (h Hash) String() string {
	return h.KeyID + ":" + base64.RawURLEncoding.EncodeToString(h.Sum)
}

// ParseHash parses the String form of a Hash. It checks the form only, not
// that the kid is in any keyring.
func ParseHash(s string) (Hash, error) {
	kid, sum, ok := strings.Cut(s, ":")
	if !ok || !validKID(KindPII, kid) {
		return Hash{}, vax.Errorf(vax.Invalid, "invalid hash: want pii key id, \":\" and base64url sum")
	}
	b, ok := decodeB64URL(sum)
	if !ok || len(b) != sha256.Size {
		return Hash{}, vax.Errorf(vax.Invalid, "invalid hash: the sum is not %d bytes of unpadded base64url", sha256.Size)
	}
	return Hash{KeyID: kid, Sum: b}, nil
}

// Hash returns the blind index of value under the active pii key. Callers
// that hash several kinds of value (mobile numbers, ID numbers) and must keep
// them apart put a field prefix in value.
func (k *Keyring) Hash(value string) Hash {
	return hashWith(k.st.Load().active[KindPII], value)
}

// Hashes returns the blind index of value under every pii key, active first
// and then newest to oldest, so a lookup finds rows hashed before a rotation.
func (k *Keyring) Hashes(value string) []Hash {
	keys := k.st.Load().newest(KindPII)
	out := make([]Hash, len(keys))
	for i, key := range keys {
		out[i] = hashWith(key, value)
	}
	return out
}

func hashWith(k *key, value string) Hash {
	m := hmac.New(sha256.New, k.hashKey)
	m.Write([]byte(value))
	return Hash{KeyID: k.id, Sum: m.Sum(nil)}
}

// Seal encrypts plaintext with AES-256-GCM under the active pii key and a
// random nonce, binding aad (e.g. the row and field it belongs in), which
// OpenSealed must be given again. The result records the key id; its layout
// is in the package documentation.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	key := k.st.Load().active[KindPII]
	if len(key.id) > maxKIDLen {
		return nil, vax.Errorf(vax.Internal, "pii key id %s is too long to seal with", key.id)
	}
	header := make([]byte, 0, 2+len(key.id)+key.aead.Overhead()+len(plaintext))
	header = append(header, sealVersion, byte(len(key.id)))
	header = append(header, key.id...)
	return key.aead.Seal(header, nil, plaintext, sealAD(header, aad)), nil
}

// OpenSealed decrypts what Seal returned, with whichever pii key sealed it.
// Damaged or tampered data, other aad and unknown keys are Invalid errors.
func (k *Keyring) OpenSealed(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != sealVersion {
		return nil, vax.Errorf(vax.Invalid, "sealed data is damaged: unknown format")
	}
	n := int(sealed[1])
	if n == 0 || n > maxKIDLen || len(sealed) < 2+n {
		return nil, vax.Errorf(vax.Invalid, "sealed data is damaged: bad key id")
	}
	header, body := sealed[:2+n], sealed[2+n:]
	kid := string(header[2:])
	key := k.st.Load().byID[kid]
	if key == nil || key.kind != KindPII {
		return nil, vax.Errorf(vax.Invalid, "sealed data names unknown pii key %q", kid)
	}
	if len(body) < key.aead.Overhead() {
		return nil, vax.Errorf(vax.Invalid, "sealed data is damaged: too short")
	}
	plaintext, err := key.aead.Open(nil, nil, body, sealAD(header, aad))
	if err != nil {
		return nil, vax.Errorf(vax.Invalid, "sealed data does not open: damaged, or given other additional data")
	}
	return plaintext, nil
}

// sealAD is the GCM additional data: the header (self-delimiting, so the
// concatenation is unambiguous) then the caller's aad.
func sealAD(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	return append(append(ad, header...), aad...)
}
