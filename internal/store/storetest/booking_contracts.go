package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vaxport/vaxport/internal/vax"
)

// Beneficiaries and appointments.

// benRef returns the n-th test beneficiary reference id (valid check digit).
func benRef(n int) string {
	body := fmt.Sprintf("%013d", 1_000_000_000_000+n)
	return body + string(vax.VerhoeffDigit(body))
}

// apptID returns the n-th test appointment id.
func apptID(n int) string { return fmt.Sprintf("30000000-0000-4000-8000-%012d", n) }

func beneficiary(n, acct int) vax.Beneficiary {
	return vax.Beneficiary{
		Ref:           benRef(n),
		AccountID:     accountID(acct),
		Name:          fmt.Sprintf("Person %d", n),
		BirthYear:     1990,
		GenderID:      1 + n%3,
		PhotoIDType:   1,
		PhotoIDHash:   fmt.Sprintf("pii-00000001:photo-%d", n),
		PhotoIDSealed: []byte{4, 5, byte(n)},
		PhotoIDLast4:  fmt.Sprintf("%04d", n%10000),
		Comorbidity:   n%2 == 0,
		CreatedAt:     authT0,
	}
}

func storedBeneficiary(b vax.Beneficiary) vax.Beneficiary {
	b.AccountID = strings.ToLower(b.AccountID)
	b.CreatedAt = whole(b.CreatedAt)
	return b
}

// appointment returns a live dose-1 appointment n of acct in session sid
// for the beneficiaries refs.
func appointment(n, acct int, sid string, refs ...string) vax.Appointment {
	a := vax.Appointment{
		ID: apptID(n), AccountID: accountID(acct), SessionID: sid, Dose: 1,
		Slot: "09:00AM-11:00AM", Status: vax.AppointmentLive, CreatedAt: authT0,
	}
	for i, r := range refs {
		a.Beneficiaries = append(a.Beneficiaries, vax.AppointmentPlace{
			Ref: r, SecretSealed: []byte{7, byte(n), byte(i)}, Status: vax.AppointmentLive})
	}
	return a
}

func storedAppointment(a vax.Appointment) vax.Appointment {
	a.CreatedAt = whole(a.CreatedAt)
	return a
}

// bookingStore opens a seeded store with one session of cap1 dose-1 seats.
func bookingStore(t *testing.T, open Opener, cap1 int) vax.Store {
	t.Helper()
	s := seeded(t, open)
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]
	se := session(1, cid, day0)
	se.Capacity1 = cap1
	se2 := session(2, cid, day0.AddDays(1))
	createSessions(t, s, se, se2)
	return s
}

func createBeneficiaries(t *testing.T, s vax.Store, bs ...vax.Beneficiary) {
	t.Helper()
	insertAll(t, s, bs, func(tx vax.Tx, b vax.Beneficiary) error { return tx.CreateBeneficiary(t.Context(), b) })
}

func book(t *testing.T, s vax.Store, as ...vax.Appointment) {
	t.Helper()
	insertAll(t, s, as, func(tx vax.Tx, a vax.Appointment) error { return tx.BookAppointment(t.Context(), a) })
}

func readSession(t *testing.T, s vax.Store, id string) vax.Session {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) (vax.Session, error) { return tx.Session(t.Context(), id) })
}

func readAppointment(t *testing.T, s vax.Store, id string) (vax.Appointment, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.Appointment, error) { return tx.Appointment(t.Context(), id) })
}

func testCreateBeneficiary(t *testing.T, open Opener) {
	s := newStore(t, open)
	b := beneficiary(1, 1)
	createBeneficiaries(t, s, b)
	var got vax.Beneficiary
	view(t, s, func(tx vax.Tx) (err error) { got, err = tx.Beneficiary(t.Context(), b.Ref); return err })
	if d := cmp.Diff(storedBeneficiary(b), got); d != "" {
		t.Errorf("stored beneficiary (-want +got):\n%s", d)
	}
	sameRef := beneficiary(2, 1)
	sameRef.Ref = b.Ref
	samePhoto := beneficiary(3, 2)
	samePhoto.PhotoIDHash = b.PhotoIDHash
	badRef := beneficiary(4, 1)
	badRef.Ref = b.Ref[:13] + string('0'+(b.Ref[13]-'0'+1)%10)
	for name, c := range map[string]struct {
		b    vax.Beneficiary
		want vax.Code
	}{
		"same ref":          {sameRef, vax.Conflict},
		"same photo-ID":     {samePhoto, vax.Conflict},
		"wrong check digit": {badRef, vax.Invalid},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CreateBeneficiary(ctx, c.b) })
		wantCode(t, name, err, c.want)
	}
	view(t, s, func(tx vax.Tx) error {
		_, err := tx.Beneficiary(t.Context(), benRef(3))
		wantCode(t, "refused beneficiary", err, vax.NotFound)
		return nil
	})
}

