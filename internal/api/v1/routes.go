package v1

import (
	"net/http"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/vax"
)

// Register adds the /api/v1 routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	// Admin: staff with an admin role, or the bootstrap admin token
	// (Authorization: Bearer); see authorize.go for who may do what.
	admin := func(pattern string, h api.HandlerFunc) { mux.Handle(pattern, s.admin(h)) }

	admin("POST /api/v1/admin/centres", s.handleCreateCentre)
	admin("GET /api/v1/admin/centres", s.handleListCentres)
	admin("POST /api/v1/admin/centres/import", s.handleImportCentres)
	admin("GET /api/v1/admin/centres/{center_id}", s.handleGetCentre)
	admin("PUT /api/v1/admin/centres/{center_id}", s.handleUpdateCentre)

	admin("POST /api/v1/admin/sessions", s.handleCreateSession)
	admin("GET /api/v1/admin/sessions", s.handleListSessions)
	admin("POST /api/v1/admin/sessions/import", s.handleImportSessions)
	admin("GET /api/v1/admin/sessions/{session_id}", s.handleGetSession)
	admin("PUT /api/v1/admin/sessions/{session_id}", s.handleUpdateSession)
	admin("POST /api/v1/admin/sessions/{session_id}/cancel", s.handleCancelSession)

	admin("GET /api/v1/admin/node", s.handleNode)

	// Staff: sign-in by OTP, then their own token.
	if s.staff != nil {
		mux.Handle("POST /api/v1/staff/otp", api.HandlerFunc(s.handleStaffOTP))
		mux.Handle("POST /api/v1/staff/token", api.HandlerFunc(s.handleStaffToken))
		mux.Handle("POST /api/v1/staff/logout", api.HandlerFunc(s.handleStaffLogout))
		mux.Handle("GET /api/v1/staff/me", s.staffOnly(vax.RoleVaccinator, "vaxport-staff", s.handleStaffMe))

		admin("POST /api/v1/admin/staff", s.handleCreateStaff)
		admin("GET /api/v1/admin/staff", s.handleListStaff)
		admin("GET /api/v1/admin/staff/{staff_id}", s.handleGetStaff)
		admin("PATCH /api/v1/admin/staff/{staff_id}", s.handleUpdateStaff)
	}

	// The vaccinator's day.
	if s.staff != nil && s.vacc != nil {
		vaccinator := func(pattern string, h api.HandlerFunc) {
			mux.Handle(pattern, s.staffOnly(vax.RoleVaccinator, "vaxport-staff", h))
		}
		vaccinator("POST /api/v1/vaccinator/verify", s.handleVerifyCode)
		vaccinator("POST /api/v1/vaccinator/doses", s.handleRecordDose)
		vaccinator("POST /api/v1/vaccinator/doses/upload", s.handleUpload)
		vaccinator("POST /api/v1/vaccinator/walkins", s.handleWalkIn)
		vaccinator("GET /api/v1/vaccinator/queue", s.handleQueue)
		vaccinator("GET /api/v1/vaccinator/lots", s.handleLots(true))
		vaccinator("POST /api/v1/vaccinator/aefi", s.handleReportAEFI)

		admin("POST /api/v1/admin/lots", s.handleCreateLot)
		admin("GET /api/v1/admin/lots", s.handleLots(false))
		admin("GET /api/v1/admin/aefi", s.handleListAEFI)
	}

	// Citizens, with their own bearer token.
	if s.tokens != nil {
		mux.Handle("POST /api/v1/auth/refresh", api.HandlerFunc(s.handleRefresh))
		mux.Handle("POST /api/v1/auth/logout", api.HandlerFunc(s.handleLogout))
	}

	if s.appts != nil && s.authn != nil {
		mux.Handle("GET /api/v1/appointments/{appointment_id}", api.HandlerFunc(s.handleAppointment))
	}

	if s.alerts != nil && s.authn != nil {
		mux.Handle("GET /api/v1/alerts/stream", api.HandlerFunc(s.handleAlertStream))
		mux.Handle("POST /api/v1/alerts/subscriptions", api.HandlerFunc(s.handleCreateStoredAlert))
		mux.Handle("GET /api/v1/alerts/subscriptions", api.HandlerFunc(s.handleListStoredAlerts))
		mux.Handle("DELETE /api/v1/alerts/subscriptions/{subscription_id}", api.HandlerFunc(s.handleDeleteStoredAlert))
	}

	// Certificates: published keys and trust, and online verification.
	s.registerVerify(mux)

	// SMS gateways, with their shared secret.
	if s.receipts != nil {
		mux.Handle("POST /api/v1/sms/receipts/{provider}", api.HandlerFunc(s.handleReceipts))
	}

	// Anything else under /api/v1/admin/ asks for the token first, so
	// the admin API's shape is not probed without it; then 404 or 405.
	notFound := api.NotFound(mux)
	admin("/api/v1/admin/", func(w http.ResponseWriter, r *http.Request) error {
		notFound.ServeHTTP(w, r)
		return nil
	})
}

// RegisterReleases adds the fair-release routes for rel (release.Service)
// to mux, beside Register's.
func (s *Server) RegisterReleases(mux *http.ServeMux, rel Releases) {
	h := releaseRoutes{s: s, rel: rel}
	// Staff: facility admins and above, for sessions in their scope.
	mux.Handle("POST /api/v1/admin/releases", s.admin(h.handleCreate))
	mux.Handle("GET /api/v1/admin/releases", s.admin(h.handleList))

	// Anyone: the public record of a draw.
	mux.Handle("GET /api/v1/releases/{release_id}", api.HandlerFunc(h.handleAudit))

	// Citizens, with their own bearer token: their own requests.
	if s.authn != nil {
		mux.Handle("GET /api/v1/releases/requests/{request_id}", api.HandlerFunc(h.handleRequest))
	}
}
