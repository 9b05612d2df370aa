package release_test

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/release"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// The acceptance of fair release: 1,000 entrants for 100 seats, arriving
// in order round-robin over three nodes through the pooling window, 50 of
// them (spread through the arrival order) asking 50 times each.
const (
	entrants = 1000
	seats    = 100
	retriers = 50 // every entrants/retriers-th entrant, from the 10th
	asks     = 50 // each retrier's requests in the window
	p        = float64(seats) / entrants
)

// tally is what runs of the lottery add up to.
type tally struct {
	runs                   int
	earlyWins              int // seats won by the earliest 10% of entrants
	retrierWins, singleWin int
	retrierN, singleN      int
}

func (t *tally) add(u tally) {
	t.runs += u.runs
	t.earlyWins += u.earlyWins
	t.retrierWins += u.retrierWins
	t.singleWin += u.singleWin
	t.retrierN += u.retrierN
	t.singleN += u.singleN
}

// check asserts the acceptance with tolerances computed from the number of
// runs: the earliest 10% win 10% ± max(2, 4 sd) points of the seats (sd of
// a hypergeometric draw: 100 seats among 1,000 of whom 100 are early); the
// retriers' win rate is at most the single askers' + max(1.5, 5 sd) points
// (sd of the retriers' binomial rate at p = 0.1), and both rates are within
// 10% ± max(1.5, 5 sd) points. At 200 runs these are 8–12%, +1.5 and ±1.5.
func (t *tally) check(tb testing.TB) {
	tb.Helper()
	n := float64(t.runs)
	early := float64(t.earlyWins) / (n * seats)
	earlySD := math.Sqrt(seats*0.1*0.9*float64(entrants-seats)/float64(entrants-1)) / seats / math.Sqrt(n)
	earlyTol := max(0.02, 4*earlySD)
	retrier := float64(t.retrierWins) / float64(t.retrierN)
	single := float64(t.singleWin) / float64(t.singleN)
	rateTol := max(0.015, 5*math.Sqrt(p*(1-p)/float64(t.retrierN)))
	tb.Logf("%d runs: earliest 10%% won %.2f%% of the seats (allowed 10 ± %.2f); retriers won %.2f%% of %d tries, single askers %.2f%% of %d (allowed 10 ± %.2f, retriers at most +%.2f)",
		t.runs, 100*early, 100*earlyTol, 100*retrier, t.retrierN, 100*single, t.singleN, 100*rateTol, 100*rateTol)
	if math.Abs(early-0.1) > earlyTol {
		tb.Errorf("the earliest 10%% of entrants won %.2f%% of the seats, want 10 ± %.2f", 100*early, 100*earlyTol)
	}
	if retrier > single+rateTol {
		tb.Errorf("retriers won %.2f%%, single askers %.2f%%: retrying helped by more than %.2f points", 100*retrier, 100*single, 100*rateTol)
	}
	for name, rate := range map[string]float64{"retriers": retrier, "single askers": single} {
		if math.Abs(rate-p) > rateTol {
			tb.Errorf("%s won %.2f%%, want 10 ± %.2f", name, 100*rate, 100*rateTol)
		}
	}
}

// lockedReader shares one deterministic stream among a run's services.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(b)
}

