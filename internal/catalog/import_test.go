package catalog_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/vax"
)

// rowOutcome is a RowResult reduced to what a test can predict.
type rowOutcome struct {
	Row  int
	OK   bool
	Code vax.Code
	Msg  string // a substring of the error message
}

// checkReport compares rep with want and returns the ids of the rows that
// landed.
func checkReport(t *testing.T, rep catalog.Report, want []rowOutcome) []string {
	t.Helper()
	var got []rowOutcome
	var ids []string
	for _, r := range rep.Rows {
		o := rowOutcome{Row: r.Row, OK: r.Err == nil}
		if r.Err != nil {
			o.Code = vax.ErrorCode(r.Err)
			if r.ID != "" {
				t.Errorf("row %d failed yet has id %q", r.Row, r.ID)
			}
		} else {
			ids = append(ids, r.ID)
		}
		got = append(got, o)
	}
	// Messages are checked as substrings, so compare them separately.
	for i := range min(len(got), len(want)) {
		if want[i].Msg != "" && rep.Rows[i].Err != nil {
			if m := vax.ErrorMessage(rep.Rows[i].Err); !strings.Contains(m, want[i].Msg) {
				t.Errorf("row %d: got message %q, want it to contain %q", rep.Rows[i].Row, m, want[i].Msg)
			}
		}
		got[i].Msg = want[i].Msg
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report rows (-want +got):\n%s", diff)
	}
	wantOK := 0
	for _, w := range want {
		if w.OK {
			wantOK++
		}
	}
	if rep.Imported != wantOK || rep.Failed != len(want)-wantOK {
		t.Errorf("got imported %d, failed %d; want %d, %d", rep.Imported, rep.Failed, wantOK, len(want)-wantOK)
	}
	return ids
}

const centresHeader = "center_id,name,address,state_id,district_id,block_name,pincode,lat,long,from,to,fee_type,fees"

