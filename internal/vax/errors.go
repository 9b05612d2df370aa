package vax

import (
	"errors"
	"fmt"
)

// Code classifies an error by what the caller can do about it. Each API
// surface maps a Code to an HTTP status in one place.
type Code string

// The closed set of error codes.
const (
	Invalid      Code = "Invalid"      // the request is malformed or breaks a rule
	NotFound     Code = "NotFound"     // the thing named does not exist
	Conflict     Code = "Conflict"     // the request clashes with the current state
	Unauthorized Code = "Unauthorized" // no valid credentials
	Forbidden    Code = "Forbidden"    // credentials valid, action not allowed
	Full         Code = "Full"         // no capacity left
	RateLimited  Code = "RateLimited"  // too many requests; try later
	Unavailable  Code = "Unavailable"  // a dependency is down; try later
	Internal     Code = "Internal"     // a bug or an unexpected failure
)

// Error is vaxport's one error type. Message is safe to show a citizen;
// internal detail stays in Err and in the log. Reason, when set, is the wire
// error code an API surface sends (e.g. Co-WIN's "APPOIN0040"); otherwise the
// surface picks its default for Code.
type Error struct {
	Code    Code
	Reason  string
	Message string
	Err     error
}

func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Reason != "" {
		msg += " " + e.Reason
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, vax.ErrNotFound) (or any *Error with only a Code)
// match every error of that code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Reason == "" || t.Reason == e.Reason) && t.Message == "" && t.Err == nil
}

// Sentinels for errors.Is; they carry only a code.
var (
	ErrInvalid      = &Error{Code: Invalid}
	ErrNotFound     = &Error{Code: NotFound}
	ErrConflict     = &Error{Code: Conflict}
	ErrUnauthorized = &Error{Code: Unauthorized}
	ErrForbidden    = &Error{Code: Forbidden}
	ErrFull         = &Error{Code: Full}
	ErrRateLimited  = &Error{Code: RateLimited}
	ErrUnavailable  = &Error{Code: Unavailable}
)

// Errorf returns an *Error with code and a citizen-safe formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of code around err, with a safe message.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the Code of the first *Error in err's chain, or Internal.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorReason returns the wire Reason of the first *Error in err's chain that
// has one.
func ErrorReason(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Reason != "" {
			return e.Reason
		}
		err = e.Err
	}
	return ""
}

// ErrorMessage returns the citizen-safe message of err: the Message of the
// first *Error that has one, or a generic text for its code. Internal
// errors never expose their detail.
func ErrorMessage(err error) string {
	code := ErrorCode(err)
	if code != Internal {
		for e := err; e != nil; {
			var ve *Error
			if !errors.As(e, &ve) {
				break
			}
			if ve.Message != "" {
				return ve.Message
			}
			e = ve.Err
		}
	}
	switch code {
	case Invalid:
		return "invalid request"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict with the current state"
	case Unauthorized:
		return "unauthenticated access"
	case Forbidden:
		return "access denied"
	case Full:
		return "no capacity left"
	case RateLimited:
		return "too many requests; try again later"
	case Unavailable:
		return "service temporarily unavailable; try again later"
	}
	return "internal error"
}
