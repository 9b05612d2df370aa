package catalog_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestCreateCentre(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()

	in := freeCentre()
	in.Name = "  " + in.Name + " "
	in.From, in.To = "09:00", "17:30"
	in.FeeType = "free"
	got := f.mustCentre(t, in)
	want := freeCentre()
	want.ID = got.ID
	want.To = "17:30:00"
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("created centre (-want +got):\n%s", diff)
	}
	if got.ID <= 0 {
		t.Errorf("got id %d, want a positive id", got.ID)
	}
	stored, err := f.svc.Centre(ctx, got.ID)
	if err != nil {
		t.Fatalf("Centre: %v", err)
	}
	if diff := cmp.Diff(got, stored, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("stored centre (-returned +stored):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"centre:" + strconv.FormatInt(got.ID, 10)}, changes(t, f.st)); diff != "" {
		t.Errorf("change feed (-want +got):\n%s", diff)
	}

	withID := paidCentre()
	withID.ID = 5000
	if c, err := f.svc.CreateCentre(ctx, withID); err != nil || c.ID != 5000 {
		t.Fatalf("CreateCentre with id 5000: got %d, %v; want 5000, nil", c.ID, err)
	}
}

func TestCreateCentreRefused(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	taken := f.mustCentre(t, freeCentre())
	before := changes(t, f.st)

	tests := []struct {
		name   string
		change func(*vax.Centre)
		code   vax.Code
		msg    string
	}{
		{"unknown district", func(c *vax.Centre) { c.DistrictID = 9999 }, vax.Invalid, "unknown district 9999"},
		{"district in another state", func(c *vax.Centre) { c.StateID = kerala }, vax.Invalid, "district 363 is not in state 17"},
		{"paid without fee", func(c *vax.Centre) { c.FeeType = vax.Paid }, vax.Invalid, "Paid centre needs a fee"},
		{"fee for unknown vaccine", func(c *vax.Centre) {
			c.FeeType = vax.Paid
			c.Fees = []vax.Fee{{Vaccine: "moderna", Amount: 1000}}
		}, vax.Invalid, `unknown vaccine "MODERNA"`},
		{"free with fee", func(c *vax.Centre) { c.Fees = []vax.Fee{{Vaccine: "COVAXIN", Amount: 1}} }, vax.Invalid, "Free centre has no fees"},
		{"bad pincode", func(c *vax.Centre) { c.Pincode = 1234 }, vax.Invalid, "PIN code"},
		{"bad hours", func(c *vax.Centre) { c.From = "9am" }, vax.Invalid, "HH:MM:SS"},
		{"no name", func(c *vax.Centre) { c.Name = "  " }, vax.Invalid, "name"},
		{"id taken", func(c *vax.Centre) { c.ID = taken.ID }, vax.Conflict, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := freeCentre()
			tt.change(&c)
			_, err := f.svc.CreateCentre(ctx, c)
			checkErr(t, err, tt.code, tt.msg)
		})
	}
	if diff := cmp.Diff(before, changes(t, f.st)); diff != "" {
		t.Errorf("refused writes changed the feed (-before +after):\n%s", diff)
	}
	all, err := f.svc.Centres(ctx, vax.CentreQuery{})
	if err != nil || len(all) != 1 {
		t.Errorf("got %d centres, %v; want 1, nil", len(all), err)
	}
}

func TestUpdateCentre(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.mustCentre(t, freeCentre())
	s := f.mustSession(t, session(c.ID, today().AddDays(1), "COVAXIN"))

	t.Run("unknown id", func(t *testing.T) {
		u := freeCentre()
		u.ID = 424242
		_, err := f.svc.UpdateCentre(ctx, u)
		checkErr(t, err, vax.NotFound, "")
	})
	t.Run("no id", func(t *testing.T) {
		_, err := f.svc.UpdateCentre(ctx, freeCentre())
		checkErr(t, err, vax.Invalid, "centre id is required")
	})
	t.Run("paid without fee for an offered vaccine", func(t *testing.T) {
		u := paidCentre()
		u.ID = c.ID
		u.Fees = []vax.Fee{{Vaccine: "COVISHIELD", Amount: 780}}
		_, err := f.svc.UpdateCentre(ctx, u)
		checkErr(t, err, vax.Invalid, "needs a fee for COVAXIN")
	})
	t.Run("paid with fees", func(t *testing.T) {
		u := paidCentre()
		u.ID = c.ID
		got, err := f.svc.UpdateCentre(ctx, u)
		if err != nil {
			t.Fatalf("UpdateCentre: %v", err)
		}
		if diff := cmp.Diff(u, got); diff != "" {
			t.Errorf("updated centre (-want +got):\n%s", diff)
		}
	})
	id := strconv.FormatInt(c.ID, 10)
	want := []string{"centre:" + id, "session:" + s.ID, "centre:" + id}
	if diff := cmp.Diff(want, changes(t, f.st)); diff != "" {
		t.Errorf("change feed (-want +got):\n%s", diff)
	}
}

