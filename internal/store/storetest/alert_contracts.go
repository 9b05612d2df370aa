package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/vax"
)

// Stored alert subscriptions.

// alertID returns the n-th test alert subscription id.
func alertID(n int) string { return fmt.Sprintf("50000000-0000-4000-8000-%012d", n) }

// alertSub is subscription n of account acct, to district 307, created
// minutes after authT0.
func alertSub(n, acct, minutes int) vax.AlertSubscription {
	return vax.AlertSubscription{ID: alertID(n), AccountID: accountID(acct), DistrictID: 307, MinAge: 45, Dose: 1,
		Vaccine: "COVISHIELD", CreatedAt: authT0.Add(time.Duration(minutes) * time.Minute)}
}

// storedAlert is s as a store returns it.
func storedAlert(s vax.AlertSubscription) vax.AlertSubscription {
	s.ID, s.AccountID = strings.ToLower(s.ID), strings.ToLower(s.AccountID)
	s.CreatedAt = whole(s.CreatedAt)
	if !s.LastTextedAt.IsZero() {
		s.LastTextedAt = whole(s.LastTextedAt)
	}
	return s
}

func createAlerts(t *testing.T, s vax.Store, subs ...vax.AlertSubscription) {
	t.Helper()
	insertAll(t, s, subs, func(tx vax.Tx, a vax.AlertSubscription) error {
		return tx.CreateAlertSubscription(t.Context(), a)
	})
}

func readAlert(t *testing.T, s vax.Store, id string) (vax.AlertSubscription, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.AlertSubscription, error) { return tx.AlertSubscription(t.Context(), id) })
}

func alertsOf(t *testing.T, s vax.Store, acct string) []vax.AlertSubscription {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.AlertSubscription, error) { return tx.AlertSubscriptionsOf(t.Context(), acct) })
}

// markTexted marks a subscription texted in its own committed transaction.
func markTexted(t *testing.T, s vax.Store, id string, at time.Time, every time.Duration) (bool, error) {
	t.Helper()
	var marked bool
	err := s.InTx(t.Context(), func(tx vax.Tx) (err error) { marked, err = tx.MarkAlertTexted(t.Context(), id, at, every); return err })
	return marked, err
}

// alertChanges returns the keys of the ChangeAlertSubscription changes.
func alertChanges(t *testing.T, s vax.Store) []string {
	t.Helper()
	var keys []string
	for _, c := range allChanges(t, s) {
		if c.Kind == vax.ChangeAlertSubscription {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

func testCreateAlertSubscription(t *testing.T, open Opener) {
	s := newStore(t, open)
	a := alertSub(1, 1, 0)
	pin := vax.AlertSubscription{ID: strings.ToUpper(alertID(2)), AccountID: strings.ToUpper(accountID(1)),
		Pincode: 682001, CreatedAt: authT0}
	createAlerts(t, s, a, pin)
	for _, want := range []vax.AlertSubscription{a, pin} {
		got, err := readAlert(t, s, want.ID)
		if err != nil {
			t.Fatalf("AlertSubscription(%s): %v", want.ID, err)
		}
		if d := cmp.Diff(storedAlert(want), got); d != "" {
			t.Errorf("subscription read back (-want +got):\n%s", d)
		}
		checkStamp(t, "CreatedAt", got.CreatedAt)
	}
	if d := cmp.Diff([]string{alertID(1), alertID(2)}, alertChanges(t, s)); d != "" {
		t.Errorf("alert changes (-want +got):\n%s", d)
	}

	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CreateAlertSubscription(ctx, a) })
	wantCode(t, "CreateAlertSubscription, id taken", err, vax.Conflict)

	bad := map[string]func(*vax.AlertSubscription){
		"id not a UUID":            func(a *vax.AlertSubscription) { a.ID = "x" },
		"account not a UUID":       func(a *vax.AlertSubscription) { a.AccountID = "x" },
		"district and PIN":         func(a *vax.AlertSubscription) { a.Pincode = 682001 },
		"neither district nor PIN": func(a *vax.AlertSubscription) { a.DistrictID = 0 },
		"dose 3":                   func(a *vax.AlertSubscription) { a.Dose = 3 },
		"lower-case vaccine":       func(a *vax.AlertSubscription) { a.Vaccine = "covishield" },
		"no creation time":         func(a *vax.AlertSubscription) { a.CreatedAt = time.Time{} },
		"texted already":           func(a *vax.AlertSubscription) { a.LastTextedAt = authT0 },
	}
	for name, mutate := range bad {
		b := alertSub(3, 1, 0)
		mutate(&b)
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CreateAlertSubscription(ctx, b) })
		wantCode(t, "CreateAlertSubscription, "+name, err, vax.Invalid)
	}

	// The Conflict keeps the transaction usable, and a rolled-back create
	// leaves nothing.
	err = s.InTx(t.Context(), func(tx vax.Tx) error {
		if err := tx.CreateAlertSubscription(t.Context(), a); !errors.Is(err, vax.ErrConflict) {
			return fmt.Errorf("create a again: got %v, want Conflict", err)
		}
		if err := tx.CreateAlertSubscription(t.Context(), alertSub(4, 1, 0)); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx = %v, want errStop", err)
	}
	_, err = readAlert(t, s, alertID(4))
	wantCode(t, "AlertSubscription after a rolled-back create", err, vax.NotFound)
	if n := len(alertChanges(t, s)); n != 2 {
		t.Errorf("%d alert changes after refused creates, want 2", n)
	}
}

