package shc

import (
	"bytes"
	"compress/flate"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"

	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// MaxPayload bounds a card's inflated payload (1 MiB), so that a small
// compressed bomb cannot exhaust a verifier's memory.
const MaxPayload = 1 << 20

// MaxJWS bounds the compact JWS a verifier parses (a file may hold a card
// far larger than a QR code can).
const MaxJWS = 1 << 20

// Compressors are pooled: a DEFLATE writer allocates and clears about
// 800 KB of tables, far more than signing a card costs.
var (
	deflaters = sync.Pool{New: func() any {
		w, err := flate.NewWriter(io.Discard, flate.BestCompression)
		if err != nil {
			panic(err) // only for an invalid level
		}
		return w
	}}
	inflaters = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}
)

// Header is the protected header of a card's JWS.
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Zip string `json:"zip"`
}

// JWS is a parsed compact JWS, not yet verified.
type JWS struct {
	Header    Header
	Payload   []byte // as signed: raw DEFLATE when Header.Zip is "DEF"
	Signature []byte
	input     string // base64url(header) "." base64url(payload): what was signed
}

var b64 = base64.RawURLEncoding.Strict()

// ParseJWS parses a compact JWS: three base64url parts without padding,
// a JSON object header. It checks the form only, not the header's values
// or the signature (see Verify).
func ParseJWS(s string) (*JWS, error) {
	if len(s) > MaxJWS {
		return nil, vax.Errorf(vax.Invalid, "JWS of %d bytes is too long", len(s))
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, vax.Errorf(vax.Invalid, "not a compact JWS: want 3 dot-separated parts, got %d", len(parts))
	}
	for i, p := range parts {
		if !isBase64URL(p) {
			return nil, vax.Errorf(vax.Invalid, "JWS part %d has characters outside base64url (trailing characters?)", i+1)
		}
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "JWS header is not base64url")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(hb, &probe); err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "JWS header is not a JSON object")
	}
	if _, ok := probe["crit"]; ok {
		return nil, vax.Errorf(vax.Invalid, "JWS header has critical extensions (crit) this verifier does not know")
	}
	var h Header
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "JWS header members have the wrong types")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "JWS payload is not base64url")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "JWS signature is not base64url")
	}
	return &JWS{Header: h, Payload: payload, Signature: sig, input: parts[0] + "." + parts[1]}, nil
}

func isBase64URL(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CheckHeader checks the header against the specification: alg "ES256",
// a kid, zip "DEF".
func (j *JWS) CheckHeader() error {
	switch {
	case j.Header.Alg == "":
		return vax.Errorf(vax.Invalid, "JWS header has no alg (want \"ES256\")")
	case j.Header.Alg != "ES256":
		return vax.Errorf(vax.Invalid, "JWS header alg is %q, want \"ES256\"", j.Header.Alg)
	case j.Header.Kid == "":
		return vax.Errorf(vax.Invalid, "JWS header has no kid")
	case j.Header.Zip == "":
		return vax.Errorf(vax.Invalid, "JWS header has no zip (want \"DEF\": the payload must be raw DEFLATE)")
	case j.Header.Zip != "DEF":
		return vax.Errorf(vax.Invalid, "JWS header zip is %q, want \"DEF\"", j.Header.Zip)
	}
	return nil
}

// VerifySignature checks the ES256 signature with pub. The signature must
// be the JOSE form, r‖s in 64 bytes; an ASN.1 DER signature is refused.
func (j *JWS) VerifySignature(pub *ecdsa.PublicKey) error {
	if len(j.Signature) != 64 {
		return vax.Errorf(vax.Invalid, "JWS signature is %d bytes, want a 64-byte ES256 r‖s signature (not ASN.1 DER)", len(j.Signature))
	}
	digest := sha256.Sum256([]byte(j.input))
	r := new(big.Int).SetBytes(j.Signature[:32])
	s := new(big.Int).SetBytes(j.Signature[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return vax.Errorf(vax.Invalid, "JWS signature does not verify with key %q", j.Header.Kid)
	}
	return nil
}

// Inflate returns the payload inflated from raw DEFLATE (RFC 1951), at most
// MaxPayload bytes.
func (j *JWS) Inflate() ([]byte, error) {
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(j.Payload), nil); err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "JWS payload is not raw DEFLATE data")
	}
	out, err := io.ReadAll(io.LimitReader(r, MaxPayload+1))
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "JWS payload is not raw DEFLATE data")
	}
	if len(out) > MaxPayload {
		return nil, vax.Errorf(vax.Invalid, "JWS payload inflates to more than %d bytes", MaxPayload)
	}
	return out, nil
}

// Sign signs c with the certificate key whose kid is its RFC 7638
// thumbprint: payload minified, raw DEFLATE, header
// {"zip":"DEF","alg":"ES256","kid":kid}, signature r‖s. It returns the
// compact JWS.
func Sign(c Card, kid string, key *ecdsa.PrivateKey) (string, error) {
	if key == nil {
		return "", vax.Errorf(vax.Internal, "sign card: no key")
	}
	thumb, err := keyring.Thumbprint(&key.PublicKey)
	if err != nil {
		return "", fmt.Errorf("sign card: %w", err)
	}
	if thumb != kid {
		return "", vax.Errorf(vax.Internal, "sign card: kid %q is not the key's thumbprint", kid)
	}
	payload, err := Payload(c)
	if err != nil {
		return "", fmt.Errorf("sign card: %w", err)
	}
	var buf bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(payload); err != nil {
		return "", vax.Wrap(vax.Internal, err, "sign card: deflate")
	}
	if err := w.Close(); err != nil {
		return "", vax.Wrap(vax.Internal, err, "sign card: deflate")
	}
	header, err := json.Marshal(struct {
		Zip string `json:"zip"`
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}{"DEF", "ES256", kid})
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "sign card: header")
	}
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(buf.Bytes())
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "sign card: ECDSA")
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig), nil
}
