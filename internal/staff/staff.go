package staff

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// Config configures a Service. Store, Keys and Auth are required.
type Config struct {
	Store vax.Store
	Keys  *keyring.Keyring
	Auth  *auth.Service
	Clock vax.Clock // nil: the system clock
	// Random is the source of staff ids; nil: crypto/rand.
	Random io.Reader
	Logger *slog.Logger // nil: discard
	// CacheTTL is how long a looked-up staff record is trusted without a
	// change-feed eviction; 0: DefaultCacheTTL. At most MaxCacheTTL, so a
	// suspension bites on every node within a minute even if the feed
	// stalls.
	CacheTTL time.Duration
}

// Cache lifetimes of a looked-up staff record.
const (
	DefaultCacheTTL = 30 * time.Second
	MaxCacheTTL     = time.Minute
)

// cacheSize bounds the staff records a node keeps.
const cacheSize = 1 << 16

// Service signs staff in, authenticates their tokens and administers
// staff. It is safe for concurrent use.
type Service struct {
	store  vax.Store
	keys   *keyring.Keyring
	auth   *auth.Service
	clock  vax.Clock
	random io.Reader
	log    *slog.Logger
	ttl    time.Duration

	mu    sync.Mutex
	cache map[string]cached
	// gen counts evictions, so a lookup that raced an eviction does not
	// put back the record it read before the change.
	gen uint64
}

type cached struct {
	st vax.Staff
	at time.Time // when it was read from the store
}

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Auth == nil {
		return nil, vax.Errorf(vax.Internal, "staff: a store, a keyring and the sign-in service are required")
	}
	if cfg.CacheTTL < 0 || cfg.CacheTTL > MaxCacheTTL {
		return nil, vax.Errorf(vax.Invalid, "staff: cache TTL %s: want 0..%s", cfg.CacheTTL, MaxCacheTTL)
	}
	s := &Service{
		store:  cfg.Store,
		keys:   cfg.Keys,
		auth:   cfg.Auth,
		clock:  cfg.Clock,
		random: cfg.Random,
		log:    cfg.Logger,
		ttl:    cfg.CacheTTL,
		cache:  map[string]cached{},
	}
	if s.clock == nil {
		s.clock = vax.SystemClock{}
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.ttl == 0 {
		s.ttl = DefaultCacheTTL
	}
	return s, nil
}

// Bootstrap is the principal of the foundation's bootstrap admin token: a
// national admin that exists in no table (ID "", active). It exists to
// create the first national admins.
func Bootstrap() vax.Staff {
	return vax.Staff{Name: "bootstrap", Role: vax.RoleNationalAdmin, Status: vax.StaffActive}
}

// notStaff is the refusal of a sign-in by a number that is no active staff
// member's: one message for unknown and suspended, so it says no more than
// it must.
func notStaff() error {
	return vax.Errorf(vax.Forbidden, "this number is not an active vaxport staff member's: ask your administrator")
}

// SendOTP sends a staff sign-in OTP to mobile and returns its txnId. A
// number that is no active staff member's is refused, Forbidden (behind
// auth's per-IP limit); otherwise the refusals are auth.GenerateOTP's.
func (s *Service) SendOTP(ctx context.Context, mobile, clientIP string) (string, error) {
	txnID, err := s.auth.GenerateOTP(ctx, auth.OTPRequest{
		Mobile:   mobile,
		ClientIP: clientIP,
		Staff:    true,
		Allow: func(ctx context.Context, tx vax.Tx, hashes []string) error {
			_, err := activeByMobile(ctx, tx, hashes)
			return err
		},
	})
	if err != nil {
		return "", fmt.Errorf("staff OTP: %w", err)
	}
	return txnID, nil
}

// activeByMobile returns the active staff member with one of the blind
// indexes; Forbidden when there is none.
func activeByMobile(ctx context.Context, tx vax.Tx, hashes []string) (vax.Staff, error) {
	st, err := tx.StaffByMobile(ctx, hashes)
	switch {
	case errors.Is(err, vax.ErrNotFound):
		return vax.Staff{}, notStaff()
	case err != nil:
		return vax.Staff{}, err
	case !st.Active():
		return vax.Staff{}, notStaff()
	}
	return st, nil
}

