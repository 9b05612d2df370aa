package cowin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/ratelimit"
	"github.com/vaxport/vaxport/internal/vax"
)

// The Co-WIN beneficiary and appointment surface: idTypes, genders,
// beneficiary/new and delete, the account's beneficiaries, schedule,
// reschedule, cancel and the appointment slip. The rules are
// internal/booking's; this file decodes, calls and encodes, and answers for
// the signed-in account only. It never logs a photo-ID number or a secret
// code.

// Appointments is the booking service (booking.Service).
type Appointments interface {
	AddBeneficiary(ctx context.Context, accountID string, nb booking.NewBeneficiary) (vax.Beneficiary, error)
	DeleteBeneficiary(ctx context.Context, accountID, ref string) error
	Beneficiaries(ctx context.Context, accountID string) ([]booking.BeneficiaryView, error)
	Schedule(ctx context.Context, accountID string, req booking.ScheduleRequest) (vax.Appointment, error)
	Reschedule(ctx context.Context, accountID, id, sessionID, slot string) error
	Cancel(ctx context.Context, accountID, id string, refs []string) error
	Appointment(ctx context.Context, accountID, id string) (booking.AppointmentView, error)
	Idempotent(ctx context.Context, accountID, key, requestHash string, run func() booking.Answer) (booking.Answer, bool, error)
}

// BookingConfig configures the beneficiary and appointment surface.
type BookingConfig struct {
	// Appointments runs the rules; required.
	Appointments Appointments
	// Authenticate checks the bearer token and returns its principal
	// (SignIn.Authenticate); required: nobody books anonymously.
	Authenticate func(*http.Request) (auth.Principal, error)
	// AccountLimit limits schedule, reschedule and cancel per account;
	// nil: no limit.
	AccountLimit *ratelimit.PerKey
	// BeneficiaryLimit limits schedule per beneficiary reference in the
	// request, one token from each; nil: no limit. (A reschedule names
	// no beneficiary, so only AccountLimit applies to it.)
	BeneficiaryLimit *ratelimit.PerKey
	// AddressLimit limits schedule, reschedule and cancel per client
	// address (ClientKey), whatever the account: one script driving many
	// accounts from one place. nil: no limit.
	AddressLimit *ratelimit.PerKey
	// ClientKey is what AddressLimit counts a request by
	// (SignIn.ClientKey); nil: the connection's address.
	ClientKey func(*http.Request) string
	// Captcha, when set, serves getRecaptcha and makes schedule require
	// the answer to the account's latest picture; nil: no captcha.
	Captcha Captcha
}

// Booking serves the beneficiary and appointment endpoints.
type Booking struct {
	svc  Appointments
	auth func(*http.Request) (auth.Principal, error)

	accountLimit, beneficiaryLimit *ratelimit.PerKey
	addressLimit                   *ratelimit.PerKey
	clientKey                      func(*http.Request) string
	held                           *ratelimit.Holder // refusals of clients ignoring Retry-After
	captcha                        Captcha
}

// NewBooking returns the surface for cfg. It panics without Appointments or
// Authenticate: that is a wiring bug.
func NewBooking(cfg BookingConfig) *Booking {
	if cfg.Appointments == nil || cfg.Authenticate == nil {
		panic("cowin: BookingConfig.Appointments and Authenticate are required")
	}
	if cfg.ClientKey == nil {
		cfg.ClientKey = remoteHost
	}
	return &Booking{svc: cfg.Appointments, auth: cfg.Authenticate,
		accountLimit: cfg.AccountLimit, beneficiaryLimit: cfg.BeneficiaryLimit,
		addressLimit: cfg.AddressLimit, clientKey: cfg.ClientKey, held: ratelimit.NewHolder(maxHeld),
		captcha: cfg.Captcha}
}