func testAlertSubscriptionsOf(t *testing.T, open Opener) {
	s := newStore(t, open)
	if got := alertsOf(t, s, accountID(1)); len(got) != 0 {
		t.Errorf("AlertSubscriptionsOf, none: got %v", got)
	}
	// Oldest first, then by id, whatever the insertion order.
	late, early, sameTime, other := alertSub(1, 1, 10), alertSub(3, 1, 0), alertSub(2, 1, 0), alertSub(4, 2, 0)
	createAlerts(t, s, late, early, sameTime, other)
	want := []vax.AlertSubscription{storedAlert(sameTime), storedAlert(early), storedAlert(late)}
	if d := cmp.Diff(want, alertsOf(t, s, accountID(1))); d != "" {
		t.Errorf("AlertSubscriptionsOf(1) (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, alertsOf(t, s, strings.ToUpper(accountID(1)))); d != "" {
		t.Errorf("AlertSubscriptionsOf(upper-case id) (-want +got):\n%s", d)
	}
	if got := alertsOf(t, s, "not-a-uuid"); len(got) != 0 {
		t.Errorf("AlertSubscriptionsOf(not a UUID): got %v, want none", got)
	}

	t.Run("cap race", func(t *testing.T) { testAlertCapRace(t, open) })
}

// testAlertCapRace creates subscriptions for one account from many
// transactions at once, each counting first and creating only under a cap
// of 3: the account ends with exactly 3.
func testAlertCapRace(t *testing.T, open Opener) {
	const capacity, writers = 3, 8
	h := open(t)
	handles := []vax.Store{h.Store, h.Second(t)}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			<-start
			errs <- handles[i%2].InTx(t.Context(), func(tx vax.Tx) error {
				have, err := tx.AlertSubscriptionsOf(t.Context(), accountID(1))
				if err != nil {
					return err
				}
				if len(have) >= capacity {
					return vax.Errorf(vax.RateLimited, "full")
				}
				return tx.CreateAlertSubscription(t.Context(), alertSub(10+i, 1, i))
			})
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, vax.ErrRateLimited) {
			t.Fatalf("create under a cap: %v", err)
		}
	}
	if n := len(alertsOf(t, h.Store, accountID(1))); n != capacity {
		t.Errorf("account has %d subscriptions after racing creates, want %d", n, capacity)
	}
}

