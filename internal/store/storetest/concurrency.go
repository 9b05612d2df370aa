package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vaxport/vaxport/internal/vax"
)

// testConcurrency runs writers and readers at once, through two handles on
// one database, and checks that every committed write and change is there
// exactly once.
func testConcurrency(t *testing.T, open Opener) {
	const writers, perWriter = 8, 20
	h := open(t)
	s := h.Store
	seed(t, s)
	handles := []vax.Store{s, h.Second(t)}
	cid := createCentres(t, s, centre(0, ernakulam, 682001))[0]

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				n := w*perWriter + i + 1
				err := handles[w%2].InTx(ctx, func(tx vax.Tx) error {
					se := session(n, cid, day0.AddDays(n%7))
					if err := tx.CreateSession(ctx, se); err != nil {
						return err
					}
					return tx.AppendChange(ctx, vax.ChangeSession, se.ID)
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d, session %d: %w", w, n, err)
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	done := make(chan struct{})
	for r := range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				s := handles[r%2]
				err := s.View(ctx, func(tx vax.Tx) error {
					_, err := tx.Sessions(ctx, vax.SessionQuery{CentreID: cid})
					return err
				})
				if err == nil {
					_, err = s.Changes(ctx, 0, 50)
				}
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	var want []string
	for n := 1; n <= writers*perWriter; n++ {
		want = append(want, sessionID(n))
	}
	got := sessionIDs(listSessions(t, s, vax.SessionQuery{}))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sessions (-want +got):\n%s", diff)
	}

	cs := allChanges(t, s)
	for i := 1; i < len(cs); i++ {
		if cs[i].Seq <= cs[i-1].Seq {
			t.Errorf("change %d Seq %d after %d: want unique, increasing", i, cs[i].Seq, cs[i-1].Seq)
		}
	}
	keys := changeKeys(cs)
	slices.Sort(keys)
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("change keys, sorted (-want +got):\n%s", diff)
	}
}
