package booking_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestAddBeneficiary(t *testing.T) {
	e := newEnv(t, backendtest.SQLite, booking.Rules{})
	acct, other := e.account(t, 1), e.account(t, 2)
	b, err := e.svc.AddBeneficiary(t.Context(), acct, booking.NewBeneficiary{Name: "  Asha   Menon ", BirthYear: 1985,
		GenderID: 2, PhotoIDType: 8, PhotoIDNumber: "m12-34 567", Comorbidity: true})
	if err != nil {
		t.Fatal(err)
	}
	if vax.ValidBeneficiaryRef(b.Ref) != nil || b.Name != "Asha Menon" || b.PhotoIDLast4 != "4567" || !b.Comorbidity {
		t.Errorf("got %+v", b)
	}
	if strings.Contains(string(b.PhotoIDSealed), "M1234567") || strings.Contains(b.PhotoIDHash, "M1234567") {
		t.Error("photo ID stored in clear")
	}
	bad := map[string]func(*booking.NewBeneficiary){
		"empty name":     func(n *booking.NewBeneficiary) { n.Name = " " },
		"digits in name": func(n *booking.NewBeneficiary) { n.Name = "R2D2" },
		"future birth":   func(n *booking.NewBeneficiary) { n.BirthYear = 2022 },
		"ancient birth":  func(n *booking.NewBeneficiary) { n.BirthYear = 1890 },
		"gender":         func(n *booking.NewBeneficiary) { n.GenderID = 4 },
		"id type":        func(n *booking.NewBeneficiary) { n.PhotoIDType = 3 },
		"short id":       func(n *booking.NewBeneficiary) { n.PhotoIDType, n.PhotoIDNumber = 8, "M1" },
		"symbols in id":  func(n *booking.NewBeneficiary) { n.PhotoIDType, n.PhotoIDNumber = 8, "M1234#67" },
		"aadhaar checksum": func(n *booking.NewBeneficiary) {
			n.PhotoIDNumber = n.PhotoIDNumber[:11] + string('0'+(n.PhotoIDNumber[11]-'0'+1)%10)
		},
	}
	for name, f := range bad {
		nb := person(50)
		f(&nb)
		_, err := e.svc.AddBeneficiary(t.Context(), acct, nb)
		wantReason(t, name, err, vax.Invalid, booking.ReasonBadBeneficiary)
	}
	e.beneficiary(t, acct, 1)
	_, err = e.svc.AddBeneficiary(t.Context(), other, person(1))
	wantReason(t, "same photo ID on another account", err, vax.Conflict, booking.ReasonPhotoIDTaken)
	same := person(1)
	same.PhotoIDType = 12 // the same number as another document type is another document
	if _, err := e.svc.AddBeneficiary(t.Context(), other, same); err != nil {
		t.Errorf("same number, other type: %v", err)
	}
	e.beneficiary(t, acct, 2)
	e.beneficiary(t, acct, 3)
	_, err = e.svc.AddBeneficiary(t.Context(), acct, person(4))
	wantReason(t, "fifth beneficiary", err, vax.Conflict, booking.ReasonTooMany)

	e6 := newEnv(t, backendtest.SQLite, booking.Rules{MaxBeneficiaries: 6})
	a6 := e6.account(t, 1)
	for n := range 6 {
		e6.beneficiary(t, a6, n)
	}
}

