package vaccination

import "github.com/vaxport/vaxport/internal/vax"

// The wire error codes (Co-WIN style) this package gives its errors, as
// Reason. They are vaxport's own; malformed reference ids reuse booking's
// BENEFI0005.
//
//	code        status  meaning
//	VACCIN0001  403     staff member inactive, of the wrong role, or the centre (area) outside their scope
//	VACCIN0002  400     center_id required: the staff member serves more than one centre
//	VACCIN0003  404     no appointment today at this centre for the beneficiary
//	VACCIN0004  403     appointment locked after too many wrong secret codes
//	VACCIN0005  400     wrong (or malformed) secret code
//	VACCIN0006  404     beneficiary not found
//	VACCIN0007  400     administered_at in the future or too far back
//	VACCIN0008  400     dose number out of order
//	VACCIN0009  400     vaccine differs from the earlier doses
//	VACCIN0010  400     minimum interval since the previous dose not reached
//	VACCIN0011  400     dose beyond the vaccine's series (+ precaution doses)
//	VACCIN0012  400     lot not in this centre's stock
//	VACCIN0013  400     lot is of another vaccine
//	VACCIN0014  400     lot expired
//	VACCIN0015  409     lot has no doses left
//	VACCIN0016  409     dose already recorded with another vaccine, lot or centre
//	VACCIN0017  400     malformed dose request or upload row
//	VACCIN0018  400     invalid lot (details, unknown vaccine, expiry past)
//	VACCIN0019  409     the centre already has a lot with that number
//	VACCIN0020  404     dose record not found
//	VACCIN0021  400     invalid adverse event (severity, symptoms, onset)
//	VACCIN0022  404     centre not found
//	VACCIN0023  400     upload too large
//	VACCIN0024  400     unknown vaccine
const (
	ReasonForbidden      = "VACCIN0001"
	ReasonCentreRequired = "VACCIN0002"
	ReasonNoAppointment  = "VACCIN0003"
	ReasonLocked         = "VACCIN0004"
	ReasonWrongCode      = "VACCIN0005"
	ReasonNoBeneficiary  = "VACCIN0006"
	ReasonTime           = "VACCIN0007"
	ReasonDoseOrder      = "VACCIN0008"
	ReasonVaccine        = "VACCIN0009"
	ReasonInterval       = "VACCIN0010"
	ReasonSeries         = "VACCIN0011"
	ReasonUnknownLot     = "VACCIN0012"
	ReasonLotVaccine     = "VACCIN0013"
	ReasonLotExpired     = "VACCIN0014"
	ReasonLotEmpty       = "VACCIN0015"
	ReasonDoseRecorded   = "VACCIN0016"
	ReasonBadRequest     = "VACCIN0017"
	ReasonBadLot         = "VACCIN0018"
	ReasonLotExists      = "VACCIN0019"
	ReasonNoDose         = "VACCIN0020"
	ReasonBadEvent       = "VACCIN0021"
	ReasonNoCentre       = "VACCIN0022"
	ReasonTooLarge       = "VACCIN0023"
	ReasonUnknownVaccine = "VACCIN0024"
)

// fail returns an *vax.Error with a wire reason.
func fail(code vax.Code, reason, format string, args ...any) *vax.Error {
	e := vax.Errorf(code, format, args...)
	e.Reason = reason
	return e
}

// clip shortens untrusted input echoed in a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
