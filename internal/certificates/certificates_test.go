package certificates_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/cert"
	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/cert/pdf/pdftest"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/certificates"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// shcCovishield is how a verifier names CVX 210.
var shcCovishield = shc.DisplayName(shc.SystemCVX, "210")

func TestIssue(t *testing.T) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) { testIssue(t, st.Open) })
	}
}

// testIssue: provisional after dose 1 of a two-dose vaccine, final after
// dose 2; what is served verifies against what is published; the first
// certificate is revoked by the CRL once the second supersedes it.
func testIssue(t *testing.T, open opener) {
	e := newEnv(t, open)
	b := e.beneficiary(t, 1, 1)
	e.vaccinate(t, b, 1, masterdata.Covishield)
	first, err := e.svc.For(t.Context(), accountID(1), b.Ref)
	if err != nil {
		t.Fatalf("For after dose 1: %v", err)
	}
	if c := first.Certificate; c.Doses != 1 || c.Final || !c.Current() {
		t.Errorf("after dose 1: doses %d, final %t, current %t; want 1, false, true", c.Doses, c.Final, c.Current())
	}

	e.clock.Advance(84 * 24 * time.Hour)
	e.vaccinate(t, b, 2, masterdata.Covishield)
	second, err := e.svc.For(t.Context(), accountID(1), b.Ref)
	if err != nil {
		t.Fatalf("For after dose 2: %v", err)
	}
	if c := second.Certificate; c.Doses != 2 || !c.Final || c.ID == first.Certificate.ID {
		t.Errorf("after dose 2: doses %d, final %t, id %s; want 2, true, a new id", c.Doses, c.Final, c.ID)
	}

	now := e.clock.Now()
	for _, text := range []string{second.SHC, second.DCC} {
		r := cert.Verify([]byte(text), e.material.Trust, now)
		if !r.Valid {
			t.Fatalf("%.8s…: not valid: %s", text, r.Reason)
		}
		want := []cert.Dose{{Vaccine: "Covishield", Dose: 2, Of: 2, Date: "2021-08-24", Country: "IN", Issuer: certificates.Authority}}
		if r.Format == cert.FormatSHC {
			want = []cert.Dose{
				// CVX files Covishield under AstraZeneca's code (see shc.CVX).
				{Vaccine: shcCovishield, Dose: 1, Date: "2021-06-01", Issuer: "General Hospital"},
				{Vaccine: shcCovishield, Dose: 2, Date: "2021-08-24", Issuer: "General Hospital"},
			}
		}
		if d := cmp.Diff(want, r.Doses); d != "" {
			t.Errorf("%s doses (-want +got):\n%s", r.Format, d)
		}
		if r.Holder == nil || r.Holder.Name == "" || r.Holder.BirthDate != "1985" {
			t.Errorf("%s holder = %+v; want a name born 1985", r.Format, r.Holder)
		}
	}

	// The first certificate was superseded, so the CRL lists it and a
	// verifier holding the CRL reports its card revoked; the second stays
	// valid.
	kid := e.material.JWKS.Keys[0].Kid
	doc, err := e.svc.CRL(t.Context(), kid)
	if err != nil {
		t.Fatalf("CRL: %v", err)
	}
	crl, err := shc.ParseCRL(doc)
	if err != nil {
		t.Fatalf("ParseCRL: %v\n%s", err, doc)
	}
	if crl.Kid != kid || len(crl.Rids) != 1 {
		t.Errorf("CRL = %s; want one rid for kid %s", doc, kid)
	}
	trust := &cert.Trust{}
	bundle, _ := json.Marshal(e.material.Bundle)
	if err := trust.Add("bundle", bundle); err != nil {
		t.Fatal(err)
	}
	if err := trust.Add("crl", doc); err != nil {
		t.Fatal(err)
	}
	if r := cert.Verify([]byte(first.SHC), trust, now); r.Valid || !r.Revoked {
		t.Errorf("first card with the CRL: valid %t, revoked %t (%s); want revoked", r.Valid, r.Revoked, r.Reason)
	}
	if r := cert.Verify([]byte(second.SHC), trust, now); !r.Valid {
		t.Errorf("second card with the CRL: %s; want valid", r.Reason)
	}
	if r := cert.Verify([]byte(first.SHC), e.material.Trust, now); !r.Valid {
		t.Errorf("first card without the CRL: %s; want valid (signature and dates)", r.Reason)
	}
}