func testBeneficiary(t *testing.T, open Opener) {
	s := newStore(t, open)
	createBeneficiaries(t, s, beneficiary(1, 1))
	err := s.View(t.Context(), func(tx vax.Tx) error { _, err := tx.Beneficiary(t.Context(), benRef(9)); return err })
	wantCode(t, "unknown", err, vax.NotFound)
}

func testBeneficiariesOf(t *testing.T, open Opener) {
	s := newStore(t, open)
	b1, b2, other := beneficiary(1, 1), beneficiary(2, 1), beneficiary(3, 2)
	b2.CreatedAt = b1.CreatedAt.Add(-time.Second)
	createBeneficiaries(t, s, b1, b2, other)
	var got, none []vax.Beneficiary
	view(t, s, func(tx vax.Tx) (err error) {
		if got, err = tx.BeneficiariesOf(t.Context(), strings.ToUpper(accountID(1))); err != nil {
			return err
		}
		none, err = tx.BeneficiariesOf(t.Context(), accountID(7))
		return err
	})
	if d := cmp.Diff([]vax.Beneficiary{storedBeneficiary(b2), storedBeneficiary(b1)}, got); d != "" {
		t.Errorf("account 1 (-want +got):\n%s", d)
	}
	if len(none) != 0 {
		t.Errorf("unknown account: got %d beneficiaries, want 0", len(none))
	}
}

func testDeleteBeneficiary(t *testing.T, open Opener) {
	s := bookingStore(t, open, 10)
	createBeneficiaries(t, s, beneficiary(1, 1), beneficiary(2, 1))
	book(t, s, appointment(1, 1, sessionID(1), benRef(1)))
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.DeleteBeneficiary(ctx, benRef(1)) })
	wantCode(t, "with a live place", err, vax.Conflict)
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.DeleteBeneficiary(ctx, benRef(9)) })
	wantCode(t, "unknown", err, vax.NotFound)
	inTx(t, s, func(tx vax.Tx) error { return tx.DeleteBeneficiary(t.Context(), benRef(2)) })
	inTx(t, s, func(tx vax.Tx) error { _, err := tx.CancelPlaces(t.Context(), apptID(1), nil); return err })
	inTx(t, s, func(tx vax.Tx) error { return tx.DeleteBeneficiary(t.Context(), benRef(1)) })
	var left []vax.Beneficiary
	view(t, s, func(tx vax.Tx) (err error) { left, err = tx.BeneficiariesOf(t.Context(), accountID(1)); return err })
	if len(left) != 0 {
		t.Errorf("after deleting both: got %d beneficiaries, want 0", len(left))
	}
}

func testBookAppointment(t *testing.T, open Opener) {
	s := bookingStore(t, open, 3)
	a := appointment(1, 1, sessionID(1), benRef(1), benRef(2))
	book(t, s, a)
	got, err := readAppointment(t, s, a.ID)
	if err != nil {
		t.Fatalf("read appointment: %v", err)
	}
	if d := cmp.Diff(storedAppointment(a), got); d != "" {
		t.Errorf("stored appointment (-want +got):\n%s", d)
	}
	if se := readSession(t, s, sessionID(1)); se.Booked1 != 2 || se.Booked2 != 0 {
		t.Errorf("booked: got %d/%d, want 2/0", se.Booked1, se.Booked2)
	}
	if cs := changeKeys(allChanges(t, s)); len(cs) == 0 || cs[len(cs)-1] != sessionID(1) {
		t.Errorf("changes: got %v, want the session last", cs)
	}

	twoMore := appointment(2, 2, sessionID(1), benRef(3), benRef(4))
	again := appointment(3, 3, sessionID(1), benRef(1))
	sameID := appointment(1, 4, sessionID(1), benRef(5))
	unknown := appointment(4, 4, sessionID(99), benRef(6))
	dup := appointment(5, 4, sessionID(1), benRef(6), benRef(6))
	cancelled := appointment(6, 4, sessionID(2), benRef(6))
	inTx(t, s, func(tx vax.Tx) error {
		se, err := tx.Session(t.Context(), sessionID(2))
		if err != nil {
			return err
		}
		se.Status = vax.SessionCancelled
		return tx.UpdateSession(t.Context(), se)
	})
	for name, c := range map[string]struct {
		a    vax.Appointment
		want vax.Code
	}{
		"beyond capacity":         {twoMore, vax.Full},
		"live place for the dose": {again, vax.Conflict},
		"id taken":                {sameID, vax.Conflict},
		"unknown session":         {unknown, vax.NotFound},
		"ref twice":               {dup, vax.Invalid},
		"cancelled session":       {cancelled, vax.Full},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.BookAppointment(ctx, c.a) })
		wantCode(t, name, err, c.want)
	}
	if se := readSession(t, s, sessionID(1)); se.Booked1 != 2 {
		t.Errorf("after refusals: booked1 %d, want 2", se.Booked1)
	}
	dose2 := appointment(7, 1, sessionID(1), benRef(1))
	dose2.Dose = 2
	book(t, s, dose2, appointment(8, 2, sessionID(1), benRef(3)))
	if se := readSession(t, s, sessionID(1)); se.Booked1 != 3 || se.Booked2 != 1 {
		t.Errorf("booked: got %d/%d, want 3/1", se.Booked1, se.Booked2)
	}
}

