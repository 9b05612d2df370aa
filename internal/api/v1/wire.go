package v1

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/vax"
)

// The wire shapes of /api/v1/admin. They use Co-WIN's field names and types
// where Co-WIN has them, and stay separate from the vax types so the
// contract does not drift when internals change.

// centreJSON is a centre in requests and responses.
type centreJSON struct {
	CenterID    int64     `json:"center_id"`
	Name        string    `json:"name"`
	Address     string    `json:"address"`
	StateID     int       `json:"state_id"`
	DistrictID  int       `json:"district_id"`
	BlockName   string    `json:"block_name"`
	Pincode     int       `json:"pincode"`
	Lat         float64   `json:"lat"`
	Long        float64   `json:"long"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	FeeType     string    `json:"fee_type"`
	VaccineFees []feeJSON `json:"vaccine_fees,omitempty"`
}

// feeJSON is one vaccine's fee; Co-WIN sends the amount as a string.
type feeJSON struct {
	Vaccine string    `json:"vaccine"`
	Fee     feeAmount `json:"fee"`
}

// feeAmount is rupees, sent as a string ("780") as Co-WIN does; requests
// may send a string or a number.
type feeAmount int

func (f feeAmount) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.Itoa(int(f)))
}

func (f *feeAmount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return vax.Errorf(vax.Invalid, `field "vaccine_fees.fee": want whole rupees like "780"`)
		}
		b = []byte(strings.TrimSpace(s))
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return vax.Errorf(vax.Invalid, `field "vaccine_fees.fee": want whole rupees like "780"`)
	}
	*f = feeAmount(n)
	return nil
}

func (c centreJSON) centre() vax.Centre {
	out := vax.Centre{
		ID:         c.CenterID,
		Name:       c.Name,
		Address:    c.Address,
		StateID:    c.StateID,
		DistrictID: c.DistrictID,
		BlockName:  c.BlockName,
		Pincode:    c.Pincode,
		Lat:        c.Lat,
		Long:       c.Long,
		From:       c.From,
		To:         c.To,
		FeeType:    vax.FeeType(c.FeeType),
	}
	for _, f := range c.VaccineFees {
		out.Fees = append(out.Fees, vax.Fee{Vaccine: f.Vaccine, Amount: int(f.Fee)})
	}
	return out
}

func centreWire(c vax.Centre) centreJSON {
	out := centreJSON{
		CenterID:   c.ID,
		Name:       c.Name,
		Address:    c.Address,
		StateID:    c.StateID,
		DistrictID: c.DistrictID,
		BlockName:  c.BlockName,
		Pincode:    c.Pincode,
		Lat:        c.Lat,
		Long:       c.Long,
		From:       c.From,
		To:         c.To,
		FeeType:    string(c.FeeType),
	}
	for _, f := range c.Fees {
		out.VaccineFees = append(out.VaccineFees, feeJSON{Vaccine: f.Vaccine, Fee: feeAmount(f.Amount)})
	}
	return out
}

// centresJSON is a page of centres; Next, when present, is the after=
// cursor of the next page.
type centresJSON struct {
	Centers []centreJSON `json:"centers"`
	Next    string       `json:"next,omitempty"`
}

// sessionRequest is a session as POST and PUT take it. Booked counts are
// not accepted: only bookings move them.
type sessionRequest struct {
	SessionID     string   `json:"session_id"`
	CenterID      int64    `json:"center_id"`
	Date          string   `json:"date"` // DD-MM-YYYY or YYYY-MM-DD
	Vaccine       string   `json:"vaccine"`
	MinAgeLimit   int      `json:"min_age_limit"`
	MaxAgeLimit   int      `json:"max_age_limit"`
	AllowAllAge   bool     `json:"allow_all_age"`
	CapacityDose1 int      `json:"capacity_dose1"`
	CapacityDose2 int      `json:"capacity_dose2"`
	Slots         []string `json:"slots"`
	Status        string   `json:"status"` // open or cancelled; empty: open (POST) or unchanged (PUT)
}

func (r sessionRequest) session() (vax.Session, error) {
	if strings.TrimSpace(r.Date) == "" {
		return vax.Session{}, vax.Errorf(vax.Invalid, `field "date": required, as DD-MM-YYYY or YYYY-MM-DD`)
	}
	d, err := catalog.ParseDate(r.Date)
	if err != nil {
		return vax.Session{}, err
	}
	return vax.Session{
		ID:          r.SessionID,
		CentreID:    r.CenterID,
		Date:        d,
		Vaccine:     r.Vaccine,
		MinAge:      r.MinAgeLimit,
		MaxAge:      r.MaxAgeLimit,
		AllowAllAge: r.AllowAllAge,
		Capacity1:   r.CapacityDose1,
		Capacity2:   r.CapacityDose2,
		Slots:       r.Slots,
		Status:      vax.SessionStatus(r.Status),
	}, nil
}

// sessionJSON is a session in responses.
type sessionJSON struct {
	SessionID              string   `json:"session_id"`
	CenterID               int64    `json:"center_id"`
	Date                   string   `json:"date"` // DD-MM-YYYY
	Vaccine                string   `json:"vaccine"`
	MinAgeLimit            int      `json:"min_age_limit"`
	MaxAgeLimit            int      `json:"max_age_limit,omitempty"`
	AllowAllAge            bool     `json:"allow_all_age"`
	CapacityDose1          int      `json:"capacity_dose1"`
	CapacityDose2          int      `json:"capacity_dose2"`
	BookedDose1            int      `json:"booked_dose1"`
	BookedDose2            int      `json:"booked_dose2"`
	AvailableCapacity      int      `json:"available_capacity"`
	AvailableCapacityDose1 int      `json:"available_capacity_dose1"`
	AvailableCapacityDose2 int      `json:"available_capacity_dose2"`
	Slots                  []string `json:"slots"`
	Status                 string   `json:"status"`
	UpdatedAt              string   `json:"updated_at,omitempty"` // RFC 3339, UTC
}

func sessionWire(s vax.Session) sessionJSON {
	a1, a2 := s.Available()
	out := sessionJSON{
		SessionID:              s.ID,
		CenterID:               s.CentreID,
		Date:                   s.Date.Cowin(),
		Vaccine:                s.Vaccine,
		MinAgeLimit:            s.MinAge,
		MaxAgeLimit:            s.MaxAge,
		AllowAllAge:            s.AllowAllAge,
		CapacityDose1:          s.Capacity1,
		CapacityDose2:          s.Capacity2,
		BookedDose1:            s.Booked1,
		BookedDose2:            s.Booked2,
		AvailableCapacity:      a1 + a2,
		AvailableCapacityDose1: a1,
		AvailableCapacityDose2: a2,
		Slots:                  s.Slots,
		Status:                 string(s.Status),
	}
	if out.Slots == nil {
		out.Slots = []string{}
	}
	if !s.UpdatedAt.IsZero() {
		out.UpdatedAt = s.UpdatedAt.UTC().Format(time.RFC3339)
	}
	return out
}

// sessionsJSON is a page of sessions; Next, when present, is the after=
// cursor of the next page.
type sessionsJSON struct {
	Sessions []sessionJSON `json:"sessions"`
	Next     string        `json:"next,omitempty"`
}

// importJSON is the outcome of a CSV import.
type importJSON struct {
	Imported int             `json:"imported"`
	Failed   int             `json:"failed"`
	Rows     []importRowJSON `json:"rows"`
}

// importRowJSON is one row's outcome: the id written, or the error in the
// usual {"errorCode","error"} vocabulary.
type importRowJSON struct {
	Row       int    `json:"row"`
	CenterID  int64  `json:"center_id,omitempty"`
	SessionID string `json:"session_id,omitempty"`
	ErrorCode string `json:"errorCode,omitempty"`
	Error     string `json:"error,omitempty"`
}
