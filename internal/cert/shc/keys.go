package shc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// Key is a trusted issuer key.
type Key struct {
	ID         string           // kid: the RFC 7638 thumbprint of Public
	Public     *ecdsa.PublicKey // P-256
	CRLVersion int              // crlVersion: > 0 when the issuer publishes a CRL for this key
	Issuer     string           // when set, cards signed with this key must have this iss
}

// JWK is the JSON Web Key form of an issuer key, as a JWKS lists it.
type JWK struct {
	Kty        string   `json:"kty"`
	Kid        string   `json:"kid"`
	Use        string   `json:"use"`
	Alg        string   `json:"alg"`
	Crv        string   `json:"crv"`
	X          string   `json:"x"`
	Y          string   `json:"y"`
	CRLVersion int      `json:"crlVersion,omitempty"`
	X5C        []string `json:"x5c,omitempty"`
}

// JWKS is a JSON Web Key Set: {"keys": [...]}.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK returns the JWK of a P-256 public key with the SMART Health
// Cards members: kty EC, use sig, alg ES256, kid its thumbprint.
func PublicJWK(pub *ecdsa.PublicKey, crlVersion int) (JWK, error) {
	kid, err := keyring.Thumbprint(pub)
	if err != nil {
		return JWK{}, fmt.Errorf("issuer key: %w", err)
	}
	point, err := pub.Bytes()
	if err != nil {
		return JWK{}, vax.Wrap(vax.Invalid, err, "issuer key: invalid public key")
	}
	return JWK{
		Kty: "EC", Kid: kid, Use: "sig", Alg: "ES256", Crv: "P-256",
		X:          base64.RawURLEncoding.EncodeToString(point[1:33]),
		Y:          base64.RawURLEncoding.EncodeToString(point[33:65]),
		CRLVersion: crlVersion,
	}, nil
}

// KeySet returns the issuer's JWKS document (/.well-known/jwks.json) for
// keys: every certificate key of the keyring, so that cards signed before a
// rotation keep verifying. crlVersion gives each kid's current CRL counter
// (absent: no CRL published for it).
func KeySet(keys []keyring.CertKey, crlVersion map[string]int) (JWKS, error) {
	set := JWKS{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		j, err := PublicJWK(k.Public, crlVersion[k.ID])
		if err != nil {
			return JWKS{}, err
		}
		if j.Kid != k.ID {
			return JWKS{}, vax.Errorf(vax.Internal, "issuer key %s: thumbprint is %s", k.ID, j.Kid)
		}
		set.Keys = append(set.Keys, j)
	}
	return set, nil
}

