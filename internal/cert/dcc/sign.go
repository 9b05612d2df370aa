package dcc

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/cert/base45"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// SignerValidity is how long a signer certificate is valid from its key's
// creation. A certificate's exp may not pass it, so rotate certificate keys
// well within it (yearly, say).
const SignerValidity = 5 * 365 * 24 * time.Hour

// zlibWriters are pooled: a zlib writer allocates and clears about 800 KB
// of tables, far more than signing a certificate costs.
var zlibWriters = sync.Pool{New: func() any {
	w, err := zlib.NewWriterLevel(io.Discard, zlib.BestCompression)
	if err != nil {
		panic(err) // only for an invalid level
	}
	return w
}}

// KeyID returns the DCC key identifier of a signer certificate: the first
// 8 bytes of the SHA-256 of its DER encoding.
func KeyID(der []byte) []byte {
	sum := sha256.Sum256(der)
	return sum[:8]
}

// Signer signs DCCs with one certificate key and its self-signed signer
// certificate (the DSC that verifiers trust).
type Signer struct {
	cert *x509.Certificate
	kid  []byte
	key  *ecdsa.PrivateKey
}

// NewSigner builds the signer of a keyring certificate key: key, created
// at created. country (ISO 3166-1 alpha-2) and organisation name the
// subject of the certificate.
//
// The certificate is a pure function of its inputs (serial number from the
// key's thumbprint, validity from created, RFC 6979 deterministic ECDSA
// signature), so every node derives the same certificate, and so the same
// DCC kid, from the shared keyring without storing it anywhere.
func NewSigner(key *ecdsa.PrivateKey, created time.Time, country, organisation string) (*Signer, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, vax.Errorf(vax.Internal, "DCC signer: not a P-256 key")
	}
	if len(country) != 2 {
		return nil, vax.Errorf(vax.Invalid, "DCC signer: country %q: want ISO 3166-1 alpha-2", country)
	}
	thumb, err := keyring.Thumbprint(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("DCC signer: %w", err)
	}
	serial := sha256.Sum256([]byte("vaxport DCC signer " + thumb))
	serial[0] &= 0x7f // positive, and at most 20 octets once DER-encoded
	notBefore := created.UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial[:16]),
		Subject: pkix.Name{
			Country:      []string{country},
			Organization: []string{organisation},
			CommonName:   "vaxport DCC signer " + thumb[:8],
		},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(SignerValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SubjectKeyId:          serial[16:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, deterministic{key})
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "DCC signer: cannot create the signer certificate")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "DCC signer: cannot read back the signer certificate")
	}
	return &Signer{cert: cert, kid: KeyID(der), key: key}, nil
}

// deterministic signs with RFC 6979 (crypto/ecdsa signs deterministically
// when given no random source).
type deterministic struct{ k *ecdsa.PrivateKey }

func (d deterministic) Public() crypto.PublicKey { return &d.k.PublicKey }

func (d deterministic) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return d.k.Sign(nil, digest, opts)
}

// Certificate returns the signer certificate.
func (s *Signer) Certificate() *x509.Certificate { return s.cert }

// KID returns the DCC key identifier of the signer certificate.
func (s *Signer) KID() []byte { return bytes.Clone(s.kid) }

// PEM returns the signer certificate as a PEM "CERTIFICATE" block, for the
// trust list verifiers load.
func (s *Signer) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.cert.Raw})
}

// wire form of the certificate for CBOR: map keys as the schema names them.
type certificateCBOR struct {
	Version     string            `cbor:"ver"`
	Name        nameCBOR          `cbor:"nam"`
	DateOfBirth string            `cbor:"dob"`
	V           []vaccinationCBOR `cbor:"v"`
}

type nameCBOR struct {
	Family    string `cbor:"fn,omitempty"`
	FamilyStd string `cbor:"fnt,omitempty"`
	Given     string `cbor:"gn,omitempty"`
	GivenStd  string `cbor:"gnt,omitempty"`
}