func testAppointment(t *testing.T, open Opener) {
	s := bookingStore(t, open, 10)
	for _, id := range []string{apptID(9), "not-a-uuid"} {
		_, err := readAppointment(t, s, id)
		wantCode(t, "unknown "+id, err, vax.NotFound)
	}
	a := appointment(1, 1, sessionID(1), benRef(2), benRef(1))
	book(t, s, a)
	got, err := readAppointment(t, s, strings.ToUpper(a.ID))
	if err != nil {
		t.Fatal(err)
	}
	if got.Beneficiaries[0].Ref != benRef(1) {
		t.Errorf("places: got %v first, want ordered by ref", got.Beneficiaries[0].Ref)
	}
	if got.CodeFailures != 0 {
		t.Errorf("new appointment: %d code failures, want 0", got.CodeFailures)
	}
	for range 2 {
		inTx(t, s, func(tx vax.Tx) error { _, err := tx.CodeFailure(t.Context(), a.ID); return err })
	}
	if got, err := readAppointment(t, s, a.ID); err != nil || got.CodeFailures != 2 {
		t.Errorf("after 2 wrong codes: %d code failures (%v), want 2", got.CodeFailures, err)
	}
}

func testAppointmentsOf(t *testing.T, open Opener) {
	s := bookingStore(t, open, 10)
	a1, a2, other := appointment(1, 1, sessionID(1), benRef(1)), appointment(2, 1, sessionID(2), benRef(2)), appointment(3, 2, sessionID(1), benRef(3))
	a2.CreatedAt = a1.CreatedAt.Add(-time.Second)
	book(t, s, a1, a2, other)
	var got []vax.Appointment
	view(t, s, func(tx vax.Tx) (err error) { got, err = tx.AppointmentsOf(t.Context(), accountID(1)); return err })
	if d := cmp.Diff([]vax.Appointment{storedAppointment(a2), storedAppointment(a1)}, got); d != "" {
		t.Errorf("account 1 (-want +got):\n%s", d)
	}
}

func testSessionAppointments(t *testing.T, open Opener) {
	s := bookingStore(t, open, 10)
	book(t, s, appointment(2, 1, sessionID(1), benRef(1)), appointment(1, 2, sessionID(1), benRef(2)),
		appointment(3, 3, sessionID(2), benRef(3)), appointment(4, 4, sessionID(1), benRef(4)))
	inTx(t, s, func(tx vax.Tx) error { _, err := tx.CancelPlaces(t.Context(), apptID(4), nil); return err })
	var got []vax.Appointment
	view(t, s, func(tx vax.Tx) (err error) { got, err = tx.SessionAppointments(t.Context(), sessionID(1)); return err })
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	if d := cmp.Diff([]string{apptID(1), apptID(2)}, ids); d != "" {
		t.Errorf("live appointments (-want +got):\n%s", d)
	}
}

