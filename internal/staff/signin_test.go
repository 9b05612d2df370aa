package staff_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/staff"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestSignIn(t *testing.T) { onStores(t, testSignIn) }

func testSignIn(t *testing.T, w *world) {
	n := w.node(t)
	ctx := t.Context()
	mobile := nextMobile()
	v := n.create(t, staff.NewStaff{Mobile: "+91 " + mobile, Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}})

	txn, err := n.staff.SendOTP(ctx, mobile, "192.0.2.1")
	if err != nil {
		t.Fatalf("SendOTP: %v", err)
	}
	tok, got, err := n.staff.Token(ctx, txn, sha(w.otpFor(t, mobile)))
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if diff := cmp.Diff(v, got); diff != "" {
		t.Errorf("Token staff (-created +signed in):\n%s", diff)
	}
	st, err := n.staff.Authenticate(ctx, tok.Token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if st.ID != v.ID || st.Role != vax.RoleVaccinator {
		t.Errorf("Authenticate = %s %s, want %s vaccinator", st.ID, st.Role, v.ID)
	}
	_, err = n.auth.Authenticate(tok.Token)
	wantCode(t, "auth.Authenticate of a staff token", err, vax.Unauthorized)

	if got, err := n.staff.Mobile(st); err != nil || got != mobile {
		t.Errorf("Mobile = %q, %v; want the number", got, err)
	}
	if st.MobileLast4 != mobile[6:] {
		t.Errorf("MobileLast4 = %q, want %q", st.MobileLast4, mobile[6:])
	}

	if err := n.staff.Logout(ctx, tok.Token); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	_, err = n.staff.Authenticate(ctx, tok.Token)
	wantCode(t, "Authenticate after logout", err, vax.Unauthorized)
}

// TestKindsApart checks that a citizen OTP never mints a staff token, a
// staff OTP never a citizen one, and a citizen token is no staff token.
func TestKindsApart(t *testing.T) { onStores(t, testKindsApart) }

func testKindsApart(t *testing.T, w *world) {
	n := w.node(t)
	ctx := t.Context()
	mobile := nextMobile()
	n.create(t, staff.NewStaff{Mobile: mobile, Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}})

	txn, err := n.auth.GenerateOTP(ctx, auth.OTPRequest{Mobile: mobile})
	if err != nil {
		t.Fatalf("GenerateOTP: %v", err)
	}
	_, _, err = n.staff.Token(ctx, txn, sha(w.otpFor(t, mobile)))
	wantCode(t, "Token with a citizen OTP", err, vax.Invalid)

	w.clock.Advance(20 * time.Minute) // past the resend waits
	txn, err = n.staff.SendOTP(ctx, mobile, "")
	if err != nil {
		t.Fatalf("SendOTP: %v", err)
	}
	_, err = n.auth.ConfirmOTP(ctx, txn, sha(w.otpFor(t, mobile)))
	wantCode(t, "ConfirmOTP with a staff OTP", err, vax.Invalid)

	w.clock.Advance(20 * time.Minute)
	txn, err = n.auth.GenerateOTP(ctx, auth.OTPRequest{Mobile: mobile})
	if err != nil {
		t.Fatalf("GenerateOTP: %v", err)
	}
	c, err := n.auth.ConfirmOTP(ctx, txn, sha(w.otpFor(t, mobile)))
	if err != nil {
		t.Fatalf("ConfirmOTP: %v", err)
	}
	_, err = n.staff.Authenticate(ctx, c.Token.Token)
	wantCode(t, "staff Authenticate of a citizen token", err, vax.Unauthorized)
}

// TestSignInRefused checks that only active staff get an OTP or a token.
func TestSignInRefused(t *testing.T) { onStores(t, testSignInRefused) }

func testSignInRefused(t *testing.T, w *world) {
	n := w.node(t)
	ctx := t.Context()

	_, err := n.staff.SendOTP(ctx, nextMobile(), "")
	wantCode(t, "SendOTP to a number no staff member has", err, vax.Forbidden)
	_, err = n.staff.SendOTP(ctx, "12345", "")
	wantCode(t, "SendOTP to a bad number", err, vax.Invalid)

	mobile := nextMobile()
	v := n.create(t, staff.NewStaff{Mobile: mobile, Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}})
	txn, err := n.staff.SendOTP(ctx, mobile, "")
	if err != nil {
		t.Fatalf("SendOTP: %v", err)
	}
	otp := w.otpFor(t, mobile)
	suspended := vax.StaffSuspended
	if _, err := n.staff.Update(ctx, staff.Bootstrap(), v.ID, staff.Update{Status: &suspended}); err != nil {
		t.Fatalf("suspend: %v", err)
	}
	_, _, err = n.staff.Token(ctx, txn, sha(otp))
	wantCode(t, "Token of a staff member suspended since the OTP", err, vax.Forbidden)
	w.clock.Advance(20 * time.Minute)
	_, err = n.staff.SendOTP(ctx, mobile, "")
	wantCode(t, "SendOTP to a suspended staff member", err, vax.Forbidden)
}