func TestFor(t *testing.T) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) { testFor(t, st.Open) })
	}
}

// testFor: only the owner's account gets a certificate; another account
// and an unknown beneficiary get the same refusal.
func testFor(t *testing.T, open opener) {
	e := newEnv(t, open)
	mine, unvaccinated := e.beneficiary(t, 1, 1), e.beneficiary(t, 2, 1)
	e.vaccinate(t, mine, 1, masterdata.Covaxin)
	for _, c := range []struct {
		name, account, ref string
		reason             string
	}{
		{"another account's", accountID(2), mine.Ref, certificates.ReasonNotRegistered},
		{"unknown", accountID(1), benRef(9), certificates.ReasonNotRegistered},
		{"not vaccinated", accountID(1), unvaccinated.Ref, certificates.ReasonNoCertificate},
	} {
		_, err := e.svc.For(t.Context(), c.account, c.ref)
		if vax.ErrorCode(err) != vax.NotFound || vax.ErrorReason(err) != c.reason {
			t.Errorf("For %s: got %v; want NotFound %s", c.name, err, c.reason)
		}
		_, err = e.svc.PDF(t.Context(), c.account, c.ref)
		if vax.ErrorCode(err) != vax.NotFound || vax.ErrorReason(err) != c.reason {
			t.Errorf("PDF %s: got %v; want NotFound %s", c.name, err, c.reason)
		}
	}
	// The answers for another account's and an unknown beneficiary differ
	// only in the reference id asked about.
	_, other := e.svc.For(t.Context(), accountID(2), mine.Ref)
	_, unknown := e.svc.For(t.Context(), accountID(2), benRef(9))
	if got, want := other.Error(), bytes.ReplaceAll([]byte(unknown.Error()), []byte(benRef(9)), []byte(mine.Ref)); got != string(want) {
		t.Errorf("another account's: %q; unknown: %q; want the same words", got, unknown)
	}

	is, err := e.svc.For(t.Context(), accountID(1), mine.Ref)
	if err != nil {
		t.Fatalf("For: %v", err)
	}
	if c := is.Certificate; c.Doses != 1 || c.Final {
		t.Errorf("Covaxin dose 1: doses %d, final %t; want 1, provisional", c.Doses, c.Final)
	}
	again, err := e.svc.For(t.Context(), accountID(1), mine.Ref)
	if err != nil || again.DCC != is.DCC {
		t.Errorf("For again: %v, same DCC %t; want the cached signature", err, again.DCC == is.DCC)
	}
	if uvci, err := certificates.UVCI(is.Certificate.ID); err != nil {
		t.Errorf("UVCI of %s: %q, %v", is.Certificate.ID, uvci, err)
	}
}

func TestCRLUnknownKey(t *testing.T) {
	e := newEnv(t, backendtest.SQLite)
	if _, err := e.svc.CRL(t.Context(), "not-ours"); vax.ErrorCode(err) != vax.NotFound {
		t.Errorf("CRL of an unknown kid: %v; want NotFound", err)
	}
	doc, err := e.svc.CRL(t.Context(), e.material.JWKS.Keys[0].Kid)
	if err != nil {
		t.Fatalf("CRL: %v", err)
	}
	if c, err := shc.ParseCRL(doc); err != nil || len(c.Rids) != 0 {
		t.Errorf("CRL with nothing superseded = %s, %v; want a valid empty list", doc, err)
	}
}

func TestReissue(t *testing.T) {
	e := newEnv(t, backendtest.SQLite)
	b := e.beneficiary(t, 1, 1)
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return e.svc.Issue(ctx, tx, b.Ref) })
	if _, err := e.svc.For(t.Context(), accountID(1), b.Ref); vax.ErrorReason(err) != certificates.ReasonNoCertificate {
		t.Errorf("Reissue with no dose, then For: %v; want no certificate", err)
	}
	e.vaccinate(t, b, 1, masterdata.Covishield)
	old := e.current(t, b.Ref)
	e.clock.Advance(time.Hour)
	e.inTx(t, func(ctx context.Context, tx vax.Tx) error { return e.svc.Issue(ctx, tx, b.Ref) })
	got := e.current(t, b.Ref)
	if got.ID == old.ID || got.Doses != old.Doses || got.Final != old.Final {
		t.Errorf("Reissue: %+v after %+v; want a new certificate of the same doses", got, old)
	}
}

