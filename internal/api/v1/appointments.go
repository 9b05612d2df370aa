package v1

import (
	"context"
	"net/http"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/booking"
)

// Appointments reads a citizen's appointment (booking.Service).
type Appointments interface {
	Appointment(ctx context.Context, accountID, id string) (booking.AppointmentView, error)
}

type appointmentPersonJSON struct {
	Ref        string `json:"beneficiary_reference_id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	SecretCode string `json:"secret_code"`
}

type appointmentJSON struct {
	AppointmentID string                  `json:"appointment_id"`
	Status        string                  `json:"status"`
	Dose          int                     `json:"dose"`
	SessionID     string                  `json:"session_id"`
	Date          string                  `json:"date"`
	Slot          string                  `json:"slot"`
	Vaccine       string                  `json:"vaccine"`
	CenterID      int64                   `json:"center_id"`
	Name          string                  `json:"name"`
	Address       string                  `json:"address"`
	StateName     string                  `json:"state_name"`
	DistrictName  string                  `json:"district_name"`
	BlockName     string                  `json:"block_name"`
	Pincode       int                     `json:"pincode"`
	From          string                  `json:"from"`
	To            string                  `json:"to"`
	Beneficiaries []appointmentPersonJSON `json:"beneficiaries"`
}

// handleAppointment answers the signed-in account's appointment with its
// secret codes; another account's is the same 404 as an unknown one.
func (s *Server) handleAppointment(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authn(r)
	if err != nil {
		return unauthorized(w, err)
	}
	v, err := s.appts.Appointment(r.Context(), p.AccountID, r.PathValue("appointment_id"))
	if err != nil {
		return err
	}
	out := appointmentJSON{
		AppointmentID: v.ID, Status: string(v.Status), Dose: v.Dose, SessionID: v.Session.ID,
		Date: v.Session.Date.Cowin(), Slot: v.Slot, Vaccine: v.Session.Vaccine, CenterID: v.Centre.ID,
		Name: v.Centre.Name, Address: v.Centre.Address, StateName: v.StateName, DistrictName: v.DistrictName,
		BlockName: v.Centre.BlockName, Pincode: v.Centre.Pincode, From: v.Centre.From, To: v.Centre.To,
		Beneficiaries: []appointmentPersonJSON{},
	}
	for _, per := range v.People {
		out.Beneficiaries = append(out.Beneficiaries, appointmentPersonJSON{
			Ref: per.Ref, Name: per.Name, Status: string(per.Status), SecretCode: per.SecretCode})
	}
	w.Header().Set("Cache-Control", "private, no-store")
	return api.WriteJSON(w, http.StatusOK, out)
}
