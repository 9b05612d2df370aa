package booking

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// The SMS kinds booking sends.
const (
	MessageBooked      vax.MessageKind = "booked"
	MessageRescheduled vax.MessageKind = "rescheduled"
	MessageCancelled   vax.MessageKind = "cancelled"
)

// Config configures a Service.
type Config struct {
	Store vax.Store
	Keys  *keyring.Keyring
	// Mobile returns an account's mobile number in clear, to text it
	// (auth.Service.AccountMobile).
	Mobile func(vax.Account) (string, error)
	Clock  vax.Clock // nil: the system clock
	Random io.Reader // ids and secret codes; nil: crypto/rand
	Rules  Rules     // zero fields: DefaultRules
	// Notify is called after a transaction that enqueued SMS committed
	// (sms.Dispatcher.Notify); nil: dispatchers find them when they poll.
	Notify func()
	// MaxBatch is the most schedule requests for one session that share a
	// transaction (and one commit) when they arrive together: 0 means
	// DefaultMaxBatch, 1 one transaction per request.
	MaxBatch int
	// Drainers is how many batches of one session may run at once when
	// a rush keeps full batches waiting (0: 1). A store that writes them
	// side by side gains from a second (PostgreSQL: 2; more measured
	// slower, their admissions queueing for the session row's lock); one
	// with a single writer does not (SQLite: 1).
	Drainers int
	// Node is this node's id in the cluster, recorded with each request
	// pooled for a fair release's draw (the audit shows where it arrived).
	Node string
}

// DefaultMaxBatch is Config.MaxBatch's default.
const DefaultMaxBatch = 256

// Service registers beneficiaries and books appointments. It is safe for
// concurrent use.
type Service struct {
	store  vax.Store
	keys   *keyring.Keyring
	mobile func(vax.Account) (string, error)
	clock  vax.Clock
	random io.Reader
	rules  Rules
	notify func()
	full   soldOut
	pools  pooledCache
	node   string
	// batches groups concurrent admissions per session; nil: one
	// transaction per request.
	batches *batcher
	// drawer draws a release whose window has ended (SetDrawer); drawing
	// makes the requests of one node that find it due share one call.
	drawer  atomic.Pointer[func(ctx context.Context, releaseID string) error]
	drawing singleflight.Group
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Mobile == nil {
		return nil, vax.Errorf(vax.Internal, "booking: a store, a keyring and Mobile are required")
	}
	rules, err := cfg.Rules.WithDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{store: cfg.Store, keys: cfg.Keys, mobile: cfg.Mobile, clock: cfg.Clock,
		random: cfg.Random, rules: rules, notify: cfg.Notify, node: cfg.Node}
	if s.clock == nil {
		s.clock = vax.SystemClock{}
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.notify == nil {
		s.notify = func() {}
	}
	switch {
	case cfg.MaxBatch < 0 || cfg.MaxBatch > 1000:
		return nil, vax.Errorf(vax.Internal, "booking: MaxBatch must be 0..1000")
	case cfg.Drainers < 0 || cfg.Drainers > 64:
		return nil, vax.Errorf(vax.Internal, "booking: Drainers must be 0..64")
	case cfg.MaxBatch == 0:
		s.batches = newBatcher(s, DefaultMaxBatch, max(cfg.Drainers, 1))
	case cfg.MaxBatch > 1:
		s.batches = newBatcher(s, cfg.MaxBatch, max(cfg.Drainers, 1))
	}
	return s, nil
}

// Rules returns the rules in force.
func (s *Service) Rules() Rules { return s.rules }

func photoAAD(ref string) []byte { return []byte("beneficiary photo id v1|" + ref) }

// SecretAAD is the associated data an appointment place's secret code is
// sealed with: the code opens only for its own appointment and beneficiary
// (vaccinators' verification checks it the same way).
func SecretAAD(apptID, ref string) []byte {
	return []byte("appointment secret v1|" + strings.ToLower(apptID) + "|" + ref)
}

// AddBeneficiary registers a beneficiary under an account.
func (s *Service) AddBeneficiary(ctx context.Context, accountID string, nb NewBeneficiary) (vax.Beneficiary, error) {
	var b vax.Beneficiary
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		var err error
		b, err = s.Register(ctx, tx, accountID, nb)
		return err
	})
	if err != nil {
		return vax.Beneficiary{}, fmt.Errorf("add beneficiary: %w", err)
	}
	return b, nil
}