// fairRun runs one release of the acceptance through the booking path,
// its randomness from a ChaCha8 stream seeded by run, on three nodes with
// stores from open (one store, or a handle each).
func fairRun(t *testing.T, run uint64, open func() vax.Store) tally {
	t.Helper()
	ctx := t.Context()
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], run)
	random := &lockedReader{r: rand.NewChaCha8(seed)}
	clock := vax.NewManualClock(t0)
	e := newEnv(t, open(), clock)
	nodes := []node{e.node(t, nil, "a", random), e.node(t, open(), "b", random), e.node(t, open(), "c", random)}
	se := e.session(t, 1, seats, tomorrow)
	r, err := nodes[run%3].rel.Create(ctx, "staff-1", release.CreateRequest{SessionIDs: []string{se.ID}, ReleaseAt: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ps := e.people(t, 0, entrants)

	entrant := map[string]int{} // request id → arrival position
	requestOf := make([]string, entrants)
	ask := func(i, via int) {
		_, err := nodes[via%3].ask(ctx, ps[i], se)
		var pooled *booking.Pooled
		if !errors.As(err, &pooled) {
			t.Fatalf("run %d, entrant %d: got %v, want pooled", run, i, err)
		}
		if requestOf[i] == "" {
			requestOf[i] = pooled.EntryID
		}
		if first, ok := entrant[pooled.EntryID]; pooled.EntryID != requestOf[i] || ok && first != i {
			t.Fatalf("run %d, entrant %d: got request id %s, want its first, %s, and no one else's", run, i, pooled.EntryID, requestOf[i])
		}
		entrant[pooled.EntryID] = i
	}
	isRetrier := func(i int) bool { return i%(entrants/retriers) == entrants/retriers/2 }
	// After its first ask, each retrier asks again at every later arrival
	// (through another node each time) until it has asked 50 times; the
	// last few finish after the last arrival, still in the window.
	type retrier struct{ i, left int }
	var rs []*retrier
	step := r.Window / (entrants + 100)
	for i := range entrants {
		clock.Set(r.ReleaseAt.Add(time.Duration(i) * step))
		for _, rt := range rs {
			if rt.left > 0 {
				ask(rt.i, i+rt.left)
				rt.left--
			}
		}
		ask(i, i)
		if isRetrier(i) {
			rs = append(rs, &retrier{i, asks - 1})
		}
	}
	clock.Set(r.ReleaseAt.Add(entrants * step))
	for _, rt := range rs {
		for ; rt.left > 0; rt.left-- {
			ask(rt.i, rt.i+rt.left)
		}
	}
	clock.Set(r.WindowEnd())
	if err := nodes[(run+1)%3].rel.Draw(ctx, r.ID); err != nil {
		t.Fatal(err)
	}

	got := tally{runs: 1, retrierN: retriers, singleN: entrants - retriers}
	entries := e.entries(t, r.ID)
	if len(entries) != entrants {
		t.Fatalf("run %d: got %d entries, want %d", run, len(entries), entrants)
	}
	won := 0
	for _, en := range entries {
		if en.Status != vax.EntryWon {
			continue
		}
		won++
		i := entrant[en.ID]
		if i < entrants/10 {
			got.earlyWins++
		}
		if isRetrier(i) {
			got.retrierWins++
		} else {
			got.singleWin++
		}
	}
	if won != seats {
		t.Fatalf("run %d: %d won, want %d", run, won, seats)
	}
	return got
}

// TestFairness is the acceptance on SQLite: three nodes on one store.
// VAXPORT_TEST_LONG=1 runs the full 200 runs (about 2.5 min; under -race
// about an hour); by default 20, or 2 under the race detector (about 15 s
// a run), with the tolerances widened by the statistics of fewer runs.
// TestOrderIsFair checks the lottery alone over the full 200 runs.
func TestFairness(t *testing.T) {
	runs := 20
	switch {
	case os.Getenv("VAXPORT_TEST_LONG") != "":
		runs = 200
	case raceEnabled:
		runs = 2
	}
	start := time.Now()
	var sum tally
	for run := range runs {
		t.Run("", func(t *testing.T) {
			store := backendtest.SQLite(t)
			sum.add(fairRun(t, uint64(run), func() vax.Store { return store }))
		})
		if t.Failed() {
			return
		}
	}
	sum.check(t)
	t.Logf("%d runs in %s", runs, time.Since(start).Round(time.Millisecond))
}

// TestFairnessPostgres is the acceptance's path on PostgreSQL, each node
// on a store handle of its own: 3 runs, tolerances to match.
func TestFairnessPostgres(t *testing.T) {
	if os.Getenv(pgtest.EnvVar) == "" {
		t.Skipf("%s is unset: skipping PostgreSQL test", pgtest.EnvVar)
	}
	var sum tally
	for run := range 3 {
		t.Run("", func(t *testing.T) {
			sum.add(fairRun(t, uint64(1000+run), backendtest.Handles(t, "postgres", nil)))
		})
		if t.Failed() {
			return
		}
	}
	sum.check(t)
}

// TestOrderIsFair is the acceptance's statistics for the lottery alone:
// 200 seeds, each ranking 1,000 random request ids in arrival order; the
// first 100 ranks are the seats. The earliest 10% must win 8–12% of them.
func TestOrderIsFair(t *testing.T) {
	const runs = 200
	sum := tally{runs: runs}
	for run := range runs {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(run))
		random := rand.NewChaCha8(seed)
		ids := make([]string, entrants)
		arrival := map[string]int{}
		for i := range ids {
			id, err := vax.NewUUID(random)
			if err != nil {
				t.Fatal(err)
			}
			ids[i], arrival[id] = id, i
		}
		lottery := make([]byte, 32)
		random.Read(lottery)
		for _, id := range release.Order(lottery, ids)[:seats] {
			if arrival[id] < entrants/10 {
				sum.earlyWins++
			}
		}
	}
	early := float64(sum.earlyWins) / (runs * seats)
	t.Logf("earliest 10%% won %.2f%% of the seats over %d runs", 100*early, runs)
	if early < 0.08 || early > 0.12 {
		t.Errorf("the earliest 10%% won %.2f%% of the seats, want 8–12%%", 100*early)
	}
}