func testCancelPlaces(t *testing.T, open Opener) {
	s := bookingStore(t, open, 10)
	book(t, s, appointment(1, 1, sessionID(1), benRef(1), benRef(2), benRef(3)))
	var n int
	inTx(t, s, func(tx vax.Tx) (err error) {
		n, err = tx.CancelPlaces(t.Context(), apptID(1), []string{benRef(2), benRef(9)})
		return err
	})
	if n != 1 {
		t.Errorf("cancelled %d places, want 1", n)
	}
	if se := readSession(t, s, sessionID(1)); se.Booked1 != 2 {
		t.Errorf("booked1 %d after cancelling one, want 2", se.Booked1)
	}
	a, _ := readAppointment(t, s, apptID(1))
	if a.Status != vax.AppointmentLive || cmp.Diff([]string{benRef(1), benRef(3)}, a.Live()) != "" {
		t.Errorf("after a partial cancel: status %s, live %v", a.Status, a.Live())
	}
	inTx(t, s, func(tx vax.Tx) (err error) { n, err = tx.CancelPlaces(t.Context(), apptID(1), nil); return err })
	if n != 2 {
		t.Errorf("cancelled %d places, want 2", n)
	}
	a, _ = readAppointment(t, s, apptID(1))
	if se := readSession(t, s, sessionID(1)); se.Booked1 != 0 || a.Status != vax.AppointmentCancelled {
		t.Errorf("after cancelling all: booked1 %d, status %s; want 0, cancelled", se.Booked1, a.Status)
	}
	inTx(t, s, func(tx vax.Tx) (err error) { n, err = tx.CancelPlaces(t.Context(), apptID(1), nil); return err })
	if n != 0 {
		t.Errorf("cancelling again: %d places, want 0", n)
	}
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { _, err := tx.CancelPlaces(ctx, apptID(9), nil); return err })
	wantCode(t, "unknown", err, vax.NotFound)
	// A cancelled place frees the beneficiary to book that dose again.
	book(t, s, appointment(2, 1, sessionID(1), benRef(1)))
}

func testMoveAppointment(t *testing.T, open Opener) {
	s := bookingStore(t, open, 2)
	book(t, s, appointment(1, 1, sessionID(1), benRef(1), benRef(2)))
	inTx(t, s, func(tx vax.Tx) error {
		return tx.MoveAppointment(t.Context(), apptID(1), sessionID(2), "11:00AM-01:00PM")
	})
	a, _ := readAppointment(t, s, apptID(1))
	if a.SessionID != sessionID(2) || a.Slot != "11:00AM-01:00PM" {
		t.Errorf("moved: got %s %s", a.SessionID, a.Slot)
	}
	if s1, s2 := readSession(t, s, sessionID(1)), readSession(t, s, sessionID(2)); s1.Booked1 != 0 || s2.Booked1 != 2 {
		t.Errorf("booked after move: %d, %d; want 0, 2", s1.Booked1, s2.Booked1)
	}
	book(t, s, appointment(2, 2, sessionID(1), benRef(3), benRef(4)))
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		return tx.MoveAppointment(ctx, apptID(1), sessionID(1), "09:00AM-11:00AM")
	})
	wantCode(t, "into a full session", err, vax.Full)
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		return tx.MoveAppointment(ctx, apptID(1), sessionID(99), "09:00AM-11:00AM")
	})
	wantCode(t, "into an unknown session", err, vax.NotFound)
	inTx(t, s, func(tx vax.Tx) error { _, err := tx.CancelPlaces(t.Context(), apptID(2), nil); return err })
	inTx(t, s, func(tx vax.Tx) error { _, err := tx.CancelPlaces(t.Context(), apptID(1), nil); return err })
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		return tx.MoveAppointment(ctx, apptID(1), sessionID(1), "09:00AM-11:00AM")
	})
	wantCode(t, "cancelled", err, vax.Conflict)
}

// testBookingRace has many accounts race for few seats through two handles:
// exactly the capacity is booked, and booked equals the live places.
func testBookingRace(t *testing.T, open Opener) {
	const attempts, seats, workers = 2000, 100, 32
	h := open(t)
	s := h.Store
	seed(t, s)
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]
	se := session(1, cid, day0)
	se.Capacity1 = seats
	createSessions(t, s, se)
	handles := []vax.Store{s, h.Second(t)}
	next := make(chan int)
	var mu sync.Mutex
	ok, full := 0, 0
	var other []error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := range next {
				err := handles[w%2].InTx(t.Context(), func(tx vax.Tx) error {
					return tx.BookAppointment(t.Context(), appointment(n, n, sessionID(1), benRef(n)))
				})
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case vax.ErrorCode(err) == vax.Full:
					full++
				default:
					other = append(other, err)
				}
				mu.Unlock()
			}
		})
	}
	for n := 1; n <= attempts; n++ {
		next <- n
	}
	close(next)
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("%d unexpected errors, first: %v", len(other), other[0])
	}
	if ok != seats || full != attempts-seats {
		t.Errorf("got %d booked, %d full; want %d, %d", ok, full, seats, attempts-seats)
	}
	var live int
	view(t, s, func(tx vax.Tx) error {
		as, err := tx.SessionAppointments(t.Context(), sessionID(1))
		for _, a := range as {
			live += len(a.Live())
		}
		return err
	})
	if got := readSession(t, s, sessionID(1)); got.Booked1 != seats || live != seats {
		t.Errorf("booked1 %d, live places %d; want %d each", got.Booked1, live, seats)
	}
}