// TestSuspension checks that a suspension refuses the staff member's token
// at once on the node that made it, on another node once the change feed
// delivers, and on a node the feed never reaches after CacheTTL.
func TestSuspension(t *testing.T) { onStores(t, testSuspension) }

func testSuspension(t *testing.T, w *world) {
	a, b, c := w.node(t), w.node(t), w.node(t)
	ctx := t.Context()
	mobile := nextMobile()
	v := a.create(t, staff.NewStaff{Mobile: mobile, Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}})
	tok := a.signIn(t, mobile)
	for name, n := range map[string]*node{"a": a, "b": b, "c": c} {
		if _, err := n.staff.Authenticate(ctx, tok); err != nil {
			t.Fatalf("node %s: Authenticate before suspension: %v", name, err)
		}
	}
	var after int64
	if cs, err := w.store.Changes(ctx, 0, vax.MaxLimit); err != nil {
		t.Fatalf("Changes: %v", err)
	} else if len(cs) > 0 {
		after = cs[len(cs)-1].Seq
	}

	suspended := vax.StaffSuspended
	if _, err := a.staff.Update(ctx, staff.Bootstrap(), v.ID, staff.Update{Status: &suspended}); err != nil {
		t.Fatalf("suspend: %v", err)
	}
	_, err := a.staff.Authenticate(ctx, tok)
	wantCode(t, "node a at once", err, vax.Forbidden)

	// Node b still holds its copy until the feed delivers the change.
	if _, err := b.staff.Authenticate(ctx, tok); err != nil {
		t.Fatalf("node b before the feed: %v (the cache should still hold the record)", err)
	}
	cs, err := w.store.Changes(ctx, after, vax.MaxLimit)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	want := []vax.Change{{Kind: vax.ChangeStaff, Key: v.ID}}
	if diff := cmp.Diff(want, cs, cmp.Comparer(func(x, y vax.Change) bool { return x.Kind == y.Kind && x.Key == y.Key })); diff != "" {
		t.Errorf("changes of the suspension (-want +got):\n%s", diff)
	}
	b.staff.StaffChanged(cs)
	_, err = b.staff.Authenticate(ctx, tok)
	wantCode(t, "node b after the feed", err, vax.Forbidden)

	// Node c never hears of it: its copy expires.
	w.clock.Advance(staff.DefaultCacheTTL - time.Second)
	if _, err := c.staff.Authenticate(ctx, tok); err != nil {
		t.Fatalf("node c within CacheTTL: %v (the cache should still hold the record)", err)
	}
	w.clock.Advance(time.Second)
	_, err = c.staff.Authenticate(ctx, tok)
	wantCode(t, "node c after CacheTTL", err, vax.Forbidden)

	// Reinstated, the same token works again (it was never revoked).
	active := vax.StaffActive
	if _, err := a.staff.Update(ctx, staff.Bootstrap(), v.ID, staff.Update{Status: &active}); err != nil {
		t.Fatalf("reinstate: %v", err)
	}
	if _, err := a.staff.Authenticate(ctx, tok); err != nil {
		t.Errorf("node a after reinstatement: %v", err)
	}
}

func TestNewConfig(t *testing.T) { onStores(t, testNewConfig) }

func testNewConfig(t *testing.T, w *world) {
	n := w.node(t)
	for _, ttl := range []time.Duration{-time.Second, staff.MaxCacheTTL + time.Second} {
		_, err := staff.New(staff.Config{Store: w.store, Keys: w.keys, Auth: n.auth, CacheTTL: ttl})
		wantCode(t, "New with CacheTTL "+ttl.String(), err, vax.Invalid)
	}
	_, err := staff.New(staff.Config{Store: w.store, Keys: w.keys})
	wantCode(t, "New without auth", err, vax.Internal)
}
