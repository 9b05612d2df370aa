package cert_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/cert"
	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/cert/qr"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/vax"
)

const (
	shcDir     = "testdata/shc"
	exampleKid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"
)

var exampleTime = time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC)

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exampleTrust(t testing.TB) *cert.Trust {
	t.Helper()
	tr, err := cert.LoadTrust(
		filepath.Join(shcDir, "issuer/.well-known/jwks.json"),
		filepath.Join(shcDir, "issuer/.well-known/crl", exampleKid+".json"),
	)
	if err != nil {
		t.Fatalf("LoadTrust: %v", err)
	}
	return tr
}

// inputs returns every form of SHC example n a verifier may be given.
func inputs(t *testing.T, n string) map[string][]byte {
	t.Helper()
	qrText := read(t, filepath.Join(shcDir, "example-"+n+"-f-qr-code-numeric-value-0.txt"))
	code, err := qr.Encode(string(qrText))
	if err != nil {
		t.Fatal(err)
	}
	png, err := code.PNG(4)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"jws":                read(t, filepath.Join(shcDir, "example-"+n+"-d-jws.txt")),
		"jws+newline":        append(read(t, filepath.Join(shcDir, "example-"+n+"-d-jws.txt")), '\n'),
		"smart-health-card":  read(t, filepath.Join(shcDir, "example-"+n+"-e-file.smart-health-card")),
		"qr-text":            qrText,
		"qr-png":             png,
		"qr-text-upper-case": []byte(strings.ToUpper(string(qrText))),
	}
}

