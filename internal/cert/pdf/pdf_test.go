package pdf_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/cert/pdf"
	"github.com/vaxport/vaxport/internal/cert/pdf/pdftest"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/vax"
)

var issued = time.Date(2021, 9, 17, 10, 0, 0, 0, time.UTC)

// sample returns a certificate with real, signed QR texts.
func sample(t testing.TB) pdf.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := keyring.Thumbprint(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	vaccine := masterdata.Vaccines()[0]
	code, err := shc.CVX(vaccine)
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := vax.Date{Year: 2021, Month: 5, Day: 1}, vax.Date{Year: 2021, Month: 8, Day: 2}
	jws, err := shc.Sign(shc.Card{
		Issuer: "https://vaxport.example", NotBefore: issued, RevocationID: "Zm9vYmFyYmF6",
		Patient: shc.Patient{Family: "Sharma", Given: []string{"Asha", "Devi"}, BirthDate: "1985"},
		Immunizations: []shc.Immunization{
			{Code: code, Date: d1, Performer: "Primary Health Centre Anandpur, Bhubaneswar", Lot: "4121Z025"},
			{Code: code, Date: d2, Performer: "Primary Health Centre Anandpur, Bhubaneswar", Lot: "4121Z078"},
		},
	}, kid, key)
	if err != nil {
		t.Fatal(err)
	}
	shcText, err := shc.EncodeQR(jws)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := dcc.NewSigner(key, issued.AddDate(-1, 0, 0), "IN", "Ministry of Health and Family Welfare")
	if err != nil {
		t.Fatal(err)
	}
	name, _ := dcc.NewName("Sharma", "Asha Devi")
	uvci, _ := dcc.NewUVCI("IN", "91264775439302")
	entry, err := dcc.NewVaccination(vaccine, 2, 2, d2, "IN", "Ministry of Health and Family Welfare, India", uvci)
	if err != nil {
		t.Fatal(err)
	}
	dccText, err := signer.Sign(dcc.Certificate{Name: name, DateOfBirth: "1985", Vaccinations: []dcc.Vaccination{entry}}, "IN", issued, issued.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return pdf.Certificate{
		Reference: "91264775439302",
		Name:      "Asha Devi Sharma",
		BirthYear: 1985,
		IDType:    "Aadhaar",
		MaskedID:  "XXXXXXXX1234",
		Passport:  "Z1234567",
		Doses: []pdf.Dose{
			{Vaccine: "COVISHIELD", Dose: 1, Of: 2, Date: d1, Batch: "4121Z025"},
			{Vaccine: "COVISHIELD", Dose: 2, Of: 2, Date: d2, Batch: "4121Z078"},
		},
		Centre:    "Primary Health Centre Anandpur, Bhubaneswar",
		Issuer:    "Ministry of Health and Family Welfare, Government of India",
		Issued:    issued,
		VerifyURL: "https://vaxport.example/verify",
		SHC:       shcText,
		DCC:       dccText,
	}
}

// TestQRCodesSurvivePrinting renders the PDF, rasterises it with pdftoppm
// at 150 dpi, and reads both QR codes back from the page image.
func TestQRCodesSurvivePrinting(t *testing.T) {
	c := sample(t)
	doc, err := pdf.Render(c)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	shc, dcc := pdftest.Codes(t, doc)
	if shc != c.SHC || dcc != c.DCC {
		t.Errorf("printed codes read %.40q… and %.40q…, want %.40q… and %.40q…", shc, dcc, c.SHC, c.DCC)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	c := sample(t)
	a, err := pdf.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pdf.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two renders of one certificate differ")
	}
	if !bytes.HasPrefix(a, []byte("%PDF-")) {
		t.Errorf("output starts %q, want a PDF", a[:8])
	}
}

func TestRenderRefuses(t *testing.T) {
	for name, mutate := range map[string]func(*pdf.Certificate){
		"unmasked ID": func(c *pdf.Certificate) { c.MaskedID = "123456781234" },
		"no dose":     func(c *pdf.Certificate) { c.Doses = nil },
		"no QR":       func(c *pdf.Certificate) { c.DCC = "" },
		"no name":     func(c *pdf.Certificate) { c.Name = " " },
		"no issued":   func(c *pdf.Certificate) { c.Issued = time.Time{} },
		"40 doses":    func(c *pdf.Certificate) { c.Doses = make([]pdf.Dose, 40) },
	} {
		t.Run(name, func(t *testing.T) {
			c := sample(t)
			mutate(&c)
			if _, err := pdf.Render(c); err == nil {
				t.Error("Render: no error")
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	c := sample(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pdf.Render(c); err != nil {
			b.Fatal(err)
		}
	}
}