func idem(acct int, key, hash string, at time.Time) vax.IdempotencyRecord {
	return vax.IdempotencyRecord{AccountID: accountID(acct), Key: key, RequestHash: hash, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
}

func claimKey(t *testing.T, s vax.Store, r vax.IdempotencyRecord) (vax.IdempotencyRecord, bool) {
	t.Helper()
	var got vax.IdempotencyRecord
	var ok bool
	inTx(t, s, func(tx vax.Tx) (err error) { got, ok, err = tx.ClaimIdempotency(t.Context(), r); return err })
	return got, ok
}

func storedIdem(r vax.IdempotencyRecord) vax.IdempotencyRecord {
	r.AccountID = strings.ToLower(r.AccountID)
	r.CreatedAt, r.ExpiresAt = whole(r.CreatedAt), whole(r.ExpiresAt)
	if r.Body == nil {
		r.Body = []byte{}
	}
	return r
}

func testClaimIdempotency(t *testing.T, open Opener) {
	s := newStore(t, open)
	first := idem(1, "k1", "h1", authT0)
	got, ok := claimKey(t, s, first)
	if !ok {
		t.Error("first claim: not inserted")
	}
	if d := cmp.Diff(storedIdem(first), got); d != "" {
		t.Errorf("first claim (-want +got):\n%s", d)
	}
	retry := idem(1, "k1", "h2", authT0.Add(time.Hour))
	if got, ok := claimKey(t, s, retry); ok || cmp.Diff(storedIdem(first), got) != "" {
		t.Errorf("retry: inserted %v, got %+v; want the first record", ok, got)
	}
	if _, ok := claimKey(t, s, idem(2, "k1", "h1", authT0)); !ok {
		t.Error("same key, another account: not inserted")
	}
	late := idem(1, "k1", "h3", authT0.Add(25*time.Hour))
	if got, ok := claimKey(t, s, late); !ok || got.RequestHash != "h3" {
		t.Errorf("after expiry: inserted %v, hash %q; want the new record", ok, got.RequestHash)
	}
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		_, _, err := tx.ClaimIdempotency(ctx, vax.IdempotencyRecord{AccountID: "x", Key: "k"})
		return err
	})
	wantCode(t, "bad account", err, vax.Invalid)
}

func testCompleteIdempotency(t *testing.T, open Opener) {
	s := newStore(t, open)
	r := idem(1, "k", "h", authT0)
	claimKey(t, s, r)
	done := r
	done.Status, done.Body = 200, []byte(`{"appointment_confirmation_no":"x"}`)
	inTx(t, s, func(tx vax.Tx) error {
		return tx.CompleteIdempotency(t.Context(), vax.IdempotencyRecord{AccountID: r.AccountID, Key: r.Key, Status: done.Status, Body: done.Body})
	})
	if got, _ := claimKey(t, s, idem(1, "k", "other", authT0.Add(time.Minute))); cmp.Diff(storedIdem(done), got) != "" {
		t.Errorf("completed (-want +got):\n%s", cmp.Diff(storedIdem(done), got))
	}
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		return tx.CompleteIdempotency(ctx, vax.IdempotencyRecord{AccountID: accountID(1), Key: "absent", Status: 200})
	})
	wantCode(t, "absent", err, vax.NotFound)
}

func testDeleteIdempotency(t *testing.T, open Opener) {
	s := newStore(t, open)
	claimKey(t, s, idem(1, "k", "h", authT0))
	inTx(t, s, func(tx vax.Tx) error { return tx.DeleteIdempotency(t.Context(), accountID(1), "k") })
	inTx(t, s, func(tx vax.Tx) error { return tx.DeleteIdempotency(t.Context(), accountID(1), "absent") })
	if _, ok := claimKey(t, s, idem(1, "k", "h2", authT0)); !ok {
		t.Error("claim after delete: not inserted")
	}
}

