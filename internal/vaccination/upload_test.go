package vaccination_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/vaccination"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestUpload(t *testing.T) { eachStore(t, testUpload) }

func testUpload(t *testing.T, open opener) {
	e := newEnv(t, open)
	refs := []string{e.beneficiary(t, 1), e.beneficiary(t, 2), e.beneficiary(t, 3), e.beneficiary(t, 4)}
	earlier := e.record(t, e.vaccA, withTime(e.dose(refs[3], 1), t0.Add(-3*time.Hour)))
	at := t0.Add(-2 * time.Hour).Format(time.RFC3339)
	csv := strings.Join([]string{
		"beneficiary_reference_id,vaccine,lot,dose,center_id,administered_at",
		fmt.Sprintf("%s,COVISHIELD,A-CS-1,1,%d,%s", refs[0], e.a, at), // 1 recorded
		fmt.Sprintf("%s,COVISHIELD,A-CS-1,1,,%s", refs[0], at),        // 2 duplicate in the file
		fmt.Sprintf("%s,COVISHIELD,A-OLD,1,,%s", refs[1], at),         // 3 expired lot
		fmt.Sprintf("%s,COVISHIELD,A-CS-1,one,,%s", refs[2], at),      // 4 malformed dose
		fmt.Sprintf("%s,COVISHIELD,A-CS-1,1,,yesterday", refs[2]),     // 5 malformed time
		fmt.Sprintf("%s,COVISHIELD,A-CS-1,1", refs[2]),                // 6 too few fields
		fmt.Sprintf("%s,COVISHIELD,A-CS-1,1,,%s", refs[3], at),        // 7 already recorded
		fmt.Sprintf("%s,COVISHIELD,B-CS-1,1,%d,%s", refs[2], e.b, at), // 8 another centre
		fmt.Sprintf("%s,covishield,A-CS-1,1,,%s", refs[2], at),        // 9 recorded
		fmt.Sprintf("%s,COVISHIELD,A-CX-1,1,,%s", refs[0], at),        // 10 differs from row 1
		fmt.Sprintf("%s,COVISHIELD,A-CS-1,1,,", refs[1]),              // 11 no time
	}, "\n")
	rows, err := vaccination.ParseCSV(strings.NewReader(csv))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	res := e.svc.Upload(t.Context(), e.vaccA, rows)
	type short struct {
		Row    int
		Status vaccination.RowStatus
		Reason string
	}
	var got []short
	for _, r := range res {
		got = append(got, short{r.Row, r.Status, r.Reason})
		if r.Status == vaccination.RowError && (r.Error == "" || r.DoseID != "") {
			t.Errorf("row %d: got error %q and dose %q, want a message and no dose", r.Row, r.Error, r.DoseID)
		}
	}
	want := []short{
		{1, "recorded", ""},
		{2, "duplicate", ""},
		{3, "error", vaccination.ReasonLotExpired},
		{4, "error", vaccination.ReasonBadRequest},
		{5, "error", vaccination.ReasonBadRequest},
		{6, "error", vaccination.ReasonBadRequest},
		{7, "duplicate", ""},
		{8, "error", vaccination.ReasonForbidden},
		{9, "recorded", ""},
		{10, "error", vaccination.ReasonDoseRecorded},
		{11, "error", vaccination.ReasonBadRequest},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if res[0].DoseID == "" || res[1].DoseID != res[0].DoseID || res[6].DoseID != earlier.ID {
		t.Errorf("dose ids: got %q, %q, %q; want row 2 = row 1, row 7 = %s", res[0].DoseID, res[1].DoseID, res[6].DoseID, earlier.ID)
	}
	for i, want := range []int{1, 0, 1, 1} {
		if ds := e.doses(t, refs[i]); len(ds) != want {
			t.Errorf("beneficiary %d: got %d doses, want %d", i+1, len(ds), want)
		}
	}
	if l := e.lot(t, e.a, "A-CS-1"); l.Used != 3 {
		t.Errorf("lot A-CS-1 used: got %d, want 3", l.Used)
	}
	if l := e.lot(t, e.a, "A-OLD"); l.Used != 0 {
		t.Errorf("expired lot used: got %d, want 0", l.Used)
	}
	if n := len(e.changes(t)); n != 3 {
		t.Errorf("ChangeDose changes: got %d, want 3", n)
	}
}

func TestParseCSV(t *testing.T) {
	head := "beneficiary_reference_id,vaccine,lot,dose,center_id,administered_at\n"
	for _, bad := range []string{"", "ref,vaccine\n", "beneficiary_reference_id,vaccine,lot,dose,administered_at\n"} {
		if _, err := vaccination.ParseCSV(strings.NewReader(bad)); vax.ErrorCode(err) != vax.Invalid {
			t.Errorf("ParseCSV(%q): got %v, want Invalid", bad, err)
		}
	}
	rows, err := vaccination.ParseCSV(strings.NewReader("\uFEFF" + head + "12345678901234, COVAXIN ,L1,2,7,2021-06-01T10:00:00+05:30\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []vaccination.UploadRow{{Row: 1, DoseRequest: vaccination.DoseRequest{Ref: "12345678901234", Vaccine: "COVAXIN",
		Lot: "L1", Dose: 2, CentreID: 7, AdministeredAt: t0}}}
	// cmp compares times with their Equal method: by instant.
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	big := head + strings.Repeat("12345678901234,COVAXIN,L1,1,,2021-06-01T10:00:00Z\n", vaccination.MaxUploadRows+1)
	_, err = vaccination.ParseCSV(strings.NewReader(big))
	wantReason(t, "too many rows", err, vax.Invalid, vaccination.ReasonTooLarge)
}