// account wraps a handler that acts for the signed-in account.
func (b *Booking) account(h func(w http.ResponseWriter, r *http.Request, accountID string) error) http.Handler {
	return api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		r, err := authenticate(b.auth, r)
		if err != nil {
			return err
		}
		p, _ := PrincipalFrom(r.Context())
		if p.AccountID == "" {
			return vax.Errorf(vax.Unauthorized, "unauthenticated access")
		}
		return h(w, r, p.AccountID)
	})
}

type idTypeJSON struct {
	Type  string `json:"type"`
	TypeL string `json:"type_l"`
	ID    int    `json:"id"`
}

type idTypesJSON struct {
	Types []idTypeJSON `json:"types"`
	TTL   int          `json:"ttl"`
}

type genderJSON struct {
	Gender  string `json:"gender"`
	GenderL string `json:"gender_l"`
	ID      int    `json:"id"`
}

type gendersJSON struct {
	Genders []genderJSON `json:"genders"`
}

func (b *Booking) handleIDTypes(w http.ResponseWriter, r *http.Request, _ string) error {
	out := idTypesJSON{Types: []idTypeJSON{}, TTL: ttlHours}
	for _, t := range booking.IDTypes {
		out.Types = append(out.Types, idTypeJSON{Type: t.Name, TypeL: t.Name, ID: t.ID})
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func (b *Booking) handleGenders(w http.ResponseWriter, r *http.Request, _ string) error {
	out := gendersJSON{Genders: []genderJSON{}}
	for _, g := range booking.Genders {
		out.Genders = append(out.Genders, genderJSON{Gender: g.Name, GenderL: g.Name, ID: g.ID})
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

// flexInt is an integer that clients send as a JSON number or a string.
type flexInt int

func (n *flexInt) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		data = []byte(strings.TrimSpace(s))
	}
	v, err := strconv.Atoi(string(data))
	if err != nil {
		return vax.Errorf(vax.Invalid, "want an integer")
	}
	*n = flexInt(v)
	return nil
}

type newBeneficiaryRequest struct {
	Name           string  `json:"name"`
	BirthYear      flexInt `json:"birth_year"`
	GenderID       flexInt `json:"gender_id"`
	PhotoIDType    flexInt `json:"photo_id_type"`
	PhotoIDNumber  string  `json:"photo_id_number"`
	ComorbidityInd string  `json:"comorbidity_ind"`
	ConsentVersion string  `json:"consent_version"`
}

type refJSON struct {
	Ref string `json:"beneficiary_reference_id"`
}

// badBody is a decoding failure with the beneficiary/appointment wire code.
func badBody(err error, reason string) error {
	return &vax.Error{Code: vax.Invalid, Reason: reason, Message: vax.ErrorMessage(err), Err: err}
}

func (b *Booking) handleNewBeneficiary(w http.ResponseWriter, r *http.Request, account string) error {
	var req newBeneficiaryRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return badBody(err, booking.ReasonBadBeneficiary)
	}
	var comorbid bool
	switch strings.ToUpper(strings.TrimSpace(req.ComorbidityInd)) {
	case "Y":
		comorbid = true
	case "N", "":
	default:
		return &vax.Error{Code: vax.Invalid, Reason: booking.ReasonBadBeneficiary, Message: `comorbidity_ind must be "Y" or "N"`}
	}
	ben, err := b.svc.AddBeneficiary(r.Context(), account, booking.NewBeneficiary{
		Name: req.Name, BirthYear: int(req.BirthYear), GenderID: int(req.GenderID),
		PhotoIDType: int(req.PhotoIDType), PhotoIDNumber: req.PhotoIDNumber, Comorbidity: comorbid,
	})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, refJSON{Ref: ben.Ref})
}