func testDeleteIdempotencyBefore(t *testing.T, open Opener) {
	s := newStore(t, open)
	claimKey(t, s, idem(1, "old", "h", authT0))
	claimKey(t, s, idem(1, "new", "h", authT0.Add(time.Hour)))
	var n int64
	inTx(t, s, func(tx vax.Tx) (err error) {
		n, err = tx.DeleteIdempotencyBefore(t.Context(), authT0.Add(24*time.Hour+time.Minute))
		return err
	})
	if n != 1 {
		t.Errorf("pruned %d, want 1", n)
	}
	if _, ok := claimKey(t, s, idem(1, "new", "h2", authT0.Add(2*time.Hour))); ok {
		t.Error("unexpired record was pruned")
	}
}

func testReserveBeneficiary(t *testing.T, open Opener) {
	h := open(t)
	s := h.Store
	createBeneficiaries(t, s, beneficiary(1, 1), beneficiary(2, 1), beneficiary(3, 2))
	tests := []struct {
		name      string
		acct      int
		hashes    []string
		wantN     int
		wantTaken bool
	}{
		{"two registered, photo free", 1, []string{"pii-00000002:new", "pii-00000001:new"}, 2, false},
		{"photo taken under an older key", 3, []string{"pii-00000002:x", beneficiary(3, 2).PhotoIDHash}, 0, true},
		{"photo taken under the active key", 2, []string{beneficiary(1, 1).PhotoIDHash}, 1, true},
		{"no hashes", 4, nil, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n int
			var taken bool
			inTx(t, s, func(tx vax.Tx) (err error) {
				n, taken, err = tx.ReserveBeneficiary(t.Context(), accountID(tc.acct), tc.hashes)
				return err
			})
			if n != tc.wantN || taken != tc.wantTaken {
				t.Errorf("got count %d taken %v, want %d %v", n, taken, tc.wantN, tc.wantTaken)
			}
		})
	}
	t.Run("invalid account", func(t *testing.T) {
		err := s.InTx(t.Context(), func(tx vax.Tx) error {
			_, _, err := tx.ReserveBeneficiary(t.Context(), "nope", nil)
			return err
		})
		wantCode(t, "invalid account", err, vax.Invalid)
	})
	t.Run("read-only", func(t *testing.T) {
		err := s.View(t.Context(), func(tx vax.Tx) error {
			_, _, err := tx.ReserveBeneficiary(t.Context(), accountID(1), nil)
			return err
		})
		if err == nil {
			t.Errorf("got nil error reserving in a read-only transaction, want one")
		}
	})
	// Concurrent reservations through two handles (two nodes) take turns:
	// each reads what the previous one committed, so a count cap and
	// photo-ID uniqueness across keys hold. The pause between reading and
	// inserting widens the window a missing lock would leave open.
	race := func(t *testing.T, n int, fn func(i int, tx vax.Tx) error) {
		handles := []vax.Store{s, h.Second(t)}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = handles[i%2].InTx(t.Context(), func(tx vax.Tx) error { return fn(i, tx) })
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("reservation %d: %v", i, err)
			}
		}
	}
	t.Run("account cap under concurrency", func(t *testing.T) {
		const limit = 4
		race(t, 10, func(i int, tx vax.Tx) error {
			n, _, err := tx.ReserveBeneficiary(t.Context(), accountID(9), []string{fmt.Sprintf("pii-00000001:cap-%d", i)})
			if err != nil || n >= limit {
				return err
			}
			time.Sleep(20 * time.Millisecond)
			b := beneficiary(100+i, 9)
			b.PhotoIDHash = fmt.Sprintf("pii-00000001:cap-%d", i)
			return tx.CreateBeneficiary(t.Context(), b)
		})
		var got []vax.Beneficiary
		view(t, s, func(tx vax.Tx) (err error) { got, err = tx.BeneficiariesOf(t.Context(), accountID(9)); return err })
		if len(got) != limit {
			t.Errorf("got %d beneficiaries, want %d", len(got), limit)
		}
	})
}

