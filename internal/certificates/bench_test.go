package certificates_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// BenchmarkIssue measures doses recorded with their certificates: one
// transaction each that inserts a dose record and issues the certificate,
// as the vaccination service's hook does, from 32 concurrent callers
// (PostgreSQL only when VAXPORT_TEST_POSTGRES is set). Doses 1 and 2 of
// each beneficiary alternate, so half the issues supersede a certificate.
func BenchmarkIssue(b *testing.B) {
	for _, st := range stores {
		b.Run(st.Name, func(b *testing.B) {
			e := newEnv(b, st.Open)
			var next atomic.Int64
			b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := int(next.Add(1))
					ben := vax.Beneficiary{Ref: benRef((n + 1) / 2), AccountID: accountID(1)}
					d := vax.Dose{ID: fmt.Sprintf("50000000-0000-4000-8000-%012d", n), Ref: ben.Ref, Dose: 2 - n%2,
						Vaccine: masterdata.Covishield, Lot: "4121Z025", CentreID: e.centre,
						VaccinatorID: "40000000-0000-4000-8000-000000000001", AdministeredAt: t0, RecordedAt: t0}
					err := e.store.InTx(context.Background(), func(tx vax.Tx) error {
						if err := tx.RecordDose(context.Background(), d); err != nil {
							return err
						}
						return e.svc.Issue(context.Background(), tx, ben.Ref)
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "doses/s")
		})
	}
}

// BenchmarkFor measures serving a certificate that is not cached: the
// reads, building the SMART Health Card and the DCC, and signing both.
func BenchmarkFor(b *testing.B) {
	e := newEnv(b, backendtest.SQLite)
	svc, err := certificates.New(certificates.Config{Store: e.store, Keys: e.keys,
		Material: func() *issuer.Material { return e.material }, Clock: e.clock, Location: ist, CacheEntries: 1})
	if err != nil {
		b.Fatal(err)
	}
	refs := []string{e.beneficiary(b, 1, 1).Ref, e.beneficiary(b, 2, 1).Ref}
	for i, ref := range refs {
		e.vaccinate(b, vax.Beneficiary{Ref: ref, AccountID: accountID(1)}, 1, []string{masterdata.Covishield, masterdata.Covaxin}[i])
	}
	start := time.Now()
	b.ResetTimer()
	for i := range b.N {
		// Two certificates and a one-entry cache: every call signs.
		if _, err := svc.For(b.Context(), accountID(1), refs[i%2]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "certificates/s")
}

// BenchmarkPDF measures rendering a certificate's PDF (signatures cached,
// the PDF not).
func BenchmarkPDF(b *testing.B) {
	e := newEnv(b, backendtest.SQLite)
	svc, err := certificates.New(certificates.Config{Store: e.store, Keys: e.keys,
		Material: func() *issuer.Material { return e.material }, Clock: e.clock, Location: ist, CacheBytes: 1,
		VerifyURL: publicURL + "/verify"})
	if err != nil {
		b.Fatal(err)
	}
	ben := e.beneficiary(b, 1, 1)
	e.vaccinate(b, ben, 1, masterdata.Covishield)
	start := time.Now()
	b.ResetTimer()
	for range b.N {
		if _, err := svc.PDF(b.Context(), accountID(1), ben.Ref); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "PDFs/s")
}
