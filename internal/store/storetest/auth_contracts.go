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

// Accounts, OTP transactions and revocations.

// ist is India's zone: inputs in it must come back in UTC.
var ist = time.FixedZone("IST", 5*3600+1800)

// authT0 is a time with a fraction of a second, in IST.
var authT0 = time.Date(2021, time.May, 1, 12, 0, 0, 700_000_000, ist)

// whole is t as stores keep non-outbox times: UTC, whole seconds.
func whole(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// accountID returns the n-th test account id.
func accountID(n int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", n) }

// txnID returns the n-th test OTP txn id.
func txnID(n int) string { return fmt.Sprintf("20000000-0000-4000-8000-%012d", n) }

func account(n int) vax.Account {
	return vax.Account{
		ID:           accountID(n),
		MobileHash:   fmt.Sprintf("pii-0000000%d:hash-%d", n%10, n),
		MobileSealed: []byte{1, 2, 3, byte(n)},
		MobileLast4:  fmt.Sprintf("%04d", n),
		CreatedAt:    authT0,
	}
}

func otpTxn(n int, mobileHash string, created time.Time) vax.OTPTxn {
	return vax.OTPTxn{
		ID:           txnID(n),
		MobileHash:   mobileHash,
		MobileSealed: []byte{9, 8, 7, byte(n)},
		CodeHash:     fmt.Sprintf("pii-00000001:code-%d", n),
		CreatedAt:    created,
		ExpiresAt:    created.Add(3 * time.Minute),
	}
}

// storedOTP is o as a store returns it.
func storedOTP(o vax.OTPTxn) vax.OTPTxn {
	o.ID = strings.ToLower(o.ID)
	o.CreatedAt, o.ExpiresAt = whole(o.CreatedAt), whole(o.ExpiresAt)
	if !o.UsedAt.IsZero() {
		o.UsedAt = whole(o.UsedAt)
	}
	return o
}

func storedAccount(a vax.Account) vax.Account {
	a.ID = strings.ToLower(a.ID)
	a.CreatedAt = whole(a.CreatedAt)
	return a
}

func readAccount(t *testing.T, s vax.Store, id string) (vax.Account, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.Account, error) { return tx.Account(t.Context(), id) })
}

func readOTP(t *testing.T, s vax.Store, id string) (vax.OTPTxn, error) {
	t.Helper()
	return get(t, s, func(tx vax.Tx) (vax.OTPTxn, error) { return tx.OTPTxn(t.Context(), id) })
}

func testCreateAccount(t *testing.T, open Opener) {
	s := newStore(t, open)
	a := account(1)
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateAccount(t.Context(), a) })
	got, err := readAccount(t, s, a.ID)
	if err != nil {
		t.Fatalf("Account: %v", err)
	}
	if diff := cmp.Diff(storedAccount(a), got); diff != "" {
		t.Errorf("account read back (-want +got):\n%s", diff)
	}
	checkStamp(t, "CreatedAt", got.CreatedAt)

	// An upper-case id is kept in lower case, as UUIDs are compared.
	upper := account(2)
	upper.ID = strings.ToUpper("1000000a-0000-4000-8000-00000000000b")
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateAccount(t.Context(), upper) })
	if got, err := readAccount(t, s, strings.ToLower(upper.ID)); err != nil || got.ID != strings.ToLower(upper.ID) {
		t.Errorf("Account(lower-case id) = %q, %v; want the account, id in lower case", got.ID, err)
	}

	sameID := account(3)
	sameID.ID = a.ID
	sameMobile := account(4)
	sameMobile.MobileHash = a.MobileHash
	badID := account(5)
	badID.ID = "not-a-uuid"
	for _, tc := range []struct {
		name string
		a    vax.Account
		want vax.Code
	}{
		{"taken id", sameID, vax.Conflict},
		{"taken mobile hash", sameMobile, vax.Conflict},
		{"id not a UUID", badID, vax.Invalid},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CreateAccount(ctx, tc.a) })
		wantCode(t, "CreateAccount, "+tc.name, err, tc.want)
	}
	// The refused ones left nothing behind.
	if _, err := readAccount(t, s, accountID(4)); err == nil {
		t.Errorf("account with a taken mobile hash: found, want none")
	}
	// A rolled-back creation leaves nothing.
	err = s.InTx(t.Context(), func(tx vax.Tx) error {
		if err := tx.CreateAccount(t.Context(), account(6)); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx: got %v, want errStop", err)
	}
	if _, err := readAccount(t, s, accountID(6)); err == nil {
		t.Errorf("rolled-back account: found, want none")
	}
}

