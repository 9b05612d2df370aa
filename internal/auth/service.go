package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/ratelimit"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// Config configures a Service. Store and Keys are required.
type Config struct {
	Store vax.Store
	Keys  *keyring.Keyring
	Clock vax.Clock // nil: the system clock
	// Random is the source of OTPs and ids; nil: crypto/rand.
	Random io.Reader
	Rules  Rules // zero fields: DefaultRules
	// Metrics receives sign-in events (authmetrics.New for Prometheus);
	// nil: none.
	Metrics Metrics
	Logger  *slog.Logger // nil: discard
	// Notify is called after an OTP's SMS has committed to the outbox, to
	// wake this node's dispatcher at once (sms.Dispatcher.Notify); nil:
	// dispatchers find it when they next poll.
	Notify func()
}

// Service runs citizen sign-in. It is safe for concurrent use.
type Service struct {
	store  vax.Store
	keys   *keyring.Keyring
	clock  vax.Clock
	random io.Reader
	rules  Rules
	log    *slog.Logger
	notify func()
	ips    *ratelimit.PerKey

	revoked  *revocations
	verified *verifiedCache
	ready    atomic.Bool // revocations loaded: tokens may be accepted
	m        Metrics
}

// New returns a Service for cfg. Tokens are refused (Unavailable) until
// FollowRevocations has loaded the revocations in force.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil {
		return nil, vax.Errorf(vax.Internal, "auth: a store and a keyring are required")
	}
	rules, err := cfg.Rules.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:    cfg.Store,
		keys:     cfg.Keys,
		clock:    cfg.Clock,
		random:   cfg.Random,
		rules:    rules,
		log:      cfg.Logger,
		notify:   cfg.Notify,
		revoked:  newRevocations(),
		verified: newVerifiedCache(verifiedCacheSize),
		m:        cfg.Metrics,
	}
	if s.clock == nil {
		s.clock = vax.SystemClock{}
	}
	if s.m == nil {
		s.m = noMetrics{}
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.notify == nil {
		s.notify = func() {}
	}
	s.ips = ratelimit.New(rules.IPPerMinute, rules.IPBurst, s.clock)
	return s, nil
}

// Rules returns the rules in force (defaults filled in).
func (s *Service) Rules() Rules { return s.rules }

// mobileHashInput is what a number's blind index hashes: the prefix keeps
// mobile hashes apart from other values hashed with the same key.
func mobileHashInput(mobile string) string { return "mobile v1|" + mobile }

// MobileHashes returns the blind indexes of a number (as NormalizeMobile
// returns it) under every pii key, the active key's first: store the first,
// look up by all. Staff numbers hash as citizens' do; they live in another
// table.
func (s *Service) MobileHashes(mobile string) []string {
	return hashStrings(s.keys.Hashes(mobileHashInput(mobile)))
}

// codeHashInput is what an OTP's keyed hash covers: the txnId and the hex
// SHA-256 of the digits, so the hash confirms only within its own txn. A
// staff OTP hashes under another prefix, so a citizen OTP never confirms a
// staff sign-in, nor the reverse.
func codeHashInput(staff bool, txnID, otpSHA256 string) string {
	prefix := "otp v1|"
	if staff {
		prefix = "staff otp v1|"
	}
	return prefix + strings.ToLower(txnID) + "|" + otpSHA256
}

// sha256Hex is the hex SHA-256 of the digits, as clients send it.
func sha256Hex(otp string) string {
	sum := sha256.Sum256([]byte(otp))
	return hex.EncodeToString(sum[:])
}

// otpText is the SMS that carries an OTP. The digits come first, so phones
// offer to fill them in.
func otpText(staff bool, otp string, validity time.Duration) string {
	what := "sign-in"
	if staff {
		what = "staff sign-in"
	}
	return fmt.Sprintf("%s is your vaxport %s OTP. It is valid for %d minutes. Never share it with anyone.",
		otp, what, int(validity.Minutes()))
}