func TestImportCentres(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	// Rows, line by line; the file starts with a BOM and ends lines with CRLF.
	lines := []string{
		centresHeader, // 1
		"1001,Aundh Hospital,Aundh,21,363,Haveli,411007,18.56,73.81,09:00,17:00,Free,",                   // 2 ok, new id
		",Kothrud PHC,Kothrud,21,363,Haveli,411038,,,09:00:00,17:00:00,Paid,COVISHIELD:780;covaxin:1410", // 3 ok, assigned id
		"1002,Bad Pin,x,21,363,b,41100A,0,0,09:00,17:00,Free,",                                           // 4 non-numeric pincode
		"1003,Short Row,x,21",                                                                                // 5 wrong field count
		"1001,Again,x,21,363,b,411007,0,0,09:00,17:00,Free,",                                                 // 6 duplicate id in file
		"1004,Nowhere,x,21,9999,b,411007,0,0,09:00,17:00,Free,",                                              // 7 unknown district
		"1005,Wrong State,x,17,363,b,411007,0,0,09:00,17:00,Free,",                                           // 8 district in another state
		"1006,Paid No Fee,x,21,363,b,411007,0,0,09:00,17:00,Paid,",                                           // 9 Paid without fee
		`1007,"Sassoon Hospital, Pune","Station Rd, ""B"" wing",21,363,Pune City,411001,,,08:00,20:00,free,`, // 10 ok, quoted
		`1008,"Broken "quote",x,21,363,b,411007,0,0,09:00,17:00,Free,`,                                       // 11 malformed CSV
		"1009,Bad Fees,x,21,363,b,411007,0,0,09:00,17:00,Paid,COVISHIELD=780",                                // 12 malformed fees
		"1010,Bad Lat,x,21,363,b,411007,NaN,0,09:00,17:00,Free,",                                             // 13 NaN latitude
		"1011," + strings.Repeat("n", catalog.MaxFieldLen+1) + ",x,21,363,b,411007,0,0,09:00,17:00,Free,",    // 14 over-long field
		"1012,Fee For Unknown,x,21,363,b,411007,0,0,09:00,17:00,Paid,MODERNA:1000",                           // 15 unknown vaccine
		"1013,Bad Hours,x,21,363,b,411007,0,0,17:00,09:00,Free,",                                             // 16 from after to
		"", // blank line: skipped, not a row
		"1014,Thane Civil,x,21,392,Thane,400601,19.2,72.97,09:00,17:00,Free,", // 18 ok
	}
	file := "\uFEFF" + strings.Join(lines, "\r\n") + "\r\n"
	rep, err := f.svc.ImportCentres(ctx, strings.NewReader(file))
	if err != nil {
		t.Fatalf("ImportCentres: %v", err)
	}
	ids := checkReport(t, rep, []rowOutcome{
		{Row: 2, OK: true},
		{Row: 3, OK: true},
		{Row: 4, Code: vax.Invalid, Msg: `pincode: want a whole number, got "41100A"`},
		{Row: 5, Code: vax.Invalid, Msg: "row has 4 fields, the header has 13"},
		{Row: 6, Code: vax.Conflict, Msg: "center_id 1001 repeats row 2"},
		{Row: 7, Code: vax.Invalid, Msg: "unknown district 9999"},
		{Row: 8, Code: vax.Invalid, Msg: "district 363 is not in state 17"},
		{Row: 9, Code: vax.Invalid, Msg: "Paid centre needs a fee"},
		{Row: 10, OK: true},
		{Row: 11, Code: vax.Invalid, Msg: "malformed CSV"},
		{Row: 12, Code: vax.Invalid, Msg: "fees: want VACCINE:RUPEES"},
		{Row: 13, Code: vax.Invalid, Msg: "lat: want a number"},
		{Row: 14, Code: vax.Invalid, Msg: "longer than 1000 bytes"},
		{Row: 15, Code: vax.Invalid, Msg: `unknown vaccine "MODERNA"`},
		{Row: 16, Code: vax.Invalid, Msg: "opening hours"},
		{Row: 18, OK: true},
	})
	if len(ids) != 4 || ids[0] != "1001" || ids[2] != "1007" || ids[3] != "1014" {
		t.Fatalf("got landed ids %v, want 1001, an assigned id, 1007, 1014", ids)
	}

	// Only the landed rows are in the store and the change feed.
	all, err := f.svc.Centres(ctx, vax.CentreQuery{})
	if err != nil {
		t.Fatalf("Centres: %v", err)
	}
	var stored []string
	for _, c := range all {
		stored = append(stored, strconv.FormatInt(c.ID, 10))
	}
	wantIDs := slices.Sorted(slices.Values(ids))
	if diff := cmp.Diff(wantIDs, stored); diff != "" {
		t.Errorf("stored centres (-want +got):\n%s", diff)
	}
	var wantFeed []string
	for _, id := range ids {
		wantFeed = append(wantFeed, "centre:"+id)
	}
	if diff := cmp.Diff(wantFeed, changes(t, f.st)); diff != "" {
		t.Errorf("change feed (-want +got):\n%s", diff)
	}

	sassoon, err := f.svc.Centre(ctx, 1007)
	if err != nil {
		t.Fatalf("Centre 1007: %v", err)
	}
	want := vax.Centre{ID: 1007, Name: "Sassoon Hospital, Pune", Address: `Station Rd, "B" wing`, StateID: 21, DistrictID: 363,
		BlockName: "Pune City", Pincode: 411001, From: "08:00:00", To: "20:00:00", FeeType: vax.Free}
	if diff := cmp.Diff(want, sassoon); diff != "" {
		t.Errorf("centre 1007 (-want +got):\n%s", diff)
	}
	kothrud, err := f.svc.Centre(ctx, mustInt(t, ids[1]))
	if err != nil {
		t.Fatalf("Centre %s: %v", ids[1], err)
	}
	wantFees := []vax.Fee{{Vaccine: "COVISHIELD", Amount: 780}, {Vaccine: "COVAXIN", Amount: 1410}}
	if diff := cmp.Diff(wantFees, kothrud.Fees); diff != "" {
		t.Errorf("Kothrud fees (-want +got):\n%s", diff)
	}

	// A second file updates existing ids and creates new ones.
	again := "name,center_id,state_id,district_id,pincode,from,to,fee_type\n" +
		"Aundh Hospital (renamed),1001,21,363,411007,09:00,18:00,Free\n" +
		"Ernakulam GH,2001,17,307,682011,09:00,17:00,Free\n"
	rep, err = f.svc.ImportCentres(ctx, strings.NewReader(again))
	if err != nil {
		t.Fatalf("second ImportCentres: %v", err)
	}
	checkReport(t, rep, []rowOutcome{{Row: 2, OK: true}, {Row: 3, OK: true}})
	aundh, err := f.svc.Centre(ctx, 1001)
	if err != nil {
		t.Fatalf("Centre 1001: %v", err)
	}
	if aundh.Name != "Aundh Hospital (renamed)" || aundh.To != "18:00:00" || aundh.Address != "" {
		t.Errorf("got centre 1001 %+v, want it replaced by the second file's row", aundh)
	}
	if _, err := f.svc.Centre(ctx, 2001); err != nil {
		t.Errorf("Centre 2001: %v", err)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return n
}

const sessionsHeader = "session_id,center_id,date,vaccine,min_age_limit,max_age_limit,allow_all_age,capacity_dose1,capacity_dose2,slots"

func TestImportSessions(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	free := f.mustCentre(t, freeCentre())
	paid := f.mustCentre(t, paidCentre())
	stored := f.mustSession(t, session(free.ID, today(), "COVISHIELD"))
	before := changes(t, f.st)

	const idA = "0b7c8e4e-5d5b-4b8e-9f3a-1c2d3e4f5a6b"
	slots := "09:00AM-11:00AM;11:00AM-01:00PM"
	row := func(id string, centre int64, date, vaccine, rest string) string {
		return fmt.Sprintf("%s,%d,%s,%s,%s", id, centre, date, vaccine, rest)
	}
	ok := "18,,false,50,20," + slots
	lines := []string{
		sessionsHeader,
		row("", free.ID, "2021-06-02", "COVISHIELD", ok),                            // 2 ok
		row(idA, free.ID, "03-06-2021", "covaxin", "45,,true,10,0,09:00AM-11:00AM"), // 3 ok
		row(idA, free.ID, "04-06-2021", "COVAXIN", ok),                              // 4 duplicate id in file
		row("", free.ID, "45-13-2021", "COVISHIELD", ok),                            // 5 bad date
		row("", free.ID, "31-05-2021", "COVISHIELD", ok),                            // 6 past date
		row("", free.ID, "2021-06-02", "MODERNA", ok),                               // 7 unknown vaccine
		row("", paid.ID, "2021-06-02", "SPUTNIK V", ok),                             // 8 Paid centre without fee
		row("", free.ID, "2021-06-02", "COVISHIELD", "18,,maybe,50,20,"+slots),      // 9 bad bool
		row(stored.ID, free.ID, "2021-06-02", "COVISHIELD", ok),                     // 10 id already stored
		row("", 99999, "2021-06-02", "COVISHIELD", ok),                              // 11 unknown centre
		row("", free.ID, "2021-06-02", "COVISHIELD", "18,,false,-5,20,"+slots),      // 12 negative capacity
		row("", free.ID, "2021-06-02", "COVISHIELD", "18,,false,50,20,"),            // 13 no slots
		row("", paid.ID, "2021-09-01", "COVAXIN", "18,44,false,5,5,"+slots),         // 14 92 days ahead
		row("", paid.ID, "2021-08-30", "COVAXIN", "18,44,false,5,5,"+slots),         // 15 ok: 90 days ahead
	}
	rep, err := f.svc.ImportSessions(ctx, strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatalf("ImportSessions: %v", err)
	}
	ids := checkReport(t, rep, []rowOutcome{
		{Row: 2, OK: true},
		{Row: 3, OK: true},
		{Row: 4, Code: vax.Conflict, Msg: "session_id " + idA + " repeats row 3"},
		{Row: 5, Code: vax.Invalid, Msg: `date: invalid date "45-13-2021"`},
		{Row: 6, Code: vax.Invalid, Msg: "31-05-2021 is in the past"},
		{Row: 7, Code: vax.Invalid, Msg: `unknown vaccine "MODERNA"`},
		{Row: 8, Code: vax.Invalid, Msg: "no fee for SPUTNIK V"},
		{Row: 9, Code: vax.Invalid, Msg: "allow_all_age: want true or false"},
		{Row: 10, Code: vax.Conflict, Msg: "already exists"},
		{Row: 11, Code: vax.Invalid, Msg: "unknown centre 99999"},
		{Row: 12, Code: vax.Invalid, Msg: "capacity_dose1: want a whole number"},
		{Row: 13, Code: vax.Invalid, Msg: "slots"},
		{Row: 14, Code: vax.Invalid, Msg: "more than 90 days ahead"},
		{Row: 15, OK: true},
	})
	if len(ids) != 3 || ids[1] != idA {
		t.Fatalf("got landed ids %v, want 3 with %s second", ids, idA)
	}
	a, err := f.svc.Session(ctx, idA)
	if err != nil {
		t.Fatalf("Session %s: %v", idA, err)
	}
	want := vax.Session{ID: idA, CentreID: free.ID, Date: vax.Date{Year: 2021, Month: 6, Day: 3}, Vaccine: "COVAXIN",
		MinAge: 45, AllowAllAge: true, Capacity1: 10, Slots: []string{"09:00AM-11:00AM"}, Status: vax.SessionOpen, UpdatedAt: a.UpdatedAt}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("session %s (-want +got):\n%s", idA, diff)
	}

	// Only the landed rows are in the store and the change feed.
	all, err := f.svc.Sessions(ctx, vax.SessionQuery{})
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	var got []string
	for _, s := range all {
		got = append(got, s.ID)
	}
	wantIDs := slices.Sorted(slices.Values(append(slices.Clone(ids), stored.ID)))
	if diff := cmp.Diff(wantIDs, got); diff != "" {
		t.Errorf("stored sessions (-want +got):\n%s", diff)
	}
	wantFeed := slices.Clone(before)
	for _, id := range ids {
		wantFeed = append(wantFeed, "session:"+id)
	}
	if diff := cmp.Diff(wantFeed, changes(t, f.st)); diff != "" {
		t.Errorf("change feed (-want +got):\n%s", diff)
	}
}

