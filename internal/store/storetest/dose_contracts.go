package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vaxport/vaxport/internal/vax"
)

// The dose path: DoseFacts and CommitDose must read and write exactly what
// the single-call methods do.

// doseLot is the lot number dose() records from.
const doseLot = "4121Z001"

// doseFacts reads DoseFacts in a View.
func doseFacts(t *testing.T, s vax.Store, ref string, centre int64, lot string) vax.DoseFacts {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) (vax.DoseFacts, error) { return tx.DoseFacts(t.Context(), ref, centre, lot) })
}

func testDoseFacts(t *testing.T, open Opener) {
	s := seeded(t, open)
	cs := createCentres(t, s, centre(0, ernakulam, 682001), centre(0, thrissur, 680001))
	createSessions(t, s, session(1, cs[0], day0), session(2, cs[1], day0), session(3, cs[0], day0.AddDays(1)))
	createLots(t, s, lot(cs[0], doseLot, 10))
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateAccount(t.Context(), account(1)) })
	// Beneficiary 2's account is never created: a walk-in without a mobile.
	createBeneficiaries(t, s, beneficiary(1, 1), beneficiary(2, 2), beneficiary(3, 1), beneficiary(4, 1))
	recordDoses(t, s, dose(1, benRef(1), 1, cs[0]))

	// Beneficiary 1 holds live places in appointments 1 (centre 0) and 4
	// (centre 1); appointment 2 is cancelled, and in appointment 3 only
	// its own place is.
	live := appointment(1, 1, sessionID(1), benRef(1), benRef(3))
	cancelled := appointment(2, 1, sessionID(2), benRef(1))
	cancelled.Dose = 2
	placeCancelled := appointment(3, 1, sessionID(3), benRef(1), benRef(4))
	placeCancelled.Dose = 3
	book(t, s, live, cancelled, placeCancelled)
	inTx(t, s, func(tx vax.Tx) error {
		if _, err := tx.CancelPlaces(t.Context(), cancelled.ID, nil); err != nil {
			return err
		}
		_, err := tx.CancelPlaces(t.Context(), placeCancelled.ID, []string{benRef(1)})
		return err
	})
	other := appointment(4, 1, sessionID(2), benRef(1))
	other.Dose = 2
	book(t, s, other)

	// want assembles the facts from the single-call methods.
	var c vax.Centre
	var l vax.Lot
	var b1, b2 vax.Beneficiary
	var a1 vax.Account
	var ds []vax.Dose
	var as []vax.Appointment
	view(t, s, func(tx vax.Tx) (err error) {
		ctx := t.Context()
		if c, err = tx.Centre(ctx, cs[0]); err != nil {
			return err
		}
		if l, err = tx.Lot(ctx, cs[0], doseLot); err != nil {
			return err
		}
		if b1, err = tx.Beneficiary(ctx, benRef(1)); err != nil {
			return err
		}
		if b2, err = tx.Beneficiary(ctx, benRef(2)); err != nil {
			return err
		}
		if a1, err = tx.Account(ctx, accountID(1)); err != nil {
			return err
		}
		if ds, err = tx.DosesOf(ctx, benRef(1)); err != nil {
			return err
		}
		for _, id := range []string{live.ID, other.ID} {
			a, err := tx.Appointment(ctx, id)
			if err != nil {
				return err
			}
			as = append(as, a)
		}
		return nil
	})
	if len(ds) != 1 || len(as) != 2 || len(as[0].Beneficiaries) != 2 {
		t.Fatalf("fixture: %d doses, %d appointments; want 1, 2 (the first with 2 places)", len(ds), len(as))
	}
	for i := range as {
		as[i].Beneficiaries = nil // DoseFacts reads appointments without their places
	}
	full := vax.DoseFacts{Centre: c, Beneficiary: b1, Account: a1, Doses: ds, Lot: l, Appointments: as,
		SessionCentre: map[string]int64{live.ID: cs[0], other.ID: cs[1]}}

	for _, tc := range []struct {
		name   string
		ref    string
		centre int64
		lot    string
		want   vax.DoseFacts
	}{
		{"everything present", benRef(1), cs[0], doseLot, full},
		{"unknown centre", benRef(1), 999, doseLot,
			func() vax.DoseFacts { f := full; f.Centre, f.Lot = vax.Centre{}, vax.Lot{}; return f }()},
		{"unknown lot", benRef(1), cs[0], "NO-SUCH-LOT",
			func() vax.DoseFacts { f := full; f.Lot = vax.Lot{}; return f }()},
		{"lot of another centre", benRef(1), cs[1], doseLot,
			func() vax.DoseFacts { f := full; f.Lot = vax.Lot{}; f.Centre = centreOf(t, s, cs[1]); return f }()},
		{"unknown beneficiary", benRef(9), cs[0], doseLot, vax.DoseFacts{Centre: c, Lot: l}},
		{"no account, doses or appointments", benRef(2), cs[0], doseLot, vax.DoseFacts{Centre: c, Beneficiary: b2, Lot: l}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := doseFacts(t, s, tc.ref, tc.centre, tc.lot)
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("DoseFacts(%s, %d, %s) (-want +got):\n%s", tc.ref, tc.centre, tc.lot, d)
			}
		})
	}

	// In a read-write transaction DoseFacts sees the transaction's own
	// writes.
	var got vax.DoseFacts
	err := s.InTx(t.Context(), func(tx vax.Tx) (err error) {
		if err := tx.RecordDose(t.Context(), dose(2, benRef(1), 2, cs[1])); err != nil {
			return err
		}
		if got, err = tx.DoseFacts(t.Context(), benRef(1), cs[0], doseLot); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx: %v", err)
	}
	if len(got.Doses) != 2 || got.Doses[1].ID != doseID(2) {
		t.Errorf("DoseFacts after RecordDose in the same transaction: got %d doses, want 2 ending with %s", len(got.Doses), doseID(2))
	}
}

