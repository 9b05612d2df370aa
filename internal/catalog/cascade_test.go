package catalog_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// TestCancelSessionCascade: cancelling a session cancels its appointments,
// frees their seats and texts their accounts, in one transaction.
func TestCancelSessionCascade(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, start)
	if err != nil {
		t.Fatal(err)
	}
	aad := func(id string) []byte { return []byte("test|" + strings.ToLower(id)) }
	bk, err := booking.New(booking.Config{Store: f.st, Keys: keys, Clock: f.clock, Rules: booking.Rules{Location: ist},
		Mobile: func(a vax.Account) (string, error) {
			b, err := keys.OpenSealed(a.MobileSealed, aad(a.ID))
			return string(b), err
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SetSessionCanceller(bk)
	c, err := f.svc.CreateCentre(ctx, freeCentre())
	if err != nil {
		t.Fatal(err)
	}
	se, err := f.svc.CreateSession(ctx, session(c.ID, today().AddDays(1), "COVISHIELD"))
	if err != nil {
		t.Fatal(err)
	}
	const acct = "10000000-0000-4000-8000-000000000001"
	sealed, _ := keys.Seal([]byte("9876543210"), aad(acct))
	if err := f.st.InTx(ctx, func(tx vax.Tx) error {
		return tx.CreateAccount(ctx, vax.Account{ID: acct, MobileHash: "h", MobileSealed: sealed, MobileLast4: "3210", CreatedAt: start})
	}); err != nil {
		t.Fatal(err)
	}
	body := "23456789012"
	ben, err := bk.AddBeneficiary(ctx, acct, booking.NewBeneficiary{Name: "Asha", BirthYear: 1990, GenderID: 2, PhotoIDType: 1,
		PhotoIDNumber: body + string(vax.VerhoeffDigit(body))})
	if err != nil {
		t.Fatal(err)
	}
	a, err := bk.Schedule(ctx, acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[0], Refs: []string{ben.Ref}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.CancelSession(ctx, se.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != vax.SessionCancelled || got.Booked1 != 0 {
		t.Errorf("session: status %s, booked1 %d; want cancelled, 0", got.Status, got.Booked1)
	}
	v, err := bk.Appointment(ctx, acct, a.ID)
	if err != nil || v.Status != vax.AppointmentCancelled {
		t.Errorf("appointment: %v, %v; want cancelled", v.Status, err)
	}
	var texts []string
	err = f.st.InTx(ctx, func(tx vax.Tx) error {
		ms, err := tx.ClaimMessages(ctx, vax.MessageClaim{By: "t", Now: start.Add(1e12), Until: start.Add(2e12), Limit: 10})
		for _, m := range ms {
			om, err := outbox.Open(keys, m)
			if err != nil {
				return err
			}
			if om.Kind == booking.MessageCancelled && om.To == "9876543210" {
				texts = append(texts, om.Text)
			}
		}
		return err
	})
	if err != nil || len(texts) != 1 || !strings.Contains(texts[0], a.ID) {
		t.Errorf("cancellation SMS: got %q, %v; want one naming the appointment", texts, err)
	}
}