func TestImportRefusesFile(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	good := "1001,Aundh,x,21,363,b,411007,0,0,09:00,17:00,Free,\n"
	tests := []struct {
		name     string
		sessions bool
		file     string
		msg      string
	}{
		{"empty", false, "", "empty file"},
		{"only a BOM", false, "\uFEFF", "empty file"},
		{"unknown column", false, centresHeader + ",colour\n" + good, `unknown column "colour"`},
		{"missing column", false, "name,state_id,district_id,pincode,from,to\nA,21,363,411007,09:00,17:00\n", `missing column "fee_type"`},
		{"column twice", false, centresHeader + ",name\n" + good, `column "name" appears twice`},
		{"unnamed column", false, "name,,state_id\n", "column 2 has no name"},
		{"session file with a centre column", true, sessionsHeader + ",pincode\n", `unknown column "pincode"`},
		{"session file missing slots", true, strings.TrimSuffix(sessionsHeader, ",slots") + "\n", `missing column "slots"`},
		{"too many rows", false, centresHeader + "\n" + strings.Repeat(good, catalog.MaxImportRows+1), "more than 100000 rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.sessions {
				_, err = f.svc.ImportSessions(ctx, strings.NewReader(tt.file))
			} else {
				_, err = f.svc.ImportCentres(ctx, strings.NewReader(tt.file))
			}
			checkErr(t, err, vax.Invalid, tt.msg)
		})
	}
	if feed := changes(t, f.st); len(feed) != 0 {
		t.Errorf("refused files wrote changes %v, want none", feed)
	}
	if cs, err := f.svc.Centres(ctx, vax.CentreQuery{}); err != nil || len(cs) != 0 {
		t.Errorf("refused files left %d centres (%v), want none", len(cs), err)
	}
}