func TestScheduleAndAppointment(t *testing.T) {
	for _, be := range stores {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.Open, booking.Rules{})
			se := e.session(t, 1, 10, 10)
			acct := e.account(t, 1)
			r1, r2 := e.beneficiary(t, acct, 1), e.beneficiary(t, acct, 2)
			a, err := e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: se.ID, Slot: se.Slots[1], Refs: []string{r1, r2}})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.readSession(t, se.ID); got.Booked1 != 2 || got.Booked2 != 0 {
				t.Errorf("booked %d/%d, want 2/0", got.Booked1, got.Booked2)
			}
			v, err := e.svc.Appointment(t.Context(), acct, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if v.Centre.Name != "General Hospital" || v.StateName != "Kerala" || v.DistrictName != "Ernakulam" || len(v.People) != 2 {
				t.Errorf("view: got %+v", v)
			}
			ms := e.messages(t)
			if len(ms) != 1 || ms[0].Kind != booking.MessageBooked || ms[0].To != "9876500001" {
				t.Fatalf("messages: got %v", ms)
			}
			for _, p := range v.People {
				if len(p.SecretCode) != 4 || !strings.Contains(ms[0].Text, "code "+p.SecretCode) {
					t.Errorf("secret code %q of %s not in SMS %q", p.SecretCode, p.Ref, ms[0].Text)
				}
				if strings.Contains(ms[0].Text, p.Name) {
					t.Errorf("SMS %q names %s", ms[0].Text, p.Name)
				}
			}
			stranger := e.account(t, 2)
			_, err = e.svc.Appointment(t.Context(), stranger, a.ID)
			wantReason(t, "another account's appointment", err, vax.NotFound, booking.ReasonNoAppointment)
			bs, err := e.svc.Beneficiaries(t.Context(), acct)
			if err != nil {
				t.Fatal(err)
			}
			if len(bs) != 2 || len(bs[0].Appointments) != 1 || bs[0].Appointments[0].ID != a.ID ||
				bs[0].VaccinationStatus != booking.StatusNotVaccinated || bs[0].MobileLast4 != "0001" {
				t.Errorf("beneficiaries: got %+v", bs)
			}
		})
	}
}

func TestScheduleRefusals(t *testing.T) {
	e := newEnv(t, backendtest.SQLite, booking.Rules{})
	se := e.session(t, 1, 10, 10)
	one := e.session(t, 2, 1, 1)
	old := e.session(t, 3, 10, 10) // for ages 18-44 only
	acct, other := e.account(t, 1), e.account(t, 2)
	var refs []string
	for n := range 4 {
		refs = append(refs, e.beneficiary(t, acct, n))
	}
	senior, err := e.svc.AddBeneficiary(t.Context(), acct, booking.NewBeneficiary{Name: "Old Person", BirthYear: 1950, GenderID: 1, PhotoIDType: 8, PhotoIDNumber: "P0000001"})
	wantReason(t, "fifth beneficiary", err, vax.Conflict, booking.ReasonTooMany)
	_ = senior
	strangers := e.beneficiary(t, other, 9)
	badDigit := refs[0][:13] + string('0'+(refs[0][13]-'0'+1)%10)
	cases := []struct {
		name   string
		req    booking.ScheduleRequest
		code   vax.Code
		reason string
	}{
		{"unknown session", booking.ScheduleRequest{1, sessID(99), "09:00AM-11:00AM", refs[:1]}, vax.NotFound, booking.ReasonNoSession},
		{"malformed session id", booking.ScheduleRequest{1, "nope", "09:00AM-11:00AM", refs[:1]}, vax.NotFound, booking.ReasonNoSession},
		{"slot not in session", booking.ScheduleRequest{1, se.ID, "03:00PM-05:00PM", refs[:1]}, vax.Invalid, booking.ReasonSlot},
		{"five beneficiaries", booking.ScheduleRequest{1, se.ID, "09:00AM-11:00AM", append(refs[:4:4], strangers)}, vax.Invalid, booking.ReasonCount},
		{"no beneficiaries", booking.ScheduleRequest{1, se.ID, "09:00AM-11:00AM", nil}, vax.Invalid, booking.ReasonCount},
		{"same beneficiary twice", booking.ScheduleRequest{1, se.ID, "09:00AM-11:00AM", []string{refs[0], refs[0]}}, vax.Invalid, booking.ReasonCount},
		{"another account's beneficiary", booking.ScheduleRequest{1, se.ID, "09:00AM-11:00AM", []string{refs[0], strangers}}, vax.Invalid, booking.ReasonNotRegistered},
		{"unknown beneficiary", booking.ScheduleRequest{1, se.ID, "09:00AM-11:00AM", []string{"12345678901236"[:13] + string(vax.VerhoeffDigit("1234567890123"))}}, vax.Invalid, booking.ReasonNotRegistered},
		{"wrong check digit", booking.ScheduleRequest{1, se.ID, "09:00AM-11:00AM", []string{badDigit}}, vax.Invalid, booking.ReasonBadRef},
		{"dose beyond series", booking.ScheduleRequest{3, se.ID, "09:00AM-11:00AM", refs[:1]}, vax.Invalid, booking.ReasonSeries},
		{"dose 2 before dose 1", booking.ScheduleRequest{2, se.ID, "09:00AM-11:00AM", refs[:1]}, vax.Invalid, booking.ReasonDoseOrder},
		{"family larger than the seats left", booking.ScheduleRequest{1, one.ID, "09:00AM-11:00AM", refs[:2]}, vax.Full, booking.ReasonFull},
	}
	for _, c := range cases {
		_, err := e.svc.Schedule(t.Context(), acct, c.req)
		wantReason(t, c.name, err, c.code, c.reason)
	}
	for _, id := range []string{se.ID, one.ID, old.ID} {
		if got := e.readSession(t, id); got.Booked1 != 0 || got.Booked2 != 0 {
			t.Errorf("session %s after refusals: booked %d/%d, want 0/0", id, got.Booked1, got.Booked2)
		}
	}
	if ms := e.messages(t); len(ms) != 0 {
		t.Errorf("refusals sent %d SMS", len(ms))
	}
	if _, err := e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{1, one.ID, "09:00AM-11:00AM", refs[:1]}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{1, one.ID, "09:00AM-11:00AM", refs[1:2]})
	wantReason(t, "full", err, vax.Full, booking.ReasonFull)
	_, err = e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{1, se.ID, "09:00AM-11:00AM", refs[:1]})
	wantReason(t, "second live dose-1 appointment", err, vax.Conflict, booking.ReasonLiveAppointment)
}

