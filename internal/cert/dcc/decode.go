package dcc

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/vaxport/vaxport/internal/vax"
)

// Prefix is the HCERT context identifier that starts the QR text.
const Prefix = "HC1:"

// MaxCOSE bounds the inflated COSE message (64 KiB: a QR code holds under
// 3 KiB), so a compression bomb cannot exhaust a verifier's memory.
const MaxCOSE = 64 << 10

// COSE algorithm identifiers the DCC allows (RFC 9053, RFC 8230).
const (
	AlgES256 int64 = -7
	AlgPS256 int64 = -37
)

// CBOR tags around the message.
const (
	tagCWT   = 61
	tagSign1 = 18
)

// decMode decodes untrusted CBOR: no duplicate map keys, bounded nesting
// and sizes. Indefinite lengths are allowed: some issuers' encoders write
// them (the common vectors' certificates do), and the sizes stay bounded.
var decMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthAllowed,
		MaxNestedLevels:  16,
		MaxArrayElements: 1024,
		MaxMapPairs:      1024,
		IntDec:           cbor.IntDecConvertSignedOrFail,
		DefaultMapType:   reflect.TypeOf(map[any]any(nil)),
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// encMode encodes with the core deterministic rules (RFC 8949 §4.2.1).
var encMode = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// Unprefix returns the Base45 text after the "HC1:" context identifier. Any
// other context (e.g. "HC2:", "HL0:", none) is refused.
func Unprefix(s string) (string, error) {
	if !strings.HasPrefix(s, Prefix) {
		ctx, _, found := strings.Cut(s, ":")
		if found && len(ctx) <= 4 {
			return "", vax.Errorf(vax.Invalid, "context %q is not supported: want %q", ctx+":", Prefix)
		}
		return "", vax.Errorf(vax.Invalid, "no %q context identifier", Prefix)
	}
	return s[len(Prefix):], nil
}

// Inflate returns the zlib-decompressed (RFC 1950) message, at most
// MaxCOSE bytes. Data that is not zlib, or is truncated, is refused.
func Inflate(b []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "not zlib-compressed")
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, MaxCOSE+1))
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "broken zlib data")
	}
	if len(out) > MaxCOSE {
		return nil, vax.Errorf(vax.Invalid, "inflates to more than %d bytes", MaxCOSE)
	}
	return out, nil
}

// Message is a parsed COSE_Sign1 message, not yet verified.
type Message struct {
	Protected []byte // the serialized protected header, as signed
	Alg       int64  // from the protected header, else the unprotected one
	KID       []byte // key id: from the protected header, else the unprotected one
	Payload   []byte
	Signature []byte
}

type sign1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected map[int64]cbor.RawMessage
	Payload     []byte
	Signature   []byte
}

// header labels (RFC 9052 §3.1).
const (
	labelAlg = 1
	labelKID = 4
)

// ParseCOSE parses a COSE_Sign1 message: tagged 18, tagged 61 (CWT)
// around 18, or untagged. The algorithm is read from the protected header,
// else from the unprotected one.
// The key id is read from the protected header first and from the
// unprotected header only when the protected one has none, so a wrong
// unprotected kid next to a right protected one does not matter, and a
// tampered unprotected kid cannot pick the key when a protected one exists.
func ParseCOSE(b []byte) (*Message, error) {
	raw := cbor.RawMessage(b)
	for depth := 0; ; depth++ {
		if len(raw) == 0 {
			return nil, vax.Errorf(vax.Invalid, "empty COSE message")
		}
		if raw[0]>>5 != 6 { // not a tag
			break
		}
		if depth == 2 {
			return nil, vax.Errorf(vax.Invalid, "COSE message nested in too many tags")
		}
		var tag cbor.RawTag
		if err := decMode.Unmarshal(raw, &tag); err != nil {
			return nil, vax.Wrap(vax.Invalid, err, "malformed CBOR tag around the COSE message")
		}
		switch {
		case tag.Number == tagSign1:
		case tag.Number == tagCWT && depth == 0:
		default:
			return nil, vax.Errorf(vax.Invalid, "CBOR tag %d: want 18 (COSE_Sign1) or 61 (CWT)", tag.Number)
		}
		raw = tag.Content
	}
	var m sign1
	if err := decMode.Unmarshal(raw, &m); err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "not a COSE_Sign1 message")
	}
	if len(m.Signature) == 0 {
		return nil, vax.Errorf(vax.Invalid, "COSE message has no signature")
	}
	if m.Payload == nil {
		return nil, vax.Errorf(vax.Invalid, "COSE message has no payload")
	}
	msg := &Message{Protected: m.Protected, Payload: m.Payload, Signature: m.Signature}
	var prot map[int64]cbor.RawMessage
	if len(m.Protected) > 0 {
		if err := decMode.Unmarshal(m.Protected, &prot); err != nil {
			return nil, vax.Wrap(vax.Invalid, err, "malformed COSE protected header")
		}
	}
	a, ok := prot[labelAlg]
	if !ok {
		// RFC 9052 lets the algorithm sit in the unprotected header, and
		// some issuers put it there. Changing it gains an attacker
		// nothing: Verify accepts only ES256 and PS256, each only with its
		// own key type.
		a, ok = m.Unprotected[labelAlg]
	}
	if !ok {
		return nil, vax.Errorf(vax.Invalid, "COSE message has no algorithm")
	}
	if err := decMode.Unmarshal(a, &msg.Alg); err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "COSE algorithm is not an integer")
	}
	kid, ok := prot[labelKID]
	if !ok {
		kid, ok = m.Unprotected[labelKID]
	}
	if ok {
		if err := decMode.Unmarshal(kid, &msg.KID); err != nil {
			return nil, vax.Wrap(vax.Invalid, err, "COSE kid is not a byte string")
		}
	}
	return msg, nil
}

