package vaccination_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/sms/outbox/outboxtest"
	"github.com/vaxport/vaxport/internal/vaccination"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestAuthorization(t *testing.T) { eachStore(t, testAuthorization) }

func testAuthorization(t *testing.T, open opener) {
	e := newEnv(t, open)
	ref := e.beneficiary(t, 1)
	_, code := e.book(t, ref, e.session(t, 1, e.a))
	atA := e.dose(ref, 1)
	atA.CentreID = e.a
	tests := []struct {
		name   string
		by     vax.Staff
		op     func(by vax.Staff) error
		code   vax.Code
		reason string
	}{
		{"verify at A by B's vaccinator", e.vaccB, func(by vax.Staff) error {
			_, err := e.svc.Verify(t.Context(), by, ref, code)
			return err
		}, vax.NotFound, vaccination.ReasonNoAppointment},
		{"record at A by B's vaccinator", e.vaccB, func(by vax.Staff) error {
			_, _, err := e.svc.RecordDose(t.Context(), by, atA)
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"upload at A by B's vaccinator", e.vaccB, func(by vax.Staff) error {
			rows := []vaccination.UploadRow{{Row: 1, DoseRequest: withTime(atA, t0)}}
			res := e.svc.Upload(t.Context(), by, rows)
			return rowErr(res[0])
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"queue at A by B's vaccinator", e.vaccB, func(by vax.Staff) error {
			_, _, _, err := e.svc.Queue(t.Context(), by, e.a, vax.Date{})
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"walk-in at A by B's vaccinator", e.vaccB, func(by vax.Staff) error {
			_, err := e.svc.RegisterWalkIn(t.Context(), by, vaccination.WalkIn{CentreID: e.a, NewBeneficiary: person(50)})
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"lots of A by B's vaccinator", e.vaccB, func(by vax.Staff) error {
			_, err := e.svc.Lots(t.Context(), by, e.a, true)
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"lot created by a vaccinator", e.vaccA, func(by vax.Staff) error {
			_, err := e.svc.CreateLot(t.Context(), by, newLot(e.a, "A-NEW"))
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"lot created at A by B's district admin", e.districtB, func(by vax.Staff) error {
			_, err := e.svc.CreateLot(t.Context(), by, newLot(e.a, "A-NEW"))
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"record by a suspended vaccinator", e.suspended, func(by vax.Staff) error {
			_, _, err := e.svc.RecordDose(t.Context(), by, atA)
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"verify by a suspended vaccinator", e.suspended, func(by vax.Staff) error {
			_, err := e.svc.Verify(t.Context(), by, ref, code)
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"record by a district admin", e.districtA, func(by vax.Staff) error {
			_, _, err := e.svc.RecordDose(t.Context(), by, atA)
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"record without center_id by a two-centre vaccinator", e.vaccAB, func(by vax.Staff) error {
			_, _, err := e.svc.RecordDose(t.Context(), by, e.dose(ref, 1))
			return err
		}, vax.Invalid, vaccination.ReasonCentreRequired},
		{"record at an unknown centre", e.vaccA, func(by vax.Staff) error {
			r := atA
			r.CentreID = 999
			_, _, err := e.svc.RecordDose(t.Context(), by, r)
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
		{"adverse events of A's district by B's district admin", e.districtB, func(by vax.Staff) error {
			_, err := e.svc.AdverseEvents(t.Context(), by, vax.AdverseEventQuery{DistrictID: 307})
			return err // the filter is forced to 308: no error, checked in TestAdverseEvents
		}, "", ""},
		{"adverse events listed by a vaccinator", e.vaccA, func(by vax.Staff) error {
			_, err := e.svc.AdverseEvents(t.Context(), by, vax.AdverseEventQuery{})
			return err
		}, vax.Forbidden, vaccination.ReasonForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op(tt.by)
			if tt.code == "" {
				if err != nil {
					t.Errorf("got %v, want no error", err)
				}
				return
			}
			wantReason(t, tt.name, err, tt.code, tt.reason)
		})
	}
	if ds := e.doses(t, ref); len(ds) != 0 {
		t.Errorf("doses after refused requests: got %d, want 0", len(ds))
	}
	if l := e.lot(t, e.a, "A-CS-1"); l.Used != 0 {
		t.Errorf("lot used after refused requests: got %d, want 0", l.Used)
	}
	// The vaccinator of A, and the two-centre vaccinator naming A, may.
	if _, err := e.svc.Verify(t.Context(), e.vaccA, ref, code); err != nil {
		t.Errorf("verify by A's vaccinator: %v", err)
	}
	if _, _, err := e.svc.RecordDose(t.Context(), e.vaccAB, atA); err != nil {
		t.Errorf("record at A by the two-centre vaccinator: %v", err)
	}
}

func withTime(r vaccination.DoseRequest, at time.Time) vaccination.DoseRequest {
	r.AdministeredAt = at
	return r
}

func rowErr(r vaccination.RowResult) error {
	if r.Status != vaccination.RowError {
		return nil
	}
	code := vax.Invalid
	switch {
	case strings.Contains(r.Error, "scope"), strings.Contains(r.Error, "suspended"), strings.Contains(r.Error, "cannot do"):
		code = vax.Forbidden
	}
	return &vax.Error{Code: code, Reason: r.Reason, Message: r.Error}
}

func newLot(c int64, number string) vax.Lot {
	return vax.Lot{CentreID: c, Number: number, Vaccine: "COVISHIELD", Manufacturer: "Serum Institute of India",
		Expiry: today.AddDays(90), Received: 500}
}

func TestVerify(t *testing.T) { eachStore(t, testVerify) }

func testVerify(t *testing.T, open opener) {
	e := newEnv(t, open)
	ref := e.beneficiary(t, 1)
	appt, code := e.book(t, ref, e.session(t, 1, e.a))

	v, err := e.svc.Verify(t.Context(), e.vaccA, ref, code)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	want := vaccination.Verified{AppointmentID: appt, SessionID: "00000000-0000-4000-8000-000000000001", CentreID: e.a,
		Dose: 1, Slot: "09:00AM-11:00AM", Vaccine: "COVISHIELD",
		Masked: vaccination.Masked{Ref: ref, Name: "Person B", BirthYear: 1990, GenderID: 1, PhotoIDType: 1,
			PhotoIDLast4: aadhaar(1)[8:]}}
	if v != want {
		t.Errorf("verified: got %+v, want %+v", v, want)
	}

	// Tomorrow there is no appointment today.
	e.clock.Advance(24 * time.Hour)
	_, err = e.svc.Verify(t.Context(), e.vaccA, ref, code)
	wantReason(t, "verify the day after", err, vax.NotFound, vaccination.ReasonNoAppointment)
	e.clock.Set(t0)

	wrong := "0000"
	if code == wrong {
		wrong = "1111"
	}
	for i := 1; i <= 5; i++ {
		_, err := e.svc.Verify(t.Context(), e.vaccA, ref, wrong)
		if i < 5 {
			wantReason(t, "wrong code", err, vax.Invalid, vaccination.ReasonWrongCode)
			if want := []string{"", "4 tries", "3 tries", "2 tries", "1 try"}[i]; !strings.Contains(vax.ErrorMessage(err), want+" left") {
				t.Errorf("wrong code %d: got %q, want it to say %q left", i, vax.ErrorMessage(err), want)
			}
		} else {
			wantReason(t, "5th wrong code", err, vax.Forbidden, vaccination.ReasonLocked)
		}
		if strings.Contains(err.Error(), code) && code != "" {
			// The right code must never appear, even by chance of the text.
			if strings.Contains(vax.ErrorMessage(err), code) {
				t.Errorf("error message holds the secret code: %q", vax.ErrorMessage(err))
			}
		}
	}
	var a vax.Appointment
	e.inTx(t, func(ctx context.Context, tx vax.Tx) (err error) { a, err = tx.Appointment(ctx, appt); return err })
	if a.CodeFailures != 5 {
		t.Errorf("code failures committed: got %d, want 5", a.CodeFailures)
	}
	_, err = e.svc.Verify(t.Context(), e.vaccA, ref, code)
	wantReason(t, "right code after 5 wrong", err, vax.Forbidden, vaccination.ReasonLocked)

	for _, bad := range []struct{ ref, code string }{{"12345", code}, {ref, "12a4"}, {ref, "12345"}} {
		_, err := e.svc.Verify(t.Context(), e.vaccA, bad.ref, bad.code)
		if vax.ErrorCode(err) != vax.Invalid {
			t.Errorf("verify(%q, %q): got %v, want Invalid", bad.ref, bad.code, err)
		}
	}
}

func TestRecordDoseRules(t *testing.T) { eachStore(t, testRecordDoseRules) }

func testRecordDoseRules(t *testing.T, open opener) {
	e := newEnv(t, open)
	first := e.beneficiary(t, 1) // dose 1 of COVISHIELD 20 days ago
	e.clock.Set(t0.AddDate(0, 0, -20))
	e.record(t, e.vaccA, e.dose(first, 1))
	e.clock.Set(t0)
	fresh := e.beneficiary(t, 2)

	tests := []struct {
		name   string
		r      vaccination.DoseRequest
		code   vax.Code
		reason string
	}{
		{"unknown beneficiary", e.dose("1234567890123"+string(vax.VerhoeffDigit("1234567890123")), 1), vax.NotFound, vaccination.ReasonNoBeneficiary},
		{"malformed reference id", e.dose("12345", 1), vax.Invalid, booking.ReasonBadRef},
		{"dose 2 first", e.dose(fresh, 2), vax.Invalid, vaccination.ReasonDoseOrder},
		{"dose 3 after dose 1", e.dose(first, 3), vax.Invalid, vaccination.ReasonDoseOrder},
		{"dose 0", e.dose(fresh, 0), vax.Invalid, vaccination.ReasonBadRequest},
		{"another vaccine", vaccination.DoseRequest{Ref: first, Vaccine: "COVAXIN", Lot: "A-CX-1", Dose: 2}, vax.Invalid, vaccination.ReasonVaccine},
		{"interval not reached", e.dose(first, 2), vax.Invalid, vaccination.ReasonInterval},
		{"unknown vaccine", vaccination.DoseRequest{Ref: fresh, Vaccine: "NOVAX", Lot: "A-CS-1", Dose: 1}, vax.Invalid, vaccination.ReasonUnknownVaccine},
		{"unknown lot", vaccination.DoseRequest{Ref: fresh, Vaccine: "COVISHIELD", Lot: "NOPE", Dose: 1}, vax.Invalid, vaccination.ReasonUnknownLot},
		{"lot of another centre", vaccination.DoseRequest{Ref: fresh, Vaccine: "COVISHIELD", Lot: "B-CS-1", Dose: 1}, vax.Invalid, vaccination.ReasonUnknownLot},
		{"lot of another vaccine", vaccination.DoseRequest{Ref: fresh, Vaccine: "COVISHIELD", Lot: "A-CX-1", Dose: 1}, vax.Invalid, vaccination.ReasonLotVaccine},
		{"expired lot", vaccination.DoseRequest{Ref: fresh, Vaccine: "COVISHIELD", Lot: "A-OLD", Dose: 1}, vax.Invalid, vaccination.ReasonLotExpired},
		{"empty lot", vaccination.DoseRequest{Ref: fresh, Vaccine: "COVISHIELD", Lot: "A-EMPTY", Dose: 1}, vax.Conflict, vaccination.ReasonLotEmpty},
		{"in the future", withTime(e.dose(fresh, 1), t0.Add(6*time.Minute)), vax.Invalid, vaccination.ReasonTime},
		{"31 days back", withTime(e.dose(fresh, 1), t0.AddDate(0, 0, -31)), vax.Invalid, vaccination.ReasonTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.svc.RecordDose(t.Context(), e.vaccA, tt.r)
			wantReason(t, tt.name, err, tt.code, tt.reason)
		})
	}
	if ds := e.doses(t, fresh); len(ds) != 0 {
		t.Errorf("doses of the refused beneficiary: got %d, want 0", len(ds))
	}
	if ds := e.doses(t, first); len(ds) != 1 {
		t.Errorf("doses of the first beneficiary: got %d, want 1", len(ds))
	}
	if l := e.lot(t, e.a, "A-CS-1"); l.Used != 1 {
		t.Errorf("lot A-CS-1 used: got %d, want 1", l.Used)
	}

	// Within limits: a tablet 4 minutes ahead, and a record 29 days back.
	e.record(t, e.vaccA, withTime(e.dose(fresh, 1), t0.Add(4*time.Minute)))
	third := e.beneficiary(t, 3)
	e.record(t, e.vaccA, withTime(e.dose(third, 1), t0.AddDate(0, 0, -29)))

	// Dose 2 once 84 days have passed (civil dates), then no dose 3:
	// COVISHIELD has 2 doses and no precaution dose is allowed here.
	e.clock.Set(t0.AddDate(0, 0, 64))
	d2 := e.record(t, e.vaccA, e.dose(first, 2))
	if d2.Dose != 2 {
		t.Errorf("dose: got %d, want 2", d2.Dose)
	}
	_, _, err := e.svc.RecordDose(t.Context(), e.vaccA, e.dose(first, 3))
	wantReason(t, "dose beyond the series", err, vax.Invalid, vaccination.ReasonSeries)
}

func TestRecordDoseIdempotent(t *testing.T) { eachStore(t, testRecordDoseIdempotent) }

func testRecordDoseIdempotent(t *testing.T, open opener) {
	e := newEnv(t, open)
	ref := e.beneficiary(t, 1)
	d := e.record(t, e.vaccA, e.dose(ref, 1))
	if d.ID == "" || d.VaccinatorID != e.vaccA.ID || d.CentreID != e.a || !d.AdministeredAt.Equal(t0) {
		t.Errorf("dose: got %+v", d)
	}
	again, created, err := e.svc.RecordDose(t.Context(), e.facilityA, e.dose(ref, 1))
	if err != nil || created || again.ID != d.ID {
		t.Errorf("retry: got %s created %v, %v; want %s not created", again.ID, created, err, d.ID)
	}
	if l := e.lot(t, e.a, "A-CS-1"); l.Used != 1 {
		t.Errorf("lot used after a retry: got %d, want 1", l.Used)
	}
	other := e.dose(ref, 1)
	other.Lot, other.Vaccine = "A-CX-1", "COVAXIN"
	_, _, err = e.svc.RecordDose(t.Context(), e.vaccA, other)
	wantReason(t, "dose 1 again from another lot", err, vax.Conflict, vaccination.ReasonDoseRecorded)
	if got := e.changes(t); len(got) != 1 || got[0] != d.ID {
		t.Errorf("ChangeDose changes: got %v, want [%s]", got, d.ID)
	}
}

func TestRecordDoseConcurrent(t *testing.T) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			e := newEnv(t, st.Open)
			ref := e.beneficiary(t, 1)
			const tablets = 8
			var (
				wg      sync.WaitGroup
				ids     [tablets]string
				created [tablets]bool
				errs    [tablets]error
			)
			for i := range tablets {
				wg.Go(func() {
					var d vax.Dose
					d, created[i], errs[i] = e.svc.RecordDose(t.Context(), e.vaccA, e.dose(ref, 1))
					ids[i] = d.ID
				})
			}
			wg.Wait()
			n := 0
			for i := range tablets {
				if errs[i] != nil {
					t.Errorf("tablet %d: %v", i, errs[i])
				}
				if ids[i] != ids[0] {
					t.Errorf("tablet %d: got dose %s, want %s", i, ids[i], ids[0])
				}
				if created[i] {
					n++
				}
			}
			if n != 1 {
				t.Errorf("created: got %d, want 1", n)
			}
			if ds := e.doses(t, ref); len(ds) != 1 {
				t.Errorf("records: got %d, want 1", len(ds))
			}
			if l := e.lot(t, e.a, "A-CS-1"); l.Used != 1 {
				t.Errorf("lot used: got %d, want 1", l.Used)
			}
			if ms := e.messages(t); len(ms) != 1 {
				t.Errorf("reminders: got %d, want 1", len(ms))
			}
			if cs := e.changes(t); len(cs) != 1 {
				t.Errorf("ChangeDose changes: got %d, want 1", len(cs))
			}
		})
	}
}

func TestReminder(t *testing.T) { eachStore(t, testReminder) }

func testReminder(t *testing.T, open opener) {
	e := newEnv(t, open)
	ref := e.beneficiary(t, 1)
	e.record(t, e.vaccA, withTime(e.dose(ref, 1), t0.Add(-30*time.Minute)))
	ms := e.messages(t)
	if len(ms) != 1 {
		t.Fatalf("messages after dose 1: got %d, want 1", len(ms))
	}
	m := ms[0]
	due := time.Date(2021, time.August, 24, 9, 0, 0, 0, ist) // 1 June + 84 days
	if m.Kind != vaccination.MessageDoseDue || m.To != "9876500001" || !m.Due.Equal(due) {
		t.Errorf("reminder: got kind %s to %s due %v, want %s to 9876500001 due %v", m.Kind, m.To, m.Due, vaccination.MessageDoseDue, due)
	}
	if !strings.Contains(m.Text, "24-08-2021") || strings.Contains(m.Text, ref) || strings.Contains(m.Text, "Person") {
		t.Errorf("reminder text: got %q, want the due date and neither the reference id nor the name", m.Text)
	}
	if e.notified != 1 {
		t.Errorf("notified: got %d, want 1", e.notified)
	}
	// The retry enqueues nothing more; dose 2 (the last of the series) none.
	e.svc.RecordDose(t.Context(), e.vaccA, withTime(e.dose(ref, 1), t0.Add(-30*time.Minute)))
	e.clock.Set(due)
	e.record(t, e.vaccA, e.dose(ref, 2))
	if ms := e.messages(t); len(ms) != 1 {
		t.Errorf("messages after the retry and dose 2: got %d, want 1", len(ms))
	}
	// A walk-in without a mobile has no account to text.
	e.clock.Set(t0)
	b, err := e.svc.RegisterWalkIn(t.Context(), e.vaccA, vaccination.WalkIn{NewBeneficiary: person(9)})
	if err != nil {
		t.Fatal(err)
	}
	e.record(t, e.vaccA, e.dose(b.Ref, 1))
	if ms := e.messages(t); len(ms) != 1 {
		t.Errorf("messages after a walk-in's dose: got %d, want 1", len(ms))
	}
}

func TestRecordDoseLinksAppointment(t *testing.T) { eachStore(t, testRecordDoseLinksAppointment) }

func testRecordDoseLinksAppointment(t *testing.T, open opener) {
	e := newEnv(t, open)
	ref := e.beneficiary(t, 1)
	appt, _ := e.book(t, ref, e.session(t, 1, e.a))
	d := e.record(t, e.vaccA, e.dose(ref, 1))
	if d.AppointmentID != appt {
		t.Errorf("appointment: got %q, want %s", d.AppointmentID, appt)
	}
	q, centre, date, err := e.svc.Queue(t.Context(), e.vaccA, 0, vax.Date{})
	if err != nil {
		t.Fatal(err)
	}
	if centre != e.a || date != today {
		t.Errorf("queue of: got centre %d on %s, want %d on %s", centre, date, e.a, today)
	}
	if len(q) != 1 || q[0].Ref != ref || q[0].DoseID != d.ID || q[0].AppointmentID != appt {
		t.Errorf("queue: got %+v, want %s with dose %s", q, ref, d.ID)
	}
	// The same beneficiary elsewhere (B) is a dose without the appointment.
	ref2 := e.beneficiary(t, 2)
	e.book(t, ref2, e.session(t, 2, e.a))
	r := vaccination.DoseRequest{Ref: ref2, Vaccine: "COVISHIELD", Lot: "B-CS-1", Dose: 1}
	if d := e.record(t, e.vaccB, r); d.AppointmentID != "" {
		t.Errorf("dose at B: got appointment %q, want none", d.AppointmentID)
	}
}

func TestOnDoseFailureWritesNothing(t *testing.T) { eachStore(t, testOnDoseFailureWritesNothing) }

func testOnDoseFailureWritesNothing(t *testing.T, open opener) {
	e := newEnv(t, open)
	ref := e.beneficiary(t, 1)
	e.doseHook = func(vax.Dose) error { return errors.New("certificate signer down") }
	if _, _, err := e.svc.RecordDose(t.Context(), e.vaccA, e.dose(ref, 1)); err == nil {
		t.Fatal("record with a failing hook: got no error")
	}
	if ds, l, ms := e.doses(t, ref), e.lot(t, e.a, "A-CS-1"), e.messages(t); len(ds) != 0 || l.Used != 0 || len(ms) != 0 {
		t.Errorf("after a failed hook: got %d doses, %d used, %d messages; want none", len(ds), l.Used, len(ms))
	}
}

func TestWalkIn(t *testing.T) { eachStore(t, testWalkIn) }

func testWalkIn(t *testing.T, open opener) {
	e := newEnv(t, open)
	acct := e.account(t, 7) // 9876500007
	b, err := e.svc.RegisterWalkIn(t.Context(), e.vaccA, vaccination.WalkIn{NewBeneficiary: person(1), Mobile: "9876500007"})
	if err != nil {
		t.Fatal(err)
	}
	if b.AccountID != acct {
		t.Errorf("walk-in with a known mobile: got account %s, want %s", b.AccountID, acct)
	}
	b2, err := e.svc.RegisterWalkIn(t.Context(), e.vaccAB, vaccination.WalkIn{CentreID: e.b, NewBeneficiary: person(2), Mobile: "9000000001"})
	if err != nil {
		t.Fatal(err)
	}
	var a vax.Account
	e.inTx(t, func(ctx context.Context, tx vax.Tx) (err error) { a, err = tx.Account(ctx, b2.AccountID); return err })
	if a.MobileLast4 != "0001" {
		t.Errorf("new account's last 4: got %q, want 0001", a.MobileLast4)
	}
	b3, err := e.svc.RegisterWalkIn(t.Context(), e.vaccA, vaccination.WalkIn{NewBeneficiary: person(3)})
	if err != nil {
		t.Fatal(err)
	}
	if !vax.ValidUUID(b3.AccountID) || b3.AccountID == acct || b3.AccountID == b2.AccountID {
		t.Errorf("walk-in without mobile: got account %q, want a fresh UUID", b3.AccountID)
	}
	_, err = e.svc.RegisterWalkIn(t.Context(), e.vaccA, vaccination.WalkIn{NewBeneficiary: person(1)})
	wantReason(t, "same photo ID again", err, vax.Conflict, booking.ReasonPhotoIDTaken)
	_, err = e.svc.RegisterWalkIn(t.Context(), e.vaccA, vaccination.WalkIn{NewBeneficiary: person(4), Mobile: "12345"})
	wantReason(t, "malformed mobile", err, vax.Invalid, vaccination.ReasonBadRequest)
}

func TestLots(t *testing.T) { eachStore(t, testLots) }

func testLots(t *testing.T, open opener) {
	e := newEnv(t, open)
	l, err := e.svc.CreateLot(t.Context(), e.facilityA, newLot(0, " A-NEW "))
	if err != nil {
		t.Fatal(err)
	}
	if l.CentreID != e.a || l.Number != "A-NEW" || l.Used != 0 {
		t.Errorf("lot: got %+v", l)
	}
	if _, err := e.svc.CreateLot(t.Context(), e.districtA, newLot(e.a, "A-DISTRICT")); err != nil {
		t.Errorf("lot by the district admin: %v", err)
	}
	_, err = e.svc.CreateLot(t.Context(), e.facilityA, newLot(e.a, "A-NEW"))
	wantReason(t, "lot number again", err, vax.Conflict, vaccination.ReasonLotExists)
	past := newLot(e.a, "A-PAST")
	past.Expiry = today.AddDays(-1)
	_, err = e.svc.CreateLot(t.Context(), e.facilityA, past)
	wantReason(t, "expired lot", err, vax.Invalid, vaccination.ReasonBadLot)
	unknown := newLot(e.a, "A-NOVAX")
	unknown.Vaccine = "NOVAX"
	_, err = e.svc.CreateLot(t.Context(), e.facilityA, unknown)
	wantReason(t, "unknown vaccine", err, vax.Invalid, vaccination.ReasonUnknownVaccine)

	all, err := e.svc.Lots(t.Context(), e.vaccA, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	usable, err := e.svc.Lots(t.Context(), e.vaccA, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := numbers(all); got != "A-CS-1 A-CX-1 A-DISTRICT A-EMPTY A-NEW A-OLD" {
		t.Errorf("all lots: got %s", got)
	}
	if got := numbers(usable); got != "A-CS-1 A-CX-1 A-DISTRICT A-NEW" {
		t.Errorf("usable lots: got %s", got)
	}
}

func numbers(ls []vax.Lot) string {
	var ns []string
	for _, l := range ls {
		ns = append(ns, l.Number)
	}
	return strings.Join(ns, " ")
}

func TestAdverseEvents(t *testing.T) { eachStore(t, testAdverseEvents) }

func testAdverseEvents(t *testing.T, open opener) {
	e := newEnv(t, open)
	ref := e.beneficiary(t, 1)
	d := e.record(t, e.vaccA, withTime(e.dose(ref, 1), t0.Add(-time.Hour)))
	e.messages(t) // the reminder
	before := len(e.messages(t))

	_, err := e.svc.ReportAdverseEvent(t.Context(), e.vaccB, vaccination.NewAdverseEvent{DoseID: d.ID,
		Severity: vax.SeverityMinor, Symptoms: []string{"fever"}, Onset: t0})
	wantReason(t, "reported by B's vaccinator", err, vax.Forbidden, vaccination.ReasonForbidden)
	for _, bad := range []vaccination.NewAdverseEvent{
		{DoseID: d.ID, Severity: vax.SeverityMinor, Symptoms: []string{"fever"}, Onset: t0.Add(-2 * time.Hour)},
		{DoseID: d.ID, Severity: vax.SeverityMinor, Symptoms: []string{"fever"}, Onset: t0.Add(time.Minute)},
		{DoseID: d.ID, Severity: vax.SeverityMinor, Onset: t0},
		{DoseID: d.ID, Severity: "bad", Symptoms: []string{"fever"}, Onset: t0},
	} {
		_, err := e.svc.ReportAdverseEvent(t.Context(), e.vaccA, bad)
		wantReason(t, "invalid event", err, vax.Invalid, vaccination.ReasonBadEvent)
	}

	minor, err := e.svc.ReportAdverseEvent(t.Context(), e.vaccA, vaccination.NewAdverseEvent{DoseID: d.ID,
		Severity: vax.SeverityMinor, Symptoms: []string{"fever"}, Onset: t0})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.messages(t)); n != before {
		t.Errorf("messages after a minor event: got %d, want %d", n, before)
	}
	serious, err := e.svc.ReportAdverseEvent(t.Context(), e.districtA, vaccination.NewAdverseEvent{DoseID: d.ID,
		Severity: vax.SeveritySerious, Symptoms: []string{"anaphylaxis", " hospitalised "}, Onset: t0})
	if err != nil {
		t.Fatal(err)
	}
	if serious.DistrictID != 307 || serious.CentreID != e.a || serious.Ref != ref || serious.ReporterID != e.districtA.ID ||
		strings.Join(serious.Symptoms, "|") != "anaphylaxis|hospitalised" {
		t.Errorf("serious event: got %+v", serious)
	}
	var flags []outboxtest.Pending
	for _, m := range e.messages(t) {
		if m.Kind == vaccination.MessageSeriousAEFI {
			flags = append(flags, m)
		}
	}
	if len(flags) != 1 || flags[0].To != "9123400006" {
		t.Fatalf("serious-event SMS: got %d, want 1 to district admin 6", len(flags))
	}
	if txt := flags[0].Text; !strings.Contains(txt, serious.ID) || strings.Contains(txt, ref) || strings.Contains(txt, "Person") {
		t.Errorf("serious-event SMS text: got %q, want the event id and no personal data", txt)
	}

	list := func(by vax.Staff, q vax.AdverseEventQuery) []string {
		t.Helper()
		es, err := e.svc.AdverseEvents(t.Context(), by, q)
		if err != nil {
			t.Fatalf("list by %s: %v", by.Role, err)
		}
		var ids []string
		for _, ev := range es {
			ids = append(ids, ev.ID)
		}
		return ids
	}
	if got := list(e.districtA, vax.AdverseEventQuery{}); len(got) != 2 {
		t.Errorf("district 307's events: got %d, want 2", len(got))
	}
	if got := list(e.districtB, vax.AdverseEventQuery{DistrictID: 307}); len(got) != 0 {
		t.Errorf("district 308 admin asking for 307: got %d events, want 0", len(got))
	}
	if got := list(e.stateAdmin, vax.AdverseEventQuery{DistrictID: 307, Severity: vax.SeveritySerious}); len(got) != 1 || got[0] != serious.ID {
		t.Errorf("state admin, serious in 307: got %v, want [%s]", got, serious.ID)
	}
	_ = minor
	_, err = e.svc.AdverseEvents(t.Context(), e.stateAdmin, vax.AdverseEventQuery{})
	wantReason(t, "state admin without a district", err, vax.Invalid, vaccination.ReasonBadRequest)
}
