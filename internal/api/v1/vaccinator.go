package v1

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/vaccination"
	"github.com/vaxport/vaxport/internal/vax"
)

type verifyCodeRequest struct {
	Ref        string `json:"beneficiary_reference_id"`
	SecretCode string `json:"secret_code"`
}

// verifiedJSON is a verified appointment: the beneficiary masked, never the
// secret code.
type verifiedJSON struct {
	AppointmentID string          `json:"appointment_id"`
	SessionID     string          `json:"session_id"`
	CenterID      int64           `json:"center_id"`
	Dose          int             `json:"dose"`
	Slot          string          `json:"slot"`
	Vaccine       string          `json:"vaccine"`
	Beneficiary   maskedBenefJSON `json:"beneficiary"`
}

type maskedBenefJSON struct {
	Ref         string `json:"beneficiary_reference_id"`
	Name        string `json:"name"`
	BirthYear   int    `json:"birth_year"`
	Gender      string `json:"gender"`
	PhotoIDType string `json:"photo_id_type"`
	PhotoID     string `json:"photo_id_number"` // XXXXXXXX1234
	DosesGiven  int    `json:"doses_given"`
}

func (s *Server) handleVerifyCode(w http.ResponseWriter, r *http.Request) error {
	var req verifyCodeRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	v, err := s.vacc.Verify(r.Context(), caller(r), strings.TrimSpace(req.Ref), strings.TrimSpace(req.SecretCode))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, verifiedJSON{
		AppointmentID: v.AppointmentID, SessionID: v.SessionID, CenterID: v.CentreID, Dose: v.Dose,
		Slot: v.Slot, Vaccine: v.Vaccine,
		Beneficiary: maskedBenefJSON{Ref: v.Ref, Name: v.Name, BirthYear: v.BirthYear,
			Gender: booking.GenderName(v.GenderID), PhotoIDType: booking.IDTypeName(v.PhotoIDType),
			PhotoID: "XXXXXXXX" + v.PhotoIDLast4, DosesGiven: v.DosesGiven},
	})
}

type doseRequest struct {
	Ref            string `json:"beneficiary_reference_id"`
	Vaccine        string `json:"vaccine"`
	Lot            string `json:"lot"`
	Dose           int    `json:"dose"`
	CenterID       int64  `json:"center_id"`
	AdministeredAt string `json:"administered_at"` // RFC 3339; "": now
}

type doseJSON struct {
	DoseID         string `json:"dose_id"`
	Ref            string `json:"beneficiary_reference_id"`
	Dose           int    `json:"dose"`
	Vaccine        string `json:"vaccine"`
	Lot            string `json:"lot"`
	CenterID       int64  `json:"center_id"`
	AppointmentID  string `json:"appointment_id,omitempty"`
	AdministeredAt string `json:"administered_at"`
	RecordedAt     string `json:"recorded_at"`
}

func doseWire(d vax.Dose) doseJSON {
	return doseJSON{DoseID: d.ID, Ref: d.Ref, Dose: d.Dose, Vaccine: d.Vaccine, Lot: d.Lot, CenterID: d.CentreID,
		AppointmentID: d.AppointmentID, AdministeredAt: d.AdministeredAt.UTC().Format(time.RFC3339),
		RecordedAt: d.RecordedAt.UTC().Format(time.RFC3339)}
}

func parseTime(field, v string) (time.Time, error) {
	if strings.TrimSpace(v) == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, vax.Errorf(vax.Invalid, "field %q: want an RFC 3339 time like 2021-09-17T10:30:00+05:30", field)
	}
	return t, nil
}

