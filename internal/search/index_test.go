package search_test

import (
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/search/searchtest"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// ist is the deployment zone of the tests.
var ist = time.FixedZone("IST", 5*3600+30*60)

// start is 10:00 IST on 14 June 2021.
var start = time.Date(2021, 6, 14, 10, 0, 0, 0, ist)

const (
	alappuzha = masterdata.AlappuzhaID
	ernakulam = 307
	kerala    = masterdata.KeralaID
	wait      = 20 * time.Second
)

type fixture struct {
	st    vax.Store
	clock *vax.ManualClock
	cat   *catalog.Service
	today vax.Date
}

func newFixture(t *testing.T, open searchtest.Opener) *fixture {
	t.Helper()
	clock := vax.NewManualClock(start)
	st := open(t, clock)
	if err := masterdata.Load(t.Context(), st); err != nil {
		t.Fatalf("load master data: %v", err)
	}
	return &fixture{st: st, clock: clock, cat: catalog.New(st, clock, ist, rand.Reader), today: vax.DateOf(start, ist)}
}

func (f *fixture) centre(t *testing.T, name string, district, pin int, lat, long float64) vax.Centre {
	t.Helper()
	c, err := f.cat.CreateCentre(t.Context(), vax.Centre{
		Name: name, Address: "Main Road", StateID: kerala, DistrictID: district, BlockName: "Block",
		Pincode: pin, Lat: lat, Long: long, From: "09:00:00", To: "17:00:00", FeeType: vax.Free,
	})
	if err != nil {
		t.Fatalf("create centre %s: %v", name, err)
	}
	return c
}

func (f *fixture) session(t *testing.T, centre int64, day int, vaccine string, cap1 int) vax.Session {
	t.Helper()
	s, err := f.cat.CreateSession(t.Context(), vax.Session{
		CentreID: centre, Date: f.today.AddDays(day), Vaccine: vaccine, MinAge: 18, AllowAllAge: true,
		Capacity1: cap1, Capacity2: 10, Slots: []string{"09:00AM-11:00AM", "11:00AM-01:00PM"},
	})
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return s
}

// sessionIDs lists the ids of the sessions a group shows, by centre.
func sessionIDs(g *search.Group) map[int64][]string {
	out := map[int64][]string{}
	for _, c := range g.Centres {
		out[c.ID] = []string{}
		for _, s := range c.Sessions {
			out[c.ID] = append(out[c.ID], s.ID)
		}
	}
	return out
}

func findSession(ix *search.Index, district int, id string) (vax.Session, bool) {
	g, _ := ix.District(district)
	for _, c := range g.Centres {
		for _, s := range c.Sessions {
			if s.ID == id {
				return s, true
			}
		}
	}
	return vax.Session{}, false
}

func TestFollowsTheStore(t *testing.T) {
	for _, store := range searchtest.Stores() {
		t.Run(store.Name, func(t *testing.T) {
			f := newFixture(t, store.Open)
			ctx := t.Context()
			a := f.centre(t, "Alpha", alappuzha, 688001, 9.49, 76.33)
			b := f.centre(t, "Beta", alappuzha, 688002, 9.51, 76.35)
			sa0 := f.session(t, a.ID, 0, "COVISHIELD", 100)
			sa1 := f.session(t, a.ID, 1, "COVAXIN", 50)
			sb1 := f.session(t, b.ID, 1, "COVISHIELD", 70)
			cancelled := f.session(t, b.ID, 2, "COVISHIELD", 70)
			if _, err := f.cat.CancelSession(ctx, cancelled.ID); err != nil {
				t.Fatalf("cancel: %v", err)
			}
			// A session of yesterday (only a store write can make one).
			past := sa0
			past.ID, past.Date = "00000000-0000-4000-8000-000000000001", f.today.AddDays(-1)
			if err := f.st.InTx(ctx, func(tx vax.Tx) error { return tx.CreateSession(ctx, past) }); err != nil {
				t.Fatalf("create past session: %v", err)
			}

			ix := searchtest.Start(t, f.st, f.clock, ist)

			g, known := ix.District(alappuzha)
			if !known {
				t.Fatalf("District(%d): not known", alappuzha)
			}
			want := map[int64][]string{a.ID: {sa0.ID, sa1.ID}, b.ID: {sb1.ID}}
			if diff := cmp.Diff(want, sessionIDs(g)); diff != "" {
				t.Fatalf("snapshot of Alappuzha (-want +got):\n%s", diff)
			}
			if got := ix.Today(); got != f.today {
				t.Errorf("Today() = %v, want %v", got, f.today)
			}
			empty, known := ix.District(ernakulam)
			if !known || len(empty.Centres) != 0 {
				t.Errorf("District(%d) = %d centres, known %v; want 0, true", ernakulam, len(empty.Centres), known)
			}
			if _, known := ix.District(99999); known {
				t.Errorf("District(99999) known, want unknown")
			}
			pinA := ix.Pincode(688001)
			ernVersion := empty.Version

			t.Run("capacity change", func(t *testing.T) {
				next := sa1
				next.Capacity1 = 77
				if _, err := f.cat.UpdateSession(ctx, next); err != nil {
					t.Fatalf("update: %v", err)
				}
				searchtest.Eventually(t, wait, "capacity 77 visible", func() bool {
					s, ok := findSession(ix, alappuzha, sa1.ID)
					return ok && s.Capacity1 == 77
				})
				g2, _ := ix.District(alappuzha)
				if g2.Version <= g.Version {
					t.Errorf("district version %d after a change, want > %d", g2.Version, g.Version)
				}
				if p := ix.Pincode(688001); p.Version <= pinA.Version {
					t.Errorf("PIN 688001 version %d after a change, want > %d", p.Version, pinA.Version)
				}
				if c := ix.Centre(a.ID); c.Version <= pinA.Centres[0].Version {
					t.Errorf("centre version %d after a change, want > %d", c.Version, pinA.Centres[0].Version)
				}
				if e, _ := ix.District(ernakulam); e.Version != ernVersion {
					t.Errorf("untouched district's version moved from %d to %d", ernVersion, e.Version)
				}
			})

			t.Run("cancel", func(t *testing.T) {
				if _, err := f.cat.CancelSession(ctx, sb1.ID); err != nil {
					t.Fatalf("cancel: %v", err)
				}
				searchtest.Eventually(t, wait, "cancelled session gone", func() bool {
					_, ok := findSession(ix, alappuzha, sb1.ID)
					return !ok
				})
			})

			var c vax.Centre
			var sc vax.Session
			t.Run("new centre and session", func(t *testing.T) {
				c = f.centre(t, "Gamma", alappuzha, 688001, 9.60, 76.40)
				sc = f.session(t, c.ID, 3, "COVISHIELD", 30)
				searchtest.Eventually(t, wait, "new session visible", func() bool {
					_, ok := findSession(ix, alappuzha, sc.ID)
					return ok
				})
				if got := ix.Centre(c.ID); got == nil || got.District.Name != "Alappuzha" || got.State.Name != "Kerala" {
					t.Fatalf("Centre(%d) = %+v, want Gamma named in Alappuzha, Kerala", c.ID, got)
				}
				if ids := centreIDs(ix.Pincode(688001)); !slices.Equal(ids, []int64{a.ID, c.ID}) {
					t.Errorf("PIN 688001 centres %v, want %v", ids, []int64{a.ID, c.ID})
				}
				if hits := ix.Near(9.60, 76.40, 1); len(hits) != 1 || hits[0].Centre.ID != c.ID {
					t.Errorf("Near(Gamma's position) = %v, want Gamma", hits)
				}
			})

			t.Run("centre moves district", func(t *testing.T) {
				moved := c
				moved.DistrictID, moved.Pincode, moved.Lat, moved.Long = ernakulam, 682001, 9.98, 76.28
				if _, err := f.cat.UpdateCentre(ctx, moved); err != nil {
					t.Fatalf("update centre: %v", err)
				}
				searchtest.Eventually(t, wait, "centre in Ernakulam", func() bool {
					_, ok := findSession(ix, ernakulam, sc.ID)
					return ok
				})
				if _, ok := findSession(ix, alappuzha, sc.ID); ok {
					t.Errorf("session still in Alappuzha after its centre moved")
				}
				if ids := centreIDs(ix.Pincode(688001)); !slices.Equal(ids, []int64{a.ID}) {
					t.Errorf("PIN 688001 centres %v, want %v", ids, []int64{a.ID})
				}
				if ids := centreIDs(ix.Pincode(682001)); !slices.Equal(ids, []int64{c.ID}) {
					t.Errorf("PIN 682001 centres %v, want %v", ids, []int64{c.ID})
				}
				if hits := ix.Near(9.98, 76.28, 1); len(hits) != 1 || hits[0].Centre.ID != c.ID {
					t.Errorf("Near(new position) = %v, want Gamma", hits)
				}
				if got := ix.Centre(c.ID).District.Name; got != "Ernakulam" {
					t.Errorf("district name %q, want Ernakulam", got)
				}
			})

			t.Run("date rolls over", func(t *testing.T) {
				before, _ := ix.District(alappuzha)
				f.clock.Advance(24 * time.Hour)
				searchtest.Eventually(t, wait, "today moves on", func() bool { return ix.Today() == f.today.AddDays(1) })
				if _, ok := findSession(ix, alappuzha, sa0.ID); ok {
					t.Errorf("yesterday's session %s still served", sa0.ID)
				}
				if _, ok := findSession(ix, alappuzha, sa1.ID); !ok {
					t.Errorf("today's session %s gone", sa1.ID)
				}
				if after, _ := ix.District(alappuzha); after.Version <= before.Version {
					t.Errorf("district version %d after the roll, want > %d", after.Version, before.Version)
				}
				if st := ix.Stats(); st.Sessions != 2 || st.Centres != 3 || !st.Ready {
					t.Errorf("Stats() = %+v, want 3 centres, 2 sessions, ready", st)
				}
			})
		})
	}
}

func centreIDs(g *search.Group) []int64 {
	var ids []int64
	for _, c := range g.Centres {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestManyChanges makes 2500 changes at once, absorbed both ways: by a
// reload when the backlog is over Config.Backlog, by re-reads when not.
func TestManyChanges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backlog int
		reload  bool
	}{
		{"reload", 100, true},
		{"re-read", 1 << 30, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, backendtest.OpenSQLite)
			c := f.centre(t, "Alpha", alappuzha, 688001, 9.49, 76.33)
			ix := searchtest.Start(t, f.st, f.clock, ist, func(cfg *search.Config) { cfg.Backlog = tc.backlog })
			ctx := t.Context()
			const n = 2500
			err := f.st.InTx(ctx, func(tx vax.Tx) error {
				for i := range n {
					id, err := vax.NewUUID(rand.Reader)
					if err != nil {
						return err
					}
					s := vax.Session{ID: id, CentreID: c.ID, Date: f.today.AddDays(i % 30), Vaccine: "COVISHIELD", MinAge: 18,
						Capacity1: 10, Slots: []string{"09:00AM-11:00AM"}, Status: vax.SessionOpen}
					if err := tx.CreateSession(ctx, s); err != nil {
						return err
					}
					if err := tx.AppendChange(ctx, vax.ChangeSession, id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("create sessions: %v", err)
			}
			searchtest.Eventually(t, wait, "all sessions visible", func() bool { return len(ix.Centre(c.ID).Sessions) == n })
			got := ix.Centre(c.ID).Sessions
			for i := 1; i < len(got); i++ {
				if got[i].Date.Before(got[i-1].Date) {
					t.Fatalf("sessions not in date order at %d: %v after %v", i, got[i].Date, got[i-1].Date)
				}
			}
			st := ix.Stats()
			if st.Sessions != n {
				t.Errorf("Stats().Sessions = %d, want %d", st.Sessions, n)
			}
			if reloaded := st.Reloads > 1; reloaded != tc.reload {
				t.Errorf("reloads %d: reloaded %v, want %v", st.Reloads, reloaded, tc.reload)
			}
		})
	}
}

func TestLoadAndBetween(t *testing.T) {
	today := vax.DateOf(start, ist)
	ix := search.New(search.Config{Clock: vax.NewManualClock(start), Location: ist})
	select {
	case <-ix.Ready():
		t.Fatal("ready before Load")
	default:
	}
	sess := func(id string, day int, status vax.SessionStatus, centre int64) vax.Session {
		return vax.Session{ID: id, CentreID: centre, Date: today.AddDays(day), Vaccine: "COVAXIN", Status: status, Slots: []string{"09:00AM-11:00AM"}}
	}
	ix.Load(search.Data{
		States:    []vax.State{{ID: kerala, Name: "Kerala", LocalNames: map[string]string{"ml": "കേരളം"}}},
		Districts: []vax.District{{ID: alappuzha, StateID: kerala, Name: "Alappuzha"}},
		Vaccines:  []string{"COVAXIN"},
		Centres:   []vax.Centre{{ID: 1, StateID: kerala, DistrictID: alappuzha, Pincode: 688001, Lat: 9.5, Long: 76.3}},
		Sessions: []vax.Session{
			sess("s3", 3, vax.SessionOpen, 1), sess("s0", 0, vax.SessionOpen, 1), sess("s1", 1, vax.SessionOpen, 1),
			sess("sx", 1, vax.SessionCancelled, 1), sess("sp", -1, vax.SessionOpen, 1), sess("so", 1, vax.SessionOpen, 42),
		},
	})
	<-ix.Ready()
	c := ix.Centre(1)
	ids := func(ss []vax.Session) []string {
		out := []string{}
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	for _, tc := range []struct {
		from, to int
		want     []string
	}{
		{0, 6, []string{"s0", "s1", "s3"}},
		{1, 1, []string{"s1"}},
		{2, 2, []string{}},
		{-5, 0, []string{"s0"}},
		{4, 10, []string{}},
	} {
		if got := ids(c.Between(today.AddDays(tc.from), today.AddDays(tc.to))); !slices.Equal(got, tc.want) {
			t.Errorf("Between(+%d, +%d) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	m := ix.Master()
	if !m.Vaccine("COVAXIN") || m.Vaccine("COVISHIELD") {
		t.Errorf("Vaccine: got COVAXIN %v, COVISHIELD %v; want true, false", m.Vaccine("COVAXIN"), m.Vaccine("COVISHIELD"))
	}
	if !m.Language("ml") || m.Language("hi") {
		t.Errorf("Language: got ml %v, hi %v; want true, false", m.Language("ml"), m.Language("hi"))
	}
	if c.State.Name != "Kerala" || c.District.Name != "Alappuzha" {
		t.Errorf("names: got %q, %q; want Kerala, Alappuzha", c.State.Name, c.District.Name)
	}
	if st := ix.Stats(); st.Sessions != 3 || st.Centres != 1 {
		t.Errorf("Stats() = %+v, want 1 centre, 3 sessions", st)
	}
}
