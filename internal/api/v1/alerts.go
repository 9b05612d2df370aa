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
	"github.com/vaxport/vaxport/internal/vax"
)

// Alerts opens slot-alert subscriptions and texts those that opted in
// (alerts.Hub).
type Alerts interface {
	Subscribe(account string, f alerts.Filter, sms bool) (*alerts.Subscription, error)
	Notify(ctx context.Context, s *alerts.Subscription, events []*alerts.Event)
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
// server-sent events: "slots" events (one per released session), a
// "dropped" event when the client fell so far behind that older events
// were discarded, a comment every 15 s to keep proxies from closing the
// connection, and "expired" when the token expires (the client reconnects
// with a fresh one). With sms=1 the account is also texted, at most once
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
			s.alerts.Notify(r.Context(), sub, events)
			if dropped > 0 {
				fmt.Fprintf(&buf, "event: dropped\ndata: {\"dropped\":%d}\n\n", dropped)
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

// slotsOrEmpty keeps "slots" an array in JSON.
func slotsOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