// handleRecordDose records a dose: 201 with the new record, or 200 with the
// record a retry (or another tablet) already made.
func (s *Server) handleRecordDose(w http.ResponseWriter, r *http.Request) error {
	var req doseRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	at, err := parseTime("administered_at", req.AdministeredAt)
	if err != nil {
		return err
	}
	d, created, err := s.vacc.RecordDose(r.Context(), caller(r), vaccination.DoseRequest{
		Ref: strings.TrimSpace(req.Ref), Vaccine: strings.TrimSpace(req.Vaccine), Lot: strings.TrimSpace(req.Lot),
		Dose: req.Dose, CentreID: req.CenterID, AdministeredAt: at})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return api.WriteJSON(w, status, doseWire(d))
}

type walkInRequest struct {
	CenterID      int64  `json:"center_id"`
	Name          string `json:"name"`
	BirthYear     string `json:"birth_year"`
	GenderID      int    `json:"gender_id"`
	PhotoIDType   int    `json:"photo_id_type"`
	PhotoIDNumber string `json:"photo_id_number"`
	Comorbidity   string `json:"comorbidity_ind"` // "Y" or "N"
	Mobile        string `json:"mobile"`          // optional: the person can later sign in with it
}

func (s *Server) handleWalkIn(w http.ResponseWriter, r *http.Request) error {
	var req walkInRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	year, err := birthYear(req.BirthYear)
	if err != nil {
		return err
	}
	b, err := s.vacc.RegisterWalkIn(r.Context(), caller(r), vaccination.WalkIn{
		CentreID: req.CenterID, Mobile: strings.TrimSpace(req.Mobile),
		NewBeneficiary: booking.NewBeneficiary{Name: req.Name, BirthYear: year, GenderID: req.GenderID,
			PhotoIDType: req.PhotoIDType, PhotoIDNumber: req.PhotoIDNumber, Comorbidity: req.Comorbidity == "Y"}})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusCreated, map[string]string{"beneficiary_reference_id": b.Ref})
}

// birthYear parses Co-WIN's string birth year.
func birthYear(v string) (int, error) {
	v = strings.TrimSpace(v)
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' || n > 9999 {
			return 0, vax.Errorf(vax.Invalid, `field "birth_year": want a year like "1980"`)
		}
		n = n*10 + int(c-'0')
	}
	if len(v) != 4 {
		return 0, vax.Errorf(vax.Invalid, `field "birth_year": want a year like "1980"`)
	}
	return n, nil
}

type queueJSON struct {
	CenterID int64            `json:"center_id"`
	Date     string           `json:"date"`
	Queue    []queueEntryJSON `json:"queue"`
}

type queueEntryJSON struct {
	AppointmentID string `json:"appointment_id"`
	SessionID     string `json:"session_id"`
	Slot          string `json:"slot"`
	Dose          int    `json:"dose"`
	Ref           string `json:"beneficiary_reference_id"`
	Name          string `json:"name"`
	BirthYear     int    `json:"birth_year"`
	Gender        string `json:"gender"`
	Status        string `json:"status"` // waiting or vaccinated
	DoseID        string `json:"dose_id,omitempty"`
}

func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	centre, date := q.int64("center_id"), q.date("date")
	if q.err != nil {
		return q.err
	}
	entries, centre, date, err := s.vacc.Queue(r.Context(), caller(r), centre, date)
	if err != nil {
		return err
	}
	resp := queueJSON{CenterID: centre, Date: date.Cowin(), Queue: make([]queueEntryJSON, 0, len(entries))}
	for _, e := range entries {
		status := "waiting"
		if e.DoseID != "" {
			status = "vaccinated"
		}
		resp.Queue = append(resp.Queue, queueEntryJSON{AppointmentID: e.AppointmentID, SessionID: e.SessionID,
			Slot: e.Slot, Dose: e.Dose, Ref: e.Ref, Name: e.Name, BirthYear: e.BirthYear,
			Gender: booking.GenderName(e.GenderID), Status: status, DoseID: e.DoseID})
	}
	return api.WriteJSON(w, http.StatusOK, resp)
}

// maxUploadBytes bounds a bulk upload: 10,000 rows of ~150 bytes.
const maxUploadBytes = 4 << 20

