package alerts

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/vax"
)

// Filter is what a subscription asks for. Exactly one of DistrictID and
// Pincode is set.
type Filter struct {
	DistrictID int
	Pincode    int
	// Age is the subscriber's age in years (Co-WIN's "18+"/"45+" buttons
	// are ages 18 and 45); 0 accepts every session. A session matches when
	// its age band admits the age.
	Age int
	// Dose is 1 or 2; 0 accepts either.
	Dose int
	// Vaccine is an upper-case vaccine name; "" accepts any.
	Vaccine string
}

// Validate checks a filter's shape.
func (f Filter) Validate() error {
	switch {
	case (f.DistrictID > 0) == (f.Pincode > 0):
		return vax.Errorf(vax.Invalid, "subscribe to exactly one of a district_id or a pincode")
	case f.DistrictID < 0 || f.Pincode < 0:
		return vax.Errorf(vax.Invalid, "district_id and pincode must be positive")
	case f.Pincode > 0 && (f.Pincode < 110000 || f.Pincode > 999999):
		return vax.Errorf(vax.Invalid, "invalid pincode %d: want 6 digits", f.Pincode)
	case f.Age < 0 || f.Age > 150:
		return vax.Errorf(vax.Invalid, "min_age must be an age from 0 to 150")
	case f.Dose < 0 || f.Dose > 2:
		return vax.Errorf(vax.Invalid, "dose must be 1 or 2")
	case len(f.Vaccine) > 50:
		return vax.Errorf(vax.Invalid, "vaccine name too long")
	}
	return nil
}

// Admits reports whether session s is one the filter asks about (its
// seats aside).
func (f Filter) Admits(s vax.Session) bool {
	if f.Vaccine != "" && !strings.EqualFold(f.Vaccine, s.Vaccine) {
		return false
	}
	if f.Age > 0 {
		if f.Age < s.MinAge {
			return false
		}
		if s.MaxAge > 0 && !s.AllowAllAge && f.Age > s.MaxAge {
			return false
		}
	}
	return true
}

// seats returns a session's free seats and capacity for a dose (0: both).
func seats(s vax.Session, dose int) (free, capacity int) {
	a1, a2 := s.Available()
	switch dose {
	case 1:
		return a1, s.Capacity1
	case 2:
		return a2, s.Capacity2
	}
	return a1 + a2, s.Capacity1 + s.Capacity2
}

// Released reports whether going from old to next releases seats of dose
// (0: either) in the sense of the package comment. old is nil when the
// session was not open before (new, cancelled or unknown); next is the
// session now.
func Released(old *vax.Session, next vax.Session, dose int) bool {
	free, capacity := seats(next, dose)
	if free <= 0 {
		return false
	}
	if old == nil || old.Status == vax.SessionCancelled {
		return true
	}
	oldFree, oldCapacity := seats(*old, dose)
	return oldFree == 0 || capacity > oldCapacity
}

// Event is one released session, shared by every subscriber it goes to
// (read-only).
type Event struct {
	CentreID   int64
	Name       string
	DistrictID int
	Pincode    int
	Session    vax.Session
}

// Config configures a Hub. Every field has a safe default.
type Config struct {
	// Buffer is the number of undelivered events a subscription holds
	// before it drops its oldest (default 64).
	Buffer int
	// PerAccount caps an account's open subscriptions (default 5).
	PerAccount int
	// Texter sends SMS alerts to subscriptions that opted in; nil
	// disables SMS alerts (Subscribe refuses SMS).
	Texter Texter
	// SMSEvery is the least time between two SMS for one account and
	// filter, and for one stored subscription (default 30 minutes).
	SMSEvery time.Duration
	// Store keeps the stored subscriptions (see CreateStored): nil, none.
	// The hub matches and texts them only when it has a Texter too;
	// without one it still lists and deletes them, but creates none.
	Store vax.Store
	// StoredPerAccount caps an account's stored subscriptions (default 5).
	StoredPerAccount int
	// Queue is how many commits' stored-subscription matches may wait for
	// Run before further ones are dropped (default 256): Publish never
	// waits for the store.
	Queue  int
	Random io.Reader    // draws stored subscription ids; default crypto/rand
	Clock  vax.Clock    // default: the system clock
	Logger *slog.Logger // default: discard
}

// Hub matches index commits to subscriptions. Safe for concurrent use.
type Hub struct {
	cfg        Config
	mu         sync.RWMutex
	byDistrict map[int]map[*Subscription]struct{}
	byPin      map[int]map[*Subscription]struct{}
	byAccount  map[string]map[*Subscription]struct{}
	total      int

	tmu    sync.Mutex
	texted map[textKey]time.Time // when each account+filter was last texted

	// Stored subscriptions (stored.go), under mu like the streams: by id,
	// and by the district or PIN code they match.
	stored         map[string]*storedSub
	storedDistrict map[int]map[*storedSub]struct{}
	storedPin      map[int]map[*storedSub]struct{}
	texts          chan []storedText // Publish's matches, for Run

	cmu     sync.Mutex
	changed map[string]bool // stored subscriptions to re-read (Changed)
	wake    chan struct{}
}

