package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// ErrorBody is the error body of every vaxport surface, Co-WIN's shape:
// {"errorCode":"GENERR0400","error":"human readable message"}.
type ErrorBody struct {
	ErrorCode string `json:"errorCode"`
	Error     string `json:"error"`
}

// errorMapping is the one table from error codes to HTTP status and default
// wire code. A *vax.Error's Reason, when set (e.g. Co-WIN's "APPOIN0040"),
// replaces the default wire code; the status always follows the Code.
//
// Default wire codes follow Co-WIN's style (six capitals, four digits):
// "GENERR" plus the HTTP status, except Full, which defaults to Co-WIN's own
// "session completely booked" code because clients in the wild match on it.
//
//	vax code      status  errorCode
//	Invalid       400     GENERR0400  (413 GENERR0413 when the body was too large)
//	Unauthorized  401     GENERR0401
//	Forbidden     403     GENERR0403
//	NotFound      404     GENERR0404
//	(wrong method) 405    GENERR0405  (MethodNotAllowed)
//	Conflict      409     GENERR0409
//	Full          409     APPOIN0040
//	RateLimited   429     GENERR0429  (+ Retry-After, seconds)
//	Internal      500     GENERR0500
//	Unavailable   503     GENERR0503
var errorMapping = map[vax.Code]struct {
	status int
	code   string
}{
	vax.Invalid:      {http.StatusBadRequest, "GENERR0400"},
	vax.Unauthorized: {http.StatusUnauthorized, "GENERR0401"},
	vax.Forbidden:    {http.StatusForbidden, "GENERR0403"},
	vax.NotFound:     {http.StatusNotFound, "GENERR0404"},
	vax.Conflict:     {http.StatusConflict, "GENERR0409"},
	vax.Full:         {http.StatusConflict, "APPOIN0040"},
	vax.RateLimited:  {http.StatusTooManyRequests, "GENERR0429"},
	vax.Internal:     {http.StatusInternalServerError, "GENERR0500"},
	vax.Unavailable:  {http.StatusServiceUnavailable, "GENERR0503"},
}

// Wire codes outside the vax code table.
const (
	codeTooLarge         = "GENERR0413"
	codeMethodNotAllowed = "GENERR0405"
)

// DefaultRetryAfter is the Retry-After sent with a RateLimited error that
// does not say how long to wait.
const DefaultRetryAfter = time.Second

// Describe returns the HTTP status and body WriteError sends for err. API
// surfaces use it to report per-item errors (e.g. CSV import rows) in the
// same vocabulary.
func Describe(err error) (status int, body ErrorBody) {
	m, ok := errorMapping[vax.ErrorCode(err)]
	if !ok {
		m = errorMapping[vax.Internal]
	}
	status, body.ErrorCode = m.status, m.code
	var tooLarge *http.MaxBytesError
	if vax.ErrorCode(err) == vax.Invalid && errors.As(err, &tooLarge) {
		status, body.ErrorCode = http.StatusRequestEntityTooLarge, codeTooLarge
	}
	if reason := vax.ErrorReason(err); reason != "" {
		body.ErrorCode = reason
	}
	body.Error = vax.ErrorMessage(err)
	return status, body
}

// retryAfterError carries how long a rate-limited caller should wait.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// WithRetryAfter attaches a wait to err (normally a RateLimited error);
// WriteError sends it as Retry-After, rounded up to whole seconds.
func WithRetryAfter(err error, after time.Duration) error {
	return &retryAfterError{err: err, after: after}
}

// WriteError writes err as {"errorCode","error"} with the status its code
// maps to (see errorMapping). Server errors (5xx) are logged in full with
// the request id; client errors are not logged: they are the caller's
// business and would let anyone fill the logs.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := Describe(err)
	if status >= 500 {
		loggerFrom(r.Context()).LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("route", routeOf(r)),
			slog.Int("status", status),
			slog.String("err", err.Error()))
	}
	if vax.ErrorCode(err) == vax.RateLimited {
		after := DefaultRetryAfter
		var ra *retryAfterError
		if errors.As(err, &ra) && ra.after > 0 {
			after = ra.after
		}
		secs := int64((after + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeErrorBody(w, status, body)
}

func writeErrorBody(w http.ResponseWriter, status int, body ErrorBody) {
	// The body is two plain strings: encoding cannot fail.
	_ = WriteJSON(w, status, body)
}
