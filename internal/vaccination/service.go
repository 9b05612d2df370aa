package vaccination

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// Config configures a Service.
type Config struct {
	Store  vax.Store
	Keys   *keyring.Keyring
	Clock  vax.Clock // nil: the system clock
	Random io.Reader // ids; nil: crypto/rand
	// Location is the civil time zone of dates (--tz); nil: IST, +05:30.
	Location *time.Location
	// Interval returns the minimum days between doses of a vaccine
	// (booking.Rules.Interval); nil: the vaccine's IntervalDays.
	Interval func(vax.Vaccine) int
	// PrecautionDoses allowed beyond a vaccine's primary series (0..3).
	PrecautionDoses int
	// Account finds or creates, in tx, the citizen account of a mobile
	// number (auth.Service.EnsureAccount), for walk-ins who give one.
	Account func(ctx context.Context, tx vax.Tx, mobile string) (vax.Account, bool, error)
	// Register registers a beneficiary under an account in tx, with every
	// registration rule (booking.Service.Register).
	Register func(ctx context.Context, tx vax.Tx, accountID string, nb booking.NewBeneficiary) (vax.Beneficiary, error)
	// Mobile returns an account's mobile number in clear, for the next
	// dose's reminder (auth.Service.AccountMobile).
	Mobile func(vax.Account) (string, error)
	// StaffMobile returns a staff member's mobile number in clear, to flag
	// serious adverse events to district admins.
	StaffMobile func(vax.Staff) (string, error)
	// Certify returns the certificate to issue with a dose, given every
	// dose of the beneficiary (the new one last) and the vaccine of its
	// series (certificates.Service.Certify): it is written in the dose's
	// transaction. nil, or a nil certificate: none.
	Certify func(doses []vax.Dose, series vax.Vaccine) (*vax.Certificate, error)
	// Notify is called after a transaction that enqueued SMS committed
	// (sms.Dispatcher.Notify); nil: dispatchers find them when they poll.
	Notify func()
	// MaxCodeFailures is how many wrong secret codes lock an appointment;
	// 0: DefaultMaxCodeFailures.
	MaxCodeFailures int
}

// DefaultMaxCodeFailures is Config.MaxCodeFailures' default.
const DefaultMaxCodeFailures = 5

// Service runs the vaccinator's day. It is safe for concurrent use.
type Service struct {
	store       vax.Store
	keys        *keyring.Keyring
	clock       vax.Clock
	random      io.Reader
	loc         *time.Location
	interval    func(vax.Vaccine) int
	precaution  int
	account     func(ctx context.Context, tx vax.Tx, mobile string) (vax.Account, bool, error)
	register    func(ctx context.Context, tx vax.Tx, accountID string, nb booking.NewBeneficiary) (vax.Beneficiary, error)
	mobile      func(vax.Account) (string, error)
	staffMobile func(vax.Staff) (string, error)
	certify     func(doses []vax.Dose, series vax.Vaccine) (*vax.Certificate, error)
	notify      func()
	maxFailures int
	vaccines    vaccineCache
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Account == nil || cfg.Register == nil || cfg.Mobile == nil || cfg.StaffMobile == nil {
		return nil, vax.Errorf(vax.Internal, "vaccination: a store, a keyring, Account, Register, Mobile and StaffMobile are required")
	}
	switch {
	case cfg.PrecautionDoses < 0 || cfg.PrecautionDoses > 3:
		return nil, vax.Errorf(vax.Internal, "vaccination: precaution doses must be 0..3")
	case cfg.MaxCodeFailures < 0 || cfg.MaxCodeFailures > 100:
		return nil, vax.Errorf(vax.Internal, "vaccination: MaxCodeFailures must be 0..100")
	}
	s := &Service{store: cfg.Store, keys: cfg.Keys, clock: cfg.Clock, random: cfg.Random, loc: cfg.Location,
		interval: cfg.Interval, precaution: cfg.PrecautionDoses, account: cfg.Account, register: cfg.Register,
		mobile: cfg.Mobile, staffMobile: cfg.StaffMobile, certify: cfg.Certify, notify: cfg.Notify,
		maxFailures: cfg.MaxCodeFailures}
	if s.clock == nil {
		s.clock = vax.SystemClock{}
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.loc == nil {
		s.loc = time.FixedZone("IST", 5*3600+1800)
	}
	if s.interval == nil {
		s.interval = func(v vax.Vaccine) int { return v.IntervalDays }
	}
	if s.certify == nil {
		s.certify = func([]vax.Dose, vax.Vaccine) (*vax.Certificate, error) { return nil, nil }
	}
	if s.notify == nil {
		s.notify = func() {}
	}
	if s.maxFailures == 0 {
		s.maxFailures = DefaultMaxCodeFailures
	}
	return s, nil
}

// today returns the civil date now.
func (s *Service) today() vax.Date { return vax.Today(s.clock, s.loc) }

// newID draws a UUID.
func (s *Service) newID() (string, error) {
	id, err := vax.NewUUID(s.random)
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "draw an id")
	}
	return id, nil
}

