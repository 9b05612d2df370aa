package v1

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vaxport/vaxport/internal/alerts"
	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/vax"
)

// Alerts opens slot-alert subscriptions and texts those that opted in,
// and keeps stored subscriptions (alerts.Hub).
type Alerts interface {
	Subscribe(account string, f alerts.Filter, sms bool) (*alerts.Subscription, error)
	Notify(ctx context.Context, s *alerts.Subscription, events []*alerts.Event)
	CreateStored(ctx context.Context, account string, f alerts.Filter) (vax.AlertSubscription, error)
	StoredOf(ctx context.Context, account string) ([]vax.AlertSubscription, error)
	DeleteStored(ctx context.Context, account, id string) error
}

// Stream timing. The server's WriteTimeout (60 s) would end a stream, so
// every write first pushes the deadline writeGrace ahead; its ReadTimeout
// is lifted once the stream starts.
const (
	alertHeartbeat = 15 * time.Second
	alertRetry     = 5 * time.Second // the client's reconnect delay (SSE retry:)
	writeGrace     = 30 * time.Second
)

// slotEventJSON is the data of one "slots" event: a session that released
// seats, in Co-WIN's field names.
type slotEventJSON struct {
	CenterID   int64    `json:"center_id"`
	Name       string   `json:"name"`
	Pincode    int      `json:"pincode"`
	SessionID  string   `json:"session_id"`
	Date       string   `json:"date"`
	Vaccine    string   `json:"vaccine"`
	MinAge     int      `json:"min_age_limit"`
	Available1 int      `json:"available_capacity_dose1"`
	Available2 int      `json:"available_capacity_dose2"`
	Slots      []string `json:"slots"`
}

// drawEventJSON is the data of one "draw" event: the outcome of one of the
// account's fair-release requests (the request id the schedule call
// answered with). AppointmentID is set when it won, Reason (a wire code
// such as APPOIN0040) when it lost or was refused.
type drawEventJSON struct {
	RequestID     string `json:"request_id"`
	ReleaseID     string `json:"release_id"`
	SessionID     string `json:"session_id"`
	Status        string `json:"status"`
	AppointmentID string `json:"appointment_id"`
	Reason        string `json:"reason"`
}

// parseAlertFilter reads the query of GET /api/v1/alerts/stream.
func parseAlertFilter(r *http.Request) (alerts.Filter, error) {
	q := r.URL.Query()
	num := func(name string) (int, error) {
		v := q.Get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, vax.Errorf(vax.Invalid, "%s must be a non-negative whole number", name)
		}
		return n, nil
	}
	var f alerts.Filter
	var err error
	if f.DistrictID, err = num("district_id"); err != nil {
		return f, err
	}
	if f.Pincode, err = num("pincode"); err != nil {
		return f, err
	}
	if f.Age, err = num("min_age"); err != nil {
		return f, err
	}
	if f.Dose, err = num("dose"); err != nil {
		return f, err
	}
	f.Vaccine = q.Get("vaccine")
	return f, f.Validate()
}

// handleAlertStream streams slot alerts to a signed-in citizen as
// server-sent events: "slots" events (one per released session), "draw"
// events (the outcome of the account's own fair-release requests, whatever
// the filter), a "dropped" event when the client fell so far behind that
// older events were discarded, a comment every 15 s to keep proxies from
// closing the connection, and "expired" when the token expires (the client
// reconnects with a fresh one). With sms=1 the account is also texted, at most once
// per the hub's SMS interval for the same filter, while the stream is open.
func (s *Server) handleAlertStream(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authn(r)
	if err != nil {
		return unauthorized(w, err)
	}
	f, err := parseAlertFilter(r)
	if err != nil {
		return err
	}
	var sms bool
	switch r.URL.Query().Get("sms") {
	case "", "0":
	case "1":
		sms = true
	default:
		return vax.Errorf(vax.Invalid, "sms must be 0 or 1")
	}
	sub, err := s.alerts.Subscribe(p.AccountID, f, sms)
	if err != nil {
		return err
	}
	defer sub.Close()

	rc := http.NewResponseController(w)
	// A stream reads nothing after its request: lift the server's
	// ReadTimeout so that no read deadline can end a long stream.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("lift read deadline: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	send := func() error {
		if err := rc.SetWriteDeadline(time.Now().Add(writeGrace)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return fmt.Errorf("extend write deadline: %w", err)
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("write alert stream: %w", err)
		}
		buf.Reset()
		if err := rc.Flush(); err != nil {
			return fmt.Errorf("flush alert stream: %w", err)
		}
		return nil
	}
	fmt.Fprintf(&buf, "retry: %d\n: subscribed to %s\n\n", alertRetry.Milliseconds(), f)
	if err := send(); err != nil {
		return err
	}

	beat := time.NewTicker(alertHeartbeat)
	defer beat.Stop()
	var expired <-chan time.Time
	if !p.ExpiresAt.IsZero() {
		t := time.NewTimer(time.Until(p.ExpiresAt))
		defer t.Stop()
		expired = t.C
	}
	for seq := 0; ; {
		select {
		case <-r.Context().Done():
			return nil
		case <-expired:
			buf.WriteString("event: expired\ndata: {}\n\n")
			return send()
		case <-beat.C:
			buf.WriteString(": heartbeat\n\n")
		case <-sub.Ready():
			events, dropped := sub.Take()
			draws := sub.TakeDraws()
			s.alerts.Notify(r.Context(), sub, events)
			if dropped > 0 {
				fmt.Fprintf(&buf, "event: dropped\ndata: {\"dropped\":%d}\n\n", dropped)
			}
			for _, d := range draws {
				data, err := json.Marshal(drawEventJSON{RequestID: d.ID, ReleaseID: d.ReleaseID, SessionID: d.SessionID,
					Status: string(d.Status), AppointmentID: d.AppointmentID, Reason: d.Reason})
				if err != nil {
					return fmt.Errorf("encode draw event: %w", err)
				}
				seq++
				fmt.Fprintf(&buf, "event: draw\nid: %d\ndata: %s\n\n", seq, data)
			}
			for _, e := range events {
				a1, a2 := e.Session.Available()
				data, err := json.Marshal(slotEventJSON{
					CenterID: e.CentreID, Name: e.Name, Pincode: e.Pincode, SessionID: e.Session.ID,
					Date: e.Session.Date.Cowin(), Vaccine: e.Session.Vaccine, MinAge: e.Session.MinAge,
					Available1: a1, Available2: a2, Slots: slotsOrEmpty(e.Session.Slots),
				})
				if err != nil {
					return fmt.Errorf("encode slot event: %w", err)
				}
				seq++
				fmt.Fprintf(&buf, "event: slots\nid: %d\ndata: %s\n\n", seq, data)
			}
		}
		if buf.Len() > 0 {
			if err := send(); err != nil {
				return err
			}
		}
	}
}

