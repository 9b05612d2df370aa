package cowin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/api/cowin"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/vax"
)

// scheduleAnswers is a booking service whose Schedule answers err; the
// other methods are never called here.
type scheduleAnswers struct {
	cowin.Appointments
	err error
}

func (s scheduleAnswers) Schedule(context.Context, string, booking.ScheduleRequest) (vax.Appointment, error) {
	return vax.Appointment{}, s.err
}

// TestScheduleFairReleaseAnswers pins the wire shape of the two fair
// release answers of POST /api/v2/appointment/schedule: 409 in Co-WIN's
// error shape, the pooled one with the request id added, and nothing else.
func TestScheduleFairReleaseAnswers(t *testing.T) {
	const requestID = "5f0c3b1e-9d2a-4c7e-8b61-0a9e2d4f6c13"
	pooled := &vax.Error{Code: vax.Conflict, Reason: booking.ReasonPooled,
		Message: "your request is in the draw for this session's seats (request id " + requestID + ")",
		Err:     &booking.Pooled{EntryID: requestID, ReleaseID: "r", DrawAt: time.Now()}}
	held := &vax.Error{Code: vax.Conflict, Reason: booking.ReasonHeld,
		Message: "bookings for this session open at 16:00:00 on 05-12-2026 by a fair draw"}
	tests := []struct {
		name string
		err  error
		want map[string]any
	}{
		{"pooled", pooled, map[string]any{"errorCode": "APPOIN0061", "error": pooled.Message, "request_id": requestID}},
		{"pooled, wrapped", fmt.Errorf("schedule: %w", pooled),
			map[string]any{"errorCode": "APPOIN0061", "error": pooled.Message, "request_id": requestID}},
		{"before the release time", held, map[string]any{"errorCode": "APPOIN0060", "error": held.Message}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			cowin.NewBooking(cowin.BookingConfig{Appointments: scheduleAnswers{err: tt.err},
				Authenticate: func(*http.Request) (auth.Principal, error) {
					return auth.Principal{AccountID: "10000000-0000-4000-8000-000000000001"}, nil
				}}).Register(mux)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/api/v2/appointment/schedule", strings.NewReader(
				`{"dose":1,"session_id":"00000000-0000-4000-8000-000000000001","slot":"09:00AM-11:00AM","beneficiaries":["12345678901234"]}`))
			req.Header.Set("Authorization", "Bearer x")
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusConflict {
				t.Fatalf("got status %d %s, want 409", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("got Content-Type %q, want JSON", ct)
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode %s: %v", rec.Body, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}
