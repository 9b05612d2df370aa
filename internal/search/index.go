package search

import (
	"cmp"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Feed is what the index needs from the change feed;
// *changefeed.Follower is one.
type Feed interface {
	// Subscribe registers fn for every change committed after the feed is
	// ready; fn must not block.
	Subscribe(fn func([]vax.Change)) (unsubscribe func())
	// Ready is closed once the feed has caught up.
	Ready() <-chan struct{}
}

// Config configures an Index. Every field but Store and Feed (which only
// Run needs) has a safe default.
type Config struct {
	// Store is the system of record: Run loads the snapshot from it and
	// re-reads whatever the feed says changed.
	Store vax.Store
	// Feed says what changed, on any node.
	Feed Feed
	// Clock and Location decide "today" (the deployment's --tz): sessions
	// before today are not indexed. Defaults: the system clock, UTC.
	Clock    vax.Clock
	Location *time.Location
	// Tick is how often Run checks whether the civil date has rolled over
	// and retries a failed re-read (default 1s).
	Tick time.Duration
	// Backlog is the number of distinct changed centres and sessions
	// waiting to be applied above which Run reloads a whole snapshot
	// instead of re-reading them one by one (a midnight top-up or a bulk
	// import touches most sessions; bookings touch few). Default: 2000
	// plus one per 8 indexed sessions.
	Backlog int
	Logger  *slog.Logger
}

// Centre is a centre as search serves it. Entries are shared by every
// reader and never modified: any change makes a new entry.
type Centre struct {
	vax.Centre
	State    vax.State    // the centre's state (shared LocalNames)
	District vax.District // the centre's district (shared LocalNames)
	// Sessions are the centre's open (not cancelled) sessions from today
	// on, ordered by date, minimum age, vaccine and id.
	Sessions []vax.Session
	// Version changes whenever the centre or one of its sessions changes.
	Version uint64
}

// Between returns the centre's sessions dated from..to, both inclusive, as
// a shared sub-slice.
func (c *Centre) Between(from, to vax.Date) []vax.Session {
	lo, hi := dayKey(from), dayKey(to)
	i, _ := slices.BinarySearchFunc(c.Sessions, lo, func(s vax.Session, k int) int { return cmp.Compare(dayKey(s.Date), k) })
	j := i
	for j < len(c.Sessions) && dayKey(c.Sessions[j].Date) <= hi {
		j++
	}
	return c.Sessions[i:j:j]
}

// Group is the centres of one district or PIN code, ordered by id. Shared
// and never modified.
type Group struct {
	// Version changes whenever a centre of the group, or one of its
	// sessions, changes or the group gains or loses a centre. It is never
	// reused for different contents; 0 means the group was never populated.
	Version uint64
	Centres []*Centre
}

var emptyGroup = &Group{}

// Master is the reference data search answers with: states, districts,
// vaccine names and the languages local names exist in. Shared and never
// modified.
type Master struct {
	// Version changes whenever the master data is reloaded.
	Version   uint64
	states    []vax.State
	stateIdx  map[int]int
	districts map[int]vax.District
	byState   map[int][]vax.District
	vaccines  map[string]bool
	langs     map[string]bool
}

// States returns every state by id (shared: do not modify).
func (m *Master) States() []vax.State { return m.states }

// State returns one state.
func (m *Master) State(id int) (vax.State, bool) {
	i, ok := m.stateIdx[id]
	if !ok {
		return vax.State{}, false
	}
	return m.states[i], true
}

// District returns one district.
func (m *Master) District(id int) (vax.District, bool) {
	d, ok := m.districts[id]
	return d, ok
}

// Districts returns a state's districts by id (shared: do not modify).
func (m *Master) Districts(stateID int) []vax.District { return m.byState[stateID] }

// Vaccine reports whether name (upper case) is a known vaccine.
func (m *Master) Vaccine(name string) bool { return m.vaccines[name] }

// Language reports whether some state or district has a local name in the
// language tag (lower case, e.g. "hi").
func (m *Master) Language(tag string) bool { return m.langs[tag] }

func newMaster(states []vax.State, districts []vax.District, vaccines []string) *Master {
	m := &Master{
		states:    slices.Clone(states),
		stateIdx:  map[int]int{},
		districts: map[int]vax.District{},
		byState:   map[int][]vax.District{},
		vaccines:  map[string]bool{},
		langs:     map[string]bool{},
	}
	slices.SortFunc(m.states, func(a, b vax.State) int { return cmp.Compare(a.ID, b.ID) })
	for i, s := range m.states {
		m.stateIdx[s.ID] = i
		for l := range s.LocalNames {
			m.langs[l] = true
		}
	}
	for _, d := range districts {
		m.districts[d.ID] = d
		m.byState[d.StateID] = append(m.byState[d.StateID], d)
		for l := range d.LocalNames {
			m.langs[l] = true
		}
	}
	for _, ds := range m.byState {
		slices.SortFunc(ds, func(a, b vax.District) int { return cmp.Compare(a.ID, b.ID) })
	}
	for _, v := range vaccines {
		m.vaccines[strings.ToUpper(v)] = true
	}
	return m
}

// Hit is a centre found by Near, with its great-circle distance.
type Hit struct {
	Centre *Centre
	Km     float64
}

// Stats describes what the index holds.
type Stats struct {
	Ready      bool
	Today      vax.Date
	Centres    int
	Sessions   int
	Generation uint64    // bumped by every applied batch
	Applied    time.Time // when the last batch or snapshot was applied
	Reloads    int       // full snapshot loads, including the first
}

// Data is a complete set of contents for Load.
type Data struct {
	States    []vax.State
	Districts []vax.District
	Vaccines  []string // names
	Centres   []vax.Centre
	Sessions  []vax.Session // any dates and statuses: Load keeps what search serves
}

// Index is the availability index of one node. Its methods are safe for
// concurrent use.
type Index struct {
	cfg   Config
	ready chan struct{}
	once  sync.Once

	// wmu serializes writers (Load, commit), which alone touch intern
	// and internName; mu guards everything readers see. Entries and
	// groups are immutable once published.
	wmu        sync.Mutex
	mu         sync.RWMutex
	today      vax.Date
	gen        uint64
	master     *Master
	centres    map[int64]*Centre
	districts  map[int]*Group
	pins       map[int]*Group
	grid       grid
	nSessions  int
	applied    time.Time
	reloads    int
	intern     map[string][]string // shared slot lists, by their labels joined with "|"
	internName map[string]string   // shared vaccine names

	qmu    sync.Mutex
	queue  []vax.Change
	signal chan struct{}

	hooks hooks // OnCommit subscribers
}

// New returns an empty Index; call Run to load and follow the store, or
// Load to fill it directly.
func New(cfg Config) *Index {
	if cfg.Clock == nil {
		cfg.Clock = vax.SystemClock{}
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Index{
		cfg:        cfg,
		ready:      make(chan struct{}),
		master:     newMaster(nil, nil, nil),
		centres:    map[int64]*Centre{},
		districts:  map[int]*Group{},
		pins:       map[int]*Group{},
		grid:       grid{},
		intern:     map[string][]string{},
		internName: map[string]string{},
		signal:     make(chan struct{}, 1),
	}
}

// Ready is closed once the index holds its first snapshot.
func (ix *Index) Ready() <-chan struct{} { return ix.ready }

// Master returns the current reference data.
func (ix *Index) Master() *Master {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.master
}

// Today returns the civil date the index holds sessions from.
func (ix *Index) Today() vax.Date {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.today
}

// District returns the centres of a district. known is false when the
// district is neither in the master data nor has centres.
func (ix *Index) District(id int) (g *Group, known bool) {
	ix.mu.RLock()
	g, ok := ix.districts[id]
	_, inMaster := ix.master.districts[id]
	ix.mu.RUnlock()
	if !ok {
		return emptyGroup, inMaster
	}
	return g, true
}

// Pincode returns the centres with a PIN code (an empty group when none).
func (ix *Index) Pincode(pin int) *Group {
	ix.mu.RLock()
	g, ok := ix.pins[pin]
	ix.mu.RUnlock()
	if !ok {
		return emptyGroup
	}
	return g
}

// Centre returns a centre, or nil when unknown.
func (ix *Index) Centre(id int64) *Centre {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.centres[id]
}

// Stats reports what the index holds.
func (ix *Index) Stats() Stats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := Stats{
		Today: ix.today, Centres: len(ix.centres), Sessions: ix.nSessions,
		Generation: ix.gen, Applied: ix.applied, Reloads: ix.reloads,
	}
	select {
	case <-ix.ready:
		st.Ready = true
	default:
	}
	return st
}

// Load replaces the index's contents with d, keeping the open sessions
// from today on, and makes the index ready. Run calls it with a snapshot of
// the store; tests and benchmarks may call it directly. Every version
// changes.
func (ix *Index) Load(d Data) {
	today := vax.Today(ix.cfg.Clock, ix.cfg.Location)
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	// Build everything aside, then swap: readers keep being served from
	// the old contents while a large snapshot is sorted and grouped.
	gen := ix.gen + 1
	master := newMaster(d.States, d.Districts, d.Vaccines)
	master.Version = gen
	centres := make(map[int64]*Centre, len(d.Centres))
	g := grid{}
	for _, c := range d.Centres {
		e := &Centre{Centre: c, Version: gen}
		nameEntry(master, e)
		centres[c.ID] = e
		g.add(c.ID, c.Lat, c.Long)
	}
	// All sessions in one array, grouped by centre: each entry's Sessions
	// is a capped window of it (a change copies before it appends).
	all := make([]vax.Session, 0, len(d.Sessions))
	for _, s := range d.Sessions {
		if centres[s.CentreID] != nil && visible(s, today) {
			all = append(all, ix.internSession(s))
		}
	}
	slices.SortFunc(all, func(a, b vax.Session) int {
		return cmp.Or(cmp.Compare(a.CentreID, b.CentreID), compareSessions(a, b))
	})
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].CentreID == all[i].CentreID {
			j++
		}
		centres[all[i].CentreID].Sessions = all[i:j:j]
		i = j
	}
	byDistrict := map[int][]*Centre{}
	byPin := map[int][]*Centre{}
	for _, e := range centres {
		byDistrict[e.DistrictID] = append(byDistrict[e.DistrictID], e)
		byPin[e.Pincode] = append(byPin[e.Pincode], e)
	}
	// Old groups stay, empty, with the new version, so that a version is
	// never reused for a key whose contents differ.
	districts := regroup(ix.districts, byDistrict, gen)
	pins := regroup(ix.pins, byPin, gen)

	ix.mu.Lock()
	ix.gen = gen
	ix.today = today
	ix.master = master
	ix.grid = g
	ix.districts = districts
	ix.pins = pins
	ix.nSessions = len(all)
	ix.applied = ix.cfg.Clock.Now()
	ix.reloads++
	old := ix.centres
	ix.centres = centres
	ix.mu.Unlock()
	ix.once.Do(func() { close(ix.ready) })
	if ix.watched() {
		ix.notify(diffCentres(old, centres))
	}
}

