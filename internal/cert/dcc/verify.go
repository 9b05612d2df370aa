package dcc

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/vaxport/vaxport/internal/cert/base45"
	"github.com/vaxport/vaxport/internal/vax"
)

// Trust is a list of trusted signer certificates (DSCs), found by their
// DCC kid. The zero Trust trusts nothing. It is not safe for concurrent
// modification; concurrent verification of a Trust that no longer changes
// is safe.
type Trust struct {
	certs []*x509.Certificate
	byKID map[string][]*x509.Certificate
}

// AddCertificate trusts c (a certificate already trusted is ignored).
func (t *Trust) AddCertificate(c *x509.Certificate) {
	for _, o := range t.certs {
		if bytes.Equal(o.Raw, c.Raw) {
			return
		}
	}
	if t.byKID == nil {
		t.byKID = map[string][]*x509.Certificate{}
	}
	t.certs = append(t.certs, c)
	kid := string(KeyID(c.Raw))
	t.byKID[kid] = append(t.byKID[kid], c)
}

// AddPEM trusts every CERTIFICATE block of a PEM file and returns how many
// it read. A file with no certificate, an unreadable certificate, or any
// private key block is refused whole.
func (t *Trust) AddPEM(data []byte) (int, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return 0, vax.Wrap(vax.Invalid, err, fmt.Sprintf("PEM certificate %d is not a readable X.509 certificate", len(certs)+1))
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			return 0, vax.Errorf(vax.Invalid, "PEM file holds a private key: refusing it as a trust file")
		}
	}
	if len(certs) == 0 {
		return 0, vax.Errorf(vax.Invalid, "no PEM CERTIFICATE block found")
	}
	for _, c := range certs {
		t.AddCertificate(c)
	}
	return len(certs), nil
}

// Len returns the number of trusted signer certificates.
func (t *Trust) Len() int { return len(t.certs) }

// Signers returns the trusted certificates a message with kid may be signed
// by: those with that kid, or every one when kid is empty.
func (t *Trust) Signers(kid []byte) []*x509.Certificate {
	if len(kid) == 0 {
		return t.certs
	}
	return t.byKID[string(kid)]
}

// VerifySignature finds the trusted signer certificate of msg and checks
// the signature with it. A message with a kid is checked only against the
// certificates with that kid; one without, against every certificate.
func (t *Trust) VerifySignature(msg *Message) (*x509.Certificate, error) {
	var signers []*x509.Certificate
	if t != nil {
		signers = t.Signers(msg.KID)
	}
	if len(signers) == 0 {
		if len(msg.KID) > 0 {
			return nil, vax.Errorf(vax.Invalid, "no trusted signer certificate has kid %x", msg.KID)
		}
		return nil, vax.Errorf(vax.Invalid, "no trusted signer certificate")
	}
	var err error
	for _, c := range signers {
		if err = msg.Verify(c.PublicKey); err == nil {
			return c, nil
		}
	}
	return nil, err
}

// Verified is a DCC whose signature verified.
type Verified struct {
	Claims
	Signer *x509.Certificate
	KID    []byte
}

// CheckTime checks the validity of a verified message at time at: the
// signer certificate's notBefore ≤ iat ≤ at < exp ≤ its notAfter.
func CheckTime(c *Claims, signer *x509.Certificate, at time.Time) error {
	f := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	switch {
	case at.Before(c.IssuedAt):
		return vax.Errorf(vax.Invalid, "certificate issued at %s, after the verification time %s", f(c.IssuedAt), f(at))
	case !at.Before(c.Expires):
		return vax.Errorf(vax.Invalid, "certificate expired at %s", f(c.Expires))
	case signer != nil && c.IssuedAt.Before(signer.NotBefore):
		return vax.Errorf(vax.Invalid, "certificate issued at %s, before its signer certificate was valid (%s)", f(c.IssuedAt), f(signer.NotBefore))
	case signer != nil && c.Expires.After(signer.NotAfter):
		return vax.Errorf(vax.Invalid, "certificate expires at %s, after its signer certificate (%s)", f(c.Expires), f(signer.NotAfter))
	}
	return nil
}

// The extended key usages that restrict a DSC to certificate types, under
// both arcs in use (eHealth Network, "Technical Specifications for DCC",
// volume 1, section 5.1.1).
var ekuByKind = map[byte][]asn1.ObjectIdentifier{
	't': {{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 1}, {1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 1}},
	'v': {{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 2}, {1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 2}},
	'r': {{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 3}, {1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, 3}},
}

// CheckKeyUsage checks that signer may sign a certificate of kind ('v',
// 't' or 'r'): a DSC with none of the DCC extended key usages may sign any
// kind; one with some may sign only the kinds they name.
func CheckKeyUsage(signer *x509.Certificate, kind byte) error {
	var dccEKU []asn1.ObjectIdentifier
	for _, oid := range signer.UnknownExtKeyUsage {
		for _, oids := range ekuByKind {
			for _, o := range oids {
				if oid.Equal(o) {
					dccEKU = append(dccEKU, oid)
				}
			}
		}
	}
	if len(dccEKU) == 0 {
		return nil
	}
	for _, oid := range dccEKU {
		for _, o := range ekuByKind[kind] {
			if oid.Equal(o) {
				return nil
			}
		}
	}
	return vax.Errorf(vax.Invalid, "the signer certificate may not sign %s certificates", kindName(kind))
}

func kindName(k byte) string {
	switch k {
	case 'v':
		return "vaccination"
	case 't':
		return "test"
	case 'r':
		return "recovery"
	}
	return "these"
}

// Decode runs the transport steps on a QR text: Unprefix, Base45, Inflate,
// ParseCOSE.
func Decode(text string) (*Message, error) {
	b45, err := Unprefix(text)
	if err != nil {
		return nil, err
	}
	z, err := base45.Decode(b45)
	if err != nil {
		return nil, fmt.Errorf("Base45: %w", err)
	}
	raw, err := Inflate(z)
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	return ParseCOSE(raw)
}

// Verify checks a DCC QR text ("HC1:…") at time at against trust: the
// transport steps, a trusted signer certificate for its kid (every one when
// it has no kid), the signature, the CWT claims, the DCC schema, the
// signer's extended key usage, and the validity times (CheckTime).
//
// The error, an Invalid *vax.Error, says why the certificate is not valid.
// The returned certificate is non-nil exactly when the signature verified,
// even if the certificate is then refused.
func Verify(text string, trust *Trust, at time.Time) (*Verified, error) {
	msg, err := Decode(text)
	if err != nil {
		return nil, err
	}
	return VerifyMessage(msg, trust, at)
}

// VerifyMessage is Verify for a parsed COSE message.
func VerifyMessage(msg *Message, trust *Trust, at time.Time) (*Verified, error) {
	signer, err := trust.VerifySignature(msg)
	if err != nil {
		return nil, err
	}
	claims, err := ParseClaims(msg.Payload)
	if err != nil {
		return nil, err
	}
	v := &Verified{Claims: *claims, Signer: signer, KID: KeyID(signer.Raw)}
	if err := ValidateSchema(claims.Content); err != nil {
		return v, err
	}
	kind := claims.Certificate.Kind()
	if kind == 0 {
		return v, vax.Errorf(vax.Invalid, "certificate holds no single vaccination, test or recovery group")
	}
	if err := CheckKeyUsage(signer, kind); err != nil {
		return v, err
	}
	if err := CheckTime(claims, signer, at); err != nil {
		return v, err
	}
	return v, nil
}
