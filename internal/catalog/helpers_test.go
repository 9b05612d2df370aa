package catalog_test

import (
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

// ist is the deployment zone of the tests (Asia/Kolkata has no DST).
var ist = time.FixedZone("IST", 5*3600+30*60)

// start is 10:00 IST on 1 June 2021.
var start = time.Date(2021, 6, 1, 10, 0, 0, 0, ist)

// Master data the tests rely on.
const (
	maharashtra = 21
	pune        = 363
	thane       = 392
	kerala      = 17
	ernakulam   = 307
)

type fixture struct {
	svc   *catalog.Service
	st    vax.Store
	clock *vax.ManualClock
}

// newFixture returns a Service over a fresh SQLite store holding two
// states, three districts and three vaccines.
func newFixture(t testing.TB) fixture {
	t.Helper()
	ctx := t.Context()
	clock := vax.NewManualClock(start)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vaxport.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	err = st.InTx(ctx, func(tx vax.Tx) error {
		for _, s := range []vax.State{{ID: maharashtra, Name: "Maharashtra"}, {ID: kerala, Name: "Kerala"}} {
			if err := tx.PutState(ctx, s); err != nil {
				return err
			}
		}
		for _, d := range []vax.District{
			{ID: pune, StateID: maharashtra, Name: "Pune"},
			{ID: thane, StateID: maharashtra, Name: "Thane"},
			{ID: ernakulam, StateID: kerala, Name: "Ernakulam"},
		} {
			if err := tx.PutDistrict(ctx, d); err != nil {
				return err
			}
		}
		for _, v := range []vax.Vaccine{
			{Name: "COVISHIELD", Doses: 2, IntervalDays: 84},
			{Name: "COVAXIN", Doses: 2, IntervalDays: 28},
			{Name: "SPUTNIK V", Doses: 2, IntervalDays: 21},
		} {
			if err := tx.PutVaccine(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed master data: %v", err)
	}
	return fixture{svc: catalog.New(st, clock, ist, rand.Reader), st: st, clock: clock}
}

func freeCentre() vax.Centre {
	return vax.Centre{
		Name: "Aundh District Hospital", Address: "Aundh Road", StateID: maharashtra, DistrictID: pune,
		BlockName: "Haveli", Pincode: 411007, Lat: 18.56, Long: 73.81,
		From: "09:00:00", To: "17:00:00", FeeType: vax.Free,
	}
}

func paidCentre() vax.Centre {
	c := freeCentre()
	c.Name = "Ruby Hall Clinic"
	c.FeeType = vax.Paid
	c.Fees = []vax.Fee{{Vaccine: "COVISHIELD", Amount: 780}, {Vaccine: "COVAXIN", Amount: 1410}}
	return c
}

func session(centre int64, d vax.Date, vaccine string) vax.Session {
	return vax.Session{
		CentreID: centre, Date: d, Vaccine: vaccine, MinAge: 18,
		Capacity1: 50, Capacity2: 20, Slots: []string{"09:00AM-11:00AM", "11:00AM-01:00PM"},
	}
}

func today() vax.Date { return vax.DateOf(start, ist) }

// checkErr fails unless err has code and, when msg is not empty, a message
// containing msg.
func checkErr(t *testing.T, err error, code vax.Code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := vax.ErrorCode(err); got != code {
		t.Fatalf("got code %s (%v), want %s", got, err, code)
	}
	if got := vax.ErrorMessage(err); !strings.Contains(got, msg) {
		t.Fatalf("got message %q, want it to contain %q", got, msg)
	}
}

// changes returns the change feed as "kind:key" strings.
func changes(t *testing.T, st vax.Store) []string {
	t.Helper()
	cs, err := st.Changes(t.Context(), 0, vax.MaxLimit)
	if err != nil {
		t.Fatalf("changes: %v", err)
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, string(c.Kind)+":"+c.Key)
	}
	return out
}

func mustNotFound(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, vax.ErrNotFound) {
		t.Fatalf("got %v, want NotFound", err)
	}
}

// mustCentre creates c, failing the test if that fails.
func (f fixture) mustCentre(t testing.TB, c vax.Centre) vax.Centre {
	t.Helper()
	out, err := f.svc.CreateCentre(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateCentre: %v", err)
	}
	return out
}

// mustSession creates s, failing the test if that fails.
func (f fixture) mustSession(t testing.TB, s vax.Session) vax.Session {
	t.Helper()
	out, err := f.svc.CreateSession(t.Context(), s)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return out
}