func TestCreateSession(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	free := f.mustCentre(t, freeCentre())
	paid := f.mustCentre(t, paidCentre())

	in := session(free.ID, today(), " covishield ")
	in.Slots = []string{"09:00am-11:00am"}
	got := f.mustSession(t, in)
	if !vax.ValidUUID(got.ID) {
		t.Errorf("got id %q, want a UUID", got.ID)
	}
	want := session(free.ID, today(), "COVISHIELD")
	want.ID, want.Status, want.Slots, want.UpdatedAt = got.ID, vax.SessionOpen, []string{"09:00AM-11:00AM"}, got.UpdatedAt
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created session (-want +got):\n%s", diff)
	}
	stored, err := f.svc.Session(ctx, got.ID)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if diff := cmp.Diff(got, stored); diff != "" {
		t.Errorf("stored session (-returned +stored):\n%s", diff)
	}

	last := session(paid.ID, today().AddDays(90), "COVAXIN")
	last.ID = "6F9619FF-8B86-4011-B42D-00C04FC964FF"
	if got, err := f.svc.CreateSession(ctx, last); err != nil || got.ID != "6f9619ff-8b86-4011-b42d-00c04fc964ff" {
		t.Fatalf("CreateSession 90 days ahead with an upper-case id: got %q, %v; want the id lower-cased, nil", got.ID, err)
	}
	feed := changes(t, f.st)
	wantFeed := []string{
		"centre:" + strconv.FormatInt(free.ID, 10), "centre:" + strconv.FormatInt(paid.ID, 10),
		"session:" + got.ID, "session:6f9619ff-8b86-4011-b42d-00c04fc964ff",
	}
	if diff := cmp.Diff(wantFeed, feed); diff != "" {
		t.Errorf("change feed (-want +got):\n%s", diff)
	}
}

func TestCreateSessionRefused(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	free := f.mustCentre(t, freeCentre())
	paid := f.mustCentre(t, paidCentre())
	existing := f.mustSession(t, session(free.ID, today(), "COVISHIELD"))
	before := changes(t, f.st)

	tests := []struct {
		name   string
		change func(*vax.Session)
		code   vax.Code
		msg    string
	}{
		{"yesterday", func(s *vax.Session) { s.Date = today().AddDays(-1) }, vax.Invalid, "31-05-2021 is in the past"},
		{"91 days ahead", func(s *vax.Session) { s.Date = today().AddDays(91) }, vax.Invalid, "more than 90 days ahead"},
		{"unknown vaccine", func(s *vax.Session) { s.Vaccine = "MODERNA" }, vax.Invalid, `unknown vaccine "MODERNA"`},
		{"unknown centre", func(s *vax.Session) { s.CentreID = 99999 }, vax.Invalid, "unknown centre 99999"},
		{"paid centre without fee", func(s *vax.Session) { s.CentreID, s.Vaccine = paid.ID, "SPUTNIK V" }, vax.Invalid, "no fee for SPUTNIK V"},
		{"booked seats", func(s *vax.Session) { s.Booked1 = 1 }, vax.Invalid, "no booked seats"},
		{"cancelled", func(s *vax.Session) { s.Status = vax.SessionCancelled }, vax.Invalid, "must be open"},
		{"bad id", func(s *vax.Session) { s.ID = "not-a-uuid" }, vax.Invalid, "want a UUID"},
		{"bad slot", func(s *vax.Session) { s.Slots = []string{"9-11"} }, vax.Invalid, "invalid slot"},
		{"no slots", func(s *vax.Session) { s.Slots = nil }, vax.Invalid, "slots"},
		{"id taken", func(s *vax.Session) { s.ID = existing.ID }, vax.Conflict, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := session(free.ID, today(), "COVISHIELD")
			tt.change(&s)
			_, err := f.svc.CreateSession(ctx, s)
			checkErr(t, err, tt.code, tt.msg)
		})
	}
	if diff := cmp.Diff(before, changes(t, f.st)); diff != "" {
		t.Errorf("refused writes changed the feed (-before +after):\n%s", diff)
	}
}

