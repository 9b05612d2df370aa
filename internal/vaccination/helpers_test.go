package vaccination_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/sms/outbox/outboxtest"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vaccination"
	"github.com/vaxport/vaxport/internal/vax"
)

var ist = time.FixedZone("IST", 5*3600+1800)

// t0 is 10:00 IST on 1 June 2021, when every test starts.
var t0 = time.Date(2021, time.June, 1, 10, 0, 0, 0, ist)

var today = vax.DateOf(t0, ist)

type opener = backendtest.Opener

// stores are the stores every test runs on.
var stores = backendtest.All

// env is a vaccination service on a fresh store with two centres in two
// districts, lots, staff and a booking service to book with.
type env struct {
	store    vax.Store
	keys     *keyring.Keyring
	clock    *vax.ManualClock
	booking  *booking.Service
	svc      *vaccination.Service
	a, b     int64 // centres: A in district 307, B in district 308
	notified int

	vaccA, vaccB, vaccAB, facilityA, suspended, districtA, districtB, stateAdmin vax.Staff
	doseHook                                                                     func(vax.Dose) error
}

func mobileAAD(id string) []byte { return []byte("test mobile|" + strings.ToLower(id)) }

func (e *env) openMobile(sealed []byte, id string) (string, error) {
	b, err := e.keys.OpenSealed(sealed, mobileAAD(id))
	return string(b), err
}

func newEnv(t testing.TB, open opener) *env {
	t.Helper()
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, t0)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	e := &env{store: open(t), keys: keys, clock: vax.NewManualClock(t0)}
	mobile := func(a vax.Account) (string, error) { return e.openMobile(a.MobileSealed, a.ID) }
	e.booking, err = booking.New(booking.Config{Store: e.store, Keys: keys, Clock: e.clock,
		Rules: booking.Rules{Location: ist}, Mobile: mobile, MaxBatch: 1})
	if err != nil {
		t.Fatalf("booking.New: %v", err)
	}
	material, err := issuer.Build(keys, "https://vaxport.example")
	if err != nil {
		t.Fatalf("issuer: %v", err)
	}
	certs, err := certificates.New(certificates.Config{Store: e.store, Keys: keys, Clock: e.clock, Location: ist,
		Material: func() *issuer.Material { return material }})
	if err != nil {
		t.Fatalf("certificates.New: %v", err)
	}
	e.svc, err = vaccination.New(vaccination.Config{
		Store: e.store, Keys: keys, Clock: e.clock, Location: ist,
		Interval: e.booking.Rules().Interval,
		Account:  e.ensureAccount, Register: e.booking.Register, Mobile: mobile,
		StaffMobile: func(s vax.Staff) (string, error) { return e.openMobile(s.MobileSealed, s.ID) },
		Certify: func(doses []vax.Dose, series vax.Vaccine) (*vax.Certificate, error) {
			if e.doseHook != nil {
				if err := e.doseHook(doses[len(doses)-1]); err != nil {
					return nil, err
				}
			}
			return certs.Certify(doses, series)
		},
		Notify: func() { e.notified++ },
	})
	if err != nil {
		t.Fatalf("vaccination.New: %v", err)
	}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error {
		if err := tx.PutState(ctx, vax.State{ID: 17, Name: "Kerala"}); err != nil {
			return err
		}
		for _, d := range []vax.District{{ID: 307, StateID: 17, Name: "Ernakulam"}, {ID: 308, StateID: 17, Name: "Idukki"}} {
			if err := tx.PutDistrict(ctx, d); err != nil {
				return err
			}
		}
		for _, v := range masterdata.Vaccines() {
			if err := tx.PutVaccine(ctx, v); err != nil {
				return err
			}
		}
		var err error
		e.a, err = tx.CreateCentre(ctx, vax.Centre{Name: "General Hospital", Address: "MG Road", StateID: 17,
			DistrictID: 307, BlockName: "Kochi", Pincode: 682011, From: "09:00:00", To: "17:00:00", FeeType: vax.Free})
		if err != nil {
			return err
		}
		e.b, err = tx.CreateCentre(ctx, vax.Centre{Name: "Taluk Hospital", Address: "Main Road", StateID: 17,
			DistrictID: 308, BlockName: "Thodupuzha", Pincode: 685584, From: "09:00:00", To: "17:00:00", FeeType: vax.Free})
		if err != nil {
			return err
		}
		year := today.AddDays(365)
		for _, l := range []vax.Lot{
			{CentreID: e.a, Number: "A-CS-1", Vaccine: "COVISHIELD", Expiry: year, Received: 1000},
			{CentreID: e.a, Number: "A-CX-1", Vaccine: "COVAXIN", Expiry: year, Received: 1000},
			{CentreID: e.a, Number: "A-OLD", Vaccine: "COVISHIELD", Expiry: today.AddDays(-1), Received: 1000},
			{CentreID: e.a, Number: "A-EMPTY", Vaccine: "COVISHIELD", Expiry: year, Received: 0},
			{CentreID: e.b, Number: "B-CS-1", Vaccine: "COVISHIELD", Expiry: year, Received: 1000},
		} {
			l.Manufacturer, l.CreatedAt = "Serum Institute of India", t0
			if err := tx.CreateLot(ctx, l); err != nil {
				return fmt.Errorf("lot %s: %w", l.Number, err)
			}
		}
		return nil
	})
	e.vaccA = e.staff(t, 1, vax.Staff{Role: vax.RoleVaccinator, CentreIDs: []int64{e.a}})
	e.vaccB = e.staff(t, 2, vax.Staff{Role: vax.RoleVaccinator, CentreIDs: []int64{e.b}})
	e.vaccAB = e.staff(t, 3, vax.Staff{Role: vax.RoleVaccinator, CentreIDs: []int64{e.a, e.b}})
	e.facilityA = e.staff(t, 4, vax.Staff{Role: vax.RoleFacilityAdmin, CentreIDs: []int64{e.a}})
	e.suspended = e.staff(t, 5, vax.Staff{Role: vax.RoleVaccinator, CentreIDs: []int64{e.a}, Status: vax.StaffSuspended})
	e.districtA = e.staff(t, 6, vax.Staff{Role: vax.RoleDistrictAdmin, DistrictID: 307, StateID: 17})
	e.districtB = e.staff(t, 7, vax.Staff{Role: vax.RoleDistrictAdmin, DistrictID: 308, StateID: 17})
	e.stateAdmin = e.staff(t, 8, vax.Staff{Role: vax.RoleStateAdmin, StateID: 17})
	return e
}