func TestImportHeaderOnly(t *testing.T) {
	f := newFixture(t)
	rep, err := f.svc.ImportCentres(t.Context(), strings.NewReader(centresHeader+"\r\n"))
	if err != nil {
		t.Fatalf("ImportCentres: %v", err)
	}
	if diff := cmp.Diff(catalog.Report{}, rep); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// FuzzImportCentres checks that no input makes the import panic or report
// inconsistently, and that every row reported as landed is in the store.
func FuzzImportCentres(f *testing.F) {
	f.Add(centresHeader + "\n1001,Aundh,x,21,363,b,411007,0,0,09:00,17:00,Free,\n")
	f.Add("\uFEFF" + centresHeader + "\r\n,\"A\"\"B\",x,21,363,b,411007,1.5,2,09:00,17:00,Paid,COVISHIELD:780\r\n")
	f.Add("name,state_id,district_id,pincode,from,to,fee_type\n\"unterminated,21,363\n")
	f.Add(centresHeader + "\n1,2,3\n\n\n" + `"a"b,c` + "\n")
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, file string) {
		rep, err := fx.svc.ImportCentres(t.Context(), strings.NewReader(file))
		if err != nil {
			if vax.ErrorCode(err) != vax.Invalid {
				t.Fatalf("got error %v, want Invalid or a report", err)
			}
			return
		}
		if rep.Imported+rep.Failed != len(rep.Rows) {
			t.Fatalf("got %d imported + %d failed, want %d rows", rep.Imported, rep.Failed, len(rep.Rows))
		}
		last := 1
		for _, r := range rep.Rows {
			if r.Row <= last {
				t.Fatalf("row %d follows row %d", r.Row, last)
			}
			last = r.Row
			if r.Err != nil {
				continue
			}
			if _, err := fx.svc.Centre(t.Context(), mustInt(t, r.ID)); err != nil {
				t.Fatalf("row %d landed as %s but: %v", r.Row, r.ID, err)
			}
		}
	})
}