// centreOf reads one centre.
func centreOf(t *testing.T, s vax.Store, id int64) vax.Centre {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) (vax.Centre, error) { return tx.Centre(t.Context(), id) })
}

// commitDose runs CommitDose in its own transaction.
func commitDose(t *testing.T, s vax.Store, w vax.DoseWrite) error {
	t.Helper()
	return txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CommitDose(ctx, w) })
}

// doseWrite returns dose n of ref (dose number 1, from doseLot at centre)
// with certificate n and messages n and n+100.
func doseWrite(n int, ref string, centre int64) vax.DoseWrite {
	c := certificate(n, ref, 1, false)
	return vax.DoseWrite{Dose: dose(n, ref, 1, centre), Certificate: &c,
		Messages: []vax.OutboxMessage{message(n, outboxT0), message(n+100, outboxT0)}}
}

// doseTraces reports which of the things w writes are in s: its dose
// record, its change, its certificate and its messages.
func doseTraces(t *testing.T, s vax.Store, w vax.DoseWrite) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	_, err := readDose(t, s, w.Dose.ID)
	out["dose "+w.Dose.ID] = err == nil
	out["change "+w.Dose.ID] = slices.Contains(changeKeys(allChanges(t, s)), w.Dose.ID)
	if c := w.Certificate; c != nil {
		_, err := readCertificate(t, s, c.ID)
		out["certificate "+c.ID] = err == nil
		cur, _ := currentCertificate(t, s, c.Ref)
		out["current certificate of "+c.Ref+" is "+cur.ID] = true
	}
	for _, m := range w.Messages {
		_, err := readMessage(t, s, m.ID)
		out["message "+m.ID] = err == nil
	}
	return out
}

