package seed_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/seed"
	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

var today = vax.Date{Year: 2021, Month: time.June, Day: 14}

// opener returns an empty migrated store, with the master data loaded when
// loaded is true.
type opener func(t testing.TB, loaded bool) vax.Store

var clockStart = time.Date(2021, 6, 14, 3, 30, 0, 0, time.UTC)

func openSQLite(t testing.TB, loaded bool) vax.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vax.db"), sqlite.Options{Clock: vax.NewManualClock(clockStart)})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return prepare(t, st, loaded)
}

// openPostgres skips the test unless VAXPORT_TEST_POSTGRES is set, and
// fails it if that database is unreachable.
func openPostgres(t testing.TB, loaded bool) vax.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), pgtest.DSN(t), postgres.Options{Clock: vax.NewManualClock(clockStart)})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return prepare(t, st, loaded)
}

func prepare(t testing.TB, st vax.Store, loaded bool) vax.Store {
	t.Helper()
	if loaded {
		if err := masterdata.Load(t.Context(), st); err != nil {
			t.Fatalf("load master data: %v", err)
		}
	}
	return st
}

// eachStore runs test against SQLite and, when VAXPORT_TEST_POSTGRES is
// set, PostgreSQL.
func eachStore(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) { test(t, openSQLite) })
	t.Run("postgres", func(t *testing.T) { test(t, openPostgres) })
}

func generate(t *testing.T, st vax.Store, cfg seed.Config) seed.Summary {
	t.Helper()
	sum, err := seed.Generate(t.Context(), st, cfg)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", cfg, err)
	}
	return sum
}

type dataSet struct {
	Centres  []vax.Centre
	Sessions []vax.Session
}