func TestParseJSONLines(t *testing.T) {
	in := `{"beneficiary_reference_id":"12345678901234","vaccine":"COVAXIN","lot":"L1","dose":2,"center_id":7,"administered_at":"2021-06-01T10:00:00+05:30"}

{"beneficiary_reference_id":"12345678901234","vaccine":"COVAXIN","lot":"L1","dose":"2"}
{"beneficiary_reference_id":"12345678901234","vaccine":"COVAXIN","lot":"L1","dose":1,"extra":1}
not json
{"beneficiary_reference_id":"12345678901234","vaccine":"COVAXIN","lot":"L1","dose":1}
`
	rows, err := vaccination.ParseJSONLines(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("rows: got %d, want 5", len(rows))
	}
	r := rows[0]
	if r.Err != nil || r.Row != 1 || r.Ref != "12345678901234" || r.Dose != 2 || r.CentreID != 7 || !r.AdministeredAt.Equal(t0) {
		t.Errorf("row 1: got %+v", r)
	}
	for i, wantErr := range []bool{false, true, true, true, false} {
		if (rows[i].Err != nil) != wantErr {
			t.Errorf("row %d: got error %v, want error %v", i+1, rows[i].Err, wantErr)
		}
	}
	if rows[4].CentreID != 0 || !rows[4].AdministeredAt.IsZero() {
		t.Errorf("row 5: got centre %d at %v, want none", rows[4].CentreID, rows[4].AdministeredAt)
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add("beneficiary_reference_id,vaccine,lot,dose,center_id,administered_at\n12345678901234,COVAXIN,L1,1,,2021-06-01T10:00:00Z\n")
	f.Add("beneficiary_reference_id,vaccine,lot,dose,center_id,administered_at\n\"a,b\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := vaccination.ParseCSV(strings.NewReader(in))
		if err != nil {
			return
		}
		for i, r := range rows {
			if r.Row != i+1 {
				t.Errorf("row %d numbered %d", i+1, r.Row)
			}
			if r.Err == nil && r.CentreID < 0 {
				t.Errorf("row %d: negative centre %d", i+1, r.CentreID)
			}
		}
	})
}

func FuzzParseJSONLines(f *testing.F) {
	f.Add(`{"beneficiary_reference_id":"12345678901234","vaccine":"COVAXIN","lot":"L1","dose":1}` + "\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := vaccination.ParseJSONLines(strings.NewReader(in))
		if err != nil {
			return
		}
		for i, r := range rows {
			if r.Row != i+1 {
				t.Errorf("row %d numbered %d", i+1, r.Row)
			}
			if r.Err == nil && r.CentreID < 0 {
				t.Errorf("row %d: negative centre %d", i+1, r.CentreID)
			}
		}
	})
}