func TestSHCExamples(t *testing.T) {
	trust := exampleTrust(t)
	holder := &cert.Holder{Name: "John B. Anyperson", BirthDate: "1951-01-20"}
	doses := []cert.Dose{
		{Vaccine: "Moderna (Spikevax)", Dose: 1, Date: "2021-01-01", Issuer: "ABC General Hospital"},
		{Vaccine: "Moderna (Spikevax)", Dose: 2, Date: "2021-01-29", Issuer: "ABC General Hospital"},
		{Vaccine: "Moderna bivalent (Spikevax Bivalent)", Dose: 3, Date: "2022-09-05", Issuer: "ABC General Hospital"},
	}
	for _, n := range []string{"00", "01"} {
		for form, in := range inputs(t, n) {
			t.Run(n+"/"+form, func(t *testing.T) {
				got := cert.Verify(in, trust, exampleTime)
				want := cert.Result{
					Valid: true, Format: cert.FormatSHC, Holder: holder, Doses: doses,
					Issuer: "https://spec.smarthealth.cards/examples/issuer", KeyID: got.KeyID,
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Verify (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestSHCExample03IsRevoked(t *testing.T) {
	trust := exampleTrust(t)
	for form, in := range inputs(t, "03") {
		t.Run(form, func(t *testing.T) {
			got := cert.Verify(in, trust, exampleTime)
			if got.Valid || !got.Revoked || got.Format != cert.FormatSHC {
				t.Fatalf("Verify = %+v, want revoked and invalid", got)
			}
			if !strings.Contains(got.Reason, "revoked") {
				t.Errorf("reason %q, want it to say revoked", got.Reason)
			}
			if got.Holder == nil || got.Holder.Name != "Johnny Revoked" {
				t.Errorf("holder %+v, want Johnny Revoked", got.Holder)
			}
		})
	}
}

// The negative vectors through the whole verifier; the table of reasons
// next to the upstream validator's errors is in shc's tests.
func TestSHCNegativeVectors(t *testing.T) {
	trust := exampleTrust(t)
	files, err := filepath.Glob(filepath.Join(shcDir, "negative/test-*"))
	if err != nil || len(files) != 9 {
		t.Fatalf("negative vectors: %d, %v", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got := cert.Verify(read(t, f), trust, time.Date(2021, 12, 1, 0, 0, 0, 0, time.UTC))
			if got.Valid || got.Reason == "" || got.Format != cert.FormatSHC {
				t.Errorf("Verify = %+v, want invalid SHC with a reason", got)
			}
		})
	}
}

func dccVector(t *testing.T, rel string) (prefix string, certDER []byte, at time.Time) {
	t.Helper()
	var v struct {
		PREFIX  string
		TESTCTX struct{ CERTIFICATE, VALIDATIONCLOCK string }
	}
	if err := json.Unmarshal(read(t, filepath.Join("testdata/dcc", rel)), &v); err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(v.TESTCTX.CERTIFICATE)
	if err != nil {
		t.Fatal(err)
	}
	at, err = time.Parse(time.RFC3339, v.TESTCTX.VALIDATIONCLOCK)
	if err != nil {
		t.Fatal(err)
	}
	return v.PREFIX, der, at
}

func TestDCCVectorsThroughVerify(t *testing.T) {
	for _, tc := range []struct{ json, png string }{
		{"DE/2DCode/raw/1.json", "DE/2DCode/png/1.png"},
		{"DE/2DCode/raw/4.json", "DE/2DCode/png/4.png"},
	} {
		t.Run(tc.json, func(t *testing.T) {
			prefix, der, at := dccVector(t, tc.json)
			dir := t.TempDir()
			pemFile := filepath.Join(dir, "dsc.pem")
			pem := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END CERTIFICATE-----\n"
			if err := os.WriteFile(pemFile, []byte(pem), 0o600); err != nil {
				t.Fatal(err)
			}
			derFile := filepath.Join(dir, "dsc.der")
			if err := os.WriteFile(derFile, der, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, trustFile := range []string{pemFile, derFile} {
				trust, err := cert.LoadTrust(trustFile)
				if err != nil {
					t.Fatal(err)
				}
				for name, in := range map[string][]byte{"text": []byte(prefix), "png": read(t, filepath.Join("testdata/dcc", tc.png))} {
					got := cert.Verify(in, trust, at)
					if !got.Valid || got.Format != cert.FormatDCC {
						t.Fatalf("%s with %s: Verify = %+v, want valid DCC", name, filepath.Base(trustFile), got)
					}
					want := &cert.Holder{Name: "Erika Mustermann", BirthDate: "1964-08-12"}
					if diff := cmp.Diff(want, got.Holder); diff != "" || len(got.Doses) != 1 || got.Doses[0].Country != "DE" {
						t.Errorf("holder (-want +got):\n%s\ndoses %+v", diff, got.Doses)
					}
				}
			}
			// Expired a year later.
			trust, _ := cert.LoadTrust(pemFile)
			if got := cert.Verify([]byte(prefix), trust, at.AddDate(2, 0, 0)); got.Valid || !strings.Contains(got.Reason, "expired") || got.Holder == nil {
				t.Errorf("two years later: %+v, want expired with holder", got)
			}
		})
	}
}

// TestOwnBundleRoundTrip signs with a keyring's certificate key in both
// formats, publishes the bundle, and verifies with nothing but the bundle.
func TestOwnBundleRoundTrip(t *testing.T) {
	created := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	kr, err := keyring.Init(t.TempDir(), rand.Reader, created)
	if err != nil {
		t.Fatal(err)
	}
	kid, key := kr.CertKey()
	signer, err := dcc.NewSigner(key, created, "IN", "Ministry of Health and Family Welfare")
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := cert.NewBundle("https://vaxport.example", kr.CertKeys(), nil, []*dcc.Signer{signer})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "trust.json")
	b, _ := json.Marshal(bundle)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	trust, err := cert.LoadTrust(file)
	if err != nil {
		t.Fatalf("LoadTrust(bundle): %v", err)
	}

	issued := time.Date(2021, 9, 17, 10, 0, 0, 0, time.UTC)
	vaccine := masterdata.Vaccines()[1] // Covaxin
	code, err := shc.CVX(vaccine)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := shc.Sign(shc.Card{
		Issuer: "https://vaxport.example", NotBefore: issued,
		Patient:       shc.Patient{Family: "Sharma", Given: []string{"Asha"}, BirthDate: "1985"},
		Immunizations: []shc.Immunization{{Code: code, Date: vax.Date{Year: 2021, Month: 9, Day: 17}, Performer: "PHC Anandpur"}},
	}, kid, key)
	if err != nil {
		t.Fatal(err)
	}
	qrText, err := shc.EncodeQR(jws)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := dcc.NewName("Sharma", "Asha")
	uvci, _ := dcc.NewUVCI("IN", "ABC123")
	entry, err := dcc.NewVaccination(vaccine, 1, 2, vax.Date{Year: 2021, Month: 9, Day: 17}, "IN", "Ministry of Health and Family Welfare, India", uvci)
	if err != nil {
		t.Fatal(err)
	}
	hc1, err := signer.Sign(dcc.Certificate{Name: name, DateOfBirth: "1985", Vaccinations: []dcc.Vaccination{entry}}, "IN", issued, issued.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	holder := &cert.Holder{Name: "Asha Sharma", BirthDate: "1985"}
	for _, tc := range []struct {
		in   string
		want cert.Result
	}{
		{qrText, cert.Result{Valid: true, Format: cert.FormatSHC, Holder: holder, Issuer: "https://vaxport.example", KeyID: kid,
			Doses: []cert.Dose{{Vaccine: "Covaxin (Bharat Biotech)", Dose: 1, Date: "2021-09-17", Issuer: "PHC Anandpur"}}}},
		{hc1, cert.Result{Valid: true, Format: cert.FormatDCC, Holder: holder, Issuer: "IN", KeyID: base64.StdEncoding.EncodeToString(signer.KID()),
			Doses: []cert.Dose{{Vaccine: "Covaxin", Dose: 1, Of: 2, Date: "2021-09-17", Country: "IN", Issuer: "Ministry of Health and Family Welfare, India"}}}},
	} {
		t.Run(string(tc.want.Format), func(t *testing.T) {
			got := cert.Verify([]byte(tc.in), trust, issued.Add(time.Hour))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
		})
	}
	// The bundle binds its keys to its issuer.
	foreign, err := shc.Sign(shc.Card{
		Issuer: "https://impostor.example", NotBefore: issued,
		Patient:       shc.Patient{Text: "X"},
		Immunizations: []shc.Immunization{{Code: code, Date: vax.Date{Year: 2021, Month: 9, Day: 17}}},
	}, kid, key)
	if err != nil {
		t.Fatal(err)
	}
	if got := cert.Verify([]byte(foreign), trust, issued.Add(time.Hour)); got.Valid {
		t.Errorf("card with a foreign iss under a bound key: %+v, want invalid", got)
	}
}

func TestTrustFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, tc := range map[string]struct {
		content string
		ok      bool
	}{
		"garbage":          {"hello", false},
		"json other":       {`{"a":1}`, false},
		"bad crl":          {`{"kid":"k","method":"other","ctr":1,"rids":[]}`, false},
		"pem without cert": {"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", false},
		"example jwks":     {string(read(t, filepath.Join(shcDir, "issuer/.well-known/jwks.json"))), true},
		"example crl":      {string(read(t, filepath.Join(shcDir, "issuer/.well-known/crl", exampleKid+".json"))), true},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cert.LoadTrust(write(strings.ReplaceAll(name, " ", "_"), tc.content))
			if (err == nil) != tc.ok {
				t.Errorf("LoadTrust: %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if _, err := cert.LoadTrust(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadTrust of a missing file: no error")
	}
}

func TestVerifyUnrecognised(t *testing.T) {
	trust := exampleTrust(t)
	for name, in := range map[string]string{
		"empty":         "",
		"words":         "hello world",
		"other context": "HC2:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0B3KL6QM5/OVGA/MAT%ZSP",
		"two newlines":  string(read(t, filepath.Join(shcDir, "example-00-d-jws.txt"))) + "\n\n",
		"not a png":     "\x89PNG\r\n\x1a\nbroken",
	} {
		t.Run(name, func(t *testing.T) {
			got := cert.Verify([]byte(in), trust, exampleTime)
			if got.Valid || got.Reason == "" || got.Holder != nil || got.Doses == nil || len(got.Doses) != 0 {
				t.Errorf("Verify = %+v, want invalid with a reason, no holder, empty doses", got)
			}
		})
	}
	if got := cert.Verify(read(t, filepath.Join(shcDir, "example-00-d-jws.txt")), &cert.Trust{}, exampleTime); got.Valid || !strings.Contains(got.Reason, "no trust") {
		t.Errorf("Verify with empty trust = %+v, want no trust", got)
	}
}

func TestResultJSON(t *testing.T) {
	got, err := json.Marshal(cert.Verify([]byte("nothing"), exampleTrust(t), exampleTime))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"valid":false,"format":"","revoked":false,"reason":"not a certificate: want a QR text (shc:/… or HC1:…), a SMART Health Card JWS or file, or a PNG image of a QR code","holder":null,"doses":[]}`
	if string(got) != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
}

func FuzzVerify(f *testing.F) {
	for _, p := range []string{
		"example-00-d-jws.txt", "example-00-e-file.smart-health-card", "example-00-f-qr-code-numeric-value-0.txt",
		"negative/test-example-00-d-jws-trailing_chars.txt",
	} {
		f.Add(read(f, filepath.Join(shcDir, p)))
	}
	f.Add([]byte("HC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0B3KL6QM5/OVGA/MAT%ZSP"))
	f.Add([]byte("shc:/1/2/5676\nshc:/2/2/2909"))
	f.Add(read(f, "testdata/dcc/AT/png/1.png"))
	trust := exampleTrust(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		r := cert.Verify(in, trust, exampleTime)
		if r.Valid && r.Holder == nil {
			t.Fatalf("valid result without a holder: %+v", r)
		}
		if !r.Valid && r.Reason == "" {
			t.Fatalf("invalid result without a reason: %+v", r)
		}
	})
}
