package cowin

import (
	"net/http"

	"github.com/vaxport/vaxport/internal/api"
)

// Register adds the Co-WIN search routes to mux. GET patterns also answer
// HEAD.
func (s *Server) Register(mux *http.ServeMux) {
	// Public: anyone, no token.
	mux.Handle("GET /api/v2/admin/location/states", s.public(s.handleStates))
	mux.Handle("GET /api/v2/admin/location/districts/{state_id}", s.public(s.handleDistricts))
	mux.Handle("GET /api/v2/appointment/sessions/public/findByPin", s.public(s.limitSearch(s.sessions(findByPin, false))))
	mux.Handle("GET /api/v2/appointment/sessions/public/findByDistrict", s.public(s.limitSearch(s.sessions(findByDistrict, false))))
	mux.Handle("GET /api/v2/appointment/sessions/public/calendarByPin", s.public(s.limitSearch(s.sessions(calendarByPin, false))))
	mux.Handle("GET /api/v2/appointment/sessions/public/calendarByDistrict", s.public(s.limitSearch(s.sessions(calendarByDistrict, false))))
	mux.Handle("GET /api/v2/appointment/sessions/public/calendarByCenter", s.public(s.limitSearch(s.sessions(calendarByCenter, false))))
	mux.Handle("GET /api/v2/appointment/centers/public/findByLatLong", s.public(s.limitSearch(s.handleFindByLatLong)))

	// Protected: Config.Authenticate decides; these honour the optional
	// vaccine filter.
	mux.Handle("GET /api/v2/appointment/sessions/findByPin", s.protected(s.limitSearch(s.sessions(findByPin, true))))
	mux.Handle("GET /api/v2/appointment/sessions/findByDistrict", s.protected(s.limitSearch(s.sessions(findByDistrict, true))))
	mux.Handle("GET /api/v2/appointment/sessions/calendarByPin", s.protected(s.limitSearch(s.sessions(calendarByPin, true))))
	mux.Handle("GET /api/v2/appointment/sessions/calendarByDistrict", s.protected(s.limitSearch(s.sessions(calendarByDistrict, true))))
	mux.Handle("GET /api/v2/appointment/sessions/calendarByCenter", s.protected(s.limitSearch(s.sessions(calendarByCenter, true))))
}

// Register adds the Co-WIN sign-in routes (auth.go) to mux. Each pair
// confirms the OTP its generate call sent.
func (s *SignIn) Register(mux *http.ServeMux) {
	// Public: certificate download tokens.
	mux.Handle("POST /api/v2/auth/public/generateOTP", api.HandlerFunc(s.handleGenerateOTP))
	mux.Handle("POST /api/v2/auth/public/confirmOTP", api.HandlerFunc(s.handleConfirmOTP))
	// Protected (partners): the token comes with isNewAccount.
	mux.Handle("POST /api/v2/auth/generateOTP", api.HandlerFunc(s.handleGenerateOTP))
	mux.Handle("POST /api/v2/auth/confirmOTP", api.HandlerFunc(s.handleConfirmAccountOTP))
	// The web portal's pair.
	mux.Handle("POST /api/v2/auth/generateMobileOTP", api.HandlerFunc(s.handleGenerateOTP))
	mux.Handle("POST /api/v2/auth/validateMobileOtp", api.HandlerFunc(s.handleConfirmOTP))
}

// Register adds the Co-WIN beneficiary and appointment routes (booking.go)
// to mux; every one acts for the signed-in account.
func (b *Booking) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/v2/registration/beneficiary/idTypes", b.account(b.handleIDTypes))
	mux.Handle("GET /api/v2/registration/beneficiary/genders", b.account(b.handleGenders))
	mux.Handle("POST /api/v2/registration/beneficiary/new", b.account(b.handleNewBeneficiary))
	mux.Handle("POST /api/v2/registration/beneficiary/delete", b.account(b.handleDeleteBeneficiary))
	mux.Handle("GET /api/v2/appointment/beneficiaries", b.account(b.handleBeneficiaries))
	mux.Handle("POST /api/v2/appointment/schedule", b.account(b.limitBooking(scheduleRefs, b.idempotent(b.handleSchedule))))
	mux.Handle("POST /api/v2/appointment/reschedule", b.account(b.limitBooking(nil, b.idempotent(b.handleReschedule))))
	mux.Handle("POST /api/v2/appointment/cancel", b.account(b.limitBooking(nil, b.idempotent(b.handleCancel))))
	mux.Handle("GET /api/v2/appointment/appointmentslip/download", b.account(b.handleSlip))
	if b.captcha != nil {
		// Each picture is a store write: the account's booking limit
		// applies to asking for one too.
		mux.Handle("POST /api/v2/auth/getRecaptcha", b.account(b.limitBooking(nil, GetRecaptcha(b.captcha))))
	}
}