// OTPRequest asks for an OTP.
type OTPRequest struct {
	Mobile   string // as the client sent it; normalized by NormalizeMobile
	ClientIP string // for the per-IP limit; empty: not limited
	// Staff asks for a staff sign-in OTP, confirmed only by
	// ConfirmStaffOTP. The limits are the citizens', counted together.
	Staff bool
	// Allow, if set, is asked inside the OTP's transaction, after the
	// per-IP limit and before anything is written, whether the number
	// (its blind indexes, the active key's first) may have an OTP; its
	// error refuses the request. The staff package refuses numbers that
	// are no active staff member's, behind the IP limit.
	Allow func(ctx context.Context, tx vax.Tx, mobileHashes []string) error
}

// GenerateOTP sends a new OTP to req.Mobile and returns its txnId. It
// returns only once the OTP and its SMS are committed to the store; refusals
// are Invalid (a bad number) or RateLimited (carrying a RetryError).
func (s *Service) GenerateOTP(ctx context.Context, req OTPRequest) (string, error) {
	mobile, err := NormalizeMobile(req.Mobile)
	if err != nil {
		s.m.OTPRefused("invalid_mobile")
		return "", err
	}
	if ok, wait := s.ips.Allow(req.ClientIP); !ok {
		s.m.OTPRefused("ip_limit")
		return "", rateLimited(ReasonIPLimit, "too many OTP requests from this address: try again shortly", wait)
	}
	n, err := rand.Int(s.random, big.NewInt(1_000_000))
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "draw an OTP")
	}
	otp := fmt.Sprintf("%06d", n.Int64())
	txnID, err := vax.NewUUID(s.random)
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "draw a txnId")
	}
	msgID, err := vax.NewUUID(s.random)
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "draw a message id")
	}
	now := s.clock.Now()
	hashes := hashStrings(s.keys.Hashes(mobileHashInput(mobile)))
	sealed, err := s.keys.Seal([]byte(mobile), []byte("otp mobile v1|"+txnID))
	if err != nil {
		return "", fmt.Errorf("seal mobile: %w", err)
	}
	txn := vax.OTPTxn{
		ID:           txnID,
		MobileHash:   hashes[0],
		MobileSealed: sealed,
		CodeHash:     s.keys.Hash(codeHashInput(req.Staff, txnID, sha256Hex(otp))).String(),
		CreatedAt:    now,
		ExpiresAt:    now.Add(s.rules.OTPValidity),
	}
	msg := outbox.Message{
		ID:        msgID,
		Kind:      vax.MessageOTP,
		To:        mobile,
		Text:      otpText(req.Staff, otp, s.rules.OTPValidity),
		CreatedAt: now,
		ExpiresAt: txn.ExpiresAt,
	}
	err = s.store.InTx(ctx, func(tx vax.Tx) error {
		if req.Allow != nil {
			if err := req.Allow(ctx, tx, hashes); err != nil {
				return err
			}
		}
		prior, err := tx.OTPTxnsByMobile(ctx, hashes, now.Add(-24*time.Hour))
		if err != nil {
			return err
		}
		if err := s.rules.checkSend(prior, now); err != nil {
			return err
		}
		if err := tx.CreateOTPTxn(ctx, txn); err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, s.keys, msg)
	})
	if err != nil {
		var ve *vax.Error
		if errors.As(err, &ve) && ve.Code == vax.RateLimited {
			s.m.OTPRefused(refusalLabel(ve.Reason))
			return "", err
		}
		return "", fmt.Errorf("generate OTP: %w", err)
	}
	s.m.OTPRequested()
	s.notify()
	return txnID, nil
}

func refusalLabel(reason string) string {
	switch reason {
	case ReasonResendWait:
		return "resend_wait"
	case ReasonDailyCap:
		return "daily_cap"
	}
	return "other"
}

