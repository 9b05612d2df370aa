package alerts_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/alerts"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/vax"
)

var ist = time.FixedZone("IST", 5*3600+30*60)

var start = time.Date(2021, 6, 14, 10, 0, 0, 0, ist)

func TestFilterAdmits(t *testing.T) {
	s18 := vax.Session{Vaccine: "COVISHIELD", MinAge: 18}
	s45 := vax.Session{Vaccine: "COVAXIN", MinAge: 45}
	band := vax.Session{Vaccine: "COVISHIELD", MinAge: 18, MaxAge: 44}
	bandAll := vax.Session{Vaccine: "COVISHIELD", MinAge: 18, MaxAge: 44, AllowAllAge: true}
	tests := []struct {
		name string
		f    alerts.Filter
		s    vax.Session
		want bool
	}{
		{"no filter", alerts.Filter{}, s45, true},
		{"18 sees 18+", alerts.Filter{Age: 18}, s18, true},
		{"18 not 45+", alerts.Filter{Age: 18}, s45, false},
		{"45 sees 18+", alerts.Filter{Age: 45}, s18, true},
		{"45 sees 45+", alerts.Filter{Age: 45}, s45, true},
		{"30 in band", alerts.Filter{Age: 30}, band, true},
		{"60 above band", alerts.Filter{Age: 60}, band, false},
		{"60 band with allow all", alerts.Filter{Age: 60}, bandAll, true},
		{"vaccine match any case", alerts.Filter{Vaccine: "covaxin"}, s45, true},
		{"vaccine mismatch", alerts.Filter{Vaccine: "COVAXIN"}, s18, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Admits(tt.s); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	tests := []struct {
		name string
		f    alerts.Filter
		ok   bool
	}{
		{"district", alerts.Filter{DistrictID: 307}, true},
		{"pin with all filters", alerts.Filter{Pincode: 682001, Age: 45, Dose: 2, Vaccine: "COVAXIN"}, true},
		{"neither", alerts.Filter{}, false},
		{"both", alerts.Filter{DistrictID: 307, Pincode: 682001}, false},
		{"short pin", alerts.Filter{Pincode: 6820}, false},
		{"dose 3", alerts.Filter{DistrictID: 307, Dose: 3}, false},
		{"age 200", alerts.Filter{DistrictID: 307, Age: 200}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("got error %v, want ok=%v", err, tt.ok)
			}
			if err != nil && vax.ErrorCode(err) != vax.Invalid {
				t.Errorf("got code %s, want Invalid", vax.ErrorCode(err))
			}
		})
	}
}