type uploadJSON struct {
	Recorded   int             `json:"recorded"`
	Duplicates int             `json:"duplicates"`
	Errors     int             `json:"errors"`
	Results    []uploadRowJSON `json:"results"`
}

type uploadRowJSON struct {
	Row       int    `json:"row"`
	Status    string `json:"status"`
	DoseID    string `json:"dose_id,omitempty"`
	ErrorCode string `json:"errorCode,omitempty"`
	Error     string `json:"error,omitempty"`
}

// handleUpload records offline doses from CSV (text/csv) or JSON lines
// (application/x-ndjson), each row on its own: per-row results.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := http.MaxBytesReader(w, r.Body, maxUploadBytes)
	var (
		rows []vaccination.UploadRow
		err  error
	)
	switch ct {
	case "text/csv":
		rows, err = vaccination.ParseCSV(body)
	case "application/x-ndjson", "application/jsonl", "application/json-lines":
		rows, err = vaccination.ParseJSONLines(body)
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(body, maxUploadBytes))
		return vax.Errorf(vax.Invalid, "upload Content-Type must be text/csv or application/x-ndjson")
	}
	if err != nil {
		return err
	}
	results := s.vacc.Upload(r.Context(), caller(r), rows)
	resp := uploadJSON{Results: make([]uploadRowJSON, 0, len(results))}
	for _, res := range results {
		switch res.Status {
		case vaccination.RowRecorded:
			resp.Recorded++
		case vaccination.RowDuplicate:
			resp.Duplicates++
		default:
			resp.Errors++
		}
		resp.Results = append(resp.Results, uploadRowJSON{Row: res.Row, Status: string(res.Status), DoseID: res.DoseID,
			ErrorCode: res.Reason, Error: res.Error})
	}
	return api.WriteJSON(w, http.StatusOK, resp)
}

type lotJSON struct {
	CenterID     int64  `json:"center_id"`
	Lot          string `json:"lot"`
	Vaccine      string `json:"vaccine"`
	Manufacturer string `json:"manufacturer"`
	Expiry       string `json:"expiry"` // DD-MM-YYYY
	Received     int    `json:"received"`
	Used         int    `json:"used"`
	Remaining    int    `json:"remaining"`
}

func lotWire(l vax.Lot) lotJSON {
	return lotJSON{CenterID: l.CentreID, Lot: l.Number, Vaccine: l.Vaccine, Manufacturer: l.Manufacturer,
		Expiry: l.Expiry.Cowin(), Received: l.Received, Used: l.Used, Remaining: l.Remaining()}
}

type lotsJSON struct {
	Lots []lotJSON `json:"lots"`
}

// handleLots lists lots: the usable ones for vaccinators, all with their
// stock for facility admins (usable=false).
func (s *Server) handleLots(usableOnly bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r)
		centre := q.int64("center_id")
		if q.err != nil {
			return q.err
		}
		lots, err := s.vacc.Lots(r.Context(), caller(r), centre, usableOnly)
		if err != nil {
			return err
		}
		resp := lotsJSON{Lots: make([]lotJSON, 0, len(lots))}
		for _, l := range lots {
			resp.Lots = append(resp.Lots, lotWire(l))
		}
		return api.WriteJSON(w, http.StatusOK, resp)
	}
}

type newLotRequest struct {
	CenterID     int64  `json:"center_id"`
	Lot          string `json:"lot"`
	Vaccine      string `json:"vaccine"`
	Manufacturer string `json:"manufacturer"`
	Expiry       string `json:"expiry"` // DD-MM-YYYY or YYYY-MM-DD
	Received     int    `json:"received"`
}

