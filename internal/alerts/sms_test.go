package alerts_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/alerts"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// texts records what a Hub asked to text.
type texts struct {
	mu   sync.Mutex
	sent []string // "account: text"
}

func (x *texts) Text(_ context.Context, account, text string, _ time.Time) (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.sent = append(x.sent, account+": "+text)
	return "", nil
}

func (x *texts) TextIn(ctx context.Context, _ vax.Tx, account, text string, expires time.Time) (string, error) {
	return x.Text(ctx, account, text, expires)
}

func (x *texts) accounts() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	for _, s := range x.sent {
		a, _, _ := strings.Cut(s, ": ")
		out = append(out, a)
	}
	return out
}

func TestNotifyThrottles(t *testing.T) {
	clock := vax.NewManualClock(start)
	tx := &texts{}
	hub := alerts.NewHub(alerts.Config{Texter: tx, SMSEvery: 30 * time.Minute, Clock: clock})
	sub := func(account string, f alerts.Filter, sms bool) *alerts.Subscription {
		s, err := hub.Subscribe(account, f, sms)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ev := []*alerts.Event{{CentreID: 1, Name: "General Hospital", Pincode: pinA,
		Session: vax.Session{Date: vax.DateOf(start, ist), Vaccine: "COVISHIELD", MinAge: 18, Capacity1: 10, Booked1: 7}}}
	a := sub("a", alerts.Filter{DistrictID: ernakulam}, true)
	hub.Notify(t.Context(), a, ev)
	hub.Notify(t.Context(), a, ev) // within 30 minutes: no
	a.Close()
	again := sub("a", alerts.Filter{DistrictID: ernakulam}, true) // a reconnect is throttled too
	hub.Notify(t.Context(), again, ev)
	other := sub("a", alerts.Filter{Pincode: pinA}, true) // another filter is not
	hub.Notify(t.Context(), other, ev)
	quiet := sub("b", alerts.Filter{DistrictID: ernakulam}, false)
	hub.Notify(t.Context(), quiet, ev)
	clock.Advance(30 * time.Minute)
	hub.Notify(t.Context(), again, ev)
	if diff := cmp.Diff([]string{"a", "a", "a"}, tx.accounts()); diff != "" {
		t.Errorf("texted accounts (-want +got):\n%s", diff)
	}
	if want := "vaxport: seats open at General Hospital, PIN 682001 on 14-06-2021: COVISHIELD 18+, dose 1: 3, dose 2: 0."; tx.sent[0] != "a: "+want {
		t.Errorf("got text %q, want %q", tx.sent[0], "a: "+want)
	}

	off := alerts.NewHub(alerts.Config{})
	if _, err := off.Subscribe("a", alerts.Filter{DistrictID: ernakulam}, true); vax.ErrorCode(err) != vax.Invalid {
		t.Errorf("SMS without a Texter: got %v, want Invalid", err)
	}
}

// mobiles opens every account to one number, checking which account.
type mobiles struct{ account string }

func (m mobiles) AccountMobile(a vax.Account) (string, error) {
	if a.ID != m.account {
		return "", vax.Errorf(vax.Internal, "unexpected account %s", a.ID)
	}
	return "9876543210", nil
}

func TestOutboxTexter(t *testing.T) {
	clock := vax.NewManualClock(start)
	st := backendtest.OpenSQLite(t, clock)
	kr, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, start)
	if err != nil {
		t.Fatal(err)
	}
	const account = "70000000-0000-4000-8000-000000000001"
	ctx := t.Context()
	if err := st.InTx(ctx, func(tx vax.Tx) error {
		return tx.CreateAccount(ctx, vax.Account{ID: account, MobileHash: "k1:abc", MobileSealed: []byte("sealed"),
			MobileLast4: "3210", CreatedAt: start})
	}); err != nil {
		t.Fatalf("create account: %v", err)
	}
	texter := alerts.NewOutboxTexter(st, mobiles{account}, kr, clock, rand.Reader)
	id, err := texter.Text(ctx, account, "seats open", start.Add(30*time.Minute))
	if err != nil {
		t.Fatalf("Text: %v", err)
	}
	var stored []vax.OutboxMessage
	if err := st.View(ctx, func(tx vax.Tx) (err error) {
		stored, err = tx.Messages(ctx, []string{id})
		return err
	}); err != nil || len(stored) != 1 {
		t.Fatalf("Messages: got %d, %v; want 1 message", len(stored), err)
	}
	m, err := outbox.Open(kr, stored[0])
	if err != nil {
		t.Fatalf("open message: %v", err)
	}
	if m.To != "9876543210" || m.Text != "seats open" || m.Kind != alerts.MessageSlotAlert || stored[0].Status != vax.MessagePending {
		t.Errorf("got message to %s %q kind %s status %s; want to 9876543210 \"seats open\" kind slot_alert pending",
			m.To, m.Text, m.Kind, stored[0].Status)
	}
	if _, err := texter.Text(ctx, "70000000-0000-4000-8000-000000000002", "x", start); vax.ErrorCode(err) != vax.NotFound {
		t.Errorf("unknown account: got %v, want NotFound", err)
	}
}