// toBeSigned is the Sig_structure of RFC 9052 §4.4 with no external data.
func toBeSigned(protected, payload []byte) ([]byte, error) {
	return encMode.Marshal([]any{"Signature1", protected, []byte{}, payload})
}

// Verify checks the signature with pub: ES256 (an ECDSA P-256 key, r‖s
// signature) or PS256 (RSA-PSS with SHA-256, salt length 32).
func (m *Message) Verify(pub any) error {
	tbs, err := toBeSigned(m.Protected, m.Payload)
	if err != nil {
		return vax.Wrap(vax.Internal, err, "cannot encode the COSE Sig_structure")
	}
	digest := sha256.Sum256(tbs)
	switch m.Alg {
	case AlgES256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() {
			return vax.Errorf(vax.Invalid, "ES256 signature, but the signer key is not ECDSA P-256")
		}
		if len(m.Signature) != 64 {
			return vax.Errorf(vax.Invalid, "ES256 signature of %d bytes, want 64", len(m.Signature))
		}
		r := new(big.Int).SetBytes(m.Signature[:32])
		s := new(big.Int).SetBytes(m.Signature[32:])
		if !ecdsa.Verify(k, digest[:], r, s) {
			return vax.Errorf(vax.Invalid, "signature does not verify")
		}
		return nil
	case AlgPS256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return vax.Errorf(vax.Invalid, "PS256 signature, but the signer key is not RSA")
		}
		if err := rsa.VerifyPSS(k, crypto.SHA256, digest[:], m.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
			return vax.Wrap(vax.Invalid, err, "signature does not verify")
		}
		return nil
	}
	return vax.Errorf(vax.Invalid, "COSE algorithm %d is not allowed (want ES256 or PS256)", m.Alg)
}

// errNotCWT marks a payload that is not a CWT claims map.
var errNotCWT = errors.New("not a CWT")

// CWT claim keys (RFC 8392) and the HCERT claim.
const (
	claimIss   = 1
	claimExp   = 4
	claimIat   = 6
	claimHCERT = -260
)

func decodeNumericDate(raw cbor.RawMessage) (int64, error) {
	var v any
	if err := decMode.Unmarshal(raw, &v); err != nil {
		return 0, err
	}
	switch n := v.(type) {
	case int64:
		return n, nil
	case uint64:
		if n > 1<<62 {
			return 0, fmt.Errorf("date %d out of range", n)
		}
		return int64(n), nil
	case float64:
		if n < 0 || n > 1<<40 {
			return 0, fmt.Errorf("date %v out of range", n)
		}
		return int64(n), nil
	}
	return 0, fmt.Errorf("date of type %T", v)
}

// rawCBOR embeds already-encoded CBOR when marshalling.
type rawCBOR = cbor.RawMessage

// taggedSign1 marshals as COSE_Sign1_Tagged: tag 18 around
// [protected, unprotected, payload, signature].
type taggedSign1 struct {
	protected   []byte
	unprotected map[int64]any
	payload     []byte
	signature   []byte
}

func (t taggedSign1) MarshalCBOR() ([]byte, error) {
	return encMode.Marshal(cbor.Tag{Number: tagSign1, Content: []any{t.protected, t.unprotected, t.payload, t.signature}})
}