// NewHub returns an empty Hub. Feed it with
// index.OnCommit(hub.Publish).
func NewHub(cfg Config) *Hub {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 64
	}
	if cfg.PerAccount <= 0 {
		cfg.PerAccount = 5
	}
	if cfg.SMSEvery <= 0 {
		cfg.SMSEvery = 30 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = vax.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StoredPerAccount <= 0 {
		cfg.StoredPerAccount = 5
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 256
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	return &Hub{
		cfg:            cfg,
		byDistrict:     map[int]map[*Subscription]struct{}{},
		byPin:          map[int]map[*Subscription]struct{}{},
		byAccount:      map[string]map[*Subscription]struct{}{},
		texted:         map[textKey]time.Time{},
		stored:         map[string]*storedSub{},
		storedDistrict: map[int]map[*storedSub]struct{}{},
		storedPin:      map[int]map[*storedSub]struct{}{},
		texts:          make(chan []storedText, cfg.Queue),
		changed:        map[string]bool{},
		wake:           make(chan struct{}, 1),
	}
}

// Subscription is one open subscription. Read it with Ready, Take and
// TakeDraws; Close it when done.
type Subscription struct {
	hub     *Hub
	account string
	filter  Filter
	sms     bool          // opted in to SMS (Notify)
	ready   chan struct{} // holds a token while events wait

	mu      sync.Mutex
	events  []*Event // oldest first, at most hub.cfg.Buffer
	dropped int
	closed  bool
	// draws are the outcomes of the account's fair-release requests
	// (SendDraw), oldest first, at most hub.cfg.Buffer. They queue apart
	// from events: the slot alerts a draw itself sets off (its sessions
	// open) never push an outcome out.
	draws []vax.ReleaseEntry
}

// Subscribe opens a subscription for an account, with SMS alerts too when
// sms is set (see Notify). It fails with Invalid for a bad filter or SMS
// asked of a hub without a Texter, and RateLimited when the account has
// PerAccount open.
func (h *Hub) Subscribe(account string, f Filter, sms bool) (*Subscription, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if sms && h.cfg.Texter == nil {
		return nil, vax.Errorf(vax.Invalid, "SMS alerts are not enabled on this service")
	}
	f.Vaccine = strings.ToUpper(strings.TrimSpace(f.Vaccine))
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.byAccount[account]) >= h.cfg.PerAccount {
		return nil, vax.Errorf(vax.RateLimited, "at most %d open alert subscriptions per account", h.cfg.PerAccount)
	}
	s := &Subscription{hub: h, account: account, filter: f, sms: sms, ready: make(chan struct{}, 1)}
	add(h.byAccount, account, s)
	h.total++
	if f.DistrictID > 0 {
		add(h.byDistrict, f.DistrictID, s)
	} else {
		add(h.byPin, f.Pincode, s)
	}
	return s, nil
}

func add[K, V comparable](m map[K]map[V]struct{}, k K, s V) {
	if m[k] == nil {
		m[k] = map[V]struct{}{}
	}
	m[k][s] = struct{}{}
}

func remove[K, V comparable](m map[K]map[V]struct{}, k K, s V) {
	delete(m[k], s)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}

// Len returns the number of open subscriptions.
func (h *Hub) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.total
}

// Filter returns the subscription's filter.
func (s *Subscription) Filter() Filter { return s.filter }

// Ready has a value whenever events or draw outcomes wait to be taken.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Take returns the waiting events, oldest first, and how many events or
// draw outcomes were dropped since the last Take because a buffer was
// full.
func (s *Subscription) Take() (events []*Event, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	events, dropped = s.events, s.dropped
	s.events, s.dropped = nil, 0
	return events, dropped
}

// TakeDraws returns the waiting draw outcomes, oldest first (see SendDraw).
// Take's dropped count includes outcomes dropped from a full buffer.
func (s *Subscription) TakeDraws() []vax.ReleaseEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	draws := s.draws
	s.draws = nil
	return draws
}

// Close removes the subscription; it is safe to call more than once.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if already {
		return
	}
	if s.filter.DistrictID > 0 {
		remove(h.byDistrict, s.filter.DistrictID, s)
	} else {
		remove(h.byPin, s.filter.Pincode, s)
	}
	remove(h.byAccount, s.account, s)
	h.total--
}

// push appends e, dropping the oldest event when the buffer is full.
func (s *Subscription) push(e *Event, limit int) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.events = appendBounded(s, s.events, e, limit)
	s.mu.Unlock()
	s.wake()
}

// pushDraw appends a draw outcome, dropping the oldest when the buffer is
// full.
func (s *Subscription) pushDraw(e vax.ReleaseEntry, limit int) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.draws = appendBounded(s, s.draws, e, limit)
	s.mu.Unlock()
	s.wake()
}

