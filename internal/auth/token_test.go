package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/vax"
)

// sign makes a JWT with alg, key and kid over claims, as an attacker or a
// buggy client might.
func sign(t *testing.T, alg jose.SignatureAlgorithm, key []byte, kid string, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tok
}

// segments splits a compact JWT and decodes its header and payload.
func segments(t *testing.T, tok string) (header, payload map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("decode part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("decode part %d: %v", i, err)
		}
	}
	return header, payload, parts[2]
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestTokenClaims(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	c := e.signIn(t, mobile)
	header, payload, _ := segments(t, c.Token.Token)
	kid, _ := e.keys.TokenKey()
	if header["alg"] != "HS256" || header["kid"] != kid || header["typ"] != "JWT" {
		t.Errorf("header = %v, want alg HS256, kid %s, typ JWT", header, kid)
	}
	if payload["sub"] != c.AccountID || payload["kind"] != "citizen" {
		t.Errorf("payload = %v, want sub %s and kind citizen", payload, c.AccountID)
	}
	// Clients read a numeric exp.
	if exp, ok := payload["exp"].(float64); !ok || int64(exp) != c.Token.ExpiresAt.Unix() {
		t.Errorf("exp = %v, want %d", payload["exp"], c.Token.ExpiresAt.Unix())
	}
	for _, claim := range []string{"iat", "jti", "sid", "auth_time"} {
		if _, ok := payload[claim]; !ok {
			t.Errorf("payload lacks %s: %v", claim, payload)
		}
	}
	if strings.Contains(c.Token.Token, mobile) || strings.Contains(string(mustJSON(t, payload)), mobile) {
		t.Errorf("the token carries the mobile number")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTamperedTokens(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	c := e.signIn(t, mobile)
	good := c.Token.Token
	header, payload, sig := segments(t, good)
	kid, secret := e.keys.TokenKey()
	parts := strings.Split(good, ".")

	validClaims := map[string]any{}
	for k, v := range payload {
		validClaims[k] = v
	}
	withClaim := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range validClaims {
			m[k] = v
		}
		m[k] = v
		return m
	}
	other := newKeys(t)
	_, otherSecret := other.TokenKey()

	noneHeader := map[string]any{"alg": "none", "typ": "JWT", "kid": kid}
	editedPayload := withClaim("sub", "00000000-0000-4000-8000-000000000001")

	tests := []struct {
		name  string
		token string
	}{
		{"alg none, no signature", encodeSegment(t, noneHeader) + "." + parts[1] + "."},
		{"alg none, old signature", encodeSegment(t, noneHeader) + "." + parts[1] + "." + sig},
		{"signed with another key, same kid", sign(t, jose.HS256, otherSecret, kid, validClaims)},
		{"unknown kid", sign(t, jose.HS256, secret, "token-00000000", validClaims)},
		{"no kid", func() string {
			h := map[string]any{"alg": "HS256", "typ": "JWT"}
			return encodeSegment(t, h) + "." + parts[1] + "." + sig
		}()},
		{"HS512 with the right key", sign(t, jose.HS512, append(append([]byte{}, secret...), secret...), kid, validClaims)},
		{"alg RS256 header", func() string {
			h := map[string]any{}
			for k, v := range header {
				h[k] = v
			}
			h["alg"] = "RS256"
			return encodeSegment(t, h) + "." + parts[1] + "." + sig
		}()},
		{"edited payload", parts[0] + "." + encodeSegment(t, editedPayload) + "." + sig},
		{"other kind", sign(t, jose.HS256, secret, kid, withClaim("kind", "staff"))},
		{"no exp", func() string {
			m := withClaim("kind", "citizen")
			delete(m, "exp")
			return sign(t, jose.HS256, secret, kid, m)
		}()},
		{"sub not an account id", sign(t, jose.HS256, secret, kid, withClaim("sub", mobile))},
		{"issued in the future", sign(t, jose.HS256, secret, kid, withClaim("iat", t0.Add(time.Hour).Unix()))},
		{"truncated", good[:len(good)-5]},
		{"empty", ""},
		{"garbage", "not.a.token"},
		{"too long", good + strings.Repeat("A", 5000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Authenticate(tc.token)
			wantRefusal(t, tc.name, err, vax.Unauthorized, auth.ReasonInvalidToken)
			if _, err := e.svc.Refresh(t.Context(), tc.token); vax.ErrorCode(err) != vax.Unauthorized {
				t.Errorf("Refresh: got %v, want Unauthorized", err)
			}
		})
	}
	// The untouched token still passes: the refusals above were for the
	// tampering, and a self-signed copy with the right key passes too.
	if _, err := e.svc.Authenticate(good); err != nil {
		t.Errorf("good token: %v", err)
	}
	if _, err := e.svc.Authenticate(sign(t, jose.HS256, secret, kid, validClaims)); err != nil {
		t.Errorf("re-signed with the right key: %v", err)
	}
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, auth.Rules{TokenTTL: 10 * time.Minute})
	c := e.signIn(t, mobile)
	e.clock.Set(c.Token.ExpiresAt.Add(-time.Second))
	if _, err := e.svc.Authenticate(c.Token.Token); err != nil {
		t.Fatalf("a second before exp: %v", err)
	}
	e.clock.Set(c.Token.ExpiresAt)
	_, err := e.svc.Authenticate(c.Token.Token)
	wantRefusal(t, "at exp", err, vax.Unauthorized, auth.ReasonInvalidToken)
	if !c.Token.ExpiresAt.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("expiry = %v, want the configured 10 minutes", c.Token.ExpiresAt)
	}
}

