package cowin

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/vax"
)

// The wire shapes, field for field and type for type as COWIN-API.md gives
// them (field order as Co-WIN sent them). Strictly typed clients break on
// a number sent as a string or the reverse, and on null: optional fields
// are omitted, never null, and lists are never null.

// ttlHours is the ttl Co-WIN sent with states, districts and
// findByLatLong: how long (hours) a client may keep the list.
const ttlHours = 24

type stateJSON struct {
	StateID    int    `json:"state_id"`
	StateName  string `json:"state_name"`
	StateNameL string `json:"state_name_l"`
}

type statesJSON struct {
	States []stateJSON `json:"states"`
	TTL    int         `json:"ttl"`
}

type districtJSON struct {
	DistrictID    int    `json:"district_id"`
	DistrictName  string `json:"district_name"`
	DistrictNameL string `json:"district_name_l"`
}

type districtsJSON struct {
	Districts []districtJSON `json:"districts"`
	TTL       int            `json:"ttl"`
}

// flatSessionJSON is a FlatSession: a centre's fields (without sessions
// and vaccine_fees) merged with one session's, plus the fee as a string.
type flatSessionJSON struct {
	CenterID               int64    `json:"center_id"`
	Name                   string   `json:"name"`
	Address                string   `json:"address"`
	StateName              string   `json:"state_name"`
	DistrictName           string   `json:"district_name"`
	BlockName              string   `json:"block_name"`
	Pincode                int      `json:"pincode"`
	From                   string   `json:"from"`
	To                     string   `json:"to"`
	Lat                    float64  `json:"lat"`
	Long                   float64  `json:"long"`
	FeeType                string   `json:"fee_type"`
	SessionID              string   `json:"session_id"`
	Date                   string   `json:"date"`
	AvailableCapacity      int      `json:"available_capacity"`
	AvailableCapacityDose1 int      `json:"available_capacity_dose1"`
	AvailableCapacityDose2 int      `json:"available_capacity_dose2"`
	Fee                    string   `json:"fee"`
	MinAgeLimit            int      `json:"min_age_limit"`
	MaxAgeLimit            int      `json:"max_age_limit,omitempty"`
	AllowAllAge            bool     `json:"allow_all_age"`
	Vaccine                string   `json:"vaccine"`
	Slots                  []string `json:"slots"`
}

type sessionsJSON struct {
	Sessions []flatSessionJSON `json:"sessions"`
}

// centreJSON is a Centre of the calendar responses.
type centreJSON struct {
	CenterID     int64         `json:"center_id"`
	Name         string        `json:"name"`
	Address      string        `json:"address"`
	StateName    string        `json:"state_name"`
	DistrictName string        `json:"district_name"`
	BlockName    string        `json:"block_name"`
	Pincode      int           `json:"pincode"`
	Lat          float64       `json:"lat"`
	Long         float64       `json:"long"`
	From         string        `json:"from"`
	To           string        `json:"to"`
	FeeType      string        `json:"fee_type"`
	VaccineFees  []feeJSON     `json:"vaccine_fees,omitempty"` // Paid centres only
	Sessions     []sessionJSON `json:"sessions"`
}

type feeJSON struct {
	Vaccine string `json:"vaccine"`
	Fee     string `json:"fee"`
}

type sessionJSON struct {
	SessionID              string   `json:"session_id"`
	Date                   string   `json:"date"`
	AvailableCapacity      int      `json:"available_capacity"`
	MinAgeLimit            int      `json:"min_age_limit"`
	MaxAgeLimit            int      `json:"max_age_limit,omitempty"`
	AllowAllAge            bool     `json:"allow_all_age"`
	Vaccine                string   `json:"vaccine"`
	Slots                  []string `json:"slots"`
	AvailableCapacityDose1 int      `json:"available_capacity_dose1"`
	AvailableCapacityDose2 int      `json:"available_capacity_dose2"`
}

type centresJSON struct {
	Centers []centreJSON `json:"centers"`
}