// Register registers a beneficiary under an account within tx, with every
// rule AddBeneficiary applies (details, the per-account cap, one
// registration per photo-ID number nationally). Vaccinators registering a
// walk-in use it inside their own transaction.
func (s *Service) Register(ctx context.Context, tx vax.Tx, accountID string, nb NewBeneficiary) (vax.Beneficiary, error) {
	now := s.clock.Now()
	nb, err := nb.normalize(vax.DateOf(now, s.rules.Location).Year)
	if err != nil {
		return vax.Beneficiary{}, err
	}
	ref, err := vax.NewBeneficiaryRef(s.random)
	if err != nil {
		return vax.Beneficiary{}, vax.Wrap(vax.Internal, err, "draw a reference id")
	}
	sealed, err := s.keys.Seal([]byte(nb.PhotoIDNumber), photoAAD(ref))
	if err != nil {
		return vax.Beneficiary{}, fmt.Errorf("seal photo ID: %w", err)
	}
	b := vax.Beneficiary{
		Ref: ref, AccountID: strings.ToLower(accountID), Name: nb.Name, BirthYear: nb.BirthYear,
		GenderID: nb.GenderID, PhotoIDType: nb.PhotoIDType,
		PhotoIDHash:   s.keys.Hash(fmt.Sprintf("%d:%s", nb.PhotoIDType, nb.PhotoIDNumber)).String(),
		PhotoIDSealed: sealed, PhotoIDLast4: nb.PhotoIDNumber[len(nb.PhotoIDNumber)-4:], Comorbidity: nb.Comorbidity,
		CreatedAt: now,
	}
	// Every pii key's hash: a number registered before a key rotation is
	// still taken.
	var hashes []string
	for _, h := range s.keys.Hashes(fmt.Sprintf("%d:%s", nb.PhotoIDType, nb.PhotoIDNumber)) {
		hashes = append(hashes, h.String())
	}
	have, taken, err := tx.ReserveBeneficiary(ctx, accountID, hashes)
	if err != nil {
		return vax.Beneficiary{}, err
	}
	if have >= s.rules.MaxBeneficiaries {
		return vax.Beneficiary{}, fail(vax.Conflict, ReasonTooMany, "an account can register at most %d beneficiaries", s.rules.MaxBeneficiaries)
	}
	if taken {
		return vax.Beneficiary{}, fail(vax.Conflict, ReasonPhotoIDTaken, "this photo ID number is already registered")
	}
	err = tx.CreateBeneficiary(ctx, b)
	if vax.ErrorCode(err) == vax.Conflict {
		// A reference id collides with odds below 1e-9 per registration;
		// a taken photo-ID hash is the real case.
		return vax.Beneficiary{}, fail(vax.Conflict, ReasonPhotoIDTaken, "this photo ID number is already registered")
	}
	if err != nil {
		return vax.Beneficiary{}, err
	}
	return b, nil
}

// checkRef refuses a malformed reference id before any lookup.
func checkRef(ref string) error {
	if vax.ValidBeneficiaryRef(ref) != nil {
		return fail(vax.Invalid, ReasonBadRef, "invalid beneficiary reference id %q: want 14 digits with a valid check digit", clip(ref))
	}
	return nil
}

// notRegistered is the one answer for an unknown beneficiary and another
// account's: the caller cannot tell them apart.
func notRegistered(ref string) error {
	return fail(vax.Invalid, ReasonNotRegistered, "beneficiary %s is not registered with this account", ref)
}

// owned returns the beneficiary ref of accountID.
func owned(ctx context.Context, tx vax.Tx, accountID, ref string) (vax.Beneficiary, error) {
	b, err := tx.Beneficiary(ctx, ref)
	if vax.ErrorCode(err) == vax.NotFound || err == nil && !strings.EqualFold(b.AccountID, accountID) {
		return vax.Beneficiary{}, notRegistered(ref)
	}
	return b, err
}