// What a staff member may do; each needs the centre (or area) in scope too.
var (
	// atCentre: verify, walk-ins, record and upload doses, the queue.
	atCentre = []vax.Role{vax.RoleVaccinator, vax.RoleFacilityAdmin}
	// manageLots: create lots (facility admins and higher, by scope).
	manageLots = []vax.Role{vax.RoleFacilityAdmin, vax.RoleDistrictAdmin, vax.RoleStateAdmin, vax.RoleNationalAdmin}
	// anyRole: list lots, report an adverse event.
	anyRole = []vax.Role{vax.RoleVaccinator, vax.RoleFacilityAdmin, vax.RoleDistrictAdmin, vax.RoleStateAdmin, vax.RoleNationalAdmin}
)

func forbidden(format string, args ...any) error {
	return fail(vax.Forbidden, ReasonForbidden, format, args...)
}

// allowed checks that by is active and holds one of roles.
func allowed(by vax.Staff, roles []vax.Role) error {
	switch {
	case !by.Active():
		return forbidden("your staff account is suspended")
	case !slices.Contains(roles, by.Role):
		return forbidden("a %s cannot do this", by.Role)
	}
	return nil
}

// centreID resolves a requested centre: 0 means by's only centre.
func centreID(by vax.Staff, id int64) (int64, error) {
	switch {
	case id < 0:
		return 0, fail(vax.Invalid, ReasonBadRequest, "invalid center_id %d", id)
	case id > 0:
		return id, nil
	case len(by.CentreIDs) == 1:
		return by.CentreIDs[0], nil
	}
	return 0, fail(vax.Invalid, ReasonCentreRequired, "center_id is required: you serve more than one centre")
}

// centreFor reads the centre id in tx and checks that by, in one of roles,
// covers it.
func centreFor(ctx context.Context, tx vax.Tx, by vax.Staff, id int64, roles []vax.Role) (vax.Centre, error) {
	if err := allowed(by, roles); err != nil {
		return vax.Centre{}, err
	}
	c, err := tx.Centre(ctx, id)
	if err != nil && !errors.Is(err, vax.ErrNotFound) {
		return vax.Centre{}, err
	}
	return c, covers(by, c, id, roles)
}

// covers checks that by, in one of roles, covers the centre c read for id
// (zero when unknown). An unknown centre and one outside the scope answer
// alike for staff scoped to centres, so neither is probed.
func covers(by vax.Staff, c vax.Centre, id int64, roles []vax.Role) error {
	if err := allowed(by, roles); err != nil {
		return err
	}
	if c.ID == 0 {
		if slices.Contains(by.CentreIDs, id) || by.Role == vax.RoleNationalAdmin {
			return fail(vax.NotFound, ReasonNoCentre, "centre %d not found", id)
		}
		return forbidden("centre %d is not in your scope", id)
	}
	if !by.Covers(c) {
		return forbidden("centre %d is not in your scope", id)
	}
	return nil
}

// checkRef refuses a malformed reference id before any lookup.
func checkRef(ref string) error {
	if vax.ValidBeneficiaryRef(ref) != nil {
		e := vax.Errorf(vax.Invalid, "invalid beneficiary reference id: want %d digits with a valid check digit", vax.RefLen)
		e.Reason = booking.ReasonBadRef
		return e
	}
	return nil
}

// maskRef shows the last 4 digits of a reference id, for SMS texts and
// messages that must not carry it whole.
func maskRef(ref string) string {
	if len(ref) < 4 {
		return "****"
	}
	return "**********" + ref[len(ref)-4:]
}

// vaccineCache keeps the vaccines (master data, changed only by an
// operator's migrate) for a minute, so a dose does not read them.
type vaccineCache struct {
	mu   sync.Mutex
	list []vax.Vaccine
	at   time.Time
}

// vaccineTTL is how long the vaccine list is trusted.
const vaccineTTL = time.Minute

// vaccine returns the vaccine named name, from the cache, or from tx when
// the cache is old or does not know the name.
func (s *Service) vaccine(ctx context.Context, tx vax.Tx, name string) (vax.Vaccine, error) {
	now := s.clock.Now()
	s.vaccines.mu.Lock()
	list, fresh := s.vaccines.list, now.Sub(s.vaccines.at) < vaccineTTL
	s.vaccines.mu.Unlock()
	if i := slices.IndexFunc(list, func(v vax.Vaccine) bool { return v.Name == name }); fresh && i >= 0 {
		return list[i], nil
	}
	list, err := tx.Vaccines(ctx)
	if err != nil {
		return vax.Vaccine{}, err
	}
	s.vaccines.mu.Lock()
	s.vaccines.list, s.vaccines.at = list, now
	s.vaccines.mu.Unlock()
	if i := slices.IndexFunc(list, func(v vax.Vaccine) bool { return v.Name == name }); i >= 0 {
		return list[i], nil
	}
	return vax.Vaccine{}, fail(vax.Invalid, ReasonUnknownVaccine, "unknown vaccine %q", clip(name))
}