func testAccount(t *testing.T, open Opener) {
	s := newStore(t, open)
	for _, id := range []string{accountID(1), "nope", ""} {
		_, err := readAccount(t, s, id)
		wantCode(t, fmt.Sprintf("Account(%q) in an empty store", id), err, vax.NotFound)
	}
	a := account(1)
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateAccount(t.Context(), a) })
	// Found in a read-write transaction too.
	inTx(t, s, func(tx vax.Tx) error {
		got, err := tx.Account(t.Context(), a.ID)
		if err == nil && got.MobileLast4 != a.MobileLast4 {
			t.Errorf("Account in InTx: got last4 %q, want %q", got.MobileLast4, a.MobileLast4)
		}
		return err
	})
	_, err := readAccount(t, s, accountID(2))
	wantCode(t, "Account(other id)", err, vax.NotFound)
}

func testAccountByMobile(t *testing.T, open Opener) {
	s := newStore(t, open)
	a, b := account(1), account(2)
	inTx(t, s, func(tx vax.Tx) error {
		if err := tx.CreateAccount(t.Context(), a); err != nil {
			return err
		}
		return tx.CreateAccount(t.Context(), b)
	})
	find := func(hashes []string) (vax.Account, error) {
		var got vax.Account
		err := s.View(t.Context(), func(tx vax.Tx) (err error) {
			got, err = tx.AccountByMobile(t.Context(), hashes)
			return err
		})
		return got, err
	}
	// The number hashed under a newer key first, then the key a was
	// hashed with: the lookup finds a.
	got, err := find([]string{"pii-99999999:newer", a.MobileHash})
	if err != nil {
		t.Fatalf("AccountByMobile: %v", err)
	}
	if diff := cmp.Diff(storedAccount(a), got); diff != "" {
		t.Errorf("AccountByMobile (-want +got):\n%s", diff)
	}
	if got, err := find([]string{b.MobileHash}); err != nil || got.ID != b.ID {
		t.Errorf("AccountByMobile(b) = %q, %v; want %q", got.ID, err, b.ID)
	}
	for _, hashes := range [][]string{nil, {}, {"pii-99999999:absent"}} {
		_, err := find(hashes)
		wantCode(t, fmt.Sprintf("AccountByMobile(%q)", hashes), err, vax.NotFound)
	}
}

func testCreateOTPTxn(t *testing.T, open Opener) {
	s := newStore(t, open)
	o := otpTxn(1, "pii-00000001:m1", authT0)
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateOTPTxn(t.Context(), o) })
	got, err := readOTP(t, s, o.ID)
	if err != nil {
		t.Fatalf("OTPTxn: %v", err)
	}
	if diff := cmp.Diff(storedOTP(o), got); diff != "" {
		t.Errorf("txn read back (-want +got):\n%s", diff)
	}
	if !got.UsedAt.IsZero() || got.Attempts != 0 {
		t.Errorf("new txn: got used %v, attempts %d; want unused, 0", got.UsedAt, got.Attempts)
	}
	// Attempts and a use time given at creation are kept.
	used := otpTxn(2, "pii-00000001:m1", authT0)
	used.Attempts, used.UsedAt = 2, authT0.Add(time.Minute)
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateOTPTxn(t.Context(), used) })
	if got, err := readOTP(t, s, used.ID); err != nil || !cmp.Equal(storedOTP(used), got) {
		t.Errorf("used txn read back = %+v, %v; want %+v", got, err, storedOTP(used))
	}

	bad := otpTxn(3, "pii-00000001:m1", authT0)
	bad.ID = "123"
	for _, tc := range []struct {
		name string
		o    vax.OTPTxn
		want vax.Code
	}{
		{"taken id", otpTxn(1, "pii-00000001:other", authT0), vax.Conflict},
		{"id not a UUID", bad, vax.Invalid},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.CreateOTPTxn(ctx, tc.o) })
		wantCode(t, "CreateOTPTxn, "+tc.name, err, tc.want)
	}
	if got, err := readOTP(t, s, o.ID); err != nil || got.MobileHash != o.MobileHash {
		t.Errorf("after a refused duplicate: got %+v, %v; want the first txn unchanged", got, err)
	}
}

