package booking_test

import (
	"context"
	"sync"
	"testing"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// TestPhotoIDAcrossRotation registers a photo ID, rotates the pii key and
// registers the same number again: the number is still taken.
func TestPhotoIDAcrossRotation(t *testing.T) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			e := newEnv(t, st.Open, booking.Rules{})
			acct, other := e.account(t, 1), e.account(t, 2)
			e.beneficiary(t, acct, 1)
			if _, err := e.keys.Rotate(keyring.KindPII, nil, t0.Add(1)); err != nil {
				t.Fatalf("rotate: %v", err)
			}
			_, err := e.svc.AddBeneficiary(t.Context(), other, person(1))
			wantReason(t, "same photo ID after a key rotation", err, vax.Conflict, booking.ReasonPhotoIDTaken)
			if _, err := e.svc.AddBeneficiary(t.Context(), other, person(2)); err != nil {
				t.Errorf("a new photo ID after a key rotation: %v", err)
			}
		})
	}
}

// TestBeneficiaryCapConcurrent adds many beneficiaries to one account at
// once: exactly the cap is registered and the rest are refused.
func TestBeneficiaryCapConcurrent(t *testing.T) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			const adds = 16
			e := newEnv(t, st.Open, booking.Rules{})
			acct := e.account(t, 1)
			errs := make([]error, adds)
			var wg sync.WaitGroup
			for i := range adds {
				wg.Go(func() { _, errs[i] = e.svc.AddBeneficiary(t.Context(), acct, person(100+i)) })
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case vax.ErrorReason(err) != booking.ReasonTooMany:
					t.Errorf("add: got %v, want success or %s", err, booking.ReasonTooMany)
				}
			}
			var have []vax.Beneficiary
			e.inTx(t, func(ctx context.Context, tx vax.Tx) (err error) {
				have, err = tx.BeneficiariesOf(ctx, acct)
				return err
			})
			if max := e.svc.Rules().MaxBeneficiaries; ok != max || len(have) != max {
				t.Errorf("got %d added, %d stored; want %d each", ok, len(have), max)
			}
		})
	}
}