func testCommitDose(t *testing.T, open Opener) {
	t.Run("concurrent doses of one beneficiary", func(t *testing.T) { testCommitDoseRace(t, open) })
	s, cs := staffStore(t, open)
	createLots(t, s, lot(cs[0], doseLot, 100), lot(cs[0], "EMPTY", 0))

	t.Run("writes everything", func(t *testing.T) {
		w := doseWrite(1, benRef(1), cs[0])
		if err := commitDose(t, s, w); err != nil {
			t.Fatalf("CommitDose: %v", err)
		}
		got, err := readDose(t, s, w.Dose.ID)
		if err != nil {
			t.Fatalf("Dose: %v", err)
		}
		if d := cmp.Diff(storedDose(w.Dose), got); d != "" {
			t.Errorf("stored dose (-want +got):\n%s", d)
		}
		changes := allChanges(t, s)
		if n := len(changes); n == 0 || changes[n-1].Kind != vax.ChangeDose || changes[n-1].Key != w.Dose.ID {
			t.Errorf("last change: got %v, want a %s change of %s", changes, vax.ChangeDose, w.Dose.ID)
		}
		cert, err := currentCertificate(t, s, benRef(1))
		if err != nil {
			t.Fatalf("CurrentCertificate: %v", err)
		}
		if d := cmp.Diff(storedCertificate(*w.Certificate, nil), cert); d != "" {
			t.Errorf("certificate (-want +got):\n%s", d)
		}
		for _, m := range w.Messages {
			got, err := readMessage(t, s, m.ID)
			if err != nil {
				t.Fatalf("Messages(%s): %v", m.ID, err)
			}
			if d := cmp.Diff(storedMessage(m), got); d != "" {
				t.Errorf("message %s (-want +got):\n%s", m.ID, d)
			}
		}
		if l, err := readLot(t, s, cs[0], doseLot); err != nil || l.Used != 1 {
			t.Errorf("lot after one dose: used %d (err %v), want 1", l.Used, err)
		}
	})

	for _, firstFlag := range []bool{false, true} {
		t.Run(fmt.Sprintf("supersedes the current certificate (FirstCertificate %v)", firstFlag), func(t *testing.T) {
			testCommitDoseSupersedes(t, s, cs[0], firstFlag)
		})
	}

	t.Run("no certificate, no messages", func(t *testing.T) {
		w := vax.DoseWrite{Dose: dose(4, benRef(4), 1, cs[0])}
		w.Dose.AppointmentID = "" // a walk-in
		if err := commitDose(t, s, w); err != nil {
			t.Fatalf("CommitDose: %v", err)
		}
		if _, err := readDose(t, s, w.Dose.ID); err != nil {
			t.Errorf("Dose: %v", err)
		}
		if _, err := currentCertificate(t, s, benRef(4)); !errors.Is(err, vax.ErrNotFound) {
			t.Errorf("CurrentCertificate: got %v, want NotFound", err)
		}
		if l, err := readLot(t, s, cs[0], doseLot); err != nil || l.Used != 4 {
			t.Errorf("lot after four doses: used %d (err %v), want 4", l.Used, err)
		}
	})

	// Each refused write is rolled back whole.
	recordDoses(t, s, dose(10, benRef(10), 1, cs[0]))
	for _, tc := range []struct {
		name string
		w    func(w vax.DoseWrite) vax.DoseWrite
		want vax.Code
	}{
		{"dose taken", func(w vax.DoseWrite) vax.DoseWrite { w.Dose.Ref = benRef(10); return w }, vax.Conflict},
		{"dose id taken", func(w vax.DoseWrite) vax.DoseWrite { w.Dose.ID = doseID(10); return w }, vax.Conflict},
		{"lot empty", func(w vax.DoseWrite) vax.DoseWrite { w.Dose.Lot = "EMPTY"; return w }, vax.Full},
		{"lot unknown", func(w vax.DoseWrite) vax.DoseWrite { w.Dose.Lot = "NO-SUCH-LOT"; return w }, vax.NotFound},
		{"lot of another centre", func(w vax.DoseWrite) vax.DoseWrite { w.Dose.CentreID = cs[1]; return w }, vax.NotFound},
		{"certificate id taken", func(w vax.DoseWrite) vax.DoseWrite {
			c := *w.Certificate
			c.ID = certID(1)
			w.Certificate = &c
			return w
		}, vax.Conflict},
		{"message id taken", func(w vax.DoseWrite) vax.DoseWrite {
			w.Messages = []vax.OutboxMessage{message(11, outboxT0), message(1, outboxT0)}
			return w
		}, vax.Conflict},
		{"invalid dose id", func(w vax.DoseWrite) vax.DoseWrite { w.Dose.ID = "not-a-uuid"; return w }, vax.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w(doseWrite(11, benRef(11), cs[0]))
			before, err := readLot(t, s, cs[0], doseLot)
			if err != nil {
				t.Fatal(err)
			}
			traces := doseTraces(t, s, w)
			wantCode(t, "CommitDose", commitDose(t, s, w), tc.want)
			if d := cmp.Diff(traces, doseTraces(t, s, w)); d != "" {
				t.Errorf("refused CommitDose left traces (-before +after):\n%s", d)
			}
			if after, err := readLot(t, s, cs[0], doseLot); err != nil || after.Used != before.Used {
				t.Errorf("lot after a refused dose: used %d (err %v), want %d", after.Used, err, before.Used)
			}
		})
	}
}