// testCapacityRace lowers a session's capacity while bookings run through
// two handles: whatever the interleaving, booked never exceeds capacity and
// equals the live places.
func testCapacityRace(t *testing.T, open Opener) {
	const seats, attempts = 60, 120
	h := open(t)
	s := h.Store
	seed(t, s)
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]
	se := session(1, cid, day0)
	se.Capacity1 = seats
	createSessions(t, s, se)
	handles := []vax.Store{s, h.Second(t)}
	var wg sync.WaitGroup
	var other []error
	var mu sync.Mutex
	record := func(err error) {
		code := vax.ErrorCode(err)
		if err != nil && code != vax.Full && code != vax.Conflict {
			mu.Lock()
			other = append(other, err)
			mu.Unlock()
		}
	}
	for n := range attempts {
		wg.Go(func() {
			record(handles[n%2].InTx(t.Context(), func(tx vax.Tx) error {
				return tx.BookAppointment(t.Context(), appointment(n+1, n+1, sessionID(1), benRef(n+1)))
			}))
		})
		if n%10 == 0 {
			want := seats - n/2
			wg.Go(func() {
				record(handles[(n+1)%2].InTx(t.Context(), func(tx vax.Tx) error {
					cur, err := tx.Session(t.Context(), sessionID(1))
					if err != nil {
						return err
					}
					cur.Capacity1 = want
					return tx.UpdateSession(t.Context(), cur)
				}))
			})
		}
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("%d unexpected errors, first: %v", len(other), other[0])
	}
	var live int
	view(t, s, func(tx vax.Tx) error {
		as, err := tx.SessionAppointments(t.Context(), sessionID(1))
		for _, a := range as {
			live += len(a.Live())
		}
		return err
	})
	got := readSession(t, s, sessionID(1))
	if got.Booked1 > got.Capacity1 || got.Booked1 != live {
		t.Errorf("booked1 %d, capacity1 %d, live places %d; want booked1 <= capacity1 and booked1 == live", got.Booked1, got.Capacity1, live)
	}
}

// bookFunc books a batch, in a transaction of its own.
type bookFunc func(s vax.Store, ctx context.Context, as []vax.Appointment, ms []vax.OutboxMessage) ([]bool, error)

func testBookAppointments(t *testing.T, open Opener) {
	bookAppointmentsContract(t, open, func(s vax.Store, ctx context.Context, as []vax.Appointment, ms []vax.OutboxMessage) ([]bool, error) {
		var booked []bool
		err := s.InTx(ctx, func(tx vax.Tx) (err error) { booked, err = tx.BookAppointments(ctx, as, ms); return err })
		return booked, err
	})
}

func testStoreBookAppointments(t *testing.T, open Opener) {
	bookAppointmentsContract(t, open, vax.Store.BookAppointments)
}

// bookAppointmentsContract is the contract of Tx.BookAppointments and
// Store.BookAppointments, booking with book.
func bookAppointmentsContract(t *testing.T, open Opener, book bookFunc) {
	s := bookingStore(t, open, 4)
	// Seats 4: the 3-seat appointment fits, the 2-seat one then does not,
	// the 1-seat one after it still does.
	as := []vax.Appointment{
		appointment(1, 1, sessionID(1), benRef(1), benRef(2), benRef(3)),
		appointment(2, 2, sessionID(1), benRef(4), benRef(5)),
		appointment(3, 3, sessionID(1), benRef(6)),
	}
	ms := []vax.OutboxMessage{message(101, authT0), message(102, authT0), message(103, authT0)}
	got, err := book(s, t.Context(), as, ms)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]bool{true, false, true}, got); d != "" {
		t.Errorf("booked (-want +got):\n%s", d)
	}
	for i, a := range as {
		stored, err := readAppointment(t, s, a.ID)
		_, merr := readMessage(t, s, ms[i].ID)
		if !got[i] {
			wantCode(t, "appointment left out", err, vax.NotFound)
			wantCode(t, "message of an appointment left out", merr, vax.NotFound)
			continue
		}
		if err != nil || merr != nil {
			t.Fatalf("booked appointment %d: %v, its message: %v", i, err, merr)
		}
		if d := cmp.Diff(storedAppointment(a), stored); d != "" {
			t.Errorf("stored appointment (-want +got):\n%s", d)
		}
	}
	if m, err := readMessage(t, s, ms[0].ID); err != nil || !cmp.Equal(storedMessage(ms[0]), m) {
		t.Errorf("message: got %+v (%v), want %+v", m, err, storedMessage(ms[0]))
	}
	if se := readSession(t, s, sessionID(1)); se.Booked1 != 4 {
		t.Errorf("booked1 %d, want 4", se.Booked1)
	}
	if cs := changeKeys(allChanges(t, s)); len(cs) == 0 || cs[len(cs)-1] != sessionID(1) {
		t.Errorf("changes: got %v, want the session last", cs)
	}

	full := []vax.Appointment{appointment(4, 4, sessionID(1), benRef(7))}
	if got, err = book(s, t.Context(), full, nil); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]bool{false}, got); d != "" {
		t.Errorf("full session: booked (-want +got):\n%s", d)
	}
	for name, c := range map[string]struct {
		as   []vax.Appointment
		ms   []vax.OutboxMessage
		want vax.Code
	}{
		"live place for the dose": {[]vax.Appointment{appointment(5, 5, sessionID(2), benRef(1))}, nil, vax.Conflict},
		"id taken":                {[]vax.Appointment{appointment(1, 5, sessionID(2), benRef(8))}, nil, vax.Conflict},
		"unknown session":         {[]vax.Appointment{appointment(6, 5, sessionID(99), benRef(8))}, nil, vax.NotFound},
		"two sessions": {[]vax.Appointment{appointment(7, 5, sessionID(2), benRef(8)),
			appointment(8, 5, sessionID(1), benRef(9))}, nil, vax.Invalid},
		"messages miscounted": {[]vax.Appointment{appointment(9, 5, sessionID(2), benRef(8))}, ms, vax.Invalid},
	} {
		_, err := book(s, t.Context(), c.as, c.ms)
		wantCode(t, name, err, c.want)
	}
	if se := readSession(t, s, sessionID(2)); se.Booked1 != 0 {
		t.Errorf("after refusals: session 2 booked1 %d, want 0", se.Booked1)
	}
	if _, err := readAppointment(t, s, apptID(5)); vax.ErrorCode(err) != vax.NotFound {
		t.Errorf("refused batch (a live place taken): its appointment reads %v, want NotFound", err)
	}
}

