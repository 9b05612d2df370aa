package vax_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vaxport/vaxport/internal/vax"
)

func TestErrorChain(t *testing.T) {
	base := &vax.Error{Code: vax.Full, Reason: "APPOIN0040", Message: "This session is fully booked"}
	err := fmt.Errorf("schedule: %w", fmt.Errorf("reserve seat: %w", base))
	if !errors.Is(err, vax.ErrFull) {
		t.Error("errors.Is(err, ErrFull) = false")
	}
	if errors.Is(err, vax.ErrNotFound) {
		t.Error("errors.Is(err, ErrNotFound) = true")
	}
	if got := vax.ErrorCode(err); got != vax.Full {
		t.Errorf("ErrorCode = %s, want Full", got)
	}
	if got := vax.ErrorReason(err); got != "APPOIN0040" {
		t.Errorf("ErrorReason = %q, want APPOIN0040", got)
	}
	if got := vax.ErrorMessage(err); got != "This session is fully booked" {
		t.Errorf("ErrorMessage = %q", got)
	}
}

func TestErrorMessageHidesInternals(t *testing.T) {
	err := fmt.Errorf("insert: %w", errors.New("pq: relation secret_table does not exist"))
	if got := vax.ErrorCode(err); got != vax.Internal {
		t.Errorf("ErrorCode = %s, want Internal", got)
	}
	if got := vax.ErrorMessage(err); got != "internal error" {
		t.Errorf("ErrorMessage = %q, want the generic text", got)
	}
	wrapped := vax.Wrap(vax.Internal, err, "database said no")
	if got := vax.ErrorMessage(wrapped); got != "internal error" {
		t.Errorf("ErrorMessage(Internal with message) = %q, want the generic text", got)
	}
	if got := vax.ErrorMessage(vax.Wrap(vax.NotFound, err, "")); got != "not found" {
		t.Errorf("ErrorMessage(NotFound) = %q, want the generic text", got)
	}
}