func hashStrings(hs []keyring.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

// Confirmation is a confirmed OTP: the account it proved and its token.
type Confirmation struct {
	Token      Token
	AccountID  string
	NewAccount bool // the account was created by this confirmation
}

// confirm outcomes, as metric labels.
const (
	outcomeOK        = "ok"
	outcomeMalformed = "malformed"
	outcomeUnknown   = "unknown"
	outcomeUsed      = "used"
	outcomeExpired   = "expired"
	outcomeVoided    = "voided"
	outcomeWrong     = "wrong"
)

func invalidOTP(message string) error {
	return &vax.Error{Code: vax.Invalid, Reason: ReasonInvalidOTP, Message: message}
}

// ConfirmOTP checks otpSHA256 (the hex SHA-256 of the 6 digits) against the
// OTP of txnID and, when it matches, finds or creates the number's account
// and returns a token for it. Every refusal is Invalid with
// ReasonInvalidOTP. A wrong OTP counts against the txn even though the call
// fails: that count is committed.
func (s *Service) ConfirmOTP(ctx context.Context, txnID, otpSHA256 string) (Confirmation, error) {
	var (
		acct    vax.Account
		created bool
	)
	err := s.confirm(ctx, false, txnID, otpSHA256, func(tx vax.Tx, mobile string) (err error) {
		acct, created, err = s.EnsureAccount(ctx, tx, mobile)
		return err
	})
	if err != nil {
		return Confirmation{}, err
	}
	tok, err := s.newSession(acct.ID, KindCitizen)
	if err != nil {
		return Confirmation{}, err
	}
	return Confirmation{Token: tok, AccountID: acct.ID, NewAccount: created}, nil
}

// ConfirmStaffOTP is ConfirmOTP for a staff OTP (OTPRequest.Staff), with
// the same checks, refusals and attempt counting. When the OTP matches it
// calls find inside the transaction with the number's blind indexes (the
// active key's first); find returns the staff id to sign in, or an error
// that refuses the sign-in (an unknown or suspended staff member) and is
// returned as is, leaving the OTP unused. The token is a staff token
// (KindStaff) whose sub is the staff id.
func (s *Service) ConfirmStaffOTP(ctx context.Context, txnID, otpSHA256 string,
	find func(ctx context.Context, tx vax.Tx, mobileHashes []string) (staffID string, err error)) (Token, error) {
	var staffID string
	err := s.confirm(ctx, true, txnID, otpSHA256, func(tx vax.Tx, mobile string) (err error) {
		staffID, err = find(ctx, tx, s.MobileHashes(mobile))
		return err
	})
	if err != nil {
		return Token{}, err
	}
	return s.newSession(staffID, KindStaff)
}

// confirm checks an OTP and, when it matches, marks it used and calls
// found with the txn's number in the same transaction.
func (s *Service) confirm(ctx context.Context, staff bool, txnID, otpSHA256 string, found func(tx vax.Tx, mobile string) error) error {
	otpSHA256 = strings.ToLower(strings.TrimSpace(otpSHA256))
	if !vax.ValidUUID(txnID) || len(otpSHA256) != sha256.Size*2 || !isHex(otpSHA256) {
		s.m.OTPConfirmed(outcomeMalformed)
		return invalidOTP("invalid OTP: want the txnId and the hex SHA-256 of the 6 digits")
	}
	var outcome string
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		outcome = ""
		now := s.clock.Now()
		o, err := tx.OTPTxn(ctx, txnID)
		switch {
		case errors.Is(err, vax.ErrNotFound):
			outcome = outcomeUnknown
			return nil
		case err != nil:
			return err
		case !o.UsedAt.IsZero():
			outcome = outcomeUsed
			return nil
		case !now.Before(o.ExpiresAt):
			outcome = outcomeExpired
			return nil
		case o.Attempts >= s.rules.MaxAttempts:
			outcome = outcomeVoided
			return nil
		}
		if !s.codeMatches(staff, o, otpSHA256) {
			outcome = outcomeWrong
			o.Attempts++
			return tx.UpdateOTPTxn(ctx, o)
		}
		o.UsedAt = now
		if err := tx.UpdateOTPTxn(ctx, o); err != nil {
			return err
		}
		plain, err := s.keys.OpenSealed(o.MobileSealed, []byte("otp mobile v1|"+strings.ToLower(o.ID)))
		if err != nil {
			return fmt.Errorf("open the txn's number: %w", err)
		}
		if err := found(tx, string(plain)); err != nil {
			return err
		}
		outcome = outcomeOK
		return nil
	})
	if err != nil {
		return fmt.Errorf("confirm OTP: %w", err)
	}
	s.m.OTPConfirmed(outcome)
	switch outcome {
	case outcomeUnknown:
		return invalidOTP("invalid OTP")
	case outcomeUsed:
		return invalidOTP("this OTP was already used: request a new one")
	case outcomeExpired:
		return invalidOTP("this OTP has expired: request a new one")
	case outcomeVoided:
		return invalidOTP("too many wrong tries: request a new OTP")
	case outcomeWrong:
		return invalidOTP("invalid OTP")
	}
	return nil
}

func isHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// codeMatches recomputes the keyed hash of the client's value with the key
// that hashed the OTP and compares in constant time.
func (s *Service) codeMatches(staff bool, o vax.OTPTxn, otpSHA256 string) bool {
	stored, err := keyring.ParseHash(o.CodeHash)
	if err != nil {
		return false
	}
	for _, h := range s.keys.Hashes(codeHashInput(staff, o.ID, otpSHA256)) {
		if h.KeyID == stored.KeyID {
			return hmac.Equal(h.Sum, stored.Sum)
		}
	}
	return false
}

// EnsureAccount finds the citizen account of a mobile number inside tx, or
// creates it, and reports whether it created it. Walk-in registration at a
// centre uses it, so the person can later claim the record by signing in
// with that number. Invalid for a number NormalizeMobile refuses.
func (s *Service) EnsureAccount(ctx context.Context, tx vax.Tx, mobile string) (vax.Account, bool, error) {
	mobile, err := NormalizeMobile(mobile)
	if err != nil {
		return vax.Account{}, false, err
	}
	hashes := s.MobileHashes(mobile)
	a, err := tx.AccountByMobile(ctx, hashes)
	if err == nil {
		return a, false, nil
	}
	if !errors.Is(err, vax.ErrNotFound) {
		return vax.Account{}, false, err
	}
	id, err := vax.NewUUID(s.random)
	if err != nil {
		return vax.Account{}, false, vax.Wrap(vax.Internal, err, "draw an account id")
	}
	sealed, err := s.keys.Seal([]byte(mobile), []byte("account mobile v1|"+id))
	if err != nil {
		return vax.Account{}, false, fmt.Errorf("seal mobile: %w", err)
	}
	a = vax.Account{ID: id, MobileHash: hashes[0], MobileSealed: sealed, MobileLast4: mobile[len(mobile)-4:], CreatedAt: s.clock.Now()}
	err = tx.CreateAccount(ctx, a)
	if errors.Is(err, vax.ErrConflict) {
		// Another node created the number's account a moment ago.
		a, err = tx.AccountByMobile(ctx, hashes)
		return a, false, err
	}
	if err != nil {
		return vax.Account{}, false, err
	}
	return a, true, nil
}

// AccountMobile returns the account's mobile number in clear, to send it an
// SMS. Never log or display it: show vax.Account.MobileLast4.
func (s *Service) AccountMobile(a vax.Account) (string, error) {
	plain, err := s.keys.OpenSealed(a.MobileSealed, []byte("account mobile v1|"+strings.ToLower(a.ID)))
	if err != nil {
		return "", fmt.Errorf("open account %s number: %w", a.ID, err)
	}
	return string(plain), nil
}