func testAlertSubscriptions(t *testing.T, open Opener) {
	s := newStore(t, open)
	var none []vax.AlertSubscription
	view(t, s, func(tx vax.Tx) (err error) { none, err = tx.AlertSubscriptions(t.Context()); return err })
	if len(none) != 0 {
		t.Errorf("AlertSubscriptions, none: got %v", none)
	}
	subs := []vax.AlertSubscription{alertSub(3, 1, 0), alertSub(1, 2, 5), alertSub(2, 1, 9)}
	createAlerts(t, s, subs...)
	if _, err := markTexted(t, s, alertID(1), authT0.Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("MarkAlertTexted: %v", err)
	}
	var got []vax.AlertSubscription
	view(t, s, func(tx vax.Tx) (err error) { got, err = tx.AlertSubscriptions(t.Context()); return err })
	texted := storedAlert(subs[1])
	texted.LastTextedAt = whole(authT0.Add(time.Hour))
	want := []vax.AlertSubscription{texted, storedAlert(subs[2]), storedAlert(subs[0])}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("AlertSubscriptions (-want +got):\n%s", d)
	}
}

func testAlertSubscription(t *testing.T, open Opener) {
	s := newStore(t, open)
	a := alertSub(1, 1, 0)
	createAlerts(t, s, a)
	if got, err := readAlert(t, s, strings.ToUpper(a.ID)); err != nil || cmp.Diff(storedAlert(a), got) != "" {
		t.Errorf("AlertSubscription(upper-case id) = %+v, %v; want the subscription", got, err)
	}
	if got, err := readAlert(t, s, a.ID); err != nil || !got.LastTextedAt.IsZero() {
		t.Errorf("AlertSubscription = %+v, %v; want it never texted", got, err)
	}
	_, err := readAlert(t, s, alertID(2))
	wantCode(t, "AlertSubscription, unknown", err, vax.NotFound)
	_, err = readAlert(t, s, "not-a-uuid")
	wantCode(t, "AlertSubscription, not a UUID", err, vax.NotFound)
}

func testDeleteAlertSubscription(t *testing.T, open Opener) {
	s := newStore(t, open)
	a, b := alertSub(1, 1, 0), alertSub(2, 1, 1)
	createAlerts(t, s, a, b)

	// A rolled-back delete leaves it.
	err := s.InTx(t.Context(), func(tx vax.Tx) error {
		if err := tx.DeleteAlertSubscription(t.Context(), a.ID); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx = %v, want errStop", err)
	}
	if _, err := readAlert(t, s, a.ID); err != nil {
		t.Errorf("AlertSubscription after a rolled-back delete: %v", err)
	}

	inTx(t, s, func(tx vax.Tx) error { return tx.DeleteAlertSubscription(t.Context(), strings.ToUpper(a.ID)) })
	_, err = readAlert(t, s, a.ID)
	wantCode(t, "AlertSubscription after delete", err, vax.NotFound)
	if d := cmp.Diff([]vax.AlertSubscription{storedAlert(b)}, alertsOf(t, s, accountID(1))); d != "" {
		t.Errorf("AlertSubscriptionsOf after deleting a (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{alertID(1), alertID(2), alertID(1)}, alertChanges(t, s)); d != "" {
		t.Errorf("alert changes (-want +got):\n%s", d)
	}

	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.DeleteAlertSubscription(ctx, a.ID) })
	wantCode(t, "DeleteAlertSubscription again", err, vax.NotFound)
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.DeleteAlertSubscription(ctx, "x") })
	wantCode(t, "DeleteAlertSubscription, not a UUID", err, vax.NotFound)
}

