package v1

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/staff"
	"github.com/vaxport/vaxport/internal/vax"
)

// Who may call what. Staff sign in by OTP (/api/v1/staff/otp, /token) and
// act with a staff token; the deployment's bootstrap admin token acts as a
// national admin, to create the first real one.
//
//	surface                        least role        scope
//	/api/v1/admin/* reads          facility_admin    (public master data)
//	centres create/update          district_admin    the centre's district
//	sessions create/update/cancel  facility_admin    the session's centre
//	centre/session CSV import      national_admin    -
//	node status                    national_admin    -
//	staff                          facility_admin    staff.Service decides
//	lots (create, full list)       facility_admin    the lot's centre
//	/api/v1/vaccinator/*           vaccinator        the centre acted at
//	adverse-event lists            district_admin    the area
//	releases (create, list)        facility_admin    every session's centre

// staffKey carries the authenticated staff member in a request's context.
type staffKey struct{}

// caller returns the staff member a staffOnly or admin handler runs for.
func caller(r *http.Request) vax.Staff {
	by, _ := r.Context().Value(staffKey{}).(vax.Staff)
	return by
}

// staffOnly wraps h for staff of role min or higher (or the bootstrap
// token), passing the member on in the request context (see caller).
func (s *Server) staffOnly(min vax.Role, realm string, h api.HandlerFunc) http.Handler {
	return api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		by, err := s.authenticateStaff(r)
		if err != nil {
			if vax.ErrorCode(err) == vax.Unauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
			}
			return err
		}
		if err := atLeast(by, min); err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), staffKey{}, by)))
	})
}

// authenticateStaff accepts the bootstrap admin token or a staff token.
func (s *Server) authenticateStaff(r *http.Request) (vax.Staff, error) {
	token := bearer(r)
	if token == "" {
		return vax.Staff{}, vax.Errorf(vax.Unauthorized, "missing token: send Authorization: Bearer <token>")
	}
	if s.adminHash != nil {
		h := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(h[:], s.adminHash) == 1 {
			return staff.Bootstrap(), nil
		}
	}
	if s.staff == nil {
		return vax.Staff{}, vax.Errorf(vax.Unauthorized, "invalid token: sign in as staff, or send the bootstrap admin token")
	}
	return s.staff.Authenticate(r.Context(), token)
}

// atLeast refuses a staff member whose role is below min.
func atLeast(by vax.Staff, min vax.Role) error {
	if min.Outranks(by.Role) {
		return vax.Errorf(vax.Forbidden, "this needs the %s role or higher", min)
	}
	return nil
}

// mayManageCentre refuses by unless its role is at least min and its scope
// covers the centre id (NotFound for an unknown centre).
func (s *Server) mayManageCentre(ctx context.Context, by vax.Staff, id int64, min vax.Role) error {
	if err := atLeast(by, min); err != nil {
		return err
	}
	c, err := s.catalog.Centre(ctx, id)
	if err != nil {
		return err
	}
	if !by.Covers(c) {
		return vax.Errorf(vax.Forbidden, "centre %d is outside your scope", id)
	}
	return nil
}

// mayManageSession refuses by unless it may manage the session's centre.
func (s *Server) mayManageSession(ctx context.Context, by vax.Staff, id string) error {
	ss, err := s.catalog.Session(ctx, id)
	if err != nil {
		return err
	}
	return s.mayManageCentre(ctx, by, ss.CentreID, vax.RoleFacilityAdmin)
}

// mayManageArea refuses by unless it is a district admin or above whose
// scope covers the district of state (where centres are created).
func mayManageArea(by vax.Staff, stateID, districtID int) error {
	if err := atLeast(by, vax.RoleDistrictAdmin); err != nil {
		return err
	}
	if !by.CoversArea(stateID, districtID) {
		return vax.Errorf(vax.Forbidden, "district %d of state %d is outside your scope", districtID, stateID)
	}
	return nil
}