// newSession issues the first token of a new sign-in session of the kind.
func (s *Service) newSession(accountID string, kind TokenKind) (Token, error) {
	sid, err := vax.NewUUID(s.random)
	if err != nil {
		return Token{}, vax.Wrap(vax.Internal, err, "draw a session id")
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	return s.issue(Principal{AccountID: accountID, Kind: kind, SessionID: sid, AuthTime: now}, now)
}

// issue signs a token of p's session, issued at now.
func (s *Service) issue(p Principal, now time.Time) (Token, error) {
	jti, err := vax.NewUUID(s.random)
	if err != nil {
		return Token{}, vax.Wrap(vax.Internal, err, "draw a token id")
	}
	p.TokenID, p.IssuedAt = jti, now
	p.ExpiresAt = now.Add(s.rules.TokenTTL)
	if end := p.AuthTime.Add(s.rules.SessionMax); end.Before(p.ExpiresAt) {
		p.ExpiresAt = end
	}
	tok, err := issue(s.keys, p)
	if err != nil {
		return Token{}, err
	}
	s.m.TokenIssued()
	return Token{Token: tok, ExpiresAt: p.ExpiresAt}, nil
}

// Authenticate verifies a citizen token (from "Authorization: Bearer …")
// and returns whom it speaks for. It never touches the store. Every bad
// token is Unauthorized with ReasonInvalidToken; before FollowRevocations
// has loaded the revocations every token is refused, Unavailable.
func (s *Service) Authenticate(token string) (Principal, error) {
	return s.authenticate(token, KindCitizen)
}

// AuthenticateStaff is Authenticate for staff tokens: Principal.AccountID
// is the staff id. It checks the token only; whether the staff member is
// still active is the staff package's to check.
func (s *Service) AuthenticateStaff(token string) (Principal, error) {
	return s.authenticate(token, KindStaff)
}

func (s *Service) authenticate(token string, kind TokenKind) (Principal, error) {
	if !s.ready.Load() {
		return Principal{}, vax.Errorf(vax.Unavailable, "sign-in is starting: try again in a moment")
	}
	now := s.clock.Now()
	key := sha256.Sum256([]byte(token))
	p, ok := s.verified.get(key)
	if !ok {
		var err error
		if p, err = verify(s.keys, token, kind, now); err != nil {
			s.m.TokenRejected("invalid")
			return Principal{}, err
		}
		s.verified.put(key, p, now)
	}
	if p.Kind != kind {
		// Verified earlier as the other kind.
		s.m.TokenRejected("invalid")
		return Principal{}, invalidToken("wrong kind")
	}
	if !now.Before(p.ExpiresAt) {
		s.m.TokenRejected("invalid")
		return Principal{}, invalidToken("expired")
	}
	if s.revoked.has(p.SessionID, now) {
		s.m.TokenRejected("revoked")
		return Principal{}, invalidToken("revoked")
	}
	return p, nil
}

// Refresh returns a new token of the same sign-in session for a valid one:
// same account and session, new jti, fresh expiry, until SessionMax after
// the sign-in. The old token stays valid until its own expiry.
func (s *Service) Refresh(ctx context.Context, token string) (Token, error) {
	return s.refresh(token, KindCitizen)
}

// RefreshStaff is Refresh for staff tokens.
func (s *Service) RefreshStaff(ctx context.Context, token string) (Token, error) {
	return s.refresh(token, KindStaff)
}

func (s *Service) refresh(token string, kind TokenKind) (Token, error) {
	p, err := s.authenticate(token, kind)
	if err != nil {
		return Token{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	if !now.Before(p.AuthTime.Add(s.rules.SessionMax)) {
		return Token{}, invalidToken("session over")
	}
	return s.issue(p, now)
}

// Logout revokes the sign-in session of a valid citizen token, on every
// node: its tokens, and those refreshed from it, are refused from then on.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.logout(ctx, token, KindCitizen)
}

// LogoutStaff is Logout for staff tokens.
func (s *Service) LogoutStaff(ctx context.Context, token string) error {
	return s.logout(ctx, token, KindStaff)
}

func (s *Service) logout(ctx context.Context, token string, kind TokenKind) error {
	p, err := s.authenticate(token, kind)
	if err != nil {
		return err
	}
	r := vax.Revocation{ID: p.SessionID, Until: p.AuthTime.Add(s.rules.SessionMax)}
	err = s.store.InTx(ctx, func(tx vax.Tx) error {
		if err := tx.RevokeToken(ctx, r); err != nil {
			return err
		}
		return tx.AppendChange(ctx, vax.ChangeTokenRevoked, r.ID)
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.revoked.add(r.ID, r.Until)
	return nil
}