// DeleteBeneficiary deletes a beneficiary of the account, unless it holds a
// live appointment or has a recorded dose.
func (s *Service) DeleteBeneficiary(ctx context.Context, accountID, ref string) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		if _, err := owned(ctx, tx, accountID, ref); err != nil {
			return err
		}
		doses, err := tx.DosesOf(ctx, ref)
		if err != nil {
			return err
		}
		if len(doses) > 0 {
			return fail(vax.Conflict, ReasonUndeletable, "a beneficiary with a recorded dose cannot be deleted")
		}
		err = tx.DeleteBeneficiary(ctx, ref)
		if vax.ErrorCode(err) == vax.Conflict {
			return fail(vax.Conflict, ReasonUndeletable, "cancel the beneficiary's appointment before deleting it")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete beneficiary: %w", err)
	}
	return nil
}

// ScheduleRequest is one schedule call.
type ScheduleRequest struct {
	Dose      int
	SessionID string
	Slot      string
	Refs      []string
}

// checkRefs validates a list of 1..max distinct reference ids.
func (s *Service) checkRefs(refs []string) error {
	if len(refs) == 0 || len(refs) > s.rules.MaxBeneficiaries {
		return fail(vax.Invalid, ReasonCount, "book 1 to %d beneficiaries", s.rules.MaxBeneficiaries)
	}
	seen := map[string]bool{}
	for _, r := range refs {
		if err := checkRef(r); err != nil {
			return err
		}
		if seen[r] {
			return fail(vax.Invalid, ReasonCount, "beneficiary %s is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

// sessionFor reads a session and its vaccine.
func sessionFor(ctx context.Context, tx vax.Tx, id string) (vax.Session, vax.Vaccine, error) {
	if !vax.ValidUUID(id) {
		return vax.Session{}, vax.Vaccine{}, fail(vax.NotFound, ReasonNoSession, "session not found")
	}
	se, err := tx.Session(ctx, id)
	if vax.ErrorCode(err) == vax.NotFound {
		return vax.Session{}, vax.Vaccine{}, fail(vax.NotFound, ReasonNoSession, "session not found")
	}
	if err != nil {
		return vax.Session{}, vax.Vaccine{}, err
	}
	vs, err := tx.Vaccines(ctx)
	if err != nil {
		return vax.Session{}, vax.Vaccine{}, err
	}
	for _, v := range vs {
		if v.Name == se.Vaccine {
			return se, v, nil
		}
	}
	return vax.Session{}, vax.Vaccine{}, vax.Errorf(vax.Internal, "session %s: unknown vaccine %s", id, se.Vaccine)
}

// admissionErr turns a store's refusal to admit into the wire answer.
func admissionErr(err error, dose int) error {
	switch vax.ErrorCode(err) {
	case vax.Full:
		return fail(vax.Full, ReasonFull, "this session is completely booked for dose %d", dose)
	case vax.NotFound:
		return fail(vax.NotFound, ReasonNoSession, "session not found")
	case vax.Conflict:
		return fail(vax.Conflict, ReasonLiveAppointment, "already booked for dose %d", dose)
	}
	return err
}

// Schedule books 1..MaxBeneficiaries beneficiaries of the account into one
// appointment, all or none, and texts the account their secret codes. A
// session held for a fair release answers its own way (pool.go): refused
// before the release time, pooled for the draw (APPOIN0061, with Pooled)
// in its window, and booked first-come-first-served once the draw ran —
// which the first request after the window runs, if no node has yet.
func (s *Service) Schedule(ctx context.Context, accountID string, req ScheduleRequest) (vax.Appointment, error) {
	if err := s.checkRefs(req.Refs); err != nil {
		return vax.Appointment{}, err
	}
	now := s.clock.Now()
	if s.full.refuses(req.SessionID, req.Dose, len(req.Refs), now) {
		return vax.Appointment{}, fail(vax.Full, ReasonFull, "this session is completely booked for dose %d", req.Dose)
	}
	if p := s.pools.get(accountID, req, now); p != nil {
		return vax.Appointment{}, fmt.Errorf("schedule: %w", s.pooledErr(p))
	}
	a, err := s.schedule(ctx, accountID, req)
	var p *Pooled
	if errors.As(err, &p) && p.same {
		s.pools.put(accountID, req, p, now)
	}
	var due *drawDue
	if !errors.As(err, &due) {
		return a, err
	}
	if err := s.draw(ctx, due.releaseID); err != nil {
		return vax.Appointment{}, fmt.Errorf("schedule: %w", err)
	}
	// The draw opened the session: book as usual.
	return s.schedule(ctx, accountID, req)
}

// schedule books one request, in a batch when batching is on.
func (s *Service) schedule(ctx context.Context, accountID string, req ScheduleRequest) (vax.Appointment, error) {
	if s.batches != nil {
		return s.batches.submit(ctx, accountID, req)
	}
	a, err := s.bookOne(ctx, accountID, req)
	if err != nil {
		return vax.Appointment{}, fmt.Errorf("schedule: %w", err)
	}
	s.notify()
	return a, nil
}

// bookOne runs one schedule request in a transaction of its own. A pooled
// request's answer is an error to its caller, but its entry commits.
func (s *Service) bookOne(ctx context.Context, accountID string, req ScheduleRequest) (vax.Appointment, error) {
	var a vax.Appointment
	var answer error
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		var err error
		a, err = s.book(ctx, tx, accountID, req)
		answer = nil
		if isPooled(err) {
			answer, err = err, nil
		}
		return err
	})
	if err != nil {
		return vax.Appointment{}, err
	}
	return a, answer
}

// book runs one schedule request in tx: the rules, the seat admission, the
// SMS; or, for a held session, its entry in the release's pool.
func (s *Service) book(ctx context.Context, tx vax.Tx, accountID string, req ScheduleRequest) (vax.Appointment, error) {
	now := s.clock.Now()
	se, v, err := sessionFor(ctx, tx, req.SessionID)
	if err != nil {
		return vax.Appointment{}, err
	}
	if se.Status == vax.SessionHeld {
		results := make([]batchResult, 1)
		if err := s.pool(ctx, tx, se, v, []bookReq{{accountID, req}}, results, now); err != nil {
			return vax.Appointment{}, err
		}
		return vax.Appointment{}, results[0].err
	}
	b := Booking{Now: now, Session: se, Vaccine: v, Dose: req.Dose, Slot: req.Slot}
	if err := s.rules.Check(b); err != nil {
		return vax.Appointment{}, err
	}
	facts, err := tx.BookingFacts(ctx, req.Refs)
	if err != nil {
		return vax.Appointment{}, err
	}
	cs, err := s.candidates(facts, nil, accountID, req)
	if err != nil {
		return vax.Appointment{}, err
	}
	if err := s.rules.Check(b, cs...); err != nil {
		return vax.Appointment{}, err
	}
	a, text, err := s.appointment(se, accountID, req, now)
	if err != nil {
		return vax.Appointment{}, err
	}
	if err := tx.BookAppointment(ctx, a); err != nil {
		if vax.ErrorCode(err) == vax.Full {
			s.full.mark(se.ID, req.Dose, len(req.Refs), now)
		}
		return vax.Appointment{}, admissionErr(err, req.Dose)
	}
	if err := s.text(ctx, tx, accountID, MessageBooked, text); err != nil {
		return vax.Appointment{}, err
	}
	return a, nil
}

// appointment draws a new appointment for req with its sealed secret
// codes, and the confirmation SMS text that carries them.
func (s *Service) appointment(se vax.Session, accountID string, req ScheduleRequest, now time.Time) (vax.Appointment, string, error) {
	id, err := vax.NewUUID(s.random)
	if err != nil {
		return vax.Appointment{}, "", vax.Wrap(vax.Internal, err, "draw an appointment id")
	}
	a := vax.Appointment{ID: id, AccountID: strings.ToLower(accountID), SessionID: se.ID, Dose: req.Dose,
		Slot: req.Slot, Status: vax.AppointmentLive, CreatedAt: now}
	lines := make([]string, len(req.Refs))
	for i, ref := range req.Refs {
		code, err := s.secretCode()
		if err != nil {
			return vax.Appointment{}, "", err
		}
		sealed, err := s.keys.Seal([]byte(code), SecretAAD(id, ref))
		if err != nil {
			return vax.Appointment{}, "", fmt.Errorf("seal secret code: %w", err)
		}
		lines[i] = fmt.Sprintf("ref ..%s code %s", ref[len(ref)-4:], code)
		a.Beneficiaries = append(a.Beneficiaries, vax.AppointmentPlace{Ref: ref, SecretSealed: sealed, Status: vax.AppointmentLive})
	}
	text := fmt.Sprintf("vaxport: dose %d booked, %s %s, appointment %s. Secret codes: %s. Show them at the centre.",
		req.Dose, se.Date.Cowin(), req.Slot, id, strings.Join(lines, "; "))
	return a, text, nil
}

// secretCode draws a random 4-digit code.
func (s *Service) secretCode() (string, error) {
	n, err := rand.Int(s.random, big.NewInt(10000))
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "draw a secret code")
	}
	return fmt.Sprintf("%04d", n.Int64()), nil
}

