package auth

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vaxport/vaxport/internal/vax"
)

// TokenKind says who a token is for: a citizen or a staff member (KYC
// tokens will be another kind). A token of one kind never passes for
// another.
type TokenKind string

// The token kinds.
const (
	KindCitizen TokenKind = "citizen"
	KindStaff   TokenKind = "staff" // sub is a staff id
)

// Principal is who a verified token speaks for.
type Principal struct {
	AccountID string    // the token's sub: the account id, or the staff id of a staff token
	Kind      TokenKind // the token's kind
	SessionID string    // the sign-in session (sid): what logout revokes
	TokenID   string    // the token's jti
	AuthTime  time.Time // when the OTP was confirmed
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Token is an issued token and when it expires.
type Token struct {
	Token     string
	ExpiresAt time.Time
}

// claims are a token's JWT claims.
type claims struct {
	jwt.Claims
	Kind     TokenKind        `json:"kind"`
	SID      string           `json:"sid"`
	AuthTime *jwt.NumericDate `json:"auth_time"`
}

// Token verification tolerates this much clock skew between nodes on iat
// (a token issued by a node whose clock runs ahead). exp is exact.
const maxSkew = time.Minute

// Keys is the part of the keyring tokens need (keyring.Keyring implements
// it).
type Keys interface {
	TokenKey() (kid string, secret []byte)
	TokenKeyByID(kid string) ([]byte, bool)
}

// issue signs a token for p with the active token key; p.TokenID,
// p.IssuedAt and p.ExpiresAt are what the token will say.
func issue(keys Keys, p Principal) (string, error) {
	kid, secret := keys.TokenKey()
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.HS256,
		Key:       secret,
	}, (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid))
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "token signer")
	}
	c := claims{
		Claims: jwt.Claims{
			Subject:  p.AccountID,
			ID:       p.TokenID,
			IssuedAt: jwt.NewNumericDate(p.IssuedAt),
			Expiry:   jwt.NewNumericDate(p.ExpiresAt),
		},
		Kind:     p.Kind,
		SID:      p.SessionID,
		AuthTime: jwt.NewNumericDate(p.AuthTime),
	}
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "sign token")
	}
	return tok, nil
}

// invalidToken is the refusal of every bad token: one message, so a caller
// learns nothing about which check failed.
func invalidToken(detail string) error {
	return &vax.Error{Code: vax.Unauthorized, Reason: ReasonInvalidToken,
		Message: "invalid or expired token: sign in again", Err: fmt.Errorf("token: %s", detail)}
}

// maxTokenLen bounds what is parsed: real tokens are about 400 bytes.
const maxTokenLen = 4096

// verify checks a token's algorithm, key, signature, kind and times at now,
// and returns what it says. It does not check revocation.
func verify(keys Keys, token string, want TokenKind, now time.Time) (Principal, error) {
	if token == "" || len(token) > maxTokenLen {
		return Principal{}, invalidToken("empty or too long")
	}
	// Only HS256: "none", RS*, ES*, other HMAC sizes are refused here.
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return Principal{}, invalidToken("malformed or wrong algorithm")
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return Principal{}, invalidToken("no key id")
	}
	secret, ok := keys.TokenKeyByID(tok.Headers[0].KeyID)
	if !ok {
		return Principal{}, invalidToken("unknown key id")
	}
	var c claims
	if err := tok.Claims(secret, &c); err != nil {
		return Principal{}, invalidToken("bad signature or claims")
	}
	switch {
	case c.Kind != want:
		return Principal{}, invalidToken("wrong kind")
	case !vax.ValidUUID(c.Subject) || c.ID == "" || c.SID == "":
		return Principal{}, invalidToken("missing claims")
	case c.Expiry == nil || c.IssuedAt == nil || c.AuthTime == nil:
		return Principal{}, invalidToken("missing times")
	case !now.Before(c.Expiry.Time()):
		return Principal{}, invalidToken("expired")
	case c.IssuedAt.Time().After(now.Add(maxSkew)):
		return Principal{}, invalidToken("issued in the future")
	}
	return Principal{
		AccountID: c.Subject,
		Kind:      c.Kind,
		SessionID: c.SID,
		TokenID:   c.ID,
		AuthTime:  c.AuthTime.Time().UTC(),
		IssuedAt:  c.IssuedAt.Time().UTC(),
		ExpiresAt: c.Expiry.Time().UTC(),
	}, nil
}

// verifiedCache remembers tokens that passed verify, by the SHA-256 of the
// whole token, so a client's repeated requests skip the parse and the
// signature check (tens of microseconds in go-jose) for a hash and a map
// lookup. Expiry and revocation are still checked on every use. A token
// differing in any byte is a different key, so nothing unverified is ever
// served from it.
type verifiedCache struct {
	mu  sync.RWMutex
	m   map[[sha256.Size]byte]Principal
	max int
}

// verifiedCacheSize bounds the cache: about 12 MB at 64k tokens.
const verifiedCacheSize = 1 << 16

func newVerifiedCache(n int) *verifiedCache {
	return &verifiedCache{m: make(map[[sha256.Size]byte]Principal), max: n}
}

func (c *verifiedCache) get(k [sha256.Size]byte) (Principal, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.m[k]
	return p, ok
}

// put adds a verified token; when full it first drops the expired, or
// else an arbitrary eighth of the entries.
func (c *verifiedCache) put(k [sha256.Size]byte, p Principal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for key, q := range c.m {
			if !now.Before(q.ExpiresAt) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.max-c.max/8 {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = p
}
