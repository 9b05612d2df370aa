package certificates_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

var ist = time.FixedZone("IST", 5*3600+1800)

// t0 is 10:00 IST on 1 June 2021, when every test starts.
var t0 = time.Date(2021, time.June, 1, 10, 0, 0, 0, ist)

const publicURL = "https://vaxport.example"

type opener = backendtest.Opener

// stores are the stores every test runs on.
var stores = backendtest.All

// env is a certificate service on a fresh store with one centre.
type env struct {
	store    vax.Store
	keys     *keyring.Keyring
	material *issuer.Material
	clock    *vax.ManualClock
	svc      *certificates.Service
	centre   int64
	doses    int // dose ids drawn
}

func newEnv(t testing.TB, open opener) *env {
	t.Helper()
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, t0.AddDate(0, -1, 0))
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	m, err := issuer.Build(keys, publicURL)
	if err != nil {
		t.Fatalf("issuer.Build: %v", err)
	}
	e := &env{store: open(t), keys: keys, material: m, clock: vax.NewManualClock(t0)}
	e.svc, err = certificates.New(certificates.Config{Store: e.store, Keys: keys,
		Material: func() *issuer.Material { return e.material }, Clock: e.clock, Location: ist,
		VerifyURL: publicURL + "/verify"})
	if err != nil {
		t.Fatalf("certificates.New: %v", err)
	}
	e.centre = backendtest.KochiCentre(t, e.store)
	return e
}

func (e *env) inTx(t testing.TB, fn func(ctx context.Context, tx vax.Tx) error) {
	t.Helper()
	if err := e.store.InTx(t.Context(), func(tx vax.Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

func accountID(n int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", n) }

func benRef(n int) string {
	body := fmt.Sprintf("%013d", 1_000_000_000_000+n)
	return body + string(vax.VerhoeffDigit(body))
}

// beneficiary registers beneficiary n under account acct.
func (e *env) beneficiary(t testing.TB, n, acct int) vax.Beneficiary {
	t.Helper()
	b := vax.Beneficiary{Ref: benRef(n), AccountID: accountID(acct), Name: "Asha Devi Sharma", BirthYear: 1985,
		GenderID: 2, PhotoIDType: 1, PhotoIDHash: fmt.Sprintf("test:photo-%d", n), PhotoIDSealed: []byte{1},
		PhotoIDLast4: "1234", CreatedAt: t0}
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return tx.CreateBeneficiary(ctx, b) })
	return b
}

// dose returns dose n of b with vaccine, given now.
func (e *env) dose(b vax.Beneficiary, n int, vaccine string) vax.Dose {
	e.doses++
	now := e.clock.Now()
	return vax.Dose{ID: fmt.Sprintf("50000000-0000-4000-8000-%012d", e.doses), Ref: b.Ref, Dose: n, Vaccine: vaccine,
		Lot: "4121Z025", CentreID: e.centre, VaccinatorID: "40000000-0000-4000-8000-000000000001",
		AdministeredAt: now, RecordedAt: now}
}

// vaccinate records dose n of b and issues its certificate in one
// transaction, as the vaccination service does.
func (e *env) vaccinate(t testing.TB, b vax.Beneficiary, n int, vaccine string) {
	t.Helper()
	d := e.dose(b, n, vaccine)
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error {
		if err := tx.RecordDose(ctx, d); err != nil {
			return err
		}
		return e.svc.Issue(ctx, tx, b.Ref)
	})
}

func (e *env) current(t testing.TB, ref string) vax.Certificate {
	t.Helper()
	var c vax.Certificate
	err := e.store.View(t.Context(), func(tx vax.Tx) (err error) { c, err = tx.CurrentCertificate(t.Context(), ref); return err })
	if err != nil {
		t.Fatalf("CurrentCertificate: %v", err)
	}
	return c
}
