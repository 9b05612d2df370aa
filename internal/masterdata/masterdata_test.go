package masterdata_test

import (
	"context"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestCounts(t *testing.T) {
	states, districts := masterdata.States(), masterdata.Districts()
	if len(states) != 37 {
		t.Errorf("got %d states, want 37", len(states))
	}
	if len(districts) != 756 {
		t.Errorf("got %d districts, want 756", len(districts))
	}
	stateIDs := map[int]string{}
	for i, s := range states {
		if i > 0 && states[i-1].ID >= s.ID {
			t.Errorf("states not in ascending id order at %d", s.ID)
		}
		stateIDs[s.ID] = s.Name
	}
	perState := map[int]int{}
	for i, d := range districts {
		if i > 0 && districts[i-1].ID >= d.ID {
			t.Errorf("districts not in ascending id order at %d", d.ID)
		}
		if _, ok := stateIDs[d.StateID]; !ok {
			t.Errorf("district %d %q: unknown state %d", d.ID, d.Name, d.StateID)
		}
		perState[d.StateID]++
	}
	for id, name := range stateIDs {
		if perState[id] == 0 {
			t.Errorf("state %d %s has no districts", id, name)
		}
	}
	if got := stateIDs[masterdata.KeralaID]; got != "Kerala" {
		t.Errorf("state %d is %q, want Kerala", masterdata.KeralaID, got)
	}
	if got := perState[masterdata.KeralaID]; got != 14 {
		t.Errorf("Kerala has %d districts, want 14", got)
	}
	var alappuzha vax.District
	for _, d := range districts {
		if d.ID == masterdata.AlappuzhaID {
			alappuzha = d
		}
	}
	if alappuzha.Name != "Alappuzha" || alappuzha.StateID != masterdata.KeralaID {
		t.Errorf("district %d is %q in state %d, want Alappuzha in %d",
			masterdata.AlappuzhaID, alappuzha.Name, alappuzha.StateID, masterdata.KeralaID)
	}
}

func TestResultsAreCopies(t *testing.T) {
	s := masterdata.States()
	s[0].Name = "changed"
	s[0].LocalNames["hi"] = "changed"
	d := masterdata.Districts()
	d[0].LocalNames["hi"] = "changed"
	p, _ := masterdata.DistrictPlace(d[0].ID)
	p.Pincodes[0] = 1
	if got := masterdata.States()[0]; got.Name == "changed" || got.LocalNames["hi"] == "changed" {
		t.Errorf("States() shares memory with an earlier result: %+v", got)
	}
	if got := masterdata.Districts()[0].LocalNames["hi"]; got == "changed" {
		t.Errorf("Districts() shares LocalNames with an earlier result")
	}
	if p2, _ := masterdata.DistrictPlace(d[0].ID); p2.Pincodes[0] == 1 {
		t.Errorf("DistrictPlace shares Pincodes with an earlier result")
	}
}

func isDevanagariText(s string) bool {
	letters := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Devanagari, r):
			letters++
		case r == ' ' || r == '(' || r == ')' || r == ',' || r == '-' || unicode.IsDigit(r):
		default:
			return false
		}
	}
	return letters > 0
}

func TestStateLocalNames(t *testing.T) {
	byName := map[string]vax.State{}
	for _, s := range masterdata.States() {
		byName[s.Name] = s
		if !isDevanagariText(s.LocalNames["hi"]) {
			t.Errorf("state %s: Hindi name %q is not Devanagari text", s.Name, s.LocalNames["hi"])
		}
	}
	tests := []struct {
		state, lang, want string
		script            *unicode.RangeTable
	}{
		{"Kerala", "ml", "കേരളം", unicode.Malayalam},
		{"Kerala", "hi", "केरल", unicode.Devanagari},
		{"Tamil Nadu", "ta", "தமிழ்நாடு", unicode.Tamil},
		{"Karnataka", "kn", "ಕರ್ನಾಟಕ", unicode.Kannada},
		{"Andhra Pradesh", "te", "ఆంధ్ర ప్రదేశ్", unicode.Telugu},
		{"Telangana", "te", "తెలంగాణ", unicode.Telugu},
		{"West Bengal", "bn", "পশ্চিমবঙ্গ", unicode.Bengali},
		{"Assam", "as", "অসম", unicode.Bengali},
		{"Gujarat", "gu", "ગુજરાત", unicode.Gujarati},
		{"Maharashtra", "mr", "महाराष्ट्र", unicode.Devanagari},
		{"Punjab", "pa", "ਪੰਜਾਬ", unicode.Gurmukhi},
		{"Odisha", "or", "ଓଡ଼ିଶା", unicode.Oriya},
		{"Delhi", "hi", "दिल्ली", unicode.Devanagari},
	}
	for _, tt := range tests {
		t.Run(tt.state+"/"+tt.lang, func(t *testing.T) {
			got := byName[tt.state].LocalNames[tt.lang]
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, r := range got {
				if r != ' ' && !unicode.Is(tt.script, r) {
					t.Errorf("%q has %q outside the expected script", got, r)
				}
			}
		})
	}
}

