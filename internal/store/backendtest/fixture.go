package backendtest

import (
	"context"
	"testing"

	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/vax"
)

// KochiCentre puts the master data most tests need into st — Kerala (17),
// its district Ernakulam (307) and every vaccine — and one free centre in
// it, "General Hospital" in Kochi (PIN 682011), whose id it returns.
func KochiCentre(t testing.TB, st vax.Store) int64 {
	t.Helper()
	var id int64
	err := st.InTx(context.Background(), func(tx vax.Tx) error {
		ctx := context.Background()
		if err := tx.PutState(ctx, vax.State{ID: 17, Name: "Kerala"}); err != nil {
			return err
		}
		if err := tx.PutDistrict(ctx, vax.District{ID: 307, StateID: 17, Name: "Ernakulam"}); err != nil {
			return err
		}
		for _, v := range masterdata.Vaccines() {
			if err := tx.PutVaccine(ctx, v); err != nil {
				return err
			}
		}
		var err error
		id, err = tx.CreateCentre(ctx, vax.Centre{Name: "General Hospital", Address: "MG Road", StateID: 17,
			DistrictID: 307, BlockName: "Kochi", Pincode: 682011, From: "09:00:00", To: "17:00:00", FeeType: vax.Free})
		return err
	})
	if err != nil {
		t.Fatalf("master data and a centre: %v", err)
	}
	return id
}