// TestTodayIsInTheDeploymentZone: at 01:30 IST on 2 June it is still 1 June
// in UTC, yet a session on 1 June is in the past.
func TestTodayIsInTheDeploymentZone(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.mustCentre(t, freeCentre())
	f.clock.Set(time.Date(2021, 6, 1, 20, 0, 0, 0, time.UTC))
	_, err := f.svc.CreateSession(ctx, session(c.ID, vax.Date{Year: 2021, Month: 6, Day: 1}, "COVAXIN"))
	checkErr(t, err, vax.Invalid, "01-06-2021 is in the past")
	if _, err := f.svc.CreateSession(ctx, session(c.ID, vax.Date{Year: 2021, Month: 6, Day: 2}, "COVAXIN")); err != nil {
		t.Errorf("session on 2 June at 01:30 IST: %v", err)
	}
}

func TestUpdateSession(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	free := f.mustCentre(t, freeCentre())
	other := f.mustCentre(t, paidCentre())
	s := f.mustSession(t, session(free.ID, today(), "COVISHIELD"))
	f.clock.Advance(48 * time.Hour) // the session's date is now past

	t.Run("edit a past session without moving it", func(t *testing.T) {
		u := s
		u.CentreID = 0 // unchanged
		u.Status = ""  // unchanged
		u.Capacity1, u.MaxAge, u.Vaccine = 80, 44, "COVAXIN"
		u.Booked1 = 99 // ignored: only bookings move it
		got, err := f.svc.UpdateSession(ctx, u)
		if err != nil {
			t.Fatalf("UpdateSession: %v", err)
		}
		want := s
		want.Capacity1, want.MaxAge, want.Vaccine, want.UpdatedAt = 80, 44, "COVAXIN", got.UpdatedAt
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("updated session (-want +got):\n%s", diff)
		}
	})

	refusals := []struct {
		name   string
		change func(*vax.Session)
		code   vax.Code
		msg    string
	}{
		{"unknown id", func(u *vax.Session) { u.ID = "6f9619ff-8b86-4011-b42d-00c04fc964ff" }, vax.NotFound, ""},
		{"bad id", func(u *vax.Session) { u.ID = "42" }, vax.Invalid, "want a UUID"},
		{"move to a past date", func(u *vax.Session) { u.Date = today().AddDays(1) }, vax.Invalid, "in the past"},
		{"move too far", func(u *vax.Session) { u.Date = today().AddDays(2 + 91) }, vax.Invalid, "more than 90 days"},
		{"move to another centre", func(u *vax.Session) { u.CentreID = other.ID }, vax.Invalid, "cannot move to another centre"},
		{"unknown vaccine", func(u *vax.Session) { u.Vaccine = "MODERNA" }, vax.Invalid, "unknown vaccine"},
		{"bad status", func(u *vax.Session) { u.Status = "closed" }, vax.Invalid, "invalid session status"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			u := s
			tt.change(&u)
			_, err := f.svc.UpdateSession(ctx, u)
			checkErr(t, err, tt.code, tt.msg)
		})
	}

	t.Run("move to a future date", func(t *testing.T) {
		u := s
		u.Date = today().AddDays(5)
		got, err := f.svc.UpdateSession(ctx, u)
		if err != nil {
			t.Fatalf("UpdateSession: %v", err)
		}
		if got.Date != u.Date {
			t.Errorf("got date %s, want %s", got.Date, u.Date)
		}
	})
}