type vaccinationCBOR struct {
	Target       string `cbor:"tg"`
	Prophylaxis  string `cbor:"vp"`
	Product      string `cbor:"mp"`
	Manufacturer string `cbor:"ma"`
	Dose         int    `cbor:"dn"`
	Doses        int    `cbor:"sd"`
	Date         string `cbor:"dt"`
	Country      string `cbor:"co"`
	Issuer       string `cbor:"is"`
	ID           string `cbor:"ci"`
}

// EncodeContent returns the CBOR of a vaccination certificate, after
// checking it against the DCC schema.
func EncodeContent(c Certificate) ([]byte, error) {
	if len(c.Vaccinations) != 1 || c.Tests != 0 || c.Recoveries != 0 {
		return nil, vax.Errorf(vax.Invalid, "DCC: a certificate holds exactly one vaccination entry (the latest dose)")
	}
	w := certificateCBOR{
		Version:     c.Version,
		Name:        nameCBOR(c.Name),
		DateOfBirth: c.DateOfBirth,
	}
	if w.Version == "" {
		w.Version = Version
	}
	for _, v := range c.Vaccinations {
		w.V = append(w.V, vaccinationCBOR(v))
	}
	b, err := encMode.Marshal(w)
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "DCC: cannot encode the certificate")
	}
	content, err := DecodeContent(b)
	if err != nil {
		return nil, fmt.Errorf("DCC: %w", err)
	}
	if err := ValidateSchema(content); err != nil {
		return nil, fmt.Errorf("DCC: %w", err)
	}
	return b, nil
}

// Sign signs certificate c issued by country iss at iat, expiring at exp,
// and returns the QR text "HC1:" + Base45(zlib(COSE_Sign1(CWT))). The COSE
// message is tagged 18 with the algorithm (ES256) and the kid in the
// protected header.
func (s *Signer) Sign(c Certificate, iss string, iat, exp time.Time) (string, error) {
	iat, exp = iat.UTC().Truncate(time.Second), exp.UTC().Truncate(time.Second)
	switch {
	case !exp.After(iat):
		return "", vax.Errorf(vax.Invalid, "DCC: exp %s is not after iat %s", exp.Format(time.RFC3339), iat.Format(time.RFC3339))
	case iat.Before(s.cert.NotBefore):
		return "", vax.Errorf(vax.Invalid, "DCC: iat %s is before the signer certificate's validity (%s)", iat.Format(time.RFC3339), s.cert.NotBefore.Format(time.RFC3339))
	case exp.After(s.cert.NotAfter):
		return "", vax.Errorf(vax.Invalid, "DCC: exp %s is after the signer certificate's validity (%s): rotate the certificate key", exp.Format(time.RFC3339), s.cert.NotAfter.Format(time.RFC3339))
	}
	content, err := EncodeContent(c)
	if err != nil {
		return "", err
	}
	claims, err := encMode.Marshal(map[int64]any{
		claimIss:   iss,
		claimExp:   exp.Unix(),
		claimIat:   iat.Unix(),
		claimHCERT: map[int64]any{1: rawCBOR(content)},
	})
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "DCC: cannot encode the claims")
	}
	protected, err := encMode.Marshal(map[int64]any{labelAlg: AlgES256, labelKID: s.kid})
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "DCC: cannot encode the header")
	}
	tbs, err := toBeSigned(protected, claims)
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "DCC: cannot encode the Sig_structure")
	}
	digest := sha256.Sum256(tbs)
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "DCC: ECDSA")
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	msg, err := encMode.Marshal(taggedSign1{protected, map[int64]any{}, claims, sig})
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "DCC: cannot encode the COSE message")
	}
	var z bytes.Buffer
	zw := zlibWriters.Get().(*zlib.Writer)
	defer zlibWriters.Put(zw)
	zw.Reset(&z)
	if _, err := zw.Write(msg); err != nil {
		return "", vax.Wrap(vax.Internal, err, "DCC: zlib")
	}
	if err := zw.Close(); err != nil {
		return "", vax.Wrap(vax.Internal, err, "DCC: zlib")
	}
	return Prefix + base45.Encode(z.Bytes()), nil
}