func TestTokenKeyRotation(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	before := e.signIn(t, mobile)
	oldKid, _ := e.keys.TokenKey()
	if _, err := e.keys.Rotate("token", nil, t0.Add(time.Second)); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if _, err := e.svc.Authenticate(before.Token.Token); err != nil {
		t.Errorf("token signed before the rotation: %v", err)
	}
	e.clock.Advance(time.Minute)
	after := e.signIn(t, mobile)
	header, _, _ := segments(t, after.Token.Token)
	if header["kid"] == oldKid {
		t.Errorf("token after rotation has the old kid %s", oldKid)
	}
	if _, err := e.svc.Authenticate(after.Token.Token); err != nil {
		t.Errorf("token signed after the rotation: %v", err)
	}
}

func TestRefresh(t *testing.T) {
	e := newEnv(t, auth.Rules{TokenTTL: 15 * time.Minute, SessionMax: time.Hour})
	c := e.signIn(t, mobile)
	e.clock.Advance(10 * time.Minute)
	r, err := e.svc.Refresh(t.Context(), c.Token.Token)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if r.Token == c.Token.Token || !r.ExpiresAt.Equal(t0.Add(25*time.Minute)) {
		t.Errorf("refreshed: expiry %v, want a new token expiring at %v", r.ExpiresAt, t0.Add(25*time.Minute))
	}
	old, err1 := e.svc.Authenticate(c.Token.Token)
	fresh, err2 := e.svc.Authenticate(r.Token)
	if err1 != nil || err2 != nil {
		t.Fatalf("after refresh: old %v, new %v; want both valid", err1, err2)
	}
	if fresh.AccountID != old.AccountID || fresh.SessionID != old.SessionID || fresh.TokenID == old.TokenID || !fresh.AuthTime.Equal(old.AuthTime) {
		t.Errorf("refreshed principal %+v, want old %+v's account, session and auth time with a new jti", fresh, old)
	}
	// Refreshing keeps a client signed in past the first token's expiry…
	e.clock.Advance(10 * time.Minute)
	if _, err := e.svc.Authenticate(c.Token.Token); err == nil {
		t.Errorf("first token after its expiry: still valid")
	}
	r2, err := e.svc.Refresh(t.Context(), r.Token)
	if err != nil {
		t.Fatalf("second Refresh: %v", err)
	}
	// …but never past SessionMax after the sign-in.
	e.clock.Set(t0.Add(34 * time.Minute))
	r3, err := e.svc.Refresh(t.Context(), r2.Token)
	if err != nil {
		t.Fatalf("third Refresh: %v", err)
	}
	e.clock.Set(t0.Add(48 * time.Minute))
	r3, err = e.svc.Refresh(t.Context(), r3.Token)
	if err != nil {
		t.Fatalf("fourth Refresh: %v", err)
	}
	if !r3.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("token near the session's end expires %v, want the session end %v", r3.ExpiresAt, t0.Add(time.Hour))
	}
	e.clock.Set(t0.Add(time.Hour))
	_, err = e.svc.Refresh(t.Context(), r3.Token)
	wantRefusal(t, "refresh at the session's end", err, vax.Unauthorized, auth.ReasonInvalidToken)
	// An expired token is not refreshed.
	_, err = e.svc.Refresh(t.Context(), c.Token.Token)
	wantRefusal(t, "refresh of an expired token", err, vax.Unauthorized, auth.ReasonInvalidToken)
}

func TestLogout(t *testing.T) {
	e := newEnv(t, auth.Rules{})
	c := e.signIn(t, mobile)
	r, err := e.svc.Refresh(t.Context(), c.Token.Token)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	other := e.signIn(t, "9123456789")
	if err := e.svc.Logout(t.Context(), r.Token); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	// Both tokens of the session are revoked, the other session's is not.
	for name, tok := range map[string]string{"logged-out token": r.Token, "token it was refreshed from": c.Token.Token} {
		_, err := e.svc.Authenticate(tok)
		wantRefusal(t, name, err, vax.Unauthorized, auth.ReasonInvalidToken)
	}
	if _, err := e.svc.Authenticate(other.Token.Token); err != nil {
		t.Errorf("another session's token: %v", err)
	}
	err = e.svc.Logout(t.Context(), r.Token)
	wantRefusal(t, "second logout", err, vax.Unauthorized, auth.ReasonInvalidToken)
	// A new sign-in works.
	e.clock.Advance(time.Minute)
	if _, err := e.svc.Authenticate(e.signIn(t, mobile).Token.Token); err != nil {
		t.Errorf("new sign-in after logout: %v", err)
	}
}

func TestNotReadyRefusesTokens(t *testing.T) {
	clock := vax.NewManualClock(t0)
	svc, err := auth.New(auth.Config{Store: sqliteBackend(t, clock).open(t), Keys: newKeys(t), Clock: clock})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = svc.Authenticate("anything")
	if vax.ErrorCode(err) != vax.Unavailable {
		t.Errorf("before FollowRevocations: got %v, want Unavailable", err)
	}
}
