package v1

import (
	"net/http"

	"github.com/vaxport/vaxport/internal/api"
)

// Register adds the /api/v1 routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	// Admin: operators holding the admin token (Authorization: Bearer).
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