func testOTPTxn(t *testing.T, open Opener) {
	h := open(t)
	s := h.Store
	for _, id := range []string{txnID(1), "x"} {
		_, err := readOTP(t, s, id)
		wantCode(t, fmt.Sprintf("OTPTxn(%q) in an empty store", id), err, vax.NotFound)
	}
	o := otpTxn(1, "pii-00000001:m1", authT0)
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateOTPTxn(t.Context(), o) })

	// Concurrent read-then-update transactions on one txn, through two
	// handles, never lose an update: the row is locked once read.
	const workers, each = 4, 5
	handles := []vax.Store{s, h.Second(t)}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for range each {
				err := handles[w%2].InTx(t.Context(), func(tx vax.Tx) error {
					cur, err := tx.OTPTxn(t.Context(), o.ID)
					if err != nil {
						return err
					}
					cur.Attempts++
					return tx.UpdateOTPTxn(t.Context(), cur)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("increment attempts: %v", err)
	}
	got, err := readOTP(t, s, o.ID)
	if err != nil {
		t.Fatalf("OTPTxn: %v", err)
	}
	if got.Attempts != workers*each {
		t.Errorf("attempts after %d concurrent increments = %d, want %d (an update was lost)", workers*each, got.Attempts, workers*each)
	}
}

func testUpdateOTPTxn(t *testing.T, open Opener) {
	s := newStore(t, open)
	o := otpTxn(1, "pii-00000001:m1", authT0)
	inTx(t, s, func(tx vax.Tx) error { return tx.CreateOTPTxn(t.Context(), o) })
	// Only Attempts and UsedAt change, whatever else the argument says.
	upd := o
	upd.Attempts, upd.UsedAt = 3, authT0.Add(90*time.Second)
	upd.MobileHash, upd.CodeHash, upd.ExpiresAt = "pii-00000001:other", "pii-00000001:other", authT0
	upd.MobileSealed = []byte("other")
	inTx(t, s, func(tx vax.Tx) error { return tx.UpdateOTPTxn(t.Context(), upd) })
	want := storedOTP(o)
	want.Attempts, want.UsedAt = 3, whole(upd.UsedAt)
	if got, err := readOTP(t, s, o.ID); err != nil || !cmp.Equal(want, got) {
		t.Errorf("after UpdateOTPTxn: got %+v, %v; want %+v", got, err, want)
	}
	// Back to unused.
	upd.UsedAt = time.Time{}
	inTx(t, s, func(tx vax.Tx) error { return tx.UpdateOTPTxn(t.Context(), upd) })
	if got, err := readOTP(t, s, o.ID); err != nil || !got.UsedAt.IsZero() {
		t.Errorf("UsedAt after clearing: got %v, %v; want zero", got.UsedAt, err)
	}
	for _, id := range []string{txnID(2), "x"} {
		missing := otpTxn(0, "h", authT0)
		missing.ID = id
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.UpdateOTPTxn(ctx, missing) })
		wantCode(t, fmt.Sprintf("UpdateOTPTxn(%q)", id), err, vax.NotFound)
	}
}