// appendBounded appends v to q, first dropping (and counting on s) the
// oldest element when q holds limit. The caller holds s.mu.
func appendBounded[T any](s *Subscription, q []T, v T, limit int) []T {
	if len(q) >= limit {
		q = q[:copy(q, q[1:])]
		s.dropped++
	}
	return append(q, v)
}

// wake makes Ready hold a token, without blocking.
func (s *Subscription) wake() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// SendDraw tells the entrant of e, a fair-release entry the draw has
// decided, its outcome on every subscription the account has open on this
// node, whatever their filters. Every node calls it for every entry
// (release.Service.OnOutcome), so the outcome reaches the account's streams
// on whichever nodes they are; the streams read it with TakeDraws.
// Outcomes have a bounded buffer of their own: a reader so far behind that
// one was dropped is told so (Take's dropped count) and finds its outcome
// by polling the request id.
func (h *Hub) SendDraw(e vax.ReleaseEntry) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	subs := h.byAccount[e.AccountID]
	if len(subs) == 0 {
		return
	}
	// Keep only the outcome: no account or beneficiaries in memory longer
	// than needed.
	out := vax.ReleaseEntry{ID: e.ID, ReleaseID: e.ReleaseID, SessionID: e.SessionID, Dose: e.Dose,
		Rank: e.Rank, Status: e.Status, AppointmentID: e.AppointmentID, Reason: e.Reason}
	for s := range subs {
		s.pushDraw(out, h.cfg.Buffer)
	}
}

// candidate is a session with seats that may be released, and its old copy.
type candidate struct {
	old   *vax.Session
	event *Event
}

// Publish fans a commit's changed centres out to matching subscriptions:
// streams get the events pushed, and stored subscriptions' matches go to
// Run to be texted. It is the search.Index.OnCommit subscriber: it never
// blocks on a subscriber or the store and touches only the centres someone
// subscribed to.
func (h *Hub) Publish(changes []search.CentreChange) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.total == 0 && len(h.stored) == 0 {
		return
	}
	var texts map[*storedSub][]*Event
	for _, ch := range changes {
		c := ch.New
		if c == nil {
			continue // a centre that is gone releases nothing
		}
		bd, bp := h.byDistrict[c.DistrictID], h.byPin[c.Pincode]
		sd, sp := h.storedDistrict[c.DistrictID], h.storedPin[c.Pincode]
		if len(bd) == 0 && len(bp) == 0 && len(sd) == 0 && len(sp) == 0 {
			continue
		}
		cands := released(ch.Old, c)
		if len(cands) == 0 {
			continue
		}
		for s := range bd {
			h.deliver(s, cands)
		}
		for s := range bp {
			h.deliver(s, cands)
		}
		for s := range sd {
			texts = collect(texts, s, cands)
		}
		for s := range sp {
			texts = collect(texts, s, cands)
		}
	}
	h.queue(texts)
}

func (h *Hub) deliver(s *Subscription, cands []candidate) {
	for _, cd := range cands {
		if s.filter.matches(cd) {
			s.push(cd.event, h.cfg.Buffer)
		}
	}
}

// matches reports whether the filter asks about cd's session and cd
// released seats of the filter's dose.
func (f Filter) matches(cd candidate) bool {
	return f.Admits(cd.event.Session) && Released(cd.old, cd.event.Session, f.Dose)
}

// released returns the sessions of next that released seats of either dose
// compared with old (a superset of what any one filter wants).
func released(old, next *search.Centre) []candidate {
	var prev map[string]*vax.Session
	if old != nil && len(old.Sessions) > 0 {
		prev = make(map[string]*vax.Session, len(old.Sessions))
		for i := range old.Sessions {
			prev[old.Sessions[i].ID] = &old.Sessions[i]
		}
	}
	var out []candidate
	for _, s := range next.Sessions {
		o := prev[s.ID]
		if Released(o, s, 1) || Released(o, s, 2) || Released(o, s, 0) {
			out = append(out, candidate{old: o, event: &Event{
				CentreID: next.ID, Name: next.Name, DistrictID: next.DistrictID, Pincode: next.Pincode, Session: s}})
		}
	}
	return out
}

// String describes a filter for logs and SMS texts.
func (f Filter) String() string {
	var b strings.Builder
	if f.DistrictID > 0 {
		fmt.Fprintf(&b, "district %d", f.DistrictID)
	} else {
		fmt.Fprintf(&b, "PIN %d", f.Pincode)
	}
	if f.Age > 0 {
		fmt.Fprintf(&b, ", age %d", f.Age)
	}
	if f.Dose > 0 {
		fmt.Fprintf(&b, ", dose %d", f.Dose)
	}
	if f.Vaccine != "" {
		fmt.Fprintf(&b, ", %s", f.Vaccine)
	}
	return b.String()
}
