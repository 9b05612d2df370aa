// Package pdf renders the printable vaccination certificate: the holder's
// details, the doses, and both QR codes (SMART Health Card and EU DCC)
// drawn as vector squares, so they stay sharp at any print size.
//
// It renders what it is given and nothing more. It never reads a store
// and never sees an unmasked identity number: Render refuses an ID that
// shows more than its last four characters.
package pdf

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"

	"github.com/vaxport/vaxport/internal/cert/qr"
	"github.com/vaxport/vaxport/internal/vax"
)

// Certificate is what the printed certificate shows.
type Certificate struct {
	Reference string    // beneficiary reference id
	Name      string    // holder's name
	BirthYear int       // holder's year of birth
	IDType    string    // photo-ID type, e.g. "Aadhaar"
	MaskedID  string    // photo-ID number, masked to its last 4 characters, e.g. "XXXXXXXX1234"
	Passport  string    // passport number, if the holder gave one for travel
	Doses     []Dose    // in order
	Centre    string    // vaccination centre of the latest dose
	Issuer    string    // e.g. "Ministry of Health and Family Welfare, Government of India"
	Issued    time.Time // when the certificate was issued; also the PDF's creation date
	VerifyURL string    // where anyone can verify it, e.g. "https://vaxport.example/verify"
	SHC       string    // SMART Health Card QR text, "shc:/…"
	DCC       string    // EU DCC QR text, "HC1:…"
}

// Dose is one dose given.
type Dose struct {
	Vaccine string
	Dose    int // dose number
	Of      int // doses in the series
	Date    vax.Date
	Batch   string // optional
}

// Page layout, in millimetres on A4 portrait.
const (
	pageW    = 210.0
	margin   = 15.0
	qrTop    = 178.0 // top of the QR band
	qrSide   = 84.0  // side of each QR code, quiet zone included
	qrGap    = pageW - 2*margin - 2*qrSide
	labelGap = 5.0
)

// Render returns the certificate as a PDF. Output is deterministic for a
// given Certificate (dates come from Issued, not the clock), so it can be
// cached and compared.
func Render(c Certificate) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	shcCode, err := qr.Encode(c.SHC)
	if err != nil {
		return nil, fmt.Errorf("certificate PDF: SMART Health Card QR: %w", err)
	}
	dccCode, err := qr.Encode(c.DCC)
	if err != nil {
		return nil, fmt.Errorf("certificate PDF: EU DCC QR: %w", err)
	}

	p := fpdf.New("P", "mm", "A4", "")
	p.SetCompression(true)
	p.SetCatalogSort(true)
	p.SetCreationDate(c.Issued.UTC())
	p.SetModificationDate(c.Issued.UTC())
	p.SetProducer("vaxport", false)
	p.SetTitle("Certificate for COVID-19 Vaccination", false)
	p.SetAutoPageBreak(false, 0)
	p.SetMargins(margin, margin, margin)
	tr := p.UnicodeTranslatorFromDescriptor("") // cp1252 for the core fonts
	p.AddPage()

	p.SetFont("Helvetica", "B", 18)
	p.CellFormat(0, 10, "Certificate for COVID-19 Vaccination", "", 1, "C", false, 0, "")
	p.SetFont("Helvetica", "", 10)
	p.CellFormat(0, 6, tr("Issued by "+c.Issuer), "", 1, "C", false, 0, "")
	p.Ln(4)

	status := "Provisional: partially vaccinated"
	if last := c.Doses[len(c.Doses)-1]; last.Of > 0 && last.Dose >= last.Of {
		status = "Fully vaccinated"
	}
	rows := [][2]string{
		{"Beneficiary name", c.Name},
		{"Year of birth", fmt.Sprint(c.BirthYear)},
		{"ID verified", strings.TrimSpace(c.IDType + " " + c.MaskedID)},
	}
	if c.Passport != "" {
		rows = append(rows, [2]string{"Passport number", c.Passport})
	}
	rows = append(rows,
		[2]string{"Beneficiary reference ID", c.Reference},
		[2]string{"Vaccination status", status},
		[2]string{"Vaccinated at", c.Centre},
		[2]string{"Certificate issued", c.Issued.UTC().Format("02 Jan 2006")},
	)
	section(p, "Beneficiary details")
	for _, r := range rows {
		p.SetFont("Helvetica", "", 10)
		p.CellFormat(60, 7, tr(r[0]), "B", 0, "L", false, 0, "")
		p.SetFont("Helvetica", "B", 10)
		p.CellFormat(0, 7, tr(r[1]), "B", 1, "L", false, 0, "")
	}
	p.Ln(4)
	section(p, "Vaccination details")
	p.SetFont("Helvetica", "B", 9)
	widths := []float64{25, 70, 40, 45}
	for i, h := range []string{"Dose", "Vaccine", "Date", "Batch"} {
		p.CellFormat(widths[i], 7, h, "B", 0, "L", false, 0, "")
	}
	p.Ln(-1)
	p.SetFont("Helvetica", "", 9)
	// Rows shrink to fit above the QR codes; a series too long for one
	// page is refused rather than printed over the codes.
	rowH := min(7.0, (qrTop-labelGap-2-p.GetY())/float64(len(c.Doses)))
	if rowH < 4 {
		return nil, vax.Errorf(vax.Invalid, "certificate PDF: %d doses do not fit on one page", len(c.Doses))
	}
	for _, d := range c.Doses {
		dose := fmt.Sprint(d.Dose)
		if d.Of > 0 {
			dose += " of " + fmt.Sprint(d.Of)
		}
		for i, v := range []string{dose, d.Vaccine, d.Date.String(), d.Batch} {
			p.CellFormat(widths[i], rowH, tr(v), "B", 0, "L", false, 0, "")
		}
		p.Ln(-1)
	}

	left := margin
	right := margin + qrSide + qrGap
	label(p, left, "SMART Health Card")
	label(p, right, "EU Digital COVID Certificate")
	drawQR(p, shcCode, left, qrTop, qrSide)
	drawQR(p, dccCode, right, qrTop, qrSide)
	p.SetXY(margin, qrTop+qrSide+4)
	p.SetFont("Helvetica", "", 8)
	verify := "Scan either code with a SMART Health Card or EU DCC verifier app."
	if c.VerifyURL != "" {
		verify += " Or verify at " + c.VerifyURL
	}
	p.MultiCell(0, 4, tr(verify), "", "C", false)

	if err := p.Error(); err != nil {
		return nil, vax.Wrap(vax.Internal, err, "cannot render the certificate PDF")
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, vax.Wrap(vax.Internal, err, "cannot write the certificate PDF")
	}
	return buf.Bytes(), nil
}