func testOTPTxnsByMobile(t *testing.T, open Opener) {
	h := open(t)
	s := h.Store
	const m1, m1old, m2 = "pii-00000002:m1", "pii-00000001:m1", "pii-00000002:m2"
	txns := []vax.OTPTxn{
		otpTxn(1, m1old, authT0),
		otpTxn(2, m1, authT0.Add(time.Minute)),
		otpTxn(3, m2, authT0.Add(time.Minute)),
		otpTxn(4, m1, authT0.Add(2*time.Minute)),
		otpTxn(5, m1, authT0.Add(time.Minute)), // same time as 2: by id
	}
	inTx(t, s, func(tx vax.Tx) error {
		for _, o := range txns {
			if err := tx.CreateOTPTxn(t.Context(), o); err != nil {
				return err
			}
		}
		return nil
	})
	list := func(hashes []string, since time.Time) []string {
		var ids []string
		view(t, s, func(tx vax.Tx) error {
			got, err := tx.OTPTxnsByMobile(t.Context(), hashes, since)
			for _, o := range got {
				ids = append(ids, o.ID)
			}
			return err
		})
		return ids
	}
	for _, tc := range []struct {
		name   string
		hashes []string
		since  time.Time
		want   []string
	}{
		{"both keys, all", []string{m1, m1old}, authT0.Add(-time.Hour), []string{txnID(1), txnID(2), txnID(5), txnID(4)}},
		{"one key", []string{m1}, authT0.Add(-time.Hour), []string{txnID(2), txnID(5), txnID(4)}},
		// since is inclusive: the txns stamped authT0+1m (whole seconds:
		// 12:01:00) are at or after 12:01:00.
		{"since, inclusive", []string{m1, m1old}, whole(authT0.Add(time.Minute)), []string{txnID(2), txnID(5), txnID(4)}},
		{"since, within a second", []string{m1, m1old}, whole(authT0.Add(time.Minute)).Add(time.Millisecond), []string{txnID(4)}},
		{"other number", []string{m2}, time.Time{}, []string{txnID(3)}},
		{"unknown", []string{"pii-00000002:none"}, time.Time{}, nil},
		{"no hashes", nil, time.Time{}, nil},
	} {
		if diff := cmp.Diff(tc.want, list(tc.hashes, tc.since), cmpEmpty); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}

	// Concurrent "send if fewer than 3 so far" transactions for one number,
	// through two handles: the lock makes exactly 3 succeed.
	const limit, workers = 3, 8
	handles := []vax.Store{s, h.Second(t)}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			err := handles[w%2].InTx(t.Context(), func(tx vax.Tx) error {
				got, err := tx.OTPTxnsByMobile(t.Context(), []string{"pii-00000002:m9"}, time.Time{})
				if err != nil || len(got) >= limit {
					return err
				}
				return tx.CreateOTPTxn(t.Context(), otpTxn(100+w, "pii-00000002:m9", authT0))
			})
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("capped send: %v", err)
	}
	if got := list([]string{"pii-00000002:m9"}, time.Time{}); len(got) != limit {
		t.Errorf("txns after %d concurrent capped sends = %d, want %d", workers, len(got), limit)
	}
}

func testDeleteOTPTxns(t *testing.T, open Opener) {
	s := newStore(t, open)
	inTx(t, s, func(tx vax.Tx) error {
		for i := range 4 {
			if err := tx.CreateOTPTxn(t.Context(), otpTxn(i+1, "pii-00000001:m", authT0.Add(time.Duration(i)*time.Hour))); err != nil {
				return err
			}
		}
		return nil
	})
	var n int64
	// Before 14:00:00.5 IST removes the 12:00, 13:00 and 14:00 txns.
	inTx(t, s, func(tx vax.Tx) (err error) {
		n, err = tx.DeleteOTPTxns(t.Context(), whole(authT0.Add(2*time.Hour)).Add(500*time.Millisecond))
		return err
	})
	if n != 3 {
		t.Errorf("DeleteOTPTxns = %d, want 3", n)
	}
	for i := range 4 {
		_, err := readOTP(t, s, txnID(i+1))
		if i < 3 {
			wantCode(t, fmt.Sprintf("deleted txn %d", i+1), err, vax.NotFound)
		} else if err != nil {
			t.Errorf("kept txn %d: %v", i+1, err)
		}
	}
	inTx(t, s, func(tx vax.Tx) (err error) { n, err = tx.DeleteOTPTxns(t.Context(), authT0); return err })
	if n != 0 {
		t.Errorf("second DeleteOTPTxns = %d, want 0", n)
	}
}