func TestReleased(t *testing.T) {
	sess := func(cap1, booked1, cap2, booked2 int) vax.Session {
		return vax.Session{Capacity1: cap1, Booked1: booked1, Capacity2: cap2, Booked2: booked2}
	}
	ptr := func(s vax.Session) *vax.Session { return &s }
	cancelled := sess(10, 0, 10, 0)
	cancelled.Status = vax.SessionCancelled
	tests := []struct {
		name string
		old  *vax.Session
		next vax.Session
		dose int
		want bool
	}{
		{"new session with seats", nil, sess(10, 0, 0, 0), 1, true},
		{"new session, none for dose 2", nil, sess(10, 0, 0, 0), 2, false},
		{"new session without seats", nil, sess(0, 0, 0, 0), 0, false},
		{"sold out gets a cancellation", ptr(sess(10, 10, 0, 0)), sess(10, 9, 0, 0), 1, true},
		{"cancellation while seats are free", ptr(sess(10, 5, 0, 0)), sess(10, 4, 0, 0), 1, false},
		{"booking", ptr(sess(10, 5, 0, 0)), sess(10, 6, 0, 0), 1, false},
		{"capacity raised", ptr(sess(10, 5, 0, 0)), sess(20, 5, 0, 0), 1, true},
		{"capacity raised for the other dose", ptr(sess(10, 5, 10, 5)), sess(10, 5, 20, 5), 1, false},
		{"capacity lowered", ptr(sess(20, 5, 0, 0)), sess(10, 5, 0, 0), 1, false},
		{"reopened after cancel", &cancelled, sess(10, 0, 10, 0), 2, true},
		{"either dose: dose 2 opens", ptr(sess(10, 10, 5, 5)), sess(10, 10, 5, 4), 0, true},
		{"cancelled now", ptr(sess(10, 10, 0, 0)), cancelled, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := alerts.Released(tt.old, tt.next, tt.dose); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// Ids of the fan-out fixture.
const (
	ernakulam = 307
	alappuzha = 301
	pinA      = 682001
	pinB      = 682002
	pinC      = 688001
	sessA18   = "00000000-0000-4000-8000-00000000000a"
	sessA45   = "00000000-0000-4000-8000-00000000000b"
	sessC     = "00000000-0000-4000-8000-00000000000c"
)

func fixtureData(today vax.Date, booked18, booked45, bookedC int) search.Data {
	return search.Data{
		States:    []vax.State{{ID: 17, Name: "Kerala"}},
		Districts: []vax.District{{ID: ernakulam, StateID: 17, Name: "Ernakulam"}, {ID: alappuzha, StateID: 17, Name: "Alappuzha"}},
		Vaccines:  []string{"COVISHIELD", "COVAXIN"},
		Centres: []vax.Centre{
			{ID: 1, Name: "A", StateID: 17, DistrictID: ernakulam, Pincode: pinA},
			{ID: 2, Name: "B", StateID: 17, DistrictID: ernakulam, Pincode: pinB},
			{ID: 3, Name: "C", StateID: 17, DistrictID: alappuzha, Pincode: pinC},
		},
		Sessions: []vax.Session{
			{ID: sessA18, CentreID: 1, Date: today, Vaccine: "COVISHIELD", MinAge: 18, Capacity1: 10, Booked1: booked18, Capacity2: 5, Booked2: 5},
			{ID: sessA45, CentreID: 1, Date: today, Vaccine: "COVAXIN", MinAge: 45, Capacity1: 10, Booked1: booked45},
			{ID: sessC, CentreID: 3, Date: today, Vaccine: "COVISHIELD", MinAge: 18, Capacity1: 10, Booked1: bookedC},
		},
	}
}

// received returns the session ids waiting for s.
func received(s *alerts.Subscription) []string {
	evs, _ := s.Take()
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.Session.ID)
	}
	return ids
}

func TestHubFanOut(t *testing.T) {
	clock := vax.NewManualClock(start)
	today := vax.DateOf(start, ist)
	ix := search.New(search.Config{Clock: clock, Location: ist})
	ix.Load(fixtureData(today, 10, 10, 10)) // everything sold out
	hub := alerts.NewHub(alerts.Config{})
	t.Cleanup(ix.OnCommit(hub.Publish))

	subs := map[string]alerts.Filter{
		"ernakulam any":       {DistrictID: ernakulam},
		"ernakulam 18":        {DistrictID: ernakulam, Age: 18},
		"ernakulam covaxin":   {DistrictID: ernakulam, Vaccine: "covaxin"},
		"ernakulam dose 2":    {DistrictID: ernakulam, Dose: 2},
		"pin A":               {Pincode: pinA},
		"pin B":               {Pincode: pinB},
		"alappuzha":           {DistrictID: alappuzha},
		"pin C dose 1 age 45": {Pincode: pinC, Dose: 1, Age: 45},
	}
	open := map[string]*alerts.Subscription{}
	for name, f := range subs {
		s, err := hub.Subscribe("acct-"+name, f, false)
		if err != nil {
			t.Fatalf("subscribe %s: %v", name, err)
		}
		t.Cleanup(s.Close)
		open[name] = s
	}

	// Both sessions of centre A open; C stays sold out.
	ix.Load(fixtureData(today, 9, 9, 10))
	got := map[string][]string{}
	for name, s := range open {
		got[name] = received(s)
	}
	want := map[string][]string{
		"ernakulam any":       {sessA18, sessA45},
		"ernakulam 18":        {sessA18},
		"ernakulam covaxin":   {sessA45},
		"ernakulam dose 2":    nil,
		"pin A":               {sessA18, sessA45},
		"pin B":               nil,
		"alappuzha":           nil,
		"pin C dose 1 age 45": nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events after release (-want +got):\n%s", diff)
	}

	// Bookings and a cancellation while seats are free send nothing; C
	// opening reaches Alappuzha and PIN C only.
	ix.Load(fixtureData(today, 8, 10, 9))
	for name, s := range open {
		got[name] = received(s)
	}
	want = map[string][]string{
		"ernakulam any": nil, "ernakulam 18": nil, "ernakulam covaxin": nil, "ernakulam dose 2": nil,
		"pin A": nil, "pin B": nil,
		"alappuzha":           {sessC},
		"pin C dose 1 age 45": {sessC},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events after bookings and C's release (-want +got):\n%s", diff)
	}
}

func TestSlowSubscriberDropsOldest(t *testing.T) {
	clock := vax.NewManualClock(start)
	today := vax.DateOf(start, ist)
	ix := search.New(search.Config{Clock: clock, Location: ist})
	ix.Load(fixtureData(today, 10, 10, 10))
	hub := alerts.NewHub(alerts.Config{Buffer: 2})
	t.Cleanup(ix.OnCommit(hub.Publish))
	slow, err := hub.Subscribe("slow", alerts.Filter{DistrictID: alappuzha}, false)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := hub.Subscribe("fast", alerts.Filter{DistrictID: alappuzha}, false)
	if err != nil {
		t.Fatal(err)
	}
	// Five releases of C (sold out, then one seat back), each a commit.
	var fastGot []int
	for i := range 5 {
		ix.Load(fixtureData(today, 10, 10, 10))
		ix.Load(fixtureData(today, 10, 10, 9-i))
		select {
		case <-fast.Ready():
		default:
			t.Fatalf("release %d: fast subscriber not ready", i)
		}
		evs, dropped := fast.Take()
		if len(evs) != 1 || dropped != 0 {
			t.Fatalf("release %d: fast got %d events, %d dropped; want 1, 0", i, len(evs), dropped)
		}
		a1, _ := evs[0].Session.Available()
		fastGot = append(fastGot, a1)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, fastGot); diff != "" {
		t.Errorf("fast subscriber's free seats (-want +got):\n%s", diff)
	}
	evs, dropped := slow.Take()
	var slowGot []int
	for _, e := range evs {
		a1, _ := e.Session.Available()
		slowGot = append(slowGot, a1)
	}
	if diff := cmp.Diff([]int{4, 5}, slowGot); diff != "" || dropped != 3 {
		t.Errorf("slow subscriber got %v with %d dropped, want [4 5] with 3 dropped", slowGot, dropped)
	}
}

func TestSubscribeLimitsAndClose(t *testing.T) {
	hub := alerts.NewHub(alerts.Config{PerAccount: 2})
	f := alerts.Filter{DistrictID: ernakulam}
	a, err := hub.Subscribe("acct", f, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Subscribe("acct", f, false); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Subscribe("acct", f, false); vax.ErrorCode(err) != vax.RateLimited {
		t.Fatalf("third subscription: got %v, want RateLimited", err)
	}
	if _, err := hub.Subscribe("other", f, false); err != nil {
		t.Fatalf("another account: %v", err)
	}
	a.Close()
	a.Close() // idempotent
	if got := hub.Len(); got != 2 {
		t.Errorf("got %d open, want 2", got)
	}
	if _, err := hub.Subscribe("acct", f, false); err != nil {
		t.Fatalf("after close: %v", err)
	}
	if _, err := hub.Subscribe("acct", alerts.Filter{}, false); vax.ErrorCode(err) != vax.Invalid {
		t.Fatalf("empty filter: got %v, want Invalid", err)
	}
}
