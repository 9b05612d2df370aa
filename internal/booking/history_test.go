package booking_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/vax"
)

// recordDose stores dose n of COVISHIELD for ref, given at the centre on
// the civil day at.
func (e *env) recordDose(t *testing.T, ref string, n int, vaccine string, at vax.Date) {
	t.Helper()
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error {
		return tx.RecordDose(ctx, vax.Dose{ID: fmt.Sprintf("20000000-0000-4000-8000-%012d", n*1000+len(ref)), Ref: ref, Dose: n,
			Vaccine: vaccine, Lot: "CS1", CentreID: e.centre, VaccinatorID: acctID(99),
			AdministeredAt: at.Start(ist).Add(10 * time.Hour), RecordedAt: t0})
	})
}

// sessionOn creates an open session n of vaccine on day for ages 18+.
func (e *env) sessionOn(t *testing.T, n int, vaccine string, day vax.Date) vax.Session {
	t.Helper()
	se := vax.Session{ID: sessID(n), CentreID: e.centre, Date: day, Vaccine: vaccine, MinAge: 18, AllowAllAge: true,
		Capacity1: 10, Capacity2: 10, Slots: []string{"09:00AM-11:00AM"}, Status: vax.SessionOpen}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return tx.CreateSession(ctx, se) })
	return se
}

// TestDoseHistory: recorded doses drive the rules and the views — dose 2
// only after dose 1, of the same vaccine, after the interval; a given dose
// cannot be booked, its place cannot be cancelled, its beneficiary cannot
// be deleted, and the beneficiary list shows the status and dates.
func TestDoseHistory(t *testing.T) {
	for _, be := range stores {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.Open, booking.Rules{WindowDays: 100})
			acct := e.account(t, 1)
			ref := e.beneficiary(t, acct, 1)
			today := vax.DateOf(t0, ist)

			// Dose 1 booked today and given.
			s1 := e.sessionOn(t, 1, "COVISHIELD", today)
			a1, err := e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: s1.ID, Slot: s1.Slots[0], Refs: []string{ref}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 2, SessionID: e.sessionOn(t, 2, "COVISHIELD", today.AddDays(90)).ID,
				Slot: "09:00AM-11:00AM", Refs: []string{ref}})
			wantReason(t, "dose 2 before dose 1", err, vax.Invalid, booking.ReasonDoseOrder)
			e.recordDose(t, ref, 1, "COVISHIELD", today)

			err = e.svc.Cancel(t.Context(), acct, a1.ID, nil)
			wantReason(t, "cancel a used appointment", err, vax.Conflict, booking.ReasonDoseGiven)
			err = e.svc.DeleteBeneficiary(t.Context(), acct, ref)
			wantReason(t, "delete a vaccinated beneficiary", err, vax.Conflict, booking.ReasonUndeletable)
			_, err = e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 1, SessionID: e.sessionOn(t, 3, "COVISHIELD", today.AddDays(1)).ID,
				Slot: "09:00AM-11:00AM", Refs: []string{ref}})
			wantReason(t, "dose 1 again", err, vax.Conflict, booking.ReasonDoseGiven)

			// Dose 2: another vaccine, too early, then right.
			_, err = e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 2, SessionID: e.sessionOn(t, 4, "COVAXIN", today.AddDays(90)).ID,
				Slot: "09:00AM-11:00AM", Refs: []string{ref}})
			wantReason(t, "another vaccine", err, vax.Invalid, booking.ReasonVaccine)
			_, err = e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 2, SessionID: e.sessionOn(t, 5, "COVISHIELD", today.AddDays(83)).ID,
				Slot: "09:00AM-11:00AM", Refs: []string{ref}})
			wantReason(t, "83 days after dose 1", err, vax.Invalid, booking.ReasonInterval)
			if _, err := e.svc.Schedule(t.Context(), acct, booking.ScheduleRequest{Dose: 2, SessionID: sessID(2), Slot: "09:00AM-11:00AM",
				Refs: []string{ref}}); err != nil {
				t.Fatalf("dose 2 after 90 days: %v", err)
			}

			bs, err := e.svc.Beneficiaries(t.Context(), acct)
			if err != nil {
				t.Fatal(err)
			}
			if len(bs) != 1 || bs[0].VaccinationStatus != booking.StatusPartiallyVaccinated || bs[0].Vaccine != "COVISHIELD" ||
				len(bs[0].DoseDates) != 1 || bs[0].DoseDates[0] != today.Cowin() {
				t.Errorf("after dose 1: %+v", bs)
			}
			e.recordDose(t, ref, 2, "COVISHIELD", today.AddDays(90))
			bs, err = e.svc.Beneficiaries(t.Context(), acct)
			if err != nil {
				t.Fatal(err)
			}
			if bs[0].VaccinationStatus != booking.StatusVaccinated || len(bs[0].DoseDates) != 2 {
				t.Errorf("after dose 2: %+v", bs[0])
			}
		})
	}
}