func TestDistrictHindiNames(t *testing.T) {
	byName := map[string]string{}
	for _, d := range masterdata.Districts() {
		hi := d.LocalNames["hi"]
		if !isDevanagariText(hi) {
			t.Errorf("district %d %q: Hindi name %q is not Devanagari text", d.ID, d.Name, hi)
		}
		byName[d.Name] = hi
	}
	tests := map[string]string{
		"Alappuzha":        "अलप्पुझा",
		"Krishna":          "क्रिश्ना",
		"Aurangabad":       "औरंगाबाद",
		"Mumbai":           "मुंबई",
		"Chandrapur":       "चंद्रपुर",
		"South West Delhi": "दक्षिण पश्चिम दिल्ली",
		"Warangal(Rural)":  "वरंगल(ग्रामीण)",
		"Nadia":            "नदिया",
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			if got, ok := byName[name]; !ok || got != want {
				t.Errorf("got %q (found %v), want %q", got, ok, want)
			}
		})
	}
}

// pinRanges are the first digits India Post uses per state (by Co-WIN state
// id), written independently of the package's finer table: two-digit ranges
// as in India Post's PIN zones, three digits where a UT has its own.
var pinRanges = map[int][][2]int{
	1:  {{744, 744}},                                     // Andaman and Nicobar
	2:  {{510, 539}},                                     // Andhra Pradesh 51–53
	3:  {{790, 799}},                                     // Arunachal (NE 79)
	4:  {{780, 789}},                                     // Assam 78
	5:  {{800, 859}},                                     // Bihar 80–85
	6:  {{160, 160}},                                     // Chandigarh
	7:  {{490, 499}},                                     // Chhattisgarh 49
	8:  {{396, 396}},                                     // Dadra and Nagar Haveli
	9:  {{110, 110}},                                     // Delhi
	10: {{403, 403}},                                     // Goa
	11: {{360, 399}},                                     // Gujarat 36–39
	12: {{120, 139}},                                     // Haryana 12–13
	13: {{170, 179}},                                     // Himachal 17
	14: {{180, 199}},                                     // J&K 18–19
	15: {{810, 839}},                                     // Jharkhand 81–83
	16: {{560, 599}},                                     // Karnataka 56–59
	17: {{670, 699}},                                     // Kerala 67–69
	18: {{194, 194}},                                     // Ladakh
	19: {{682, 682}},                                     // Lakshadweep
	20: {{450, 489}},                                     // Madhya Pradesh 45–48
	21: {{400, 449}},                                     // Maharashtra 40–44
	22: {{790, 799}},                                     // Manipur (NE 79)
	23: {{790, 799}},                                     // Meghalaya
	24: {{790, 799}},                                     // Mizoram
	25: {{790, 799}},                                     // Nagaland
	26: {{750, 779}},                                     // Odisha 75–77
	27: {{605, 605}, {609, 609}, {673, 673}, {533, 533}}, // Puducherry, Karaikal, Mahe, Yanam
	28: {{140, 169}},                                     // Punjab 14–16
	29: {{300, 349}},                                     // Rajasthan 30–34
	30: {{737, 737}},                                     // Sikkim
	31: {{600, 649}},                                     // Tamil Nadu 60–64
	32: {{500, 509}},                                     // Telangana 50
	33: {{790, 799}},                                     // Tripura
	34: {{200, 289}},                                     // Uttar Pradesh 20–28
	35: {{240, 269}},                                     // Uttarakhand 24–26
	36: {{700, 749}},                                     // West Bengal 70–74
	37: {{362, 362}, {396, 396}},                         // Daman and Diu
}

func TestPlaces(t *testing.T) {
	seen := map[int]int{} // PIN → district
	for _, d := range masterdata.Districts() {
		p, ok := masterdata.DistrictPlace(d.ID)
		if !ok {
			t.Errorf("district %d %s has no place", d.ID, d.Name)
			continue
		}
		if len(p.Pincodes) < 2 {
			t.Errorf("district %d %s: got %d PINs, want several", d.ID, d.Name, len(p.Pincodes))
		}
		for _, pin := range p.Pincodes {
			if pin < 100000 || pin > 999999 {
				t.Errorf("district %d %s: PIN %d is not 6 digits", d.ID, d.Name, pin)
			}
			inRange := false
			for _, r := range pinRanges[d.StateID] {
				if pin/1000 >= r[0] && pin/1000 <= r[1] {
					inRange = true
				}
			}
			if !inRange {
				t.Errorf("district %d %s: PIN %d outside state %d's ranges %v", d.ID, d.Name, pin, d.StateID, pinRanges[d.StateID])
			}
			if other, dup := seen[pin]; dup {
				t.Errorf("PIN %d given to districts %d and %d", pin, other, d.ID)
			}
			seen[pin] = d.ID
		}
		// India's bounding box, roughly.
		if p.Lat < 6 || p.Lat > 37.5 || p.Long < 68 || p.Long > 98 {
			t.Errorf("district %d %s: coordinates %g,%g outside India", d.ID, d.Name, p.Lat, p.Long)
		}
	}
	if _, ok := masterdata.DistrictPlace(99999); ok {
		t.Errorf("DistrictPlace(99999): got ok, want false")
	}
	alappuzha, _ := masterdata.DistrictPlace(masterdata.AlappuzhaID)
	if alappuzha.Lat < 8 || alappuzha.Lat > 13 || alappuzha.Long < 74.5 || alappuzha.Long > 77.5 {
		t.Errorf("Alappuzha at %g,%g, want within Kerala's extent", alappuzha.Lat, alappuzha.Long)
	}
}