func TestRescheduleCancelDelete(t *testing.T) {
	e := newEnv(t, backendtest.SQLite, booking.Rules{})
	s1, s2, full := e.session(t, 1, 10, 10), e.session(t, 2, 10, 10), e.session(t, 3, 1, 1)
	acct, other := e.account(t, 1), e.account(t, 2)
	r1, r2 := e.beneficiary(t, acct, 1), e.beneficiary(t, acct, 2)
	o1 := e.beneficiary(t, other, 3)
	a, err := e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{1, s1.ID, s1.Slots[0], []string{r1, r2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Schedule(t.Context(), other, booking.ScheduleRequest{1, full.ID, full.Slots[0], []string{o1}}); err != nil {
		t.Fatal(err)
	}
	wantReason(t, "reschedule into a full session", e.svc.Reschedule(t.Context(), acct, a.ID, full.ID, full.Slots[0]), vax.Full, booking.ReasonFull)
	wantReason(t, "reschedule to a bad slot", e.svc.Reschedule(t.Context(), acct, a.ID, s2.ID, "01:00PM-02:00PM"), vax.Invalid, booking.ReasonSlot)
	wantReason(t, "reschedule another's", e.svc.Reschedule(t.Context(), other, a.ID, s2.ID, s2.Slots[0]), vax.NotFound, booking.ReasonNoAppointment)
	if err := e.svc.Reschedule(t.Context(), acct, a.ID, s2.ID, s2.Slots[1]); err != nil {
		t.Fatal(err)
	}
	if b1, b2 := e.readSession(t, s1.ID).Booked1, e.readSession(t, s2.ID).Booked1; b1 != 0 || b2 != 2 {
		t.Errorf("after reschedule: booked %d, %d; want 0, 2", b1, b2)
	}
	wantReason(t, "delete with a live appointment", e.svc.DeleteBeneficiary(t.Context(), acct, r1), vax.Conflict, booking.ReasonUndeletable)
	wantReason(t, "delete another's", e.svc.DeleteBeneficiary(t.Context(), other, r1), vax.Invalid, booking.ReasonNotRegistered)
	wantReason(t, "cancel another's", e.svc.Cancel(t.Context(), other, a.ID, nil), vax.NotFound, booking.ReasonNoAppointment)
	wantReason(t, "cancel a ref not in it", e.svc.Cancel(t.Context(), acct, a.ID, []string{o1}), vax.Invalid, booking.ReasonNotRegistered)
	if err := e.svc.Cancel(t.Context(), acct, a.ID, []string{r1}); err != nil {
		t.Fatal(err)
	}
	if b := e.readSession(t, s2.ID).Booked1; b != 1 {
		t.Errorf("after cancelling one: booked %d, want 1", b)
	}
	if err := e.svc.DeleteBeneficiary(t.Context(), acct, r1); err != nil {
		t.Errorf("delete after cancel: %v", err)
	}
	if err := e.svc.Cancel(t.Context(), acct, a.ID, nil); err != nil {
		t.Fatal(err)
	}
	wantReason(t, "cancel again", e.svc.Cancel(t.Context(), acct, a.ID, nil), vax.Conflict, booking.ReasonCancelled)
	wantReason(t, "reschedule cancelled", e.svc.Reschedule(t.Context(), acct, a.ID, s1.ID, s1.Slots[0]), vax.Conflict, booking.ReasonCancelled)
	var kinds []vax.MessageKind
	for _, m := range e.messages(t) {
		kinds = append(kinds, m.Kind)
	}
	want := map[vax.MessageKind]int{booking.MessageBooked: 2, booking.MessageRescheduled: 1, booking.MessageCancelled: 2}
	got := map[vax.MessageKind]int{}
	for _, k := range kinds {
		got[k]++
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SMS kinds (-want +got):\n%s", d)
	}
}

func TestCancelSessionAppointments(t *testing.T) {
	e := newEnv(t, backendtest.SQLite, booking.Rules{})
	se := e.session(t, 1, 10, 10)
	var ids []string
	for n := 1; n <= 3; n++ {
		acct := e.account(t, n)
		a, err := e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{1, se.ID, se.Slots[0], []string{e.beneficiary(t, acct, n)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return e.svc.CancelSessionAppointments(ctx, tx, se.ID) })
	if b := e.readSession(t, se.ID).Booked1; b != 0 {
		t.Errorf("booked %d after the session's cancellation, want 0", b)
	}
	for n, id := range ids {
		v, err := e.svc.Appointment(t.Context(), acctID(n+1), id)
		if err != nil || v.Status != vax.AppointmentCancelled {
			t.Errorf("appointment %s: %v, %v", id, v.Status, err)
		}
	}
	var to []string
	for _, m := range e.messages(t) {
		if m.Kind == booking.MessageCancelled {
			to = append(to, m.To)
		}
	}
	slices.Sort(to)
	if d := cmp.Diff([]string{"9876500001", "9876500002", "9876500003"}, to); d != "" {
		t.Errorf("cancellation SMS (-want +got):\n%s", d)
	}
}

// TestRace: many accounts race through the service for few seats, with
// one drainer per session and with several (small batches, so full ones
// wait and more drainers start).
func TestRace(t *testing.T) {
	for _, be := range stores {
		for _, drainers := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/drainers=%d", be.Name, drainers), func(t *testing.T) {
				testRace(t, be.Open, drainers)
			})
		}
	}
}