func (e *env) inTx(t testing.TB, fn func(ctx context.Context, tx vax.Tx) error) {
	t.Helper()
	if err := e.store.InTx(t.Context(), func(tx vax.Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// staff stores staff member n (mobile 91234xxxxx) with s's role and scope.
func (e *env) staff(t testing.TB, n int, s vax.Staff) vax.Staff {
	t.Helper()
	s.ID = fmt.Sprintf("20000000-0000-4000-8000-%012d", n)
	s.Name = fmt.Sprintf("Staff %d", n)
	mobile := fmt.Sprintf("91234%05d", n)
	sealed, err := e.keys.Seal([]byte(mobile), mobileAAD(s.ID))
	if err != nil {
		t.Fatal(err)
	}
	s.MobileHash, s.MobileSealed, s.MobileLast4 = e.keys.Hash(mobile).String(), sealed, mobile[6:]
	if s.Status == "" {
		s.Status = vax.StaffActive
	}
	s.CreatedAt, s.UpdatedAt = t0, t0
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return tx.CreateStaff(ctx, s) })
	return s
}

// ensureAccount is auth.Service.EnsureAccount's stand-in: the account of a
// number, created if need be.
func (e *env) ensureAccount(ctx context.Context, tx vax.Tx, mobile string) (vax.Account, bool, error) {
	var hashes []string
	for _, h := range e.keys.Hashes(mobile) {
		hashes = append(hashes, h.String())
	}
	a, err := tx.AccountByMobile(ctx, hashes)
	if err == nil || !errors.Is(err, vax.ErrNotFound) {
		return a, false, err
	}
	id := fmt.Sprintf("30000000-0000-4000-8000-%s00", mobile)
	sealed, err := e.keys.Seal([]byte(mobile), mobileAAD(id))
	if err != nil {
		return vax.Account{}, false, err
	}
	a = vax.Account{ID: id, MobileHash: hashes[0], MobileSealed: sealed, MobileLast4: mobile[6:], CreatedAt: t0}
	return a, true, tx.CreateAccount(ctx, a)
}

// account creates the account of mobile 98765xxxxx for n.
func (e *env) account(t testing.TB, n int) string {
	t.Helper()
	var id string
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error {
		a, _, err := e.ensureAccount(ctx, tx, fmt.Sprintf("98765%05d", n))
		id = a.ID
		return err
	})
	return id
}