func testBookingFacts(t *testing.T, open Opener) {
	s := bookingStore(t, open, 10)
	b1, b2 := beneficiary(1, 1), beneficiary(2, 2)
	createBeneficiaries(t, s, b1, b2)
	book(t, s, appointment(1, 1, sessionID(1), b1.Ref))
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateAccount(t.Context(), account(1)) })
	// Recorded out of dose order; a dose of a ref not asked about is left out.
	cid := readSession(t, s, sessionID(1)).CentreID
	second, first := dose(1, b1.Ref, 2, cid), dose(2, b1.Ref, 1, cid)
	recordDoses(t, s, second, dose(3, benRef(5), 1, cid), first)
	var f vax.BookingFacts
	view(t, s, func(tx vax.Tx) (err error) {
		f, err = tx.BookingFacts(t.Context(), []string{b1.Ref, b2.Ref, benRef(3)})
		return err
	})
	want := vax.BookingFacts{
		Beneficiaries: map[string]vax.Beneficiary{b1.Ref: storedBeneficiary(b1), b2.Ref: storedBeneficiary(b2)},
		LiveDoses:     map[string][]int{b1.Ref: {1}},
		Accounts:      map[string]vax.Account{strings.ToLower(accountID(1)): storedAccount(account(1))},
		Doses:         map[string][]vax.Dose{b1.Ref: {storedDose(first), storedDose(second)}},
	}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("facts (-want +got):\n%s", d)
	}
}

func testRead(t *testing.T, open Opener) {
	s := bookingStore(t, open, 4)
	b := beneficiary(1, 1)
	createBeneficiaries(t, s, b)
	var se vax.Session
	var f vax.BookingFacts
	err := s.Read(t.Context(), func(tx vax.Tx) (err error) {
		if se, err = tx.Session(t.Context(), sessionID(1)); err != nil {
			return err
		}
		f, err = tx.BookingFacts(t.Context(), []string{b.Ref})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if se.Capacity1 != 4 || !cmp.Equal(f.Beneficiaries[b.Ref], storedBeneficiary(b)) {
		t.Errorf("read session %+v and facts %+v; want the session's 4 seats and beneficiary %s", se, f, b.Ref)
	}
	err = s.Read(t.Context(), func(tx vax.Tx) error {
		return tx.CreateBeneficiary(t.Context(), beneficiary(2, 1))
	})
	if err == nil {
		t.Error("a write in Read: got no error, want one")
	}
	err = s.Read(t.Context(), func(tx vax.Tx) error {
		_, err := tx.Beneficiary(t.Context(), beneficiary(2, 1).Ref)
		return err
	})
	wantCode(t, "the refused write's row", err, vax.NotFound)
}