func (b *Booking) handleDeleteBeneficiary(w http.ResponseWriter, r *http.Request, account string) error {
	var req refJSON
	if err := api.DecodeJSON(r, &req); err != nil {
		return badBody(err, booking.ReasonBadRef)
	}
	if err := b.svc.DeleteBeneficiary(r.Context(), account, strings.TrimSpace(req.Ref)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type beneficiaryAppointmentJSON struct {
	AppointmentID string `json:"appointment_id"`
	CenterID      int64  `json:"center_id"`
	Name          string `json:"name"`
	StateName     string `json:"state_name"`
	DistrictName  string `json:"district_name"`
	BlockName     string `json:"block_name"`
	From          string `json:"from"`
	To            string `json:"to"`
	Dose          int    `json:"dose"`
	SessionID     string `json:"session_id"`
	Date          string `json:"date"`
	Slot          string `json:"slot"`
}

type beneficiaryJSON struct {
	Ref               string                       `json:"beneficiary_reference_id"`
	Name              string                       `json:"name"`
	BirthYear         string                       `json:"birth_year"`
	Gender            string                       `json:"gender"`
	MobileNumber      string                       `json:"mobile_number"`
	PhotoIDType       string                       `json:"photo_id_type"`
	PhotoIDNumber     string                       `json:"photo_id_number"`
	ComorbidityInd    string                       `json:"comorbidity_ind"`
	VaccinationStatus string                       `json:"vaccination_status"`
	Vaccine           string                       `json:"vaccine"`
	Dose1Date         string                       `json:"dose1_date"`
	Dose2Date         string                       `json:"dose2_date"`
	Appointments      []beneficiaryAppointmentJSON `json:"appointments"`
}

type beneficiariesJSON struct {
	Beneficiaries []beneficiaryJSON `json:"beneficiaries"`
}

// yn is Co-WIN's "Y"/"N".
func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func (b *Booking) handleBeneficiaries(w http.ResponseWriter, r *http.Request, account string) error {
	bs, err := b.svc.Beneficiaries(r.Context(), account)
	if err != nil {
		return err
	}
	out := beneficiariesJSON{Beneficiaries: []beneficiaryJSON{}}
	for _, v := range bs {
		j := beneficiaryJSON{
			Ref: v.Ref, Name: v.Name, BirthYear: strconv.Itoa(v.BirthYear), Gender: booking.GenderName(v.GenderID),
			MobileNumber: v.MobileLast4, PhotoIDType: booking.IDTypeName(v.PhotoIDType),
			PhotoIDNumber: "XXXXXXXX" + v.PhotoIDLast4, ComorbidityInd: yn(v.Comorbidity),
			VaccinationStatus: v.VaccinationStatus, Vaccine: v.Vaccine,
			Appointments: []beneficiaryAppointmentJSON{},
		}
		if len(v.DoseDates) > 0 {
			j.Dose1Date = v.DoseDates[0]
		}
		if len(v.DoseDates) > 1 {
			j.Dose2Date = v.DoseDates[1]
		}
		for _, a := range v.Appointments {
			j.Appointments = append(j.Appointments, beneficiaryAppointmentJSON{
				AppointmentID: a.ID, CenterID: a.Centre.ID, Name: a.Centre.Name, StateName: a.StateName,
				DistrictName: a.DistrictName, BlockName: a.Centre.BlockName, From: a.Centre.From, To: a.Centre.To,
				Dose: a.Dose, SessionID: a.Session.ID, Date: a.Session.Date.Cowin(), Slot: a.Slot,
			})
		}
		out.Beneficiaries = append(out.Beneficiaries, j)
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

type scheduleRequest struct {
	Dose          flexInt  `json:"dose"`
	SessionID     string   `json:"session_id"`
	Slot          string   `json:"slot"`
	Beneficiaries []string `json:"beneficiaries"`
	CenterID      flexInt  `json:"center_id"`
	Captcha       string   `json:"captcha"`
}

type scheduleResponse struct {
	ConfirmationNo string `json:"appointment_confirmation_no"`
}

func (b *Booking) handleSchedule(w http.ResponseWriter, r *http.Request, account string) error {
	var req scheduleRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := b.checkBeneficiaries(r, req.Beneficiaries); err != nil {
		return err
	}
	if b.captcha != nil {
		if err := b.captcha.Check(r.Context(), account, req.Captcha); err != nil {
			return err
		}
	}
	a, err := b.svc.Schedule(r.Context(), account, booking.ScheduleRequest{
		Dose: int(req.Dose), SessionID: strings.TrimSpace(req.SessionID), Slot: strings.TrimSpace(req.Slot), Refs: req.Beneficiaries,
	})
	var pooled *booking.Pooled
	if errors.As(err, &pooled) {
		// In a fair release's draw: the usual error, plus the request id
		// to poll (GET /api/v1/releases/requests/{id}).
		status, body := api.Describe(err)
		return api.WriteJSON(w, status, pooledResponse{ErrorCode: body.ErrorCode, Error: body.Error, RequestID: pooled.EntryID})
	}
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, scheduleResponse{ConfirmationNo: a.ID})
}

// pooledResponse answers a schedule request pooled for a fair release's
// draw (409 APPOIN0061): the error shape with the request id added.
type pooledResponse struct {
	ErrorCode string `json:"errorCode"`
	Error     string `json:"error"`
	RequestID string `json:"request_id"`
}

type rescheduleRequest struct {
	AppointmentID string `json:"appointment_id"`
	SessionID     string `json:"session_id"`
	Slot          string `json:"slot"`
}

func (b *Booking) handleReschedule(w http.ResponseWriter, r *http.Request, account string) error {
	var req rescheduleRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	err := b.svc.Reschedule(r.Context(), account, strings.TrimSpace(req.AppointmentID),
		strings.TrimSpace(req.SessionID), strings.TrimSpace(req.Slot))
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type cancelRequest struct {
	AppointmentID string   `json:"appointment_id"`
	Refs          []string `json:"beneficiariesToCancel"`
}

func (b *Booking) handleCancel(w http.ResponseWriter, r *http.Request, account string) error {
	var req cancelRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := b.svc.Cancel(r.Context(), account, strings.TrimSpace(req.AppointmentID), req.Refs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (b *Booking) handleSlip(w http.ResponseWriter, r *http.Request, account string) error {
	v, err := b.svc.Appointment(r.Context(), account, strings.TrimSpace(r.URL.Query().Get("appointment_id")))
	if err != nil {
		return err
	}
	pdf, err := booking.Slip(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="appointment-`+v.ID+`.pdf"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	_, err = w.Write(pdf)
	return err
}

// recorder captures a response to keep it for Idempotency-Key retries.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// idempotent honours Idempotency-Key (scoped to the account, kept 24 h): a
// retry gets the first answer replayed (with Idempotent-Replayed: true),
// the same key with another body 422, a retry while the first runs 409.
func (b *Booking) idempotent(h func(w http.ResponseWriter, r *http.Request, accountID string) error) func(http.ResponseWriter, *http.Request, string) error {
	return func(w http.ResponseWriter, r *http.Request, account string) error {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			return h(w, r, account)
		}
		var body []byte
		if r.Body != nil {
			var err error
			if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, api.MaxJSONBytes)); err != nil {
				return vax.Wrap(vax.Invalid, err, "could not read the request body")
			}
		}
		sum := sha256.Sum256([]byte(r.Method + " " + r.URL.Path + "\n" + string(body)))
		a, replayed, err := b.svc.Idempotent(r.Context(), account, key, hex.EncodeToString(sum[:]), func() booking.Answer {
			rec := &recorder{header: http.Header{}}
			inner := r.Clone(r.Context())
			inner.Body = io.NopCloser(bytes.NewReader(body))
			api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return h(w, r, account) }).ServeHTTP(rec, inner)
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			return booking.Answer{Status: rec.status, Body: rec.body.Bytes()}
		})
		if err != nil && a.Status == 0 {
			if vax.ErrorReason(err) == booking.ReasonKeyReused {
				return api.WriteJSON(w, http.StatusUnprocessableEntity, api.ErrorBody{ErrorCode: booking.ReasonKeyReused, Error: vax.ErrorMessage(err)})
			}
			return err
		}
		// err with an answer: the request ran but its answer could not be
		// kept; the client still gets it.
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		if len(a.Body) > 0 {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.Status)
		_, werr := w.Write(a.Body)
		return werr
	}
}