// liveKey names one beneficiary's place for one dose.
type liveKey struct {
	ref  string
	dose int
}

// candidates returns the rules' view of req's beneficiaries from facts
// (Tx.BookingFacts for req.Refs); claimed holds the places earlier requests
// of a batch take (nil: none). A beneficiary unknown or of another account
// is not registered.
func (s *Service) candidates(facts vax.BookingFacts, claimed map[liveKey]bool, accountID string, req ScheduleRequest) ([]Candidate, error) {
	cs := make([]Candidate, 0, len(req.Refs))
	for _, ref := range req.Refs {
		ben, ok := facts.Beneficiaries[ref]
		if !ok || !strings.EqualFold(ben.AccountID, accountID) {
			return nil, notRegistered(ref)
		}
		live := claimed[liveKey{ref, req.Dose}] || slices.Contains(facts.LiveDoses[ref], req.Dose)
		cs = append(cs, Candidate{BirthYear: ben.BirthYear, History: s.history(facts.Doses[ref]), LiveForDose: live})
	}
	return cs, nil
}

// text enqueues an SMS to the account's mobile number in tx.
func (s *Service) text(ctx context.Context, tx vax.Tx, accountID string, kind vax.MessageKind, text string) error {
	acct, err := tx.Account(ctx, accountID)
	if err != nil {
		return fmt.Errorf("account for SMS: %w", err)
	}
	to, err := s.mobile(acct)
	if err != nil {
		return err
	}
	id, err := vax.NewUUID(s.random)
	if err != nil {
		return vax.Wrap(vax.Internal, err, "draw a message id")
	}
	return outbox.Enqueue(ctx, tx, s.keys, outbox.Message{ID: id, Kind: kind, To: to, Text: text, CreatedAt: s.clock.Now()})
}

