package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/vax"
)

// certT0 is when the first test certificate is issued.
var certT0 = time.Date(2021, 6, 1, 10, 0, 0, 0, time.UTC)

// certID returns the n-th test certificate id.
func certID(n int) string { return fmt.Sprintf("60000000-0000-4000-8000-%012d", n) }

// certificate returns certificate n of ref attesting doses, issued n
// minutes after certT0 (with a fraction of a second the store drops).
func certificate(n int, ref string, doses int, final bool) vax.Certificate {
	return vax.Certificate{ID: certID(n), Ref: ref, Doses: doses, Final: final,
		IssuedAt: certT0.Add(time.Duration(n)*time.Minute + 300*time.Millisecond)}
}

func issue(t *testing.T, s vax.Store, cs ...vax.Certificate) {
	t.Helper()
	insertAll(t, s, cs, func(tx vax.Tx, c vax.Certificate) error { return tx.IssueCertificate(t.Context(), c) })
}

func readCertificate(t *testing.T, s vax.Store, id string) (c vax.Certificate, err error) {
	t.Helper()
	err = s.View(t.Context(), func(tx vax.Tx) error { c, err = tx.Certificate(t.Context(), id); return err })
	return c, err
}

func currentCertificate(t *testing.T, s vax.Store, ref string) (c vax.Certificate, err error) {
	t.Helper()
	err = s.View(t.Context(), func(tx vax.Tx) error { c, err = tx.CurrentCertificate(t.Context(), ref); return err })
	return c, err
}

func superseded(t *testing.T, s vax.Store, since time.Time, limit int) []vax.Certificate {
	t.Helper()
	return mustGet(t, s, func(tx vax.Tx) ([]vax.Certificate, error) {
		return tx.SupersededCertificates(t.Context(), since, limit)
	})
}

// storedCertificate is c as a store returns it once by superseded it (nil:
// still current).
func storedCertificate(c vax.Certificate, by *vax.Certificate) vax.Certificate {
	c.IssuedAt = whole(c.IssuedAt)
	if by != nil {
		c.SupersededBy, c.SupersededAt = by.ID, whole(by.IssuedAt)
	}
	return c
}

func testIssueCertificate(t *testing.T, open Opener) {
	s := newStore(t, open)
	first := certificate(1, benRef(1), 1, false)
	issue(t, s, first)
	got, err := readCertificate(t, s, first.ID)
	if err != nil {
		t.Fatalf("Certificate: %v", err)
	}
	if d := cmp.Diff(storedCertificate(first, nil), got); d != "" {
		t.Errorf("issued certificate (-want +got):\n%s", d)
	}
	second := certificate(2, benRef(1), 2, true)
	other := certificate(3, benRef(2), 1, false)
	issue(t, s, second, other)
	for _, want := range []vax.Certificate{
		storedCertificate(first, &second), storedCertificate(second, nil), storedCertificate(other, nil),
	} {
		got, err := readCertificate(t, s, want.ID)
		if err != nil {
			t.Fatalf("Certificate(%s): %v", want.ID, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("certificate %s (-want +got):\n%s", want.ID, d)
		}
	}

	sameID := certificate(4, benRef(1), 3, true)
	sameID.ID = other.ID
	bad := func(f func(*vax.Certificate)) vax.Certificate {
		c := certificate(5, benRef(1), 3, true)
		f(&c)
		return c
	}
	for name, c := range map[string]struct {
		c    vax.Certificate
		want vax.Code
	}{
		"id taken":        {sameID, vax.Conflict},
		"id not a UUID":   {bad(func(c *vax.Certificate) { c.ID = "x" }), vax.Invalid},
		"no doses":        {bad(func(c *vax.Certificate) { c.Doses = 0 }), vax.Invalid},
		"bad ref":         {bad(func(c *vax.Certificate) { c.Ref = "12345" }), vax.Invalid},
		"superseded":      {bad(func(c *vax.Certificate) { c.SupersededBy = certID(1) }), vax.Invalid},
		"no issuing time": {bad(func(c *vax.Certificate) { c.IssuedAt = time.Time{} }), vax.Invalid},
	} {
		err := txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.IssueCertificate(ctx, c.c) })
		wantCode(t, name, err, c.want)
	}
	// A refused issue leaves the current certificate current, even when the
	// caller goes on and commits.
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error {
		wantCode(t, "id taken, committed", tx.IssueCertificate(ctx, sameID), vax.Conflict)
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if got, err := currentCertificate(t, s, benRef(1)); err != nil || got.ID != second.ID {
		t.Errorf("current of %s after refused issues = %s, %v; want %s", benRef(1), got.ID, err, second.ID)
	}
	err = s.View(t.Context(), func(tx vax.Tx) error {
		return tx.IssueCertificate(t.Context(), certificate(6, benRef(3), 1, false))
	})
	if err == nil {
		t.Error("IssueCertificate in View: got no error")
	}
	t.Run("race", func(t *testing.T) { testIssueCertificateRace(t, open) })
}