// readAll reads every centre and session, paging as a client would.
func readAll(t *testing.T, st vax.Store) dataSet {
	t.Helper()
	var ds dataSet
	err := st.View(t.Context(), func(tx vax.Tx) error {
		ds = dataSet{}
		for after := int64(0); ; {
			page, err := tx.Centres(t.Context(), vax.CentreQuery{AfterID: after, Limit: vax.MaxLimit})
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			ds.Centres = append(ds.Centres, page...)
			after = page[len(page)-1].ID
		}
		for after := ""; ; {
			page, err := tx.Sessions(t.Context(), vax.SessionQuery{AfterID: after, Limit: vax.MaxLimit})
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			ds.Sessions = append(ds.Sessions, page...)
			after = page[len(page)-1].ID
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read data set: %v", err)
	}
	return ds
}

var ignoreUpdatedAt = cmpopts.IgnoreFields(vax.Session{}, "UpdatedAt")

func TestSameSeedSameData(t *testing.T) {
	eachStore(t, func(t *testing.T, openStore opener) {
		cfg := seed.Config{Seed: 7, Centres: 800, Days: 2, Today: today}
		a, b := openStore(t, true), openStore(t, true)
		sumA, sumB := generate(t, a, cfg), generate(t, b, cfg)
		if sumA != sumB {
			t.Errorf("summaries differ: %+v and %+v", sumA, sumB)
		}
		dataA, dataB := readAll(t, a), readAll(t, b)
		if len(dataA.Centres) != 800 || len(dataA.Sessions) != sumA.Sessions {
			t.Errorf("got %d centres and %d sessions in the store, want 800 and %d",
				len(dataA.Centres), len(dataA.Sessions), sumA.Sessions)
		}
		if diff := cmp.Diff(dataA, dataB, ignoreUpdatedAt); diff != "" {
			t.Errorf("same seed, different data (-first +second):\n%s", diff)
		}

		c := openStore(t, true)
		cfg.Seed = 8
		generate(t, c, cfg)
		dataC := readAll(t, c)
		if cmp.Equal(dataA.Centres, dataC.Centres) {
			t.Errorf("seeds 7 and 8 gave the same centres")
		}
		ids := map[string]bool{}
		for _, s := range dataA.Sessions {
			ids[s.ID] = true
		}
		for _, s := range dataC.Sessions {
			if ids[s.ID] {
				t.Errorf("seeds 7 and 8 both made session id %s", s.ID)
				break
			}
		}
	})
}

func TestDefaultSizeCoversEveryDistrict(t *testing.T) {
	st := openSQLite(t, true)
	sum := generate(t, st, seed.Config{Seed: 1, Days: 1, Today: today})
	want := seed.CentresPerDistrict * len(masterdata.Districts())
	if sum.Centres != want {
		t.Errorf("default size: got %d centres, want %d", sum.Centres, want)
	}
	ds := readAll(t, st)
	if len(ds.Centres) != want {
		t.Errorf("store has %d centres, want %d", len(ds.Centres), want)
	}
	perDistrict := map[int]int{}
	for _, c := range ds.Centres {
		perDistrict[c.DistrictID]++
	}
	for _, d := range masterdata.Districts() {
		if perDistrict[d.ID] == 0 {
			t.Errorf("district %d %s has no centre", d.ID, d.Name)
		}
	}
}

func TestDataSetShape(t *testing.T) {
	const days = 3
	st := openSQLite(t, true)
	sum := generate(t, st, seed.Config{Seed: 42, Centres: 800, Days: days, Today: today})
	ds := readAll(t, st)
	if sum.Centres != len(ds.Centres) || sum.Sessions != len(ds.Sessions) {
		t.Errorf("summary %+v, store has %d centres and %d sessions", sum, len(ds.Centres), len(ds.Sessions))
	}

	districts := map[int]vax.District{}
	for _, d := range masterdata.Districts() {
		districts[d.ID] = d
	}
	wantFee := map[string]int{masterdata.Covishield: 780, masterdata.Covaxin: 1410, masterdata.SputnikV: 1145}
	centres := map[int64]vax.Centre{}
	feeTypes := map[vax.FeeType]int{}
	for i, c := range ds.Centres {
		if want := seed.FirstCentreID + int64(i); c.ID != want {
			t.Fatalf("centre %d: got id %d, want %d (consecutive from %d)", i, c.ID, want, seed.FirstCentreID)
		}
		centres[c.ID] = c
		feeTypes[c.FeeType]++
		if err := c.Validate(); err != nil {
			t.Errorf("centre %d: %v", c.ID, err)
		}
		d := districts[c.DistrictID]
		if d.StateID != c.StateID {
			t.Errorf("centre %d: district %d is not in state %d", c.ID, c.DistrictID, c.StateID)
		}
		place, _ := masterdata.DistrictPlace(c.DistrictID)
		if !slices.Contains(place.Pincodes, c.Pincode) {
			t.Errorf("centre %d: PIN %d not one of district %d's %v", c.ID, c.Pincode, c.DistrictID, place.Pincodes)
		}
		if dLat, dLong := c.Lat-place.Lat, c.Long-place.Long; dLat*dLat+dLong*dLong > 0.05 {
			t.Errorf("centre %d at %g,%g, too far from its district at %g,%g", c.ID, c.Lat, c.Long, place.Lat, place.Long)
		}
		if h := c.From + "-" + c.To; h != "09:00:00-17:00:00" && h != "08:00:00-14:00:00" {
			t.Errorf("centre %d: hours %s", c.ID, h)
		}
		if c.Name == "" || c.Address == "" || c.BlockName == "" {
			t.Errorf("centre %d: empty name, address or block: %+v", c.ID, c)
		}
		for _, f := range c.Fees {
			if f.Amount != wantFee[f.Vaccine] {
				t.Errorf("centre %d: fee %d for %s, want %d", c.ID, f.Amount, f.Vaccine, wantFee[f.Vaccine])
			}
		}
	}
	if paid := float64(feeTypes[vax.Paid]) / float64(len(ds.Centres)); paid < 0.15 || paid > 0.35 {
		t.Errorf("Paid share %.2f, want about a quarter", paid)
	}

	vaccines := map[string]int{}
	ages := map[string]int{}
	in50to200 := 0
	perCentreDay := map[string]int{}
	for _, s := range ds.Sessions {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		c, ok := centres[s.CentreID]
		if !ok {
			t.Errorf("%s: unknown centre", s)
			continue
		}
		perCentreDay[fmt.Sprintf("centre %d on %s", c.ID, s.Date)]++
		vaccines[s.Vaccine]++
		if s.Date.Before(today) || !s.Date.Before(today.AddDays(days)) {
			t.Errorf("%s: date outside %s + %d days", s, today, days)
		}
		if c.FeeType == vax.Paid && c.Fee(s.Vaccine) == 0 {
			t.Errorf("%s: Paid centre %d has no fee for %s", s, c.ID, s.Vaccine)
		}
		switch {
		case s.MinAge == 18 && s.MaxAge == 0 && s.AllowAllAge:
			ages["18+"]++
		case s.MinAge == 45 && s.MaxAge == 0 && !s.AllowAllAge:
			ages["45+"]++
		case s.MinAge == 18 && s.MaxAge == 44 && !s.AllowAllAge:
			ages["18-44"]++
		default:
			t.Errorf("%s: unexpected ages min %d max %d all %v", s, s.MinAge, s.MaxAge, s.AllowAllAge)
		}
		if s.Capacity1 < 10 || s.Capacity1 > 300 || s.Capacity2 < 0 || s.Capacity2 > s.Capacity1 {
			t.Errorf("%s: capacities %d/%d out of bounds", s, s.Capacity1, s.Capacity2)
		}
		if s.Capacity1 >= 50 && s.Capacity1 <= 200 {
			in50to200++
		}
		if s.Booked1 != 0 || s.Booked2 != 0 || s.Status != vax.SessionOpen {
			t.Errorf("%s: booked %d/%d status %s, want an open, empty session", s, s.Booked1, s.Booked2, s.Status)
		}
		wantSlots := []string{"09:00AM-11:00AM", "11:00AM-01:00PM", "01:00PM-03:00PM", "03:00PM-05:00PM"}
		if c.From == "08:00:00" {
			wantSlots = []string{"08:00AM-10:00AM", "10:00AM-12:00PM", "12:00PM-02:00PM"}
		}
		if diff := cmp.Diff(wantSlots, s.Slots); diff != "" {
			t.Errorf("%s: slots for hours %s-%s (-want +got):\n%s", s, c.From, c.To, diff)
		}
	}
	for _, v := range []string{masterdata.Covishield, masterdata.Covaxin, masterdata.SputnikV} {
		if vaccines[v] == 0 {
			t.Errorf("no %s session", v)
		}
	}
	for _, a := range []string{"18+", "45+", "18-44"} {
		if ages[a] == 0 {
			t.Errorf("no %s session", a)
		}
	}
	if share := float64(in50to200) / float64(len(ds.Sessions)); share < 0.7 {
		t.Errorf("%.2f of sessions have 50–200 dose-1 seats, want most", share)
	}
	for k, n := range perCentreDay {
		if n < 1 || n > 3 {
			t.Errorf("%s: %d sessions, want 1..3", k, n)
		}
	}
	if len(perCentreDay) != 800*days {
		t.Errorf("%d centre-days have sessions, want %d", len(perCentreDay), 800*days)
	}

	// Every centre can give every vaccine its sessions offer: a usable lot
	// of each.
	offered := map[int64]map[string]bool{}
	for _, s := range ds.Sessions {
		if offered[s.CentreID] == nil {
			offered[s.CentreID] = map[string]bool{}
		}
		offered[s.CentreID][s.Vaccine] = true
	}
	err := st.View(t.Context(), func(tx vax.Tx) error {
		for id, vs := range offered {
			lots, err := tx.Lots(t.Context(), id)
			if err != nil {
				return err
			}
			for v := range vs {
				i := slices.IndexFunc(lots, func(l vax.Lot) bool { return l.Vaccine == v })
				if i < 0 {
					t.Errorf("centre %d offers %s but has no lot of it", id, v)
					continue
				}
				if l := lots[i]; l.Remaining() != seed.DemoLotDoses || !today.Before(l.Expiry) || l.Validate() != nil {
					t.Errorf("centre %d: lot %+v is not a full, unexpired lot", id, l)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAlappuzhaTomorrow(t *testing.T) {
	eachStore(t, func(t *testing.T, openStore opener) {
		tomorrow := today.AddDays(1)
		for _, tt := range []struct {
			seed    int64
			centres int
		}{{1, 1}, {2, 3}, {3, 800}, {-5, 1500}} {
			t.Run("", func(t *testing.T) {
				st := openStore(t, true)
				generate(t, st, seed.Config{Seed: tt.seed, Centres: tt.centres, Days: 2, Today: today})
				var sessions []vax.Session
				err := st.View(t.Context(), func(tx vax.Tx) error {
					var err error
					sessions, err = tx.Sessions(t.Context(), vax.SessionQuery{
						DistrictID: masterdata.AlappuzhaID, From: tomorrow, To: tomorrow,
					})
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				open18, small := 0, 0
				for _, s := range sessions {
					d1, _ := s.Available()
					if s.MinAge == 18 && d1 > 0 {
						open18++
						if d1 <= 150 {
							small++
						}
					}
				}
				if open18 == 0 || small == 0 {
					t.Errorf("seed %d, %d centres: Alappuzha on %s has %d open 18+ sessions, %d with 1..150 dose-1 seats; want at least one of each",
						tt.seed, tt.centres, tomorrow, open18, small)
				}
			})
		}
	})
}

func TestTopUp(t *testing.T) {
	eachStore(t, func(t *testing.T, openStore opener) {
		const centres = 1100 // more than one batch
		ctx := t.Context()
		st := openStore(t, true)
		generate(t, st, seed.Config{Seed: 3, Centres: centres, Days: 2, Today: today})
		before := readAll(t, st)

		// An administrator's centre after seeding gets an id above the demo
		// range and must stay without demo sessions.
		var adminID int64
		err := st.InTx(ctx, func(tx vax.Tx) error {
			c := before.Centres[0]
			c.ID, c.Name = 0, "Admin Centre"
			var err error
			adminID, err = tx.CreateCentre(ctx, c)
			return err
		})
		if err != nil {
			t.Fatalf("create admin centre: %v", err)
		}

		// Move today forward by one: the window [today+1, today+4) lacks
		// today+2 and today+3.
		added, err := seed.TopUp(ctx, st, today.AddDays(1), 3)
		if err != nil {
			t.Fatalf("TopUp: %v", err)
		}
		after := readAll(t, st)
		if got := len(after.Sessions) - len(before.Sessions); got != added {
			t.Errorf("TopUp reported %d sessions, store grew by %d", added, got)
		}

		// The result equals generating four days in the first place.
		fresh := openStore(t, true)
		generate(t, fresh, seed.Config{Seed: 3, Centres: centres, Days: 4, Today: today})
		want := readAll(t, fresh)
		want.Centres = append(want.Centres, after.Centres[len(after.Centres)-1])
		if diff := cmp.Diff(want, after, ignoreUpdatedAt); diff != "" {
			t.Errorf("after TopUp, data differs from a 4-day Generate (-want +got):\n%s", diff)
		}
		for _, s := range after.Sessions {
			if s.CentreID == adminID {
				t.Errorf("TopUp added %s to the administrator's centre", s)
			}
		}

		for _, again := range []struct {
			today vax.Date
			days  int
		}{{today.AddDays(1), 3}, {today, 4}, {today, 1}, {today.AddDays(3), 1}} {
			n, err := seed.TopUp(ctx, st, again.today, again.days)
			if err != nil || n != 0 {
				t.Errorf("TopUp(%s, %d) again: got %d, %v; want 0, nil", again.today, again.days, n, err)
			}
		}
		if got := len(readAll(t, st).Sessions); got != len(after.Sessions) {
			t.Errorf("repeated TopUp changed the session count from %d to %d", len(after.Sessions), got)
		}

		// After a gap, only the window's days are added, not the days missed.
		later := today.AddDays(10)
		n, err := seed.TopUp(ctx, st, later, 2)
		if err != nil {
			t.Fatalf("TopUp after a gap: %v", err)
		}
		days := map[vax.Date]int{}
		for _, s := range readAll(t, st).Sessions {
			days[s.Date]++
		}
		if days[later]+days[later.AddDays(1)] != n || n == 0 {
			t.Errorf("TopUp(%s, 2) added %d sessions; store has %d and %d on those days",
				later, n, days[later], days[later.AddDays(1)])
		}
		for d := today.AddDays(4); d.Before(later); d = d.AddDays(1) {
			if days[d] != 0 {
				t.Errorf("%d sessions on skipped day %s, want 0", days[d], d)
			}
		}
	})
}

func TestRefusals(t *testing.T) {
	eachStore(t, func(t *testing.T, openStore opener) {
		ctx := t.Context()
		t.Run("twice", func(t *testing.T) {
			st := openStore(t, true)
			generate(t, st, seed.Config{Seed: 1, Centres: 10, Days: 1, Today: today})
			_, err := seed.Generate(ctx, st, seed.Config{Seed: 1, Centres: 10, Days: 1, Today: today})
			if !errors.Is(err, vax.ErrConflict) {
				t.Errorf("second Generate: got %v, want Conflict", err)
			}
			if n := len(readAll(t, st).Centres); n != 10 {
				t.Errorf("after refused Generate: %d centres, want 10", n)
			}
		})
		t.Run("id taken", func(t *testing.T) {
			st := openStore(t, true)
			err := st.InTx(ctx, func(tx vax.Tx) error {
				_, err := tx.CreateCentre(ctx, vax.Centre{
					ID: seed.FirstCentreID + 5, Name: "Taken", StateID: masterdata.KeralaID, DistrictID: masterdata.AlappuzhaID,
					Pincode: 688001, Lat: 9.5, Long: 76.3, From: "09:00:00", To: "17:00:00", FeeType: vax.Free,
				})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = seed.Generate(ctx, st, seed.Config{Seed: 1, Centres: 10, Today: today})
			if !errors.Is(err, vax.ErrConflict) {
				t.Errorf("Generate over a taken id: got %v, want Conflict", err)
			}
		})
		t.Run("no master data", func(t *testing.T) {
			st := openStore(t, false)
			_, err := seed.Generate(ctx, st, seed.Config{Seed: 1, Centres: 10, Today: today})
			if !errors.Is(err, vax.ErrNotFound) {
				t.Errorf("Generate without master data: got %v, want NotFound", err)
			}
		})
		t.Run("bad config", func(t *testing.T) {
			st := openStore(t, true)
			for _, cfg := range []seed.Config{
				{Centres: 10},
				{Centres: -1, Today: today},
				{Centres: 10, Days: -1, Today: today},
				{Centres: 10, Days: 1000, Today: today},
			} {
				if _, err := seed.Generate(ctx, st, cfg); !errors.Is(err, vax.ErrInvalid) {
					t.Errorf("Generate(%+v): got %v, want Invalid", cfg, err)
				}
			}
		})
		t.Run("top up without seed", func(t *testing.T) {
			st := openStore(t, true)
			if _, err := seed.TopUp(ctx, st, today, 7); !errors.Is(err, vax.ErrNotFound) {
				t.Errorf("TopUp without demo data: got %v, want NotFound", err)
			}
			if _, err := seed.TopUp(ctx, st, today, 0); !errors.Is(err, vax.ErrInvalid) {
				t.Errorf("TopUp of 0 days: got %v, want Invalid", err)
			}
		})
	})
}

func TestProgress(t *testing.T) {
	st := openSQLite(t, true)
	var buf bytes.Buffer
	sum := generate(t, st, seed.Config{Seed: 1, Centres: 1500, Days: 1, Today: today, Progress: &buf})
	out := buf.String()
	if !strings.HasPrefix(out, "\rseed: 1000/1500 centres, ") || !strings.HasSuffix(out, "\n") {
		t.Errorf("progress %q: want \\r-updated lines ending in a newline", out)
	}
	if want := "\rseed: 1500/1500 centres, " + strconv.Itoa(sum.Sessions) + " sessions\n"; !strings.HasSuffix(out, want) {
		t.Errorf("progress %q: want it to end with %q", out, want)
	}
}
