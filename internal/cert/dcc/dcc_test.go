package dcc_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"
	cose "github.com/veraison/go-cose"

	"github.com/vaxport/vaxport/internal/cert/base45"
	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/vax"
)

var created = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

func newSigner(t testing.TB) (*dcc.Signer, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dcc.NewSigner(key, created, "IN", "Ministry of Health and Family Welfare")
	if err != nil {
		t.Fatal(err)
	}
	return s, key
}

func sampleCertificate(t testing.TB) dcc.Certificate {
	t.Helper()
	name, err := dcc.NewName("Sharma", "Asha Devi")
	if err != nil {
		t.Fatal(err)
	}
	uvci, err := dcc.NewUVCI("IN", "7K3QZ2M4X8P1")
	if err != nil {
		t.Fatal(err)
	}
	v, err := dcc.NewVaccination(masterdata.Vaccines()[0], 2, 2, vax.Date{Year: 2021, Month: 8, Day: 2}, "IN", "Ministry of Health and Family Welfare, India", uvci)
	if err != nil {
		t.Fatal(err)
	}
	return dcc.Certificate{Name: name, DateOfBirth: "1985", Vaccinations: []dcc.Vaccination{v}}
}

func TestRoundTrip(t *testing.T) {
	s, key := newSigner(t)
	c := sampleCertificate(t)
	iat := time.Date(2021, 9, 17, 10, 0, 0, 0, time.UTC)
	exp := iat.AddDate(1, 0, 0)
	text, err := s.Sign(c, "IN", iat, exp)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if !strings.HasPrefix(text, "HC1:") {
		t.Fatalf("text %.10q, want HC1: prefix", text)
	}

	// Our verifier, with the signer certificate loaded from its PEM.
	var trust dcc.Trust
	if n, err := trust.AddPEM(s.PEM()); err != nil || n != 1 {
		t.Fatalf("AddPEM: %d, %v", n, err)
	}
	v, err := dcc.Verify(text, &trust, iat.Add(time.Hour))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	c.Version = dcc.Version
	if diff := cmp.Diff(c, v.Certificate); diff != "" {
		t.Errorf("verified certificate differs (-signed +verified):\n%s", diff)
	}
	if v.Issuer != "IN" || !v.IssuedAt.Equal(iat) || !v.Expires.Equal(exp) {
		t.Errorf("claims iss %q iat %s exp %s, want IN %s %s", v.Issuer, v.IssuedAt, v.Expires, iat, exp)
	}
	if !bytes.Equal(v.KID, s.KID()) {
		t.Errorf("kid %x, want %x", v.KID, s.KID())
	}

	// Independently, with go-cose: decode the transport by hand, verify the
	// COSE_Sign1 and read the claims.
	z, err := base45.Decode(strings.TrimPrefix(text, "HC1:"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := dcc.Inflate(z)
	if err != nil {
		t.Fatal(err)
	}
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(raw); err != nil {
		t.Fatalf("go-cose decode: %v", err)
	}
	verifier, err := cose.NewVerifier(cose.AlgorithmES256, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.Verify(nil, verifier); err != nil {
		t.Fatalf("go-cose verify: %v", err)
	}
	if kid, _ := msg.Headers.Protected[cose.HeaderLabelKeyID].([]byte); !bytes.Equal(kid, s.KID()) {
		t.Errorf("go-cose protected kid %x, want %x", kid, s.KID())
	}
	var claims map[int]any
	if err := cbor.Unmarshal(msg.Payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims[1] != "IN" {
		t.Errorf("go-cose claims iss %v, want IN", claims[1])
	}
	hcert, _ := claims[-260].(map[any]any)
	content, _ := hcert[uint64(1)].(map[any]any)
	if content["dob"] != "1985" {
		t.Errorf("go-cose claims hcert %v, want dob 1985", hcert)
	}

	// A tampered signature fails; a foreign certificate is not trusted.
	msg.Signature[0] ^= 1
	if err := msg.Verify(nil, verifier); err == nil {
		t.Error("go-cose accepted a tampered signature")
	}
	other, _ := newSigner(t)
	var otherTrust dcc.Trust
	otherTrust.AddCertificate(other.Certificate())
	if _, err := dcc.Verify(text, &otherTrust, iat.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "no trusted signer") {
		t.Errorf("Verify with another signer: %v, want no trusted signer", err)
	}
	// Times.
	for _, at := range []time.Time{iat.Add(-time.Second), exp} {
		if v, err := dcc.Verify(text, &trust, at); err == nil || v == nil {
			t.Errorf("Verify at %s: %v, %v; want an authenticated but refused certificate", at, v, err)
		}
	}
}

func TestSignerIsDeterministic(t *testing.T) {
	s1, key := newSigner(t)
	s2, err := dcc.NewSigner(key, created, "IN", "Ministry of Health and Family Welfare")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1.Certificate().Raw, s2.Certificate().Raw) {
		t.Fatal("two signers of one key differ: nodes would disagree on the DCC kid")
	}
	c := s1.Certificate()
	if c.NotBefore != created || c.NotAfter != created.Add(dcc.SignerValidity) {
		t.Errorf("validity %s–%s, want %s + %s", c.NotBefore, c.NotAfter, created, dcc.SignerValidity)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("self-signature: %v", err)
	}
	if got := dcc.KeyID(c.Raw); !bytes.Equal(got, s1.KID()) || len(got) != 8 {
		t.Errorf("KeyID %x, want 8 bytes equal to KID %x", got, s1.KID())
	}
}

func TestSignRefusesOutsideSignerValidity(t *testing.T) {
	s, _ := newSigner(t)
	c := sampleCertificate(t)
	if _, err := s.Sign(c, "IN", created.Add(-time.Hour), created.AddDate(1, 0, 0)); err == nil {
		t.Error("Sign before the signer certificate: no error")
	}
	if _, err := s.Sign(c, "IN", created, created.Add(dcc.SignerValidity+time.Hour)); err == nil {
		t.Error("Sign expiring after the signer certificate: no error")
	}
}

func TestUVCI(t *testing.T) {
	// The AT vector's UVCI (dgc-testdata AT/2DCode/raw/1.json) and the
	// schema FAQ's example.
	for _, id := range []string{"URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B", "URN:UVCI:01:NL:187/37512422923#Z"} {
		if err := dcc.CheckUVCI(id); err != nil {
			t.Errorf("CheckUVCI(%s): %v", id, err)
		}
	}
	id, err := dcc.NewUVCI("AT", "10807843F94AEE0EE5093FBC254BD813")
	if err != nil || id != "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B" {
		t.Errorf("NewUVCI = %q, %v", id, err)
	}
	for _, bad := range []string{
		"URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#C", // wrong checksum
		"URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813",   // none
		"urn:uvci:01:nl:ad86e2d1f61546d19dbca9b70a950aef",   // lower case, none
	} {
		if err := dcc.CheckUVCI(bad); err == nil {
			t.Errorf("CheckUVCI(%s): no error", bad)
		}
	}
	if _, err := dcc.NewUVCI("in", "X"); err == nil {
		t.Error("NewUVCI with a lower-case country: no error")
	}
	if _, err := dcc.NewUVCI("IN", "abc"); err == nil {
		t.Error("NewUVCI with lower-case opaque part: no error")
	}
}

func TestTransliterate(t *testing.T) {
	for in, want := range map[string]string{
		"d'Červenková Panklová": "DCERVENKOVA<PANKLOVA", // the schema's example
		"Jiřina-Maria Alena":    "JIRINA<MARIA<ALENA",
		"Musterfrau-Gößinger":   "MUSTERFRAU<GOESSINGER",
		"Lövström":              "LOEVSTROEM",
		"  Asha   Devi ":        "ASHA<DEVI",
		"":                      "",
	} {
		got, err := dcc.Transliterate(in)
		if err != nil || got != want {
			t.Errorf("Transliterate(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	if _, err := dcc.Transliterate("आशा"); err == nil {
		t.Error("Transliterate of Devanagari: no error")
	}
}

func TestNewVaccinationCodes(t *testing.T) {
	uvci, _ := dcc.NewUVCI("IN", "A1")
	for _, v := range masterdata.Vaccines() {
		e, err := dcc.NewVaccination(v, 1, v.Doses, vax.Date{Year: 2021, Month: 5, Day: 1}, "IN", "MoHFW", uvci)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if e.Target != dcc.TargetCOVID19 || e.Product != v.DCCProduct {
			t.Errorf("%s: entry %+v", v.Name, e)
		}
	}
	bad := masterdata.Vaccines()[0]
	bad.DCCProphylaxis = "J07BX03" // deprecated in value sets 1.15
	if _, err := dcc.NewVaccination(bad, 1, 2, vax.Date{Year: 2021, Month: 5, Day: 1}, "IN", "MoHFW", uvci); err == nil {
		t.Error("NewVaccination with an inactive code: no error")
	}
	if got := dcc.ProductName("Covishield"); got != "Covishield" {
		t.Errorf("ProductName = %q", got)
	}
	if got := dcc.ProductName("EU/1/20/1528"); got != "Comirnaty" {
		t.Errorf("ProductName(EU/1/20/1528) = %q, want Comirnaty", got)
	}
}

func TestTrustRefusesPrivateKeys(t *testing.T) {
	var tr dcc.Trust
	pemKey := "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
	s, _ := newSigner(t)
	if _, err := tr.AddPEM(append(s.PEM(), pemKey...)); err == nil || tr.Len() != 0 {
		t.Errorf("AddPEM with a private key: %v, %d trusted; want refusal", err, tr.Len())
	}
	if _, err := tr.AddPEM([]byte("nothing")); err == nil {
		t.Error("AddPEM without a certificate: no error")
	}
}

func TestParseCOSEKidPrecedence(t *testing.T) {
	// CO21: protected kid right, unprotected kid wrong: the protected one wins.
	v := loadVectors(t)["common/2DCode/raw/CO21.json"]
	msg, err := dcc.ParseCOSE(unhex(t, v.COSE))
	if err != nil {
		t.Fatal(err)
	}
	cert := mustCert(t, v.TESTCTX.CERTIFICATE)
	if !bytes.Equal(msg.KID, dcc.KeyID(cert.Raw)) {
		t.Errorf("kid %x, want the protected %x", msg.KID, dcc.KeyID(cert.Raw))
	}
}

func mustCert(t *testing.T, b64 string) *x509.Certificate {
	t.Helper()
	var trust dcc.Trust
	pem := "-----BEGIN CERTIFICATE-----\n" + b64 + "\n-----END CERTIFICATE-----\n"
	if _, err := trust.AddPEM([]byte(pem)); err != nil {
		t.Fatal(err)
	}
	return trust.Signers(nil)[0]
}

func TestUnprefix(t *testing.T) {
	for in, ok := range map[string]bool{"HC1:ABC": true, "HC2:ABC": false, "HL0:ABC": false, "ABC": false, "hc1:ABC": false} {
		_, err := dcc.Unprefix(in)
		if (err == nil) != ok {
			t.Errorf("Unprefix(%q) error %v, want ok=%v", in, err, ok)
		}
		if err != nil && !errors.Is(err, vax.ErrInvalid) {
			t.Errorf("Unprefix(%q) code %s, want Invalid", in, vax.ErrorCode(err))
		}
	}
}

func seedCOSE(f *testing.F) {
	for _, name := range []string{"CO1", "CO3", "CO20", "CO28", "CBO2", "Z1"} {
		b, err := os.ReadFile("../testdata/dcc/common/2DCode/raw/" + name + ".json")
		if err != nil {
			f.Fatal(err)
		}
		_, after, _ := strings.Cut(string(b), `"COSE": "`)
		h, _, _ := strings.Cut(after, `"`)
		if raw, err := hex.DecodeString(h); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte{0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40})
}

func FuzzParseCOSE(f *testing.F) {
	seedCOSE(f)
	s, _ := newSigner(f)
	var trust dcc.Trust
	trust.AddCertificate(s.Certificate())
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := dcc.ParseCOSE(b)
		if err != nil {
			return
		}
		_, _ = dcc.VerifyMessage(msg, &trust, created)
		_, _ = dcc.ParseClaims(msg.Payload)
	})
}

func FuzzParseClaims(f *testing.F) {
	seedCOSE(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := dcc.ParseClaims(b)
		if err != nil {
			return
		}
		_ = dcc.ValidateSchema(c.Content)
	})
}

func FuzzDecode(f *testing.F) {
	s, _ := newSigner(f)
	text, err := s.Sign(sampleCertificate(f), "IN", created, created.AddDate(1, 0, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(text)
	f.Add("HC1:NCFOXN%TS3DH")
	f.Add("HC1:")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = dcc.Decode(s)
	})
}

func BenchmarkSign(b *testing.B) {
	s, _ := newSigner(b)
	c := sampleCertificate(b)
	iat := created.AddDate(0, 6, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(c, "IN", iat, iat.AddDate(1, 0, 0)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s, _ := newSigner(b)
	iat := created.AddDate(0, 6, 0)
	text, err := s.Sign(sampleCertificate(b), "IN", iat, iat.AddDate(1, 0, 0))
	if err != nil {
		b.Fatal(err)
	}
	var trust dcc.Trust
	trust.AddCertificate(s.Certificate())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dcc.Verify(text, &trust, iat.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}