// testIssueCertificateRace issues many certificates for one beneficiary at
// once from two handles: each must supersede exactly the one before it, so
// that one stays current and the rest form one chain.
func testIssueCertificateRace(t *testing.T, open Opener) {
	const n, workers = 60, 8
	h := open(t)
	s := h.Store
	handles := []vax.Store{s, h.Second(t)}
	ref := benRef(1)
	next := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range workers {
		wg.Go(func() {
			for i := range next {
				errs <- handles[w%2].InTx(t.Context(), func(tx vax.Tx) error {
					return tx.IssueCertificate(t.Context(), certificate(i, ref, 1, false))
				})
			}
		})
	}
	for i := 1; i <= n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("IssueCertificate: %v", err)
		}
	}
	cur, err := currentCertificate(t, s, ref)
	if err != nil {
		t.Fatalf("CurrentCertificate: %v", err)
	}
	// Follow the chain backwards from the current one: every certificate
	// is superseded by exactly one other, and all n are on it.
	by := map[string]string{} // superseder -> superseded
	for _, c := range superseded(t, s, time.Time{}, 0) {
		if prev, dup := by[c.SupersededBy]; dup {
			t.Fatalf("%s superseded both %s and %s", c.SupersededBy, prev, c.ID)
		}
		by[c.SupersededBy] = c.ID
	}
	seen := 1
	for id := cur.ID; by[id] != ""; id = by[id] {
		seen++
	}
	if seen != n || len(by) != n-1 {
		t.Errorf("chain from the current certificate has %d certificates, %d supersessions; want %d, %d", seen, len(by), n, n-1)
	}
}

func testCurrentCertificate(t *testing.T, open Opener) {
	s := newStore(t, open)
	_, err := currentCertificate(t, s, benRef(1))
	wantCode(t, "none issued", err, vax.NotFound)
	a, b := certificate(1, benRef(1), 1, false), certificate(2, benRef(1), 2, true)
	issue(t, s, a)
	issue(t, s, b)
	got, err := currentCertificate(t, s, benRef(1))
	if err != nil {
		t.Fatalf("CurrentCertificate: %v", err)
	}
	if d := cmp.Diff(storedCertificate(b, nil), got); d != "" {
		t.Errorf("current certificate (-want +got):\n%s", d)
	}
	if !got.Current() {
		t.Error("current certificate: Current() = false")
	}
	_, err = currentCertificate(t, s, benRef(2))
	wantCode(t, "another beneficiary", err, vax.NotFound)
}

func testCertificate(t *testing.T, open Opener) {
	s := newStore(t, open)
	issue(t, s, certificate(1, benRef(1), 1, false))
	for _, id := range []string{certID(9), "not-a-uuid"} {
		_, err := readCertificate(t, s, id)
		wantCode(t, "certificate "+id, err, vax.NotFound)
	}
}

func testSupersededCertificates(t *testing.T, open Opener) {
	s := newStore(t, open)
	if got := superseded(t, s, time.Time{}, 0); len(got) != 0 {
		t.Errorf("no supersessions yet: got %d", len(got))
	}
	// Certificates 1..3 of one beneficiary, 4..5 of another, 6 of a third:
	// 1, 2 and 4 are superseded, at the issue times of 2, 3 and 5.
	c := []vax.Certificate{{},
		certificate(1, benRef(1), 1, false), certificate(2, benRef(1), 1, false), certificate(3, benRef(1), 2, true),
		certificate(4, benRef(2), 1, false), certificate(5, benRef(2), 2, true), certificate(6, benRef(3), 1, false),
	}
	// 5 is issued at the same second as 3, so 2 and 4 are superseded at
	// the same time and are listed by id.
	c[5].IssuedAt = c[3].IssuedAt
	issue(t, s, c[1], c[4])
	issue(t, s, c[2], c[6])
	issue(t, s, c[3], c[5])
	all := []vax.Certificate{storedCertificate(c[1], &c[2]), storedCertificate(c[2], &c[3]), storedCertificate(c[4], &c[5])}
	for _, tc := range []struct {
		name  string
		since time.Time
		limit int
		want  []vax.Certificate
	}{
		{"all", time.Time{}, 0, all},
		{"limit", time.Time{}, 2, all[:2]},
		{"after the first", c[2].IssuedAt, 0, all[1:]},
		{"within the first second", whole(c[2].IssuedAt).Add(-time.Millisecond), 0, all},
		{"at the last second", whole(c[3].IssuedAt), 0, nil},
	} {
		got := superseded(t, s, tc.since, tc.limit)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
}
