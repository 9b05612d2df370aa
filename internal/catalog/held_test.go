package catalog_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// TestHeldSessionStatus: only a fair release holds a session and only its
// draw opens it; an admin may edit a held session and may cancel it.
func TestHeldSessionStatus(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.mustCentre(t, freeCentre())
	s := f.mustSession(t, session(c.ID, today().AddDays(2), "COVISHIELD"))

	held := s
	held.Status = vax.SessionHeld
	_, err := f.svc.UpdateSession(ctx, held)
	checkErr(t, err, vax.Conflict, "only a release holds a session")
	held.ID = ""
	_, err = f.svc.CreateSession(ctx, held)
	checkErr(t, err, vax.Invalid, "must be open")

	seed := make([]byte, 32)
	sum := sha256.Sum256(seed)
	err = f.st.InTx(ctx, func(tx vax.Tx) error {
		return tx.CreateRelease(ctx, vax.Release{ID: "20000000-0000-4000-8000-000000000001", SessionIDs: []string{s.ID},
			ReleaseAt: start.Add(24 * time.Hour), Window: 10 * time.Second, Seed: seed, SeedHash: hex.EncodeToString(sum[:]),
			Status: vax.ReleaseScheduled, CreatedBy: "test", CreatedAt: start})
	})
	if err != nil {
		t.Fatalf("hold the session: %v", err)
	}

	edit := s
	edit.Status, edit.Capacity1 = "", 60
	got, err := f.svc.UpdateSession(ctx, edit)
	if err != nil {
		t.Fatalf("edit a held session: %v", err)
	}
	if got.Status != vax.SessionHeld || got.Capacity1 != 60 {
		t.Errorf("edited held session: got %s with %d seats, want held with 60", got.Status, got.Capacity1)
	}
	open := s
	open.Status = vax.SessionOpen
	_, err = f.svc.UpdateSession(ctx, open)
	checkErr(t, err, vax.Conflict, "only its draw opens it")

	cancel := s
	cancel.Status = vax.SessionCancelled
	if got, err := f.svc.UpdateSession(ctx, cancel); err != nil || got.Status != vax.SessionCancelled {
		t.Errorf("cancel a held session: got %s, %v; want cancelled", got.Status, err)
	}
}