func testRace(t *testing.T, open opener, drainers int) {
	const accounts, seats, workers = 300, 100, 32
	e := newEnv(t, open, booking.Rules{})
	if drainers > 1 {
		var err error
		e.svc, err = booking.New(booking.Config{Store: e.store, Keys: e.keys, Clock: e.clock, Rules: booking.Rules{Location: ist},
			Mobile: func(vax.Account) (string, error) { return "9876500000", nil }, MaxBatch: 4, Drainers: drainers})
		if err != nil {
			t.Fatal(err)
		}
	}
	se := e.session(t, 1, seats, 0)
	refs := make([]string, accounts+1)
	for n := 1; n <= accounts; n++ {
		refs[n] = e.beneficiary(t, e.account(t, n), n)
	}
	next := make(chan int)
	var mu sync.Mutex
	ok := 0
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for n := range next {
				_, err := e.svc.Schedule(t.Context(), acctID(n), booking.ScheduleRequest{1, se.ID, se.Slots[0], []string{refs[n]}})
				mu.Lock()
				if err == nil {
					ok++
				} else if vax.ErrorReason(err) != booking.ReasonFull {
					errs = append(errs, fmt.Errorf("account %d: %w", n, err))
				}
				mu.Unlock()
			}
		})
	}
	for n := 1; n <= accounts; n++ {
		next <- n
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d unexpected errors, first %v", len(errs), errs[0])
	}
	if b := e.readSession(t, se.ID).Booked1; ok != seats || b != seats {
		t.Errorf("booked %d (session says %d), want %d", ok, b, seats)
	}
	if ms := e.messages(t); len(ms) != seats {
		t.Errorf("%d SMS, want %d", len(ms), seats)
	}
	var live int
	if err := e.store.View(t.Context(), func(tx vax.Tx) error {
		as, err := tx.SessionAppointments(t.Context(), se.ID)
		for _, a := range as {
			live += len(a.Live())
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if live != seats {
		t.Errorf("%d live places, want %d (the booked count)", live, seats)
	}
}