// aadhaar returns a valid 12-digit Aadhaar-like number for n.
func aadhaar(n int) string {
	body := fmt.Sprintf("%011d", 20000000000+n)
	return body + string(vax.VerhoeffDigit(body))
}

func person(n int) booking.NewBeneficiary {
	return booking.NewBeneficiary{Name: fmt.Sprintf("Person %c", 'A'+n%26), BirthYear: 1990, GenderID: 1,
		PhotoIDType: 1, PhotoIDNumber: aadhaar(n)}
}

// beneficiary registers person(n) under a new account n.
func (e *env) beneficiary(t testing.TB, n int) string {
	t.Helper()
	b, err := e.booking.AddBeneficiary(t.Context(), e.account(t, n), person(n))
	if err != nil {
		t.Fatalf("add beneficiary %d: %v", n, err)
	}
	return b.Ref
}

// session creates an open COVISHIELD session n today at centre c.
func (e *env) session(t testing.TB, n int, c int64) string {
	t.Helper()
	se := vax.Session{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), CentreID: c, Date: today, Vaccine: "COVISHIELD",
		MinAge: 18, Capacity1: 100, Capacity2: 100, Slots: []string{"09:00AM-11:00AM"}, Status: vax.SessionOpen}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return tx.CreateSession(ctx, se) })
	return se.ID
}

// book books ref's dose 1 into session and returns the appointment id and
// the secret code.
func (e *env) book(t testing.TB, ref, session string) (string, string) {
	t.Helper()
	var b vax.Beneficiary
	e.inTx(t, func(ctx context.Context, tx vax.Tx) (err error) { b, err = tx.Beneficiary(ctx, ref); return err })
	a, err := e.booking.Schedule(t.Context(), b.AccountID, booking.ScheduleRequest{Dose: 1, SessionID: session,
		Slot: "09:00AM-11:00AM", Refs: []string{ref}})
	if err != nil {
		t.Fatalf("schedule: %v", err)
	}
	code, err := e.keys.OpenSealed(a.Beneficiaries[0].SecretSealed, booking.SecretAAD(a.ID, ref))
	if err != nil {
		t.Fatalf("open secret: %v", err)
	}
	return a.ID, string(code)
}

// dose is a request for dose n of COVISHIELD from lot A-CS-1 at centre A.
func (e *env) dose(ref string, n int) vaccination.DoseRequest {
	return vaccination.DoseRequest{Ref: ref, Vaccine: "COVISHIELD", Lot: "A-CS-1", Dose: n}
}

func (e *env) record(t testing.TB, by vax.Staff, r vaccination.DoseRequest) vax.Dose {
	t.Helper()
	d, created, err := e.svc.RecordDose(t.Context(), by, r)
	if err != nil || !created {
		t.Fatalf("record dose: got created %v, %v", created, err)
	}
	return d
}

func (e *env) lot(t testing.TB, c int64, number string) vax.Lot {
	t.Helper()
	var l vax.Lot
	e.inTx(t, func(ctx context.Context, tx vax.Tx) (err error) { l, err = tx.Lot(ctx, c, number); return err })
	return l
}

func (e *env) doses(t testing.TB, ref string) []vax.Dose {
	t.Helper()
	var ds []vax.Dose
	e.inTx(t, func(ctx context.Context, tx vax.Tx) (err error) { ds, err = tx.DosesOf(ctx, ref); return err })
	return ds
}

// changes returns the keys of the ChangeDose changes.
func (e *env) changes(t testing.TB) []string {
	t.Helper()
	cs, err := e.store.Changes(t.Context(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range cs {
		if c.Kind == vax.ChangeDose {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

// messages returns every pending outbox message due within a year (the
// reminders included), in clear; they stay pending.
func (e *env) messages(t testing.TB) []outboxtest.Pending {
	t.Helper()
	return outboxtest.All(t, e.store, e.keys, t0.AddDate(1, 0, 0))
}

// wantReason fails unless err carries code and reason.
func wantReason(t testing.TB, what string, err error, code vax.Code, reason string) {
	t.Helper()
	if vax.ErrorCode(err) != code || vax.ErrorReason(err) != reason {
		t.Errorf("%s: got %v (code %s, reason %q), want %s %s", what, err, vax.ErrorCode(err), vax.ErrorReason(err), code, reason)
	}
}

// eachStore runs test against SQLite, and PostgreSQL when
// VAXPORT_TEST_POSTGRES is set.
func eachStore(t *testing.T, test func(t *testing.T, open opener)) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) { test(t, st.Open) })
	}
}
