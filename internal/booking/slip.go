package booking

import (
	"bytes"
	"fmt"

	"codeberg.org/go-pdf/fpdf"

	"github.com/vaxport/vaxport/internal/vax"
)

// Slip renders an appointment slip (a PDF) for its account: where and when,
// and each beneficiary's secret code. It is deterministic for a given view.
func Slip(v AppointmentView) ([]byte, error) {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCompression(true)
	p.SetCatalogSort(true)
	p.SetCreationDate(v.CreatedAt.UTC())
	p.SetModificationDate(v.CreatedAt.UTC())
	p.SetProducer("vaxport", false)
	p.SetTitle("Appointment slip", false)
	tr := p.UnicodeTranslatorFromDescriptor("")
	p.AddPage()
	p.SetFont("Helvetica", "B", 18)
	p.CellFormat(0, 10, "COVID-19 Vaccination Appointment", "", 1, "C", false, 0, "")
	p.Ln(4)
	status := "Confirmed"
	if v.Status != vax.AppointmentLive {
		status = "Cancelled"
	}
	rows := [][2]string{
		{"Appointment ID", v.ID},
		{"Status", status},
		{"Dose", fmt.Sprint(v.Dose)},
		{"Vaccine", v.Session.Vaccine},
		{"Date", v.Session.Date.Cowin()},
		{"Time slot", v.Slot},
		{"Centre", v.Centre.Name},
		{"Address", v.Centre.Address},
		{"", fmt.Sprintf("%s, %s, %s %d", v.Centre.BlockName, v.DistrictName, v.StateName, v.Centre.Pincode)},
	}
	for _, r := range rows {
		p.SetFont("Helvetica", "", 10)
		p.CellFormat(50, 7, tr(r[0]), "B", 0, "L", false, 0, "")
		p.SetFont("Helvetica", "B", 10)
		p.CellFormat(0, 7, tr(r[1]), "B", 1, "L", false, 0, "")
	}
	p.Ln(6)
	p.SetFont("Helvetica", "B", 11)
	for i, h := range []string{"Beneficiary", "Reference ID", "Year of birth", "Secret code"} {
		p.CellFormat([]float64{60, 45, 35, 40}[i], 8, h, "B", 0, "L", false, 0, "")
	}
	p.Ln(-1)
	for _, per := range v.People {
		code := per.SecretCode
		if per.Status != vax.AppointmentLive {
			code = "cancelled"
		}
		p.SetFont("Helvetica", "", 10)
		p.CellFormat(60, 8, tr(per.Name), "B", 0, "L", false, 0, "")
		p.CellFormat(45, 8, per.Ref, "B", 0, "L", false, 0, "")
		p.CellFormat(35, 8, fmt.Sprint(per.BirthYear), "B", 0, "L", false, 0, "")
		p.SetFont("Helvetica", "B", 12)
		p.CellFormat(40, 8, code, "B", 1, "L", false, 0, "")
	}
	p.Ln(6)
	p.SetFont("Helvetica", "", 9)
	p.MultiCell(0, 5, "Tell the vaccinator the secret code of each beneficiary at the centre. "+
		"Do not share it with anyone else; vaxport staff never ask for it by phone.", "", "L", false)
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, vax.Wrap(vax.Internal, err, "render appointment slip")
	}
	return buf.Bytes(), nil
}