// storedAlertRequest is the body of POST /api/v1/alerts/subscriptions:
// the stream's filter, as JSON. Absent numbers are 0 (not asked).
type storedAlertRequest struct {
	DistrictID int    `json:"district_id"`
	Pincode    int    `json:"pincode"`
	MinAge     int    `json:"min_age"`
	Dose       int    `json:"dose"`
	Vaccine    string `json:"vaccine"`
}

// storedAlertJSON is one stored subscription. LastTextedAt is "" until it
// was texted.
type storedAlertJSON struct {
	SubscriptionID string `json:"subscription_id"`
	DistrictID     int    `json:"district_id"`
	Pincode        int    `json:"pincode"`
	MinAge         int    `json:"min_age"`
	Dose           int    `json:"dose"`
	Vaccine        string `json:"vaccine"`
	CreatedAt      string `json:"created_at"`
	LastTextedAt   string `json:"last_texted_at"`
}

func storedAlertOut(a vax.AlertSubscription) storedAlertJSON {
	out := storedAlertJSON{SubscriptionID: a.ID, DistrictID: a.DistrictID, Pincode: a.Pincode, MinAge: a.MinAge,
		Dose: a.Dose, Vaccine: a.Vaccine, CreatedAt: a.CreatedAt.UTC().Format(time.RFC3339)}
	if !a.LastTextedAt.IsZero() {
		out.LastTextedAt = a.LastTextedAt.UTC().Format(time.RFC3339)
	}
	return out
}

// handleCreateStoredAlert stores a slot alert for the signed-in citizen:
// an SMS whenever its seats open (at most one per the hub's SMS interval),
// with no stream open. 201 with the subscription.
func (s *Server) handleCreateStoredAlert(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authn(r)
	if err != nil {
		return unauthorized(w, err)
	}
	var req storedAlertRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"district_id", req.DistrictID}, {"pincode", req.Pincode}, {"min_age", req.MinAge}, {"dose", req.Dose}} {
		if n.v < 0 {
			return vax.Errorf(vax.Invalid, "%s must be a non-negative whole number", n.name)
		}
	}
	a, err := s.alerts.CreateStored(r.Context(), p.AccountID, alerts.Filter{DistrictID: req.DistrictID,
		Pincode: req.Pincode, Age: req.MinAge, Dose: req.Dose, Vaccine: req.Vaccine})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	return api.WriteJSON(w, http.StatusCreated, storedAlertOut(a))
}

// handleListStoredAlerts lists the signed-in citizen's stored alerts,
// oldest first.
func (s *Server) handleListStoredAlerts(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authn(r)
	if err != nil {
		return unauthorized(w, err)
	}
	subs, err := s.alerts.StoredOf(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	out := struct {
		Subscriptions []storedAlertJSON `json:"subscriptions"`
	}{Subscriptions: []storedAlertJSON{}}
	for _, a := range subs {
		out.Subscriptions = append(out.Subscriptions, storedAlertOut(a))
	}
	w.Header().Set("Cache-Control", "private, no-store")
	return api.WriteJSON(w, http.StatusOK, out)
}

// handleDeleteStoredAlert deletes one of the signed-in citizen's stored
// alerts: 204, or 404 for one that does not exist or is another's.
func (s *Server) handleDeleteStoredAlert(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authn(r)
	if err != nil {
		return unauthorized(w, err)
	}
	if err := s.alerts.DeleteStored(r.Context(), p.AccountID, r.PathValue("subscription_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// slotsOrEmpty keeps "slots" an array in JSON.
func slotsOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
