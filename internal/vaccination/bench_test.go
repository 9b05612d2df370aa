package vaccination_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/vaccination"
	"github.com/vaxport/vaxport/internal/vax"
)

// BenchmarkRecordDose records dose 1 for distinct beneficiaries from
// concurrent tablets, each dose with its lot decrement, ChangeDose event and
// reminder SMS, as on the record day (~470 doses/s in its busiest hour).
// PostgreSQL runs when VAXPORT_TEST_POSTGRES is set.
func BenchmarkRecordDose(b *testing.B) {
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			e := newEnv(b, st.open)
			acct := e.account(b, 1)
			e.inTx(b, func(ctx context.Context, tx vax.Tx) error {
				return tx.CreateLot(ctx, vax.Lot{CentreID: e.a, Number: "BENCH", Vaccine: "COVISHIELD",
					Manufacturer: "Serum Institute of India", Expiry: today.AddDays(365), Received: 10_000_000, CreatedAt: t0})
			})
			refs := benchBeneficiaries(b, e, acct, b.N)
			var next atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ref := refs[next.Add(1)-1]
					_, _, err := e.svc.RecordDose(b.Context(), e.vaccA, vaccination.DoseRequest{Ref: ref, Vaccine: "COVISHIELD", Lot: "BENCH", Dose: 1})
					if err != nil {
						b.Errorf("record: %v", err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "doses/s")
		})
	}
}

// benchBeneficiaries stores n beneficiaries of one account directly, 1000
// per transaction.
func benchBeneficiaries(b *testing.B, e *env, acct string, n int) []string {
	refs := make([]string, n)
	for i := range refs {
		body := fmt.Sprintf("%013d", 1_000_000_000_000+i)
		refs[i] = body + string(vax.VerhoeffDigit(body))
	}
	for lo := 0; lo < n; lo += 1000 {
		e.inTx(b, func(ctx context.Context, tx vax.Tx) error {
			for i := lo; i < min(lo+1000, n); i++ {
				err := tx.CreateBeneficiary(ctx, vax.Beneficiary{Ref: refs[i], AccountID: acct, Name: "Bench Person",
					BirthYear: 1990, GenderID: 1, PhotoIDType: 1, PhotoIDHash: fmt.Sprintf("bench:%d", i),
					PhotoIDSealed: []byte{1}, PhotoIDLast4: "0000", CreatedAt: t0})
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	return refs
}