func testMarkAlertTexted(t *testing.T, open Opener) {
	h := open(t)
	s := h.Store
	a, b := alertSub(1, 1, 0), alertSub(2, 1, 0)
	createAlerts(t, s, a, b)
	const every = 30 * time.Minute
	t0 := authT0.Add(time.Hour) // authT0 has a fraction of a second: the store keeps whole seconds
	steps := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"never texted", t0, true},
		{"again at once", t0, false},
		{"within every", t0.Add(every - time.Second), false},
		{"a clock behind", t0.Add(-time.Hour), false},
		{"every later", t0.Add(every), true},
		{"long after", t0.Add(5 * every), true},
	}
	var last time.Time
	for _, st := range steps {
		got, err := markTexted(t, s, a.ID, st.at, every)
		if err != nil || got != st.want {
			t.Errorf("%s: MarkAlertTexted = %v, %v; want %v", st.name, got, err, st.want)
		}
		if st.want {
			last = whole(st.at)
		}
		if got, err := readAlert(t, s, a.ID); err != nil || !got.LastTextedAt.Equal(last) {
			t.Errorf("%s: LastTextedAt = %v, %v; want %v", st.name, got.LastTextedAt, err, last)
		} else {
			checkStamp(t, "LastTextedAt", got.LastTextedAt)
		}
	}
	// Each mark that won recorded a change; the others none. b is untouched.
	if d := cmp.Diff([]string{alertID(1), alertID(2), alertID(1), alertID(1), alertID(1)}, alertChanges(t, s)); d != "" {
		t.Errorf("alert changes (-want +got):\n%s", d)
	}
	if got, err := readAlert(t, s, b.ID); err != nil || !got.LastTextedAt.IsZero() {
		t.Errorf("b after marking a: %+v, %v; want never texted", got, err)
	}

	// A rolled-back mark leaves the subscription as it was.
	err := s.InTx(t.Context(), func(tx vax.Tx) error {
		if ok, err := tx.MarkAlertTexted(t.Context(), b.ID, t0, every); err != nil || !ok {
			return fmt.Errorf("mark b: %v, %v", ok, err)
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx = %v, want errStop", err)
	}
	if got, err := markTexted(t, s, b.ID, t0, every); err != nil || !got {
		t.Errorf("MarkAlertTexted(b) after a rolled-back mark = %v, %v; want true", got, err)
	}

	_, err = markTexted(t, s, alertID(3), t0, every)
	wantCode(t, "MarkAlertTexted, unknown", err, vax.NotFound)
	_, err = markTexted(t, s, "not-a-uuid", t0, every)
	wantCode(t, "MarkAlertTexted, not a UUID", err, vax.NotFound)
	_, err = markTexted(t, s, a.ID, t0.Add(10*every), 0)
	wantCode(t, "MarkAlertTexted, every 0", err, vax.Invalid)

	t.Run("race", func(t *testing.T) { testMarkAlertTextedRace(t, h) })
}

// testMarkAlertTextedRace marks one subscription at the same time from
// many transactions on two handles, as the nodes that see one release do:
// exactly one is told true each round.
func testMarkAlertTextedRace(t *testing.T, h Handles) {
	const rounds, markers = 10, 8
	const every = 30 * time.Minute
	handles := []vax.Store{h.Store, h.Second(t)}
	sub := alertSub(100, 1, 0)
	createAlerts(t, h.Store, sub)
	for round := range rounds {
		at := authT0.Add(time.Duration(round+1) * every)
		start := make(chan struct{})
		type result struct {
			marked bool
			err    error
		}
		results := make(chan result, markers)
		var wg sync.WaitGroup
		for i := range markers {
			wg.Go(func() {
				<-start
				var r result
				r.err = handles[i%2].InTx(t.Context(), func(tx vax.Tx) (err error) {
					r.marked, err = tx.MarkAlertTexted(t.Context(), sub.ID, at, every)
					return err
				})
				results <- r
			})
		}
		close(start)
		wg.Wait()
		close(results)
		won := 0
		for r := range results {
			if r.err != nil {
				t.Fatalf("round %d: MarkAlertTexted: %v", round, r.err)
			}
			if r.marked {
				won++
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d marks won, want exactly 1", round, won)
		}
	}
}