// ParseJWK checks a JWK against the SMART Health Cards key rules and
// returns the key. The rules, and the upstream validator's error for each:
// kty "EC" (INVALID_KEY_WRONG_KTY), crv "P-256" (INVALID_KEY_WRONG_CRV), alg
// "ES256" (INVALID_KEY_WRONG_ALG), use "sig" (INVALID_KEY_WRONG_USE), kid
// equal to the RFC 7638 thumbprint (INVALID_KEY_WRONG_KID); x and y a point
// on the curve; and, when x5c is present, its first certificate holding
// the same key. Private members ("d") are refused: a trust file must never
// carry a private key.
func ParseJWK(raw []byte) (Key, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Key{}, vax.Wrap(vax.Invalid, err, "JWK is not a JSON object")
	}
	if _, ok := probe["d"]; ok {
		return Key{}, vax.Errorf(vax.Invalid, "JWK holds a private key (\"d\"): refusing it")
	}
	var j JWK
	if err := json.Unmarshal(raw, &j); err != nil {
		return Key{}, vax.Wrap(vax.Invalid, err, "JWK members have the wrong types")
	}
	switch {
	case j.Kty != "EC":
		return Key{}, vax.Errorf(vax.Invalid, "key %q: kty is %q, want \"EC\"", j.Kid, j.Kty)
	case j.Crv != "P-256":
		return Key{}, vax.Errorf(vax.Invalid, "key %q: crv is %q, want \"P-256\"", j.Kid, j.Crv)
	case j.Alg != "ES256":
		return Key{}, vax.Errorf(vax.Invalid, "key %q: alg is %q, want \"ES256\"", j.Kid, j.Alg)
	case j.Use != "sig":
		return Key{}, vax.Errorf(vax.Invalid, "key %q: use is %q, want \"sig\"", j.Kid, j.Use)
	case j.CRLVersion < 0:
		return Key{}, vax.Errorf(vax.Invalid, "key %q: negative crlVersion", j.Kid)
	}
	x, errX := decodeCoordinate(j.X)
	y, errY := decodeCoordinate(j.Y)
	if errX != nil || errY != nil {
		return Key{}, vax.Errorf(vax.Invalid, "key %q: x and y must be 32-byte base64url coordinates", j.Kid)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return Key{}, vax.Wrap(vax.Invalid, err, fmt.Sprintf("key %q: not a point on P-256", j.Kid))
	}
	thumb, err := keyring.Thumbprint(pub)
	if err != nil {
		return Key{}, fmt.Errorf("key %q: %w", j.Kid, err)
	}
	if j.Kid != thumb {
		return Key{}, vax.Errorf(vax.Invalid, "key %q: kid is not the key's RFC 7638 thumbprint %q", j.Kid, thumb)
	}
	if len(j.X5C) > 0 {
		der, err := base64.StdEncoding.DecodeString(j.X5C[0])
		if err != nil {
			return Key{}, vax.Wrap(vax.Invalid, err, fmt.Sprintf("key %q: x5c[0] is not base64", j.Kid))
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			return Key{}, vax.Wrap(vax.Invalid, err, fmt.Sprintf("key %q: x5c[0] is not a certificate", j.Kid))
		}
		if lp, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || !lp.Equal(pub) {
			return Key{}, vax.Errorf(vax.Invalid, "key %q: x5c[0] certifies another key", j.Kid)
		}
	}
	return Key{ID: j.Kid, Public: pub, CRLVersion: j.CRLVersion}, nil
}

func decodeCoordinate(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("coordinate of %d bytes", len(b))
	}
	return b, nil
}

// CRL is a SMART Health Cards revocation list, served at
// /.well-known/crl/{kid}.json. Each entry of Rids is "rid" (every card with
// that rid is revoked) or "rid.timestamp" (cards with that rid issued
// before the Unix time timestamp are revoked).
type CRL struct {
	Kid    string   `json:"kid"`
	Method string   `json:"method"`
	Ctr    int      `json:"ctr"`
	Rids   []string `json:"rids"`
}

// ParseCRL parses and checks a CRL document.
func ParseCRL(data []byte) (CRL, error) {
	var c CRL
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return CRL{}, vax.Wrap(vax.Invalid, err, "CRL is not valid JSON")
	}
	if err := c.Validate(); err != nil {
		return CRL{}, err
	}
	return c, nil
}

// Validate checks the CRL's members: a kid, method "rid", ctr ≥ 1 and
// well-formed entries.
func (c CRL) Validate() error {
	switch {
	case c.Kid == "":
		return vax.Errorf(vax.Invalid, "CRL has no kid")
	case c.Method != "rid":
		return vax.Errorf(vax.Invalid, "CRL for %s: method %q, want \"rid\"", c.Kid, c.Method)
	case c.Ctr < 1:
		return vax.Errorf(vax.Invalid, "CRL for %s: ctr %d, want ≥ 1", c.Kid, c.Ctr)
	}
	for _, e := range c.Rids {
		rid, ts, hasTS := strings.Cut(e, ".")
		if err := checkRID(rid); err != nil {
			return fmt.Errorf("CRL for %s: %w", c.Kid, err)
		}
		if hasTS {
			if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
				return vax.Errorf(vax.Invalid, "CRL for %s: entry %q: timestamp is not an integer", c.Kid, e)
			}
		}
	}
	return nil
}