func revocations(t *testing.T, s vax.Store, after time.Time) []vax.Revocation {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.Revocation, error) { return tx.Revocations(t.Context(), after) })
}

func testRevokeToken(t *testing.T, open Opener) {
	s := newStore(t, open)
	later := authT0.Add(15 * time.Minute)
	inTx(t, s, func(tx vax.Tx) error { return tx.RevokeToken(t.Context(), vax.Revocation{ID: "sid-1", Until: later}) })
	want := []vax.Revocation{{ID: "sid-1", Until: whole(later)}}
	if diff := cmp.Diff(want, revocations(t, s, authT0)); diff != "" {
		t.Errorf("after RevokeToken (-want +got):\n%s", diff)
	}
	// Again with an earlier Until: the later one stays.
	inTx(t, s, func(tx vax.Tx) error { return tx.RevokeToken(t.Context(), vax.Revocation{ID: "sid-1", Until: authT0}) })
	if diff := cmp.Diff(want, revocations(t, s, authT0)); diff != "" {
		t.Errorf("after revoking again, earlier (-want +got):\n%s", diff)
	}
	// Again with a later Until: it moves.
	latest := authT0.Add(time.Hour)
	inTx(t, s, func(tx vax.Tx) error { return tx.RevokeToken(t.Context(), vax.Revocation{ID: "sid-1", Until: latest}) })
	if diff := cmp.Diff([]vax.Revocation{{ID: "sid-1", Until: whole(latest)}}, revocations(t, s, authT0)); diff != "" {
		t.Errorf("after revoking again, later (-want +got):\n%s", diff)
	}
	err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.RevokeToken(ctx, vax.Revocation{Until: later}) })
	wantCode(t, "RevokeToken(empty id)", err, vax.Invalid)
}

func testRevocations(t *testing.T, open Opener) {
	s := newStore(t, open)
	if got := revocations(t, s, time.Time{}); len(got) != 0 {
		t.Errorf("Revocations of a new store = %v, want none", got)
	}
	inTx(t, s, func(tx vax.Tx) error {
		for i, id := range []string{"c", "a", "b"} {
			if err := tx.RevokeToken(t.Context(), vax.Revocation{ID: id, Until: authT0.Add(time.Duration(i) * time.Minute)}); err != nil {
				return err
			}
		}
		return nil
	})
	// Until strictly after: "c" ends at 12:00:00 IST (stored whole).
	for _, tc := range []struct {
		after time.Time
		want  []string
	}{
		{time.Time{}, []string{"a", "b", "c"}},
		{whole(authT0).Add(-time.Millisecond), []string{"a", "b", "c"}},
		{whole(authT0), []string{"a", "b"}},
		{whole(authT0).Add(90 * time.Second), []string{"b"}},
		{authT0.Add(time.Hour), nil},
	} {
		var ids []string
		for _, r := range revocations(t, s, tc.after) {
			ids = append(ids, r.ID)
			checkStamp(t, "Until", r.Until)
		}
		if diff := cmp.Diff(tc.want, ids, cmpEmpty); diff != "" {
			t.Errorf("Revocations(after %v) (-want +got):\n%s", tc.after, diff)
		}
	}
}

func testDeleteRevocations(t *testing.T, open Opener) {
	s := newStore(t, open)
	inTx(t, s, func(tx vax.Tx) error {
		for i, id := range []string{"a", "b", "c"} {
			if err := tx.RevokeToken(t.Context(), vax.Revocation{ID: id, Until: authT0.Add(time.Duration(i) * time.Minute)}); err != nil {
				return err
			}
		}
		return nil
	})
	var n int64
	inTx(t, s, func(tx vax.Tx) (err error) {
		n, err = tx.DeleteRevocations(t.Context(), whole(authT0).Add(time.Minute+time.Millisecond))
		return err
	})
	if n != 2 {
		t.Errorf("DeleteRevocations = %d, want 2", n)
	}
	got := revocations(t, s, time.Time{})
	if len(got) != 1 || got[0].ID != "c" {
		t.Errorf("after DeleteRevocations: got %v, want only c", got)
	}
}