// diffCentres lists every centre of old or next: a snapshot replaces every
// entry.
func diffCentres(old, next map[int64]*Centre) []CentreChange {
	out := make([]CentreChange, 0, len(next))
	for id, n := range next {
		out = append(out, CentreChange{Old: old[id], New: n})
	}
	for id, o := range old {
		if next[id] == nil {
			out = append(out, CentreChange{Old: o})
		}
	}
	return out
}

func regroup(old map[int]*Group, members map[int][]*Centre, gen uint64) map[int]*Group {
	out := make(map[int]*Group, max(len(old), len(members)))
	for k := range old {
		out[k] = &Group{Version: gen}
	}
	for k, cs := range members {
		slices.SortFunc(cs, byID)
		out[k] = &Group{Version: gen, Centres: cs}
	}
	return out
}

func byID(a, b *Centre) int { return cmp.Compare(a.ID, b.ID) }

// nameEntry fills an entry's state and district from the master data.
func nameEntry(m *Master, e *Centre) {
	if s, ok := m.State(e.StateID); ok {
		e.State = s
	} else {
		e.State = vax.State{ID: e.StateID}
	}
	if d, ok := m.District(e.DistrictID); ok {
		e.District = d
	} else {
		e.District = vax.District{ID: e.DistrictID, StateID: e.StateID}
	}
}