func (s *Server) handleCreateLot(w http.ResponseWriter, r *http.Request) error {
	var req newLotRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	q := &query{v: map[string][]string{"expiry": {req.Expiry}}}
	expiry := q.date("expiry")
	if q.err != nil {
		return q.err
	}
	l, err := s.vacc.CreateLot(r.Context(), caller(r), vax.Lot{CentreID: req.CenterID, Number: strings.TrimSpace(req.Lot),
		Vaccine: strings.TrimSpace(req.Vaccine), Manufacturer: strings.TrimSpace(req.Manufacturer), Expiry: expiry,
		Received: req.Received})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusCreated, lotWire(l))
}

type aefiRequest struct {
	DoseID   string   `json:"dose_id"`
	Severity string   `json:"severity"`
	Symptoms []string `json:"symptoms"`
	Onset    string   `json:"onset"` // RFC 3339
}

type aefiJSON struct {
	EventID    string   `json:"event_id"`
	DoseID     string   `json:"dose_id"`
	Ref        string   `json:"beneficiary_reference_id"`
	CenterID   int64    `json:"center_id"`
	DistrictID int      `json:"district_id"`
	Severity   string   `json:"severity"`
	Symptoms   []string `json:"symptoms"`
	Onset      string   `json:"onset"`
	ReporterID string   `json:"reporter_id"`
	ReportedAt string   `json:"reported_at"`
}

func aefiWire(e vax.AdverseEvent) aefiJSON {
	return aefiJSON{EventID: e.ID, DoseID: e.DoseID, Ref: e.Ref, CenterID: e.CentreID, DistrictID: e.DistrictID,
		Severity: string(e.Severity), Symptoms: e.Symptoms, Onset: e.Onset.UTC().Format(time.RFC3339),
		ReporterID: e.ReporterID, ReportedAt: e.ReportedAt.UTC().Format(time.RFC3339)}
}

func (s *Server) handleReportAEFI(w http.ResponseWriter, r *http.Request) error {
	var req aefiRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	sev, err := vax.ParseSeverity(strings.TrimSpace(req.Severity))
	if err != nil {
		return err
	}
	onset, err := parseTime("onset", req.Onset)
	if err != nil {
		return err
	}
	if onset.IsZero() {
		return vax.Errorf(vax.Invalid, `field "onset": required`)
	}
	e, err := s.vacc.ReportAdverseEvent(r.Context(), caller(r), vaccination.NewAdverseEvent{
		DoseID: strings.TrimSpace(req.DoseID), Severity: sev, Symptoms: req.Symptoms, Onset: onset})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusCreated, aefiWire(e))
}

type aefiListJSON struct {
	Events []aefiJSON `json:"events"`
	Next   string     `json:"next,omitempty"` // pass as before=
}

func (s *Server) handleListAEFI(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	aq := vax.AdverseEventQuery{
		DistrictID: q.int("district_id"),
		CentreID:   q.int64("center_id"),
		Limit:      vax.PageSize(q.int("limit")),
	}
	if q.err != nil {
		return q.err
	}
	if v := q.str("severity"); v != "" {
		sev, err := vax.ParseSeverity(v)
		if err != nil {
			return err
		}
		aq.Severity = sev
	}
	if v := q.str("before"); v != "" {
		at, id, ok := strings.Cut(v, "_")
		t, err := time.Parse(time.RFC3339, at)
		if !ok || err != nil || !vax.ValidUUID(id) {
			return vax.Errorf(vax.Invalid, "query parameter before: pass the next value of the previous page")
		}
		aq.BeforeTime, aq.BeforeID = t, id
	}
	events, err := s.vacc.AdverseEvents(r.Context(), caller(r), aq)
	if err != nil {
		return err
	}
	resp := aefiListJSON{Events: make([]aefiJSON, 0, len(events))}
	for _, e := range events {
		resp.Events = append(resp.Events, aefiWire(e))
	}
	if len(events) == aq.Limit {
		last := events[len(events)-1]
		resp.Next = last.ReportedAt.UTC().Format(time.RFC3339) + "_" + last.ID
	}
	return api.WriteJSON(w, http.StatusOK, resp)
}
