package v1

import (
	"net/http"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/staff"
	"github.com/vaxport/vaxport/internal/vax"
)

// staffJSON is a staff member on the wire: the mobile number masked.
type staffJSON struct {
	StaffID    string  `json:"staff_id"`
	Name       string  `json:"name"`
	Mobile     string  `json:"mobile"` // XXXXXX1234
	Role       string  `json:"role"`
	CenterIDs  []int64 `json:"center_ids"`
	DistrictID int     `json:"district_id,omitempty"`
	StateID    int     `json:"state_id,omitempty"`
	Status     string  `json:"status"`
	CreatedAt  string  `json:"created_at,omitempty"`
	UpdatedAt  string  `json:"updated_at,omitempty"`
}

func staffWire(st vax.Staff) staffJSON {
	j := staffJSON{StaffID: st.ID, Name: st.Name, Role: string(st.Role), CenterIDs: st.CentreIDs,
		DistrictID: st.DistrictID, StateID: st.StateID, Status: string(st.Status)}
	if j.CenterIDs == nil {
		j.CenterIDs = []int64{}
	}
	if st.MobileLast4 != "" {
		j.Mobile = "XXXXXX" + st.MobileLast4
	}
	if !st.CreatedAt.IsZero() {
		j.CreatedAt = st.CreatedAt.UTC().Format(time.RFC3339)
		j.UpdatedAt = st.UpdatedAt.UTC().Format(time.RFC3339)
	}
	return j
}

type staffOTPRequest struct {
	Mobile string `json:"mobile"`
}

type staffTokenRequest struct {
	OTP   string `json:"otp"`
	TxnID string `json:"txnId"`
}

type staffTokenJSON struct {
	Token     string    `json:"token"`
	ExpiresAt string    `json:"expires_at"`
	Staff     staffJSON `json:"staff"`
}

// handleStaffOTP sends a sign-in OTP to a staff member's number.
func (s *Server) handleStaffOTP(w http.ResponseWriter, r *http.Request) error {
	var req staffOTPRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	txn, err := s.staff.SendOTP(r.Context(), req.Mobile, s.clientKey(r))
	if err != nil {
		if after, ok := auth.RetryAfter(err); ok {
			return api.WithRetryAfter(err, after)
		}
		return err
	}
	return api.WriteJSON(w, http.StatusOK, map[string]string{"txnId": txn})
}

// handleStaffToken confirms a staff OTP and answers a staff token.
func (s *Server) handleStaffToken(w http.ResponseWriter, r *http.Request) error {
	var req staffTokenRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	tok, st, err := s.staff.Token(r.Context(), strings.TrimSpace(req.TxnID), req.OTP)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return api.WriteJSON(w, http.StatusOK, staffTokenJSON{Token: tok.Token,
		ExpiresAt: tok.ExpiresAt.UTC().Format(time.RFC3339), Staff: staffWire(st)})
}

// handleStaffLogout revokes the staff sign-in of the bearer token.
func (s *Server) handleStaffLogout(w http.ResponseWriter, r *http.Request) error {
	tok := bearer(r)
	if tok == "" {
		return unauthorized(w, noToken)
	}
	if err := s.staff.Logout(r.Context(), tok); err != nil {
		return unauthorized(w, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleStaffMe answers who the token speaks for.
func (s *Server) handleStaffMe(w http.ResponseWriter, r *http.Request) error {
	return api.WriteJSON(w, http.StatusOK, staffWire(caller(r)))
}

// newStaffRequest is the body of POST /api/v1/admin/staff.
type newStaffRequest struct {
	Name       string  `json:"name"`
	Mobile     string  `json:"mobile"`
	Role       string  `json:"role"`
	CenterIDs  []int64 `json:"center_ids"`
	DistrictID int     `json:"district_id"`
	StateID    int     `json:"state_id"`
}

func (s *Server) handleCreateStaff(w http.ResponseWriter, r *http.Request) error {
	var req newStaffRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	role, err := vax.ParseRole(req.Role)
	if err != nil {
		return err
	}
	st, err := s.staff.Create(r.Context(), caller(r), staff.NewStaff{Name: req.Name, Mobile: req.Mobile, Role: role,
		CentreIDs: req.CenterIDs, DistrictID: req.DistrictID, StateID: req.StateID})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusCreated, staffWire(st))
}

// staffUpdateRequest is the body of PATCH /api/v1/admin/staff/{staff_id}:
// absent fields stay as they are.
type staffUpdateRequest struct {
	Name       *string  `json:"name"`
	Role       *string  `json:"role"`
	CenterIDs  *[]int64 `json:"center_ids"`
	DistrictID *int     `json:"district_id"`
	StateID    *int     `json:"state_id"`
	Status     *string  `json:"status"`
}

func (s *Server) handleUpdateStaff(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("staff_id")
	if !vax.ValidUUID(id) {
		return vax.Errorf(vax.NotFound, "staff member not found")
	}
	var req staffUpdateRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	u := staff.Update{Name: req.Name, CentreIDs: req.CenterIDs, DistrictID: req.DistrictID, StateID: req.StateID}
	if req.Role != nil {
		role, err := vax.ParseRole(*req.Role)
		if err != nil {
			return err
		}
		u.Role = &role
	}
	if req.Status != nil {
		st := vax.StaffStatus(*req.Status)
		if st != vax.StaffActive && st != vax.StaffSuspended {
			return vax.Errorf(vax.Invalid, "invalid status %q: want active or suspended", clip(*req.Status))
		}
		u.Status = &st
	}
	st, err := s.staff.Update(r.Context(), caller(r), id, u)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, staffWire(st))
}

func (s *Server) handleGetStaff(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("staff_id")
	if !vax.ValidUUID(id) {
		return vax.Errorf(vax.NotFound, "staff member not found")
	}
	st, err := s.staff.Get(r.Context(), caller(r), id)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, staffWire(st))
}

type staffListJSON struct {
	Staff []staffJSON `json:"staff"`
	Next  string      `json:"next,omitempty"`
}

func (s *Server) handleListStaff(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	sq := vax.StaffQuery{
		CentreID:   q.int64("center_id"),
		DistrictID: q.int("district_id"),
		StateID:    q.int("state_id"),
		AfterID:    q.str("after"),
		Limit:      vax.PageSize(q.int("limit")),
	}
	if q.err != nil {
		return q.err
	}
	if role := q.str("role"); role != "" {
		rl, err := vax.ParseRole(role)
		if err != nil {
			return err
		}
		sq.Role = rl
	}
	list, err := s.staff.List(r.Context(), caller(r), sq)
	if err != nil {
		return err
	}
	resp := staffListJSON{Staff: make([]staffJSON, 0, len(list))}
	for _, st := range list {
		resp.Staff = append(resp.Staff, staffWire(st))
	}
	if len(list) == sq.Limit {
		resp.Next = list[len(list)-1].ID
	}
	return api.WriteJSON(w, http.StatusOK, resp)
}