// ownedAppointment reads an appointment of the account; the same NotFound
// for an unknown id and another account's.
func ownedAppointment(ctx context.Context, tx vax.Tx, accountID, id string) (vax.Appointment, error) {
	a, err := tx.Appointment(ctx, id)
	if vax.ErrorCode(err) == vax.NotFound || err == nil && !strings.EqualFold(a.AccountID, accountID) {
		return vax.Appointment{}, fail(vax.NotFound, ReasonNoAppointment, "appointment not found")
	}
	return a, err
}

// Reschedule moves a live appointment of the account to another session and
// slot, under the same rules as a new booking.
func (s *Service) Reschedule(ctx context.Context, accountID, id, sessionID, slot string) error {
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		now := s.clock.Now()
		a, err := ownedAppointment(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if a.Status != vax.AppointmentLive {
			return fail(vax.Conflict, ReasonCancelled, "this appointment has been cancelled")
		}
		se, v, err := sessionFor(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if se.Status == vax.SessionHeld {
			return s.heldForReschedule(ctx, tx, se)
		}
		b := Booking{Now: now, Session: se, Vaccine: v, Dose: a.Dose, Slot: slot}
		// The appointment's own places do not count against it.
		facts, err := tx.BookingFacts(ctx, a.Live())
		if err != nil {
			return err
		}
		facts.LiveDoses = nil
		cs, err := s.candidates(facts, nil, accountID, ScheduleRequest{Dose: a.Dose, Refs: a.Live()})
		if err != nil {
			return err
		}
		if err := s.rules.Check(b, cs...); err != nil {
			return err
		}
		if err := tx.MoveAppointment(ctx, a.ID, se.ID, slot); err != nil {
			return admissionErr(err, a.Dose)
		}
		text := fmt.Sprintf("vaxport: appointment %s moved to %s %s. Your secret codes are unchanged.", a.ID, se.Date.Cowin(), slot)
		return s.text(ctx, tx, accountID, MessageRescheduled, text)
	})
	if err != nil {
		return fmt.Errorf("reschedule: %w", err)
	}
	s.notify()
	return nil
}