// internSession shares the slot list and vaccine name of s with every equal
// one: a million sessions have a handful of distinct values. Callers hold
// wmu.
func (ix *Index) internSession(s vax.Session) vax.Session {
	key := strings.Join(s.Slots, "|")
	if slots, ok := ix.intern[key]; ok {
		s.Slots = slots
	} else {
		s.Slots = slices.Clip(slices.Clone(s.Slots))
		ix.intern[key] = s.Slots
	}
	if v, ok := ix.internName[s.Vaccine]; ok {
		s.Vaccine = v
	} else {
		ix.internName[s.Vaccine] = s.Vaccine
	}
	return s
}

// visible reports whether search serves s on or after today.
func visible(s vax.Session, today vax.Date) bool {
	return s.Status != vax.SessionCancelled && dayKey(s.Date) >= dayKey(today)
}

func sortSessions(ss []vax.Session) { slices.SortFunc(ss, compareSessions) }

// compareSessions orders a centre's sessions: by date, minimum age,
// vaccine and id.
func compareSessions(a, b vax.Session) int {
	return cmp.Or(
		cmp.Compare(dayKey(a.Date), dayKey(b.Date)),
		cmp.Compare(a.MinAge, b.MinAge),
		strings.Compare(a.Vaccine, b.Vaccine),
		strings.Compare(a.ID, b.ID),
	)
}

// dayKey orders dates as integers (YYYYMMDD).
func dayKey(d vax.Date) int { return d.Year*10000 + int(d.Month)*100 + d.Day }
