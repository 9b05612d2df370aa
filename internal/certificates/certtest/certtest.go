// Package certtest builds a certificate service with one vaccinated
// beneficiary on a fresh SQLite store, for the API surfaces' tests.
package certtest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

// Fixture is a certificate service where Account(1)'s beneficiary Ref has
// had one dose of Covishield (provisional certificate) at Now.
type Fixture struct {
	Service  *certificates.Service
	Material *issuer.Material
	Ref      string
	Now      time.Time
}

// Account returns the n-th test account id.
func Account(n int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", n) }

// New builds a Fixture; everything it opens is closed at t's cleanup.
func New(t testing.TB) Fixture {
	t.Helper()
	now := time.Date(2021, 6, 1, 10, 0, 0, 0, time.UTC)
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, now.AddDate(0, -1, 0))
	if err != nil {
		t.Fatal(err)
	}
	m, err := issuer.Build(keys, "https://vaxport.example")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vaxport.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	svc, err := certificates.New(certificates.Config{Store: st, Keys: keys,
		Material: func() *issuer.Material { return m }, Clock: vax.NewManualClock(now),
		VerifyURL: "https://vaxport.example/verify"})
	if err != nil {
		t.Fatal(err)
	}
	body := "1000000000001"
	b := vax.Beneficiary{Ref: body + string(vax.VerhoeffDigit(body)), AccountID: Account(1), Name: "Asha Sharma",
		BirthYear: 1985, PhotoIDType: 1, PhotoIDHash: "test:1", PhotoIDSealed: []byte{1}, PhotoIDLast4: "1234", CreatedAt: now}
	d := vax.Dose{ID: "50000000-0000-4000-8000-000000000001", Ref: b.Ref, Dose: 1, Vaccine: masterdata.Covishield,
		Lot: "L1", VaccinatorID: "40000000-0000-4000-8000-000000000001", AdministeredAt: now, RecordedAt: now}
	d.CentreID = backendtest.KochiCentre(t, st)
	err = st.InTx(t.Context(), func(tx vax.Tx) error {
		ctx := t.Context()
		if err := tx.CreateBeneficiary(ctx, b); err != nil {
			return err
		}
		if err := tx.RecordDose(ctx, d); err != nil {
			return err
		}
		return svc.Issue(ctx, tx, b.Ref)
	})
	if err != nil {
		t.Fatal(err)
	}
	return Fixture{Service: svc, Material: m, Ref: b.Ref, Now: now}
}