// Cancel cancels the given beneficiaries' places in an appointment of the
// account (every place when refs is empty) and frees their seats.
func (s *Service) Cancel(ctx context.Context, accountID, id string, refs []string) error {
	for _, r := range refs {
		if err := checkRef(r); err != nil {
			return err
		}
	}
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		a, err := ownedAppointment(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if a.Status != vax.AppointmentLive {
			return fail(vax.Conflict, ReasonCancelled, "this appointment has already been cancelled")
		}
		in := map[string]bool{}
		for _, p := range a.Beneficiaries {
			in[p.Ref] = true
		}
		for _, r := range refs {
			if !in[r] {
				return notRegistered(r)
			}
		}
		for _, r := range a.Live() {
			if len(refs) > 0 && !slices.Contains(refs, r) {
				continue
			}
			doses, err := tx.DosesOf(ctx, r)
			if err != nil {
				return err
			}
			if len(doses) >= a.Dose {
				return fail(vax.Conflict, ReasonDoseGiven, "dose %d has already been given to %s: the appointment is used", a.Dose, r)
			}
		}
		if len(refs) == 0 {
			refs = nil
		}
		n, err := tx.CancelPlaces(ctx, a.ID, refs)
		if err != nil {
			return err
		}
		if n == 0 {
			return fail(vax.Conflict, ReasonCancelled, "those places have already been cancelled")
		}
		text := fmt.Sprintf("vaxport: %d booking(s) in appointment %s cancelled.", n, a.ID)
		return s.text(ctx, tx, accountID, MessageCancelled, text)
	})
	if err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	s.notify()
	return nil
}

// CancelSessionAppointments cancels every live appointment of a session in
// tx and texts their accounts: the catalog calls it in the transaction that
// cancels the session.
func (s *Service) CancelSessionAppointments(ctx context.Context, tx vax.Tx, sessionID string) error {
	as, err := tx.SessionAppointments(ctx, sessionID)
	if err != nil {
		return err
	}
	se, err := tx.Session(ctx, sessionID)
	if err != nil {
		return err
	}
	for _, a := range as {
		if _, err := tx.CancelPlaces(ctx, a.ID, nil); err != nil {
			return err
		}
		text := fmt.Sprintf("vaxport: the session of %s was cancelled by the centre; appointment %s is cancelled. Please book again.",
			se.Date.Cowin(), a.ID)
		if err := s.text(ctx, tx, a.AccountID, MessageCancelled, text); err != nil {
			return err
		}
	}
	return nil
}

// Notify wakes the dispatcher after a caller's transaction that ran
// CancelSessionAppointments committed.
func (s *Service) Notify() { s.notify() }

// history is what the rules see of a beneficiary's dose records (in dose
// order): the civil date each was given, in the rules' time zone.
func (s *Service) history(doses []vax.Dose) []DoseRecord {
	out := make([]DoseRecord, len(doses))
	for i, d := range doses {
		out[i] = DoseRecord{Dose: d.Dose, Vaccine: d.Vaccine, Date: vax.DateOf(d.AdministeredAt, s.rules.Location)}
	}
	return out
}