func section(p *fpdf.Fpdf, title string) {
	p.SetFont("Helvetica", "B", 12)
	p.SetFillColor(230, 236, 245)
	p.CellFormat(0, 8, title, "", 1, "L", true, 0, "")
	p.Ln(1)
}

func label(p *fpdf.Fpdf, x float64, text string) {
	p.SetXY(x, qrTop-labelGap-1)
	p.SetFont("Helvetica", "B", 9)
	p.CellFormat(qrSide, labelGap, text, "", 0, "C", false, 0, "")
}

// drawQR draws code in a square of side mm at (x, y), quiet zone included:
// one filled rectangle per horizontal run of dark modules.
func drawQR(p *fpdf.Fpdf, code *qr.Code, x, y, side float64) {
	n := code.Size()
	m := side / float64(n+2*qr.QuietZone)
	ox, oy := x+m*qr.QuietZone, y+m*qr.QuietZone
	p.SetFillColor(0, 0, 0)
	for row := range n {
		for col := 0; col < n; {
			if !code.Dark(col, row) {
				col++
				continue
			}
			start := col
			for col < n && code.Dark(col, row) {
				col++
			}
			p.Rect(ox+float64(start)*m, oy+float64(row)*m, float64(col-start)*m, m, "F")
		}
	}
}

func (c Certificate) validate() error {
	switch {
	case strings.TrimSpace(c.Name) == "":
		return vax.Errorf(vax.Invalid, "certificate PDF: no name")
	case len(c.Doses) == 0:
		return vax.Errorf(vax.Invalid, "certificate PDF: no dose")
	case c.SHC == "" || c.DCC == "":
		return vax.Errorf(vax.Invalid, "certificate PDF: both QR texts are required")
	case c.Issued.IsZero():
		return vax.Errorf(vax.Invalid, "certificate PDF: no issuance time")
	}
	visible := 0
	for _, r := range c.MaskedID {
		if (unicode.IsLetter(r) || unicode.IsDigit(r)) && r != 'X' && r != 'x' {
			visible++
		}
	}
	if visible > 4 {
		return vax.Errorf(vax.Invalid, "certificate PDF: the ID number must be masked to its last 4 characters")
	}
	return nil
}