// oneCentreJSON is calendarByCenter's answer: one object, not a list.
type oneCentreJSON struct {
	Centers centreJSON `json:"centers"`
}

// nearCentreJSON is a NearCentre: pincode, lat and long are strings.
type nearCentreJSON struct {
	CenterID      int64  `json:"center_id"`
	Name          string `json:"name"`
	NameL         string `json:"name_l"`
	Address       string `json:"address"`
	AddressL      string `json:"address_l"`
	StateName     string `json:"state_name"`
	StateNameL    string `json:"state_name_l"`
	DistrictName  string `json:"district_name"`
	DistrictNameL string `json:"district_name_l"`
	BlockName     string `json:"block_name"`
	BlockNameL    string `json:"block_name_l"`
	Pincode       string `json:"pincode"`
	Lat           string `json:"lat"`
	Long          string `json:"long"`
}

type nearJSON struct {
	Centers []nearCentreJSON `json:"centers"`
	TTL     int              `json:"ttl"`
}

// encode marshals v without HTML escaping (names like "A & B" stay
// readable, as Co-WIN sent them) and without a trailing newline.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, vax.Wrap(vax.Internal, err, "encode response")
	}
	// A copy of exactly the right size: the body may live in the cache
	// for a long time.
	return bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// ages maps a session's ages to the wire: allow_all_age is the domain's
// flag; max_age_limit is sent only when an upper limit applies.
func ages(s *vax.Session) (maxAge int, allowAll bool) {
	if s.AllowAllAge || s.MaxAge <= 0 {
		return 0, s.AllowAllAge
	}
	return s.MaxAge, false
}

func flatSession(c *search.Centre, s *vax.Session) flatSessionJSON {
	d1, d2 := s.Available()
	maxAge, allowAll := ages(s)
	return flatSessionJSON{
		CenterID: c.ID, Name: c.Name, Address: c.Address,
		StateName: c.State.Name, DistrictName: c.District.Name, BlockName: c.BlockName,
		Pincode: c.Pincode, From: c.From, To: c.To, Lat: c.Lat, Long: c.Long,
		FeeType:   string(c.FeeType),
		SessionID: s.ID, Date: s.Date.Cowin(),
		AvailableCapacity: d1 + d2, AvailableCapacityDose1: d1, AvailableCapacityDose2: d2,
		Fee:         strconv.Itoa(fee(c, s.Vaccine)),
		MinAgeLimit: s.MinAge, MaxAgeLimit: maxAge, AllowAllAge: allowAll,
		Vaccine: s.Vaccine, Slots: slots(s),
	}
}

// fee is what a session's dose costs at the centre: 0 at a Free centre.
func fee(c *search.Centre, vaccine string) int {
	if c.FeeType != vax.Paid {
		return 0
	}
	return c.Fee(vaccine)
}

func slots(s *vax.Session) []string {
	if s.Slots == nil {
		return []string{}
	}
	return s.Slots
}

func centre(c *search.Centre, sessions []sessionJSON) centreJSON {
	out := centreJSON{
		CenterID: c.ID, Name: c.Name, Address: c.Address,
		StateName: c.State.Name, DistrictName: c.District.Name, BlockName: c.BlockName,
		Pincode: c.Pincode, Lat: c.Lat, Long: c.Long, From: c.From, To: c.To,
		FeeType: string(c.FeeType), Sessions: sessions,
	}
	if c.FeeType == vax.Paid {
		for _, f := range c.Fees {
			out.VaccineFees = append(out.VaccineFees, feeJSON{Vaccine: f.Vaccine, Fee: strconv.Itoa(f.Amount)})
		}
	}
	return out
}

func session(s *vax.Session) sessionJSON {
	d1, d2 := s.Available()
	maxAge, allowAll := ages(s)
	return sessionJSON{
		SessionID: s.ID, Date: s.Date.Cowin(),
		AvailableCapacity: d1 + d2,
		MinAgeLimit:       s.MinAge, MaxAgeLimit: maxAge, AllowAllAge: allowAll,
		Vaccine: s.Vaccine, Slots: slots(s),
		AvailableCapacityDose1: d1, AvailableCapacityDose2: d2,
	}
}