func openSQLite(t *testing.T) vax.Store { return backendtest.OpenSQLite(t, testClock()) }

// openPostgres skips the test unless VAXPORT_TEST_POSTGRES is set, and
// fails it if that database is unreachable.
func openPostgres(t *testing.T) vax.Store { return backendtest.OpenPostgres(t, testClock()) }

func testClock() vax.Clock { return vax.NewManualClock(time.Date(2021, 6, 1, 4, 30, 0, 0, time.UTC)) }

// eachStore runs test against SQLite and, when VAXPORT_TEST_POSTGRES is
// set, PostgreSQL.
func eachStore(t *testing.T, test func(t *testing.T, open func(*testing.T) vax.Store)) {
	t.Run("sqlite", func(t *testing.T) { test(t, openSQLite) })
	t.Run("postgres", func(t *testing.T) { test(t, openPostgres) })
}

type snapshot struct {
	States    []vax.State
	Districts []vax.District
	Vaccines  []vax.Vaccine
}

func read(t *testing.T, st vax.Store) snapshot {
	t.Helper()
	var s snapshot
	err := st.View(t.Context(), func(tx vax.Tx) error {
		var err error
		if s.States, err = tx.States(t.Context()); err != nil {
			return err
		}
		for _, state := range s.States {
			ds, err := tx.Districts(t.Context(), state.ID)
			if err != nil {
				return err
			}
			s.Districts = append(s.Districts, ds...)
		}
		s.Vaccines, err = tx.Vaccines(t.Context())
		return err
	})
	if err != nil {
		t.Fatalf("read master data: %v", err)
	}
	return s
}

func TestLoad(t *testing.T) {
	eachStore(t, func(t *testing.T, openStore func(*testing.T) vax.Store) {
		st := openStore(t)
		ctx := t.Context()
		if err := masterdata.Load(ctx, st); err != nil {
			t.Fatalf("Load: %v", err)
		}
		first := read(t, st)
		want := snapshot{masterdata.States(), masterdata.Districts(), masterdata.Vaccines()}
		sortOpts := []cmp.Option{
			cmpopts.SortSlices(func(a, b vax.District) bool { return a.ID < b.ID }),
			cmpopts.SortSlices(func(a, b vax.Vaccine) bool { return a.Name < b.Name }),
			cmpopts.EquateEmpty(),
		}
		if diff := cmp.Diff(want, first, sortOpts...); diff != "" {
			t.Fatalf("store after Load differs from the package's data (-want +got):\n%s", diff)
		}
		if err := masterdata.Load(ctx, st); err != nil {
			t.Fatalf("second Load: %v", err)
		}
		if diff := cmp.Diff(first, read(t, st), sortOpts...); diff != "" {
			t.Errorf("second Load changed the store (-first +second):\n%s", diff)
		}
	})
}

func TestLoadKeepsOperatorVaccineChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, openStore func(*testing.T) vax.Store) {
		st := openStore(t)
		ctx := t.Context()
		if err := masterdata.Load(ctx, st); err != nil {
			t.Fatalf("Load: %v", err)
		}
		changed := masterdata.Vaccines()[0]
		changed.IntervalDays = 112
		if err := st.InTx(ctx, func(tx vax.Tx) error { return tx.PutVaccine(ctx, changed) }); err != nil {
			t.Fatalf("PutVaccine: %v", err)
		}
		if err := masterdata.Load(ctx, st); err != nil {
			t.Fatalf("second Load: %v", err)
		}
		for _, v := range read(t, st).Vaccines {
			if v.Name == changed.Name && v.IntervalDays != 112 {
				t.Errorf("%s interval after Load: got %d, want the operator's 112", v.Name, v.IntervalDays)
			}
		}
	})
}

func TestLoadCancelled(t *testing.T) {
	eachStore(t, func(t *testing.T, openStore func(*testing.T) vax.Store) {
		st := openStore(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := masterdata.Load(ctx, st); err == nil {
			t.Errorf("Load with a cancelled context: got nil error, want one")
		}
	})
}