// Token confirms a staff OTP and returns a staff token and whom it is for.
// Refusals are auth.ConfirmStaffOTP's, or Forbidden when the number is no
// longer an active staff member's.
func (s *Service) Token(ctx context.Context, txnID, otpSHA256 string) (auth.Token, vax.Staff, error) {
	var st vax.Staff
	gen := s.generation() // before the read, so a change racing it is not cached over
	tok, err := s.auth.ConfirmStaffOTP(ctx, txnID, otpSHA256,
		func(ctx context.Context, tx vax.Tx, hashes []string) (_ string, err error) {
			st, err = activeByMobile(ctx, tx, hashes)
			return st.ID, err
		})
	if err != nil {
		return auth.Token{}, vax.Staff{}, fmt.Errorf("staff sign-in: %w", err)
	}
	s.put(st, s.clock.Now(), gen)
	return tok, st, nil
}

// Logout ends the sign-in session of a staff token on every node.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.auth.LogoutStaff(ctx, token)
}

// Authenticate verifies a staff token and returns the staff member as of
// now: Unauthorized for a bad token or an unknown staff member, Forbidden
// for a suspended one.
func (s *Service) Authenticate(ctx context.Context, token string) (vax.Staff, error) {
	p, err := s.auth.AuthenticateStaff(token)
	if err != nil {
		return vax.Staff{}, err
	}
	st, err := s.lookup(ctx, p.AccountID)
	switch {
	case errors.Is(err, vax.ErrNotFound):
		return vax.Staff{}, &vax.Error{Code: vax.Unauthorized, Reason: auth.ReasonInvalidToken,
			Message: "invalid or expired token: sign in again", Err: fmt.Errorf("staff %s not found", p.AccountID)}
	case err != nil:
		return vax.Staff{}, fmt.Errorf("authenticate staff: %w", err)
	case !st.Active():
		return vax.Staff{}, vax.Errorf(vax.Forbidden, "your staff account is suspended")
	}
	return st, nil
}

// lookup returns the staff member id, from the cache while fresh.
func (s *Service) lookup(ctx context.Context, id string) (vax.Staff, error) {
	now := s.clock.Now()
	s.mu.Lock()
	c, ok := s.cache[id]
	gen := s.gen
	s.mu.Unlock()
	if ok && now.Sub(c.at) < s.ttl && !now.Before(c.at) {
		return c.st, nil
	}
	var st vax.Staff
	err := s.store.View(ctx, func(tx vax.Tx) (err error) {
		st, err = tx.Staff(ctx, id)
		return err
	})
	if err != nil {
		return vax.Staff{}, err
	}
	s.put(st, now, gen)
	return st, nil
}

func (s *Service) generation() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// put caches st as read at time at, unless an eviction happened since
// generation gen was read (the record may predate the change).
func (s *Service) put(st vax.Staff, at time.Time, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return
	}
	if len(s.cache) >= cacheSize {
		for id, c := range s.cache {
			if at.Sub(c.at) >= s.ttl {
				delete(s.cache, id)
			}
		}
		for id := range s.cache {
			if len(s.cache) < cacheSize-cacheSize/8 {
				break
			}
			delete(s.cache, id)
		}
	}
	s.cache[st.ID] = cached{st: st, at: at}
}

// evict drops the cached copies of ids.
func (s *Service) evict(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	for _, id := range ids {
		delete(s.cache, id)
	}
}

// StaffChanged is fed the change feed's batches (changefeed.Follower's
// Subscribe): it drops the cached copy of every staff member changed, so a
// suspension made on another node bites here within the feed's delay.
func (s *Service) StaffChanged(changes []vax.Change) {
	var ids []string
	for _, c := range changes {
		if c.Kind == vax.ChangeStaff {
			ids = append(ids, c.Key)
		}
	}
	if len(ids) > 0 {
		s.evict(ids...)
	}
}

// Mobile returns a staff member's mobile number in clear, to text them.
// Never log or display it: show vax.Staff.MobileLast4.
func (s *Service) Mobile(st vax.Staff) (string, error) {
	plain, err := s.keys.OpenSealed(st.MobileSealed, mobileAAD(st.ID))
	if err != nil {
		return "", fmt.Errorf("open staff %s number: %w", st.ID, err)
	}
	return string(plain), nil
}

func mobileAAD(id string) []byte { return []byte("staff mobile v1|" + strings.ToLower(id)) }