// testCommitDoseRace commits doses of one beneficiary from many
// transactions on two handles at once: n distinct doses, each with a
// certificate, and tries attempts at one more dose number. Every distinct
// dose commits, exactly one of the tries does, the lot loses one dose per
// commit, and the certificates form one chain with one current.
func testCommitDoseRace(t *testing.T, open Opener) {
	const n, tries, workers = 16, 8, 8
	h := open(t)
	s := h.Store
	seed(t, s)
	handles := []vax.Store{s, h.Second(t)}
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]
	createLots(t, s, lot(cid, doseLot, 1000))
	ref := benRef(1)
	writes := make([]vax.DoseWrite, 0, n+tries)
	for i := 1; i <= n+tries; i++ {
		w := doseWrite(i, ref, cid)
		w.Dose.Dose = min(i, n+1) // the tries all record dose n+1
		w.Certificate.Doses = w.Dose.Dose
		w.Messages = w.Messages[:1]
		writes = append(writes, w)
	}
	next := make(chan int)
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			for i := range next {
				errs[i] = handles[k%2].InTx(t.Context(), func(tx vax.Tx) error { return tx.CommitDose(t.Context(), writes[i]) })
			}
		})
	}
	for i := range writes {
		next <- i
	}
	close(next)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case i < n && err != nil:
			t.Errorf("CommitDose of dose %d: %v", writes[i].Dose.Dose, err)
		case i >= n && err == nil:
			won++
		case i >= n && !errors.Is(err, vax.ErrConflict):
			t.Errorf("CommitDose of a second record of dose %d: got %v, want Conflict", n+1, err)
		}
	}
	if won != 1 {
		t.Errorf("concurrent records of dose %d: %d committed, want 1", n+1, won)
	}
	if got := len(dosesOf(t, s, ref)); got != n+1 {
		t.Errorf("dose records: got %d, want %d", got, n+1)
	}
	if l, err := readLot(t, s, cid, doseLot); err != nil || l.Used != n+1 {
		t.Errorf("lot: used %d (err %v), want %d", l.Used, err, n+1)
	}
	cur, err := currentCertificate(t, s, ref)
	if err != nil {
		t.Fatalf("CurrentCertificate: %v", err)
	}
	by := map[string]string{} // superseder -> superseded
	for _, c := range superseded(t, s, time.Time{}, 0) {
		if prev, dup := by[c.SupersededBy]; dup {
			t.Fatalf("%s superseded both %s and %s", c.SupersededBy, prev, c.ID)
		}
		by[c.SupersededBy] = c.ID
	}
	seen := 1
	for id := cur.ID; by[id] != ""; id = by[id] {
		seen++
	}
	if seen != n+1 || len(by) != n {
		t.Errorf("chain from the current certificate has %d certificates, %d supersessions; want %d, %d", seen, len(by), n+1, n)
	}
}

// testCommitDoseSupersedes: CommitDose replaces the beneficiary's current
// certificate, also when the caller believed there was none
// (FirstCertificate: the store may skip the search, not the rule).
func testCommitDoseSupersedes(t *testing.T, s vax.Store, centre int64, firstFlag bool) {
	n := 0
	if firstFlag {
		n = 10
	}
	ref := benRef(2 + n)
	first := certificate(2+n, ref, 1, false)
	issue(t, s, first)
	w := doseWrite(3+n, ref, centre)
	w.Dose.Dose = 2
	w.FirstCertificate = firstFlag
	second := certificate(3+n, ref, 2, true)
	w.Certificate = &second
	if err := commitDose(t, s, w); err != nil {
		t.Fatalf("CommitDose: %v", err)
	}
	got, err := readCertificate(t, s, first.ID)
	if err != nil {
		t.Fatalf("Certificate: %v", err)
	}
	if d := cmp.Diff(storedCertificate(first, &second), got); d != "" {
		t.Errorf("replaced certificate (-want +got):\n%s", d)
	}
	if cur, err := currentCertificate(t, s, ref); err != nil || cur.ID != second.ID {
		t.Errorf("current certificate: got %s (err %v), want %s", cur.ID, err, second.ID)
	}
}