// calendarSessions returns c's sessions of the 7 days from from, of
// vaccine when it is not "".
func calendarSessions(c *search.Centre, from vax.Date, vaccine string) []sessionJSON {
	var out []sessionJSON
	ss := c.Between(from, from.AddDays(calendarDays-1))
	for i := range ss {
		if vaccine == "" || ss[i].Vaccine == vaccine {
			out = append(out, session(&ss[i]))
		}
	}
	return out
}

// calendarDays is the span of the calendar searches: 7 days from date.
const calendarDays = 7

func encodeFlat(g *search.Group, date vax.Date, vaccine string) ([]byte, error) {
	out := sessionsJSON{Sessions: []flatSessionJSON{}}
	for _, c := range g.Centres {
		ss := c.Between(date, date)
		for i := range ss {
			if vaccine == "" || ss[i].Vaccine == vaccine {
				out.Sessions = append(out.Sessions, flatSession(c, &ss[i]))
			}
		}
	}
	return encode(out)
}

func encodeCalendar(g *search.Group, from vax.Date, vaccine string) ([]byte, error) {
	out := centresJSON{Centers: []centreJSON{}}
	for _, c := range g.Centres {
		if ss := calendarSessions(c, from, vaccine); len(ss) > 0 {
			out.Centers = append(out.Centers, centre(c, ss))
		}
	}
	return encode(out)
}

// encodeCalendarCentre answers calendarByCenter: {"centers":{…}}, or {}
// when the centre is unknown or has no sessions in the 7 days.
func encodeCalendarCentre(c *search.Centre, from vax.Date, vaccine string) ([]byte, error) {
	if c == nil {
		return []byte("{}"), nil
	}
	ss := calendarSessions(c, from, vaccine)
	if len(ss) == 0 {
		return []byte("{}"), nil
	}
	return encode(oneCentreJSON{Centers: centre(c, ss)})
}

func encodeStates(m *search.Master, langs []string) ([]byte, error) {
	out := statesJSON{States: []stateJSON{}, TTL: ttlHours}
	for _, s := range m.States() {
		out.States = append(out.States, stateJSON{
			StateID: s.ID, StateName: s.Name, StateNameL: vax.LocalName(s.Name, s.LocalNames, langs...),
		})
	}
	return encode(out)
}

func encodeDistricts(m *search.Master, stateID int, langs []string) ([]byte, error) {
	out := districtsJSON{Districts: []districtJSON{}, TTL: ttlHours}
	for _, d := range m.Districts(stateID) {
		out.Districts = append(out.Districts, districtJSON{
			DistrictID: d.ID, DistrictName: d.Name, DistrictNameL: vax.LocalName(d.Name, d.LocalNames, langs...),
		})
	}
	return encode(out)
}

func encodeNear(hits []search.Hit, langs []string) ([]byte, error) {
	out := nearJSON{Centers: []nearCentreJSON{}, TTL: ttlHours}
	for _, h := range hits {
		c := h.Centre
		out.Centers = append(out.Centers, nearCentreJSON{
			CenterID: c.ID,
			// Centres have no local names yet: the _l fields carry the
			// English ones, as Co-WIN's fallback did.
			Name: c.Name, NameL: c.Name,
			Address: c.Address, AddressL: c.Address,
			StateName: c.State.Name, StateNameL: vax.LocalName(c.State.Name, c.State.LocalNames, langs...),
			DistrictName: c.District.Name, DistrictNameL: vax.LocalName(c.District.Name, c.District.LocalNames, langs...),
			BlockName: c.BlockName, BlockNameL: c.BlockName,
			Pincode: strconv.Itoa(c.Pincode),
			Lat:     strconv.FormatFloat(c.Lat, 'f', -1, 64),
			Long:    strconv.FormatFloat(c.Long, 'f', -1, 64),
		})
	}
	return encode(out)
}
