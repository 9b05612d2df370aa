package captcha

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"time"
	"unicode"

	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// ReasonInvalid is Co-WIN's wire code for a wrong, missing or expired
// captcha answer.
const ReasonInvalid = "APPOIN0044"

// DefaultTTL is how long a challenge can be answered: long enough to read
// and type five characters, short enough that a picture solved elsewhere
// goes stale.
const DefaultTTL = 3 * time.Minute

// Config configures a Service. Store and Keys are required.
type Config struct {
	Store vax.Store
	// Keys hashes answers (with the pii key that blind indexes use).
	Keys  *keyring.Keyring
	Clock vax.Clock // nil: the system clock
	// Random seeds each picture and its answer; nil: crypto/rand.
	Random io.Reader
	TTL    time.Duration // 0 or less: DefaultTTL
}

// Service draws challenges and checks answers. It is safe for concurrent
// use, and nodes sharing a store and a keyring check each other's
// challenges.
type Service struct {
	store  vax.Store
	keys   *keyring.Keyring
	clock  vax.Clock
	random io.Reader
	ttl    time.Duration
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil {
		return nil, vax.Errorf(vax.Internal, "captcha: a store and a keyring are required")
	}
	s := &Service{store: cfg.Store, keys: cfg.Keys, clock: cfg.Clock, random: cfg.Random, ttl: cfg.TTL}
	if s.clock == nil {
		s.clock = vax.SystemClock{}
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	return s, nil
}

// errInvalid is the one refusal: which of wrong, missing, expired or used
// it was is not told, so a refusal teaches a guesser nothing.
func errInvalid() error {
	return &vax.Error{Code: vax.Invalid, Reason: ReasonInvalid, Message: "captcha invalid or expired: get a new one"}
}

// Issue draws a new challenge for the account, replacing its previous one,
// and returns the picture (an SVG document).
func (s *Service) Issue(ctx context.Context, accountID string) ([]byte, error) {
	_, svg, err := s.issue(ctx, accountID)
	return svg, err
}

// issue is Issue that also returns the answer, for tests.
func (s *Service) issue(ctx context.Context, accountID string) (answer string, svg []byte, err error) {
	var seed [32]byte
	if _, err := io.ReadFull(s.random, seed[:]); err != nil {
		return "", nil, vax.Wrap(vax.Internal, err, "captcha: read randomness")
	}
	// ChaCha8 seeded from crypto/rand is itself a cryptographic generator:
	// the answer is as unpredictable as the seed.
	rng := mrand.New(mrand.NewChaCha8(seed))
	answer = newAnswer(rng)
	svg = draw(answer, rng)
	now := s.clock.Now()
	c := vax.CaptchaChallenge{
		AccountID:  accountID,
		AnswerHash: s.keys.Hash(hashInput(accountID, answer)).String(),
		CreatedAt:  now,
		ExpiresAt:  now.Add(s.ttl),
	}
	if err := s.store.InTx(ctx, func(tx vax.Tx) error { return tx.PutCaptcha(ctx, c) }); err != nil {
		return "", nil, fmt.Errorf("store captcha: %w", err)
	}
	return answer, svg, nil
}

// Check accepts the answer to the account's challenge: nil when it is
// right (letters in either case, spaces ignored). The challenge is used up
// by any answer, right or wrong. A wrong or missing answer, and one to an
// expired, used or never drawn challenge, is an Invalid error with Reason
// ReasonInvalid.
func (s *Service) Check(ctx context.Context, accountID, answer string) error {
	answer = normalize(answer)
	if answer == "" {
		// Nothing to try: the challenge stays for the client's next try,
		// and a client unaware of the captcha costs no write.
		return errInvalid()
	}
	var c vax.CaptchaChallenge
	err := s.store.InTx(ctx, func(tx vax.Tx) (err error) {
		c, err = tx.TakeCaptcha(ctx, accountID)
		return err
	})
	switch {
	case errors.Is(err, vax.ErrNotFound):
		return errInvalid()
	case err != nil:
		return fmt.Errorf("take captcha: %w", err)
	case !s.clock.Now().Before(c.ExpiresAt) || !s.matches(c, answer):
		return errInvalid()
	}
	return nil
}

// hashInput is what an answer's keyed hash covers: the prefix keeps it
// apart from other values hashed with the pii key, and the account binds
// it to the account it was drawn for.
func hashInput(accountID, answer string) string {
	return "captcha v1|" + strings.ToLower(accountID) + "|" + answer
}

// matches recomputes the keyed hash of answer with the key that hashed the
// challenge's and compares in constant time.
func (s *Service) matches(c vax.CaptchaChallenge, answer string) bool {
	stored, err := keyring.ParseHash(c.AnswerHash)
	if err != nil {
		return false
	}
	for _, h := range s.keys.Hashes(hashInput(c.AccountID, answer)) {
		if h.KeyID == stored.KeyID {
			return hmac.Equal(h.Sum, stored.Sum)
		}
	}
	return false
}

// normalize folds an answer as typed into the alphabet's form: capitals,
// no spaces.
func normalize(answer string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, answer))
}