// TestPDF renders the certificate and, when pdftoppm is installed, reads
// both QR codes back from the printed page.
func TestPDF(t *testing.T) {
	e := newEnv(t, backendtest.SQLite)
	b := e.beneficiary(t, 1, 1)
	e.vaccinate(t, b, 1, masterdata.Covishield)
	doc, err := e.svc.PDF(t.Context(), accountID(1), b.Ref)
	if err != nil {
		t.Fatalf("PDF: %v", err)
	}
	if !bytes.HasPrefix(doc, []byte("%PDF-")) {
		t.Fatalf("PDF starts %q", doc[:min(8, len(doc))])
	}
	if bytes.Contains(doc, []byte(b.PhotoIDHash)) {
		t.Error("the PDF holds the photo-ID hash")
	}
	is, err := e.svc.For(t.Context(), accountID(1), b.Ref)
	if err != nil {
		t.Fatalf("For: %v", err)
	}
	shc, dcc := pdftest.Codes(t, doc)
	if shc != is.SHC || dcc != is.DCC {
		t.Errorf("printed codes read %.40q… and %.40q…, want %.40q… and %.40q…", shc, dcc, is.SHC, is.DCC)
	}
}

// TestRotation: after the certificate key rotates, certificates are signed
// with the new key, and every published key has a revocation list.
func TestRotation(t *testing.T) {
	e := newEnv(t, backendtest.SQLite)
	b := e.beneficiary(t, 1, 1)
	e.vaccinate(t, b, 1, masterdata.Covishield)
	before, err := e.svc.For(t.Context(), accountID(1), b.Ref)
	if err != nil {
		t.Fatalf("For: %v", err)
	}
	if _, err := e.keys.Rotate(keyring.KindCert, nil, e.clock.Now()); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if e.material, err = issuer.Build(e.keys, publicURL); err != nil {
		t.Fatalf("issuer.Build: %v", err)
	}
	e.clock.Advance(time.Minute)
	after, err := e.svc.For(t.Context(), accountID(1), b.Ref)
	if err != nil {
		t.Fatalf("For after rotation: %v", err)
	}
	if after.KeyID == before.KeyID || after.KeyID != e.material.JWKS.Keys[0].Kid {
		t.Errorf("signed with %s after rotating from %s; want the new active key %s", after.KeyID, before.KeyID, e.material.JWKS.Keys[0].Kid)
	}
	for _, is := range []certificates.Issued{before, after} {
		for _, text := range []string{is.SHC, is.DCC} {
			if r := cert.Verify([]byte(text), e.material.Trust, e.clock.Now()); !r.Valid {
				t.Errorf("%.8s… signed by %s: %s", text, is.KeyID, r.Reason)
			}
		}
		if _, err := e.svc.CRL(t.Context(), is.KeyID); err != nil {
			t.Errorf("CRL of %s: %v", is.KeyID, err)
		}
	}
}

// TestConcurrentReads serves one certificate, its PDF and the CRL from
// many goroutines while doses are recorded (run with -race): every answer
// is the current certificate's or its successor's.
func TestConcurrentReads(t *testing.T) {
	e := newEnv(t, backendtest.SQLite)
	b := e.beneficiary(t, 1, 1)
	e.vaccinate(t, b, 1, masterdata.Covishield)
	kid := e.material.JWKS.Keys[0].Kid
	var wg sync.WaitGroup
	errs := make(chan error, 8*5*3)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if _, err := e.svc.For(t.Context(), accountID(1), b.Ref); err != nil {
					errs <- err
				}
				if _, err := e.svc.PDF(t.Context(), accountID(1), b.Ref); err != nil {
					errs <- err
				}
				if _, err := e.svc.CRL(t.Context(), kid); err != nil {
					errs <- err
				}
			}
		})
	}
	e.vaccinate(t, b, 2, masterdata.Covishield)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent read: %v", err)
	}
	is, err := e.svc.For(t.Context(), accountID(1), b.Ref)
	if err != nil || is.Certificate.Doses != 2 {
		t.Errorf("For after dose 2: %+v, %v; want the 2-dose certificate", is.Certificate, err)
	}
}