// revokes reports whether the CRL revokes a card with rid issued at nbf
// (Unix seconds, possibly fractional).
func (c CRL) revokes(rid string, nbf float64) bool {
	for _, e := range c.Rids {
		r, ts, hasTS := strings.Cut(e, ".")
		if r != rid {
			continue
		}
		if !hasTS {
			return true
		}
		t, _ := strconv.ParseInt(ts, 10, 64) // checked by Validate
		if nbf < float64(t) {
			return true
		}
	}
	return false
}

// checkRID checks a revocation id: 1–24 base64url characters (the
// specification's limit), so that it is safe in a CRL and a URL.
func checkRID(rid string) error {
	if rid == "" || len(rid) > 24 {
		return vax.Errorf(vax.Invalid, "revocation id %q: want 1 to 24 base64url characters", rid)
	}
	for i := range len(rid) {
		c := rid[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return vax.Errorf(vax.Invalid, "revocation id %q: want base64url characters only", rid)
		}
	}
	return nil
}

// Trust is a set of trusted issuer keys and their revocation lists. The
// zero Trust trusts nothing. It is not safe for concurrent modification;
// concurrent verification of a Trust that no longer changes is safe.
type Trust struct {
	keys map[string]Key
	crls map[string]CRL
}

// AddKey trusts k. A kid already trusted with another key is a Conflict.
func (t *Trust) AddKey(k Key) error {
	if t.keys == nil {
		t.keys = map[string]Key{}
	}
	if old, ok := t.keys[k.ID]; ok {
		if !old.Public.Equal(k.Public) {
			return vax.Errorf(vax.Conflict, "two different keys claim kid %q", k.ID)
		}
		if old.Issuer != "" && k.Issuer != "" && old.Issuer != k.Issuer {
			return vax.Errorf(vax.Conflict, "key %q is trusted for two issuers, %q and %q", k.ID, old.Issuer, k.Issuer)
		}
		k.CRLVersion = max(k.CRLVersion, old.CRLVersion)
		k.Issuer = cmpOr(k.Issuer, old.Issuer)
	}
	t.keys[k.ID] = k
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// AddJWKS trusts every key of a JWKS document. issuer, when not empty,
// binds the keys to that iss. The whole document is refused if any key
// breaks the SMART Health Cards key rules (see ParseJWK): a trust file with
// a wrong key is a mistake to fix, not to half-load.
func (t *Trust) AddJWKS(data []byte, issuer string) error {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return vax.Wrap(vax.Invalid, err, "key set is not a JSON Web Key Set")
	}
	if len(doc.Keys) == 0 {
		return vax.Errorf(vax.Invalid, "key set has no keys")
	}
	keys := make([]Key, 0, len(doc.Keys))
	for i, raw := range doc.Keys {
		k, err := ParseJWK(raw)
		if err != nil {
			return fmt.Errorf("key set: key %d: %w", i+1, err)
		}
		k.Issuer = issuer
		keys = append(keys, k)
	}
	for _, k := range keys {
		if err := t.AddKey(k); err != nil {
			return err
		}
	}
	return nil
}

// AddCRL adds a revocation list. Of several lists for one kid, the one with
// the highest ctr is kept.
func (t *Trust) AddCRL(c CRL) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if t.crls == nil {
		t.crls = map[string]CRL{}
	}
	if old, ok := t.crls[c.Kid]; ok && old.Ctr >= c.Ctr {
		return nil
	}
	t.crls[c.Kid] = c
	return nil
}

// KeyIDs returns the trusted kids, sorted.
func (t *Trust) KeyIDs() []string {
	ids := make([]string, 0, len(t.keys))
	for id := range t.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Len returns the number of trusted keys.
func (t *Trust) Len() int { return len(t.keys) }
