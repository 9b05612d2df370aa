package alerts_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/alerts"
	"github.com/vaxport/vaxport/internal/vax"
)

// drawn is an entry as the draw leaves it, with the account and
// beneficiaries the hub must not pass on.
func drawn(account, id string, status vax.EntryStatus) vax.ReleaseEntry {
	e := vax.ReleaseEntry{ID: id, ReleaseID: "r1", AccountID: account, SessionID: "s1", Dose: 1,
		Slot: "09:00AM-11:00AM", Refs: []string{"12345678901234"}, Rank: 3, Status: status}
	switch status {
	case vax.EntryWon:
		e.AppointmentID = "a-" + id
	case vax.EntryLost:
		e.Reason = "APPOIN0040"
	}
	return e
}

// outcome is what a subscriber may see of drawn(…).
func outcome(e vax.ReleaseEntry) vax.ReleaseEntry {
	return vax.ReleaseEntry{ID: e.ID, ReleaseID: e.ReleaseID, SessionID: e.SessionID, Dose: e.Dose,
		Rank: e.Rank, Status: e.Status, AppointmentID: e.AppointmentID, Reason: e.Reason}
}

func TestSendDrawReachesOnlyTheAccount(t *testing.T) {
	hub := alerts.NewHub(alerts.Config{})
	sub := func(account string, f alerts.Filter) *alerts.Subscription {
		s, err := hub.Subscribe(account, f, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	byDistrict := sub("a", alerts.Filter{DistrictID: ernakulam})
	byPin := sub("a", alerts.Filter{Pincode: pinB, Dose: 2, Vaccine: "COVAXIN"}) // filters do not matter
	closed := sub("a", alerts.Filter{DistrictID: alappuzha})
	closed.Close()
	other := sub("b", alerts.Filter{DistrictID: ernakulam})

	won := drawn("a", "e1", vax.EntryWon)
	hub.SendDraw(won)
	hub.SendDraw(drawn("nobody-streams", "e2", vax.EntryLost))

	for name, s := range map[string]*alerts.Subscription{"district": byDistrict, "pin": byPin} {
		select {
		case <-s.Ready():
		default:
			t.Fatalf("%s subscription not ready after SendDraw", name)
		}
		if diff := cmp.Diff([]vax.ReleaseEntry{outcome(won)}, s.TakeDraws()); diff != "" {
			t.Errorf("%s subscription's outcomes (-want +got):\n%s", name, diff)
		}
		if evs, dropped := s.Take(); len(evs) != 0 || dropped != 0 {
			t.Errorf("%s subscription: got %d slot events, %d dropped; want none", name, len(evs), dropped)
		}
	}
	if got := closed.TakeDraws(); len(got) != 0 {
		t.Errorf("closed subscription got %v, want nothing", got)
	}
	select {
	case <-other.Ready():
		t.Errorf("another account's subscription is ready: %v", other.TakeDraws())
	default:
	}
}

func TestSendDrawBuffersAreBounded(t *testing.T) {
	hub := alerts.NewHub(alerts.Config{Buffer: 2})
	s, err := hub.Subscribe("a", alerts.Filter{DistrictID: ernakulam}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	var sent []vax.ReleaseEntry
	for i := range 5 {
		e := drawn("a", fmt.Sprintf("e%d", i), vax.EntryLost)
		sent = append(sent, outcome(e))
		hub.SendDraw(e)
	}
	if diff := cmp.Diff(sent[3:], s.TakeDraws()); diff != "" {
		t.Errorf("outcomes kept (-want +got):\n%s", diff)
	}
	if _, dropped := s.Take(); dropped != 3 {
		t.Errorf("got %d dropped, want 3", dropped)
	}
}

// TestStreamDeliversDraw: the outcome reaches the account's open stream as
// a "draw" event in the documented shape, and is never texted as a slot
// alert.
func TestStreamDeliversDraw(t *testing.T) {
	sms := &texts{}
	s := newStack(t, alerts.Config{Texter: sms})
	st := open(t, s.srv.URL, "entrant", fmt.Sprintf("district_id=%d&sms=1", ernakulam))

	s.hub.SendDraw(drawn("entrant", "e1", vax.EntryWon))
	s.hub.SendDraw(drawn("entrant", "e2", vax.EntryLost))

	type drawJSON struct {
		RequestID     string `json:"request_id"`
		ReleaseID     string `json:"release_id"`
		SessionID     string `json:"session_id"`
		Status        string `json:"status"`
		AppointmentID string `json:"appointment_id"`
		Reason        string `json:"reason"`
	}
	want := []drawJSON{
		{RequestID: "e1", ReleaseID: "r1", SessionID: "s1", Status: "won", AppointmentID: "a-e1", Reason: ""},
		{RequestID: "e2", ReleaseID: "r1", SessionID: "s1", Status: "lost", AppointmentID: "", Reason: "APPOIN0040"},
	}
	var got []drawJSON
	for range want {
		e := st.next(t)
		if e.Event != "draw" {
			t.Fatalf("got event %q (%s), want draw", e.Event, e.Data)
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(e.Data)))
		dec.DisallowUnknownFields()
		var d drawJSON
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("decode draw data %s: %v", e.Data, err)
		}
		// Every field is always present, empty or not.
		var keys map[string]any
		if err := json.Unmarshal([]byte(e.Data), &keys); err != nil || len(keys) != 6 {
			t.Errorf("draw data %s: want exactly the 6 fields", e.Data)
		}
		got = append(got, d)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("draw events (-want +got):\n%s", diff)
	}
	if n := len(sms.accounts()); n != 0 {
		t.Errorf("texted %d times for draw outcomes, want 0", n)
	}
}