func TestCancelSession(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.mustCentre(t, freeCentre())
	s := f.mustSession(t, session(c.ID, today().AddDays(2), "COVISHIELD"))
	got, err := f.svc.CancelSession(ctx, s.ID)
	if err != nil {
		t.Fatalf("CancelSession: %v", err)
	}
	if got.Status != vax.SessionCancelled {
		t.Errorf("got status %s, want cancelled", got.Status)
	}
	if d1, d2 := got.Available(); d1 != 0 || d2 != 0 {
		t.Errorf("got %d/%d available, want 0/0", d1, d2)
	}
	feedAfterCancel := changes(t, f.st)
	if _, err := f.svc.CancelSession(ctx, s.ID); err != nil {
		t.Errorf("second CancelSession: %v", err)
	}
	if diff := cmp.Diff(feedAfterCancel, changes(t, f.st)); diff != "" {
		t.Errorf("cancelling a cancelled session changed the feed:\n%s", diff)
	}

	reopen := s
	reopen.Status = vax.SessionOpen
	_, err = f.svc.UpdateSession(ctx, reopen)
	checkErr(t, err, vax.Conflict, "cannot reopen")

	_, err = f.svc.CancelSession(ctx, "6f9619ff-8b86-4011-b42d-00c04fc964ff")
	mustNotFound(t, err)
}

func TestSessionsQuery(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	pc := f.mustCentre(t, freeCentre())
	tc := freeCentre()
	tc.DistrictID, tc.Pincode = thane, 400601
	tcc := f.mustCentre(t, tc)
	var inPune []string
	for i := range 3 {
		s, err := f.svc.CreateSession(ctx, session(pc.ID, today().AddDays(i), "COVISHIELD"))
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		inPune = append(inPune, s.ID)
	}
	if _, err := f.svc.CreateSession(ctx, session(tcc.ID, today(), "COVISHIELD")); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got, err := f.svc.Sessions(ctx, vax.SessionQuery{DistrictID: pune, From: today().AddDays(1)})
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if diff := cmp.Diff(inPune[1:], ids, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("Pune sessions from tomorrow (-want +got):\n%s", diff)
	}
}

func TestUpdateSessionCapacityBelowBooked(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	c := f.mustCentre(t, freeCentre())
	// Seats are booked by the booking rules; put a booked session straight
	// into the store.
	booked := session(c.ID, today().AddDays(1), "COVISHIELD")
	booked.ID, booked.Status, booked.Booked1, booked.Booked2 = "6f9619ff-8b86-4011-b42d-00c04fc964ff", vax.SessionOpen, 30, 5
	if err := f.st.InTx(ctx, func(tx vax.Tx) error { return tx.CreateSession(ctx, booked) }); err != nil {
		t.Fatalf("store CreateSession: %v", err)
	}
	before := changes(t, f.st)

	u := booked
	u.Booked1, u.Booked2 = 0, 0 // ignored: the stored counts apply
	u.Capacity1 = 29
	_, err := f.svc.UpdateSession(ctx, u)
	checkErr(t, err, vax.Conflict, "below the 30/5 seats already booked")

	u.Capacity1 = 30
	got, err := f.svc.UpdateSession(ctx, u)
	if err != nil {
		t.Fatalf("UpdateSession to exactly the booked count: %v", err)
	}
	if got.Booked1 != 30 || got.Booked2 != 5 || got.Capacity1 != 30 {
		t.Errorf("got capacity %d, booked %d/%d; want 30, 30/5", got.Capacity1, got.Booked1, got.Booked2)
	}
	if diff := cmp.Diff(append(before, "session:"+booked.ID), changes(t, f.st)); diff != "" {
		t.Errorf("change feed (-want +got):\n%s", diff)
	}
}

func TestParseDate(t *testing.T) {
	june2 := vax.Date{Year: 2021, Month: 6, Day: 2}
	tests := []struct {
		in   string
		want vax.Date
		ok   bool
	}{
		{"2021-06-02", june2, true},
		{"02-06-2021", june2, true},
		{"02-06-21", june2, true},
		{" 02-06-2021 ", june2, true},
		{"45-13-2021", vax.Date{}, false},
		{"2021-13-01", vax.Date{}, false},
		{"2021-02-30", vax.Date{}, false},
		{"2021/06/02", vax.Date{}, false},
		{"", vax.Date{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := catalog.ParseDate(tt.in)
			if !tt.ok {
				checkErr(t, err, vax.Invalid, "want YYYY-MM-DD or DD-MM-YYYY")
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}
