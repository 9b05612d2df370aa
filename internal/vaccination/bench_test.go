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

// BenchmarkRecordDose records dose 1 for distinct beneficiaries from 32
// concurrent tablets, each dose with its certificate, lot decrement,
// ChangeDose event and reminder SMS, as on the record day (~470 doses/s in its busiest hour).
// "bare-tx" is the baseline of the same run: a transaction that only
// appends a change, the floor of any durable write. "one-lot" draws every
// dose from one lot (its row is a queue); "16-centres" spreads them over
// 16 centres with a lot each, as a country's load is. PostgreSQL runs when
// VAXPORT_TEST_POSTGRES is set.
func BenchmarkRecordDose(b *testing.B) {
	for _, st := range stores {
		b.Run(st.Name+"/bare-tx", func(b *testing.B) {
			e := newEnv(b, st.Open)
			var next atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					key := fmt.Sprint(next.Add(1))
					err := e.store.InTx(b.Context(), func(tx vax.Tx) error { return tx.AppendChange(b.Context(), vax.ChangeDose, key) })
					if err != nil {
						b.Errorf("append: %v", err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
		})
		for _, centres := range []int{1, 16, 48} {
			name := "one-lot"
			if centres > 1 {
				name = fmt.Sprintf("%d-centres", centres)
			}
			b.Run(st.Name+"/"+name, func(b *testing.B) {
				e := newEnv(b, st.Open)
				acct := e.account(b, 1)
				ids := benchCentres(b, e, centres)
				by := e.staff(b, 100, vax.Staff{Role: vax.RoleVaccinator, CentreIDs: ids})
				refs := benchBeneficiaries(b, e, acct, b.N)
				var next atomic.Int64
				b.SetParallelism(16)
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1) - 1
						_, _, err := e.svc.RecordDose(b.Context(), by, vaccination.DoseRequest{Ref: refs[i], Vaccine: "COVISHIELD",
							Lot: "BENCH", Dose: 1, CentreID: ids[int(i)%len(ids)]})
						if err != nil {
							b.Errorf("record: %v", err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "doses/s")
			})
		}
	}
}

// benchCentres returns n centres, each with a large COVISHIELD lot "BENCH":
// centre A, then new ones.
func benchCentres(b *testing.B, e *env, n int) []int64 {
	ids := []int64{e.a}
	e.inTx(b, func(ctx context.Context, tx vax.Tx) error {
		for len(ids) < n {
			id, err := tx.CreateCentre(ctx, vax.Centre{Name: fmt.Sprintf("Bench Centre %d", len(ids)), Address: "Road", StateID: 17,
				DistrictID: 307, BlockName: "Kochi", Pincode: 682011, From: "09:00:00", To: "17:00:00", FeeType: vax.Free})
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		for _, id := range ids {
			err := tx.CreateLot(ctx, vax.Lot{CentreID: id, Number: "BENCH", Vaccine: "COVISHIELD",
				Manufacturer: "Serum Institute of India", Expiry: today.AddDays(365), Received: 10_000_000, CreatedAt: t0})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return ids
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
