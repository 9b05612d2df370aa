package issuer_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/cert"
	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/vax"
)

var (
	created = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	issued  = time.Date(2021, 9, 17, 10, 0, 0, 0, time.UTC)
	doseDay = vax.Date{Year: 2021, Month: 9, Day: 17}
)

// signSHC signs a one-dose card for iss with the keyring's active key and
// returns its QR text.
func signSHC(t *testing.T, kr *keyring.Keyring, iss string) string {
	t.Helper()
	code, err := shc.CVX(masterdata.Vaccines()[1])
	if err != nil {
		t.Fatal(err)
	}
	kid, key := kr.CertKey()
	jws, err := shc.Sign(shc.Card{
		Issuer: iss, NotBefore: issued,
		Patient:       shc.Patient{Family: "Sharma", Given: []string{"Asha"}, BirthDate: "1985"},
		Immunizations: []shc.Immunization{{Code: code, Date: doseDay, Performer: "PHC Anandpur"}},
	}, kid, key)
	if err != nil {
		t.Fatal(err)
	}
	text, err := shc.EncodeQR(jws)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// signDCC signs a one-dose DCC with signer.
func signDCC(t *testing.T, signer *dcc.Signer) string {
	t.Helper()
	name, err := dcc.NewName("Sharma", "Asha")
	if err != nil {
		t.Fatal(err)
	}
	uvci, err := dcc.NewUVCI("IN", "ABC123")
	if err != nil {
		t.Fatal(err)
	}
	entry, err := dcc.NewVaccination(masterdata.Vaccines()[1], 1, 2, doseDay, "IN", "Ministry of Health and Family Welfare, India", uvci)
	if err != nil {
		t.Fatal(err)
	}
	hc1, err := signer.Sign(dcc.Certificate{Name: name, DateOfBirth: "1985", Vaccinations: []dcc.Vaccination{entry}}, "IN", issued, issued.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return hc1
}

func newKeyring(t *testing.T) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.Init(t.TempDir(), rand.Reader, created)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestBuildVerifiesOwnCertificates(t *testing.T) {
	kr := newKeyring(t)
	m, err := issuer.Build(kr, "https://vaxport.example/")
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if m.Issuer != "https://vaxport.example" {
		t.Errorf("Issuer: got %q, want https://vaxport.example", m.Issuer)
	}
	kid, _ := kr.CertKey()
	holder := &cert.Holder{Name: "Asha Sharma", BirthDate: "1985"}
	for _, tc := range []struct {
		name string
		in   string
		want cert.Result
	}{
		{"shc", signSHC(t, kr, m.Issuer), cert.Result{Valid: true, Format: cert.FormatSHC, Holder: holder, Issuer: m.Issuer, KeyID: kid,
			Doses: []cert.Dose{{Vaccine: "Covaxin (Bharat Biotech)", Dose: 1, Date: "2021-09-17", Issuer: "PHC Anandpur"}}}},
		{"dcc", signDCC(t, m.Signers[0]), cert.Result{Valid: true, Format: cert.FormatDCC, Holder: holder, Issuer: "IN", KeyID: base64.StdEncoding.EncodeToString(m.Signers[0].KID()),
			Doses: []cert.Dose{{Vaccine: "Covaxin", Dose: 1, Of: 2, Date: "2021-09-17", Country: "IN", Issuer: "Ministry of Health and Family Welfare, India"}}}},
		{"shc from another issuer", signSHC(t, kr, "https://impostor.example"), cert.Result{Format: cert.FormatSHC}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cert.Verify([]byte(tc.in), m.Trust, issued.Add(time.Hour))
			if !tc.want.Valid {
				if got.Valid || got.Reason == "" {
					t.Errorf("Verify: got %+v, want invalid with a reason", got)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildAfterRotation(t *testing.T) {
	kr := newKeyring(t)
	before, err := issuer.Build(kr, "https://vaxport.example")
	if err != nil {
		t.Fatal(err)
	}
	oldKID, _ := kr.CertKey()
	oldSHC := signSHC(t, kr, before.Issuer)
	oldDCC := signDCC(t, before.Signers[0])
	if _, err := kr.Rotate(keyring.KindCert, rand.Reader, created.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	newKID, _ := kr.CertKey()
	m, err := issuer.Build(kr, "https://vaxport.example")
	if err != nil {
		t.Fatal(err)
	}

	var jwksKids, bundleKids []string
	for _, k := range m.JWKS.Keys {
		jwksKids = append(jwksKids, k.Kid)
	}
	for _, k := range m.Bundle.Keys {
		bundleKids = append(bundleKids, k.Kid)
	}
	want := []string{newKID, oldKID}
	if diff := cmp.Diff(want, jwksKids); diff != "" {
		t.Errorf("JWKS kids, active first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, bundleKids); diff != "" {
		t.Errorf("bundle kids, active first (-want +got):\n%s", diff)
	}
	if got := len(m.Bundle.Certificates); got != 2 {
		t.Fatalf("bundle certificates: got %d, want 2", got)
	}
	if m.Bundle.Certificates[1] != string(before.Signers[0].PEM()) {
		t.Error("the old key's signer certificate changed after rotation: DCC kids would change")
	}
	for i, s := range m.Signers {
		pub, ok := s.Certificate().PublicKey.(*ecdsa.PublicKey)
		if !ok || !pub.Equal(kr.CertKeys()[i].Public) {
			t.Errorf("signer %d does not certify certificate key %s", i, kr.CertKeys()[i].ID)
		}
	}
	// PEM holds both signer certificates, active first.
	var ders [][]byte
	for rest := m.PEM(); ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		ders = append(ders, b.Bytes)
	}
	if len(ders) != 2 || !slices.Equal(ders[0], m.Signers[0].Certificate().Raw) || !slices.Equal(ders[1], m.Signers[1].Certificate().Raw) {
		t.Errorf("PEM: got %d certificates, want the 2 signer certificates in order", len(ders))
	}
	// Certificates signed before the rotation keep verifying; new ones too.
	for name, in := range map[string]string{
		"old shc": oldSHC, "old dcc": oldDCC,
		"new shc": signSHC(t, kr, m.Issuer), "new dcc": signDCC(t, m.Signers[0]),
	} {
		t.Run(name, func(t *testing.T) {
			if got := cert.Verify([]byte(in), m.Trust, issued.Add(time.Hour)); !got.Valid {
				t.Errorf("Verify: got %+v, want valid", got)
			}
		})
	}
}

func TestIssuer(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://vaxport.example", "https://vaxport.example", true},
		{"https://vaxport.example/", "https://vaxport.example", true},
		{"http://localhost:8080/base/", "http://localhost:8080/base", true},
		{"", "", false},
		{"vaxport.example", "", false},
		{"ftp://vaxport.example", "", false},
		{"https://vaxport.example/?q=1", "", false},
		{"https://user@vaxport.example", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := issuer.Issuer(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("Issuer(%q): got %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
	if _, err := issuer.Build(newKeyring(t), "not a url"); vax.ErrorCode(err) != vax.Invalid {
		t.Errorf("Build with a bad URL: got %v, want Invalid", err)
	}
}

func TestTrustWith(t *testing.T) {
	ours, err := issuer.Build(newKeyring(t), "https://vaxport.example")
	if err != nil {
		t.Fatal(err)
	}
	otherKR := newKeyring(t)
	other, err := issuer.Build(otherKR, "https://other.example")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(other.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	trust, err := ours.TrustWith(file)
	if err != nil {
		t.Fatalf("TrustWith: %v", err)
	}
	foreign := signSHC(t, otherKR, other.Issuer)
	if got := cert.Verify([]byte(foreign), trust, issued.Add(time.Hour)); !got.Valid || got.Issuer != other.Issuer {
		t.Errorf("foreign card with TrustWith: got %+v, want valid from %s", got, other.Issuer)
	}
	if got := cert.Verify([]byte(foreign), ours.Trust, issued.Add(time.Hour)); got.Valid {
		t.Errorf("foreign card with our trust only: got %+v, want invalid", got)
	}
	if got := cert.Verify([]byte(signDCC(t, ours.Signers[0])), trust, issued.Add(time.Hour)); !got.Valid {
		t.Errorf("our DCC with TrustWith: got %+v, want valid", got)
	}
	if _, err := ours.TrustWith(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("TrustWith a missing file: no error")
	}
}
