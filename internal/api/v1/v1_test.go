package v1_test

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/api"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

const token = "s3cret-admin-token"

var ist = time.FixedZone("IST", 5*3600+30*60)

// newServer serves the v1 API over a fresh SQLite store with Maharashtra
// (21: Pune 363, Thane 392), Kerala (17: Ernakulam 307) and three
// vaccines, on 1 June 2021 at 10:00 IST.
func newServer(t *testing.T, adminToken string) string {
	t.Helper()
	ctx := t.Context()
	clock := vax.NewManualClock(time.Date(2021, 6, 1, 10, 0, 0, 0, ist))
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vaxport.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	err = st.InTx(ctx, func(tx vax.Tx) error {
		for _, s := range []vax.State{{ID: 21, Name: "Maharashtra"}, {ID: 17, Name: "Kerala"}} {
			if err := tx.PutState(ctx, s); err != nil {
				return err
			}
		}
		for _, d := range []vax.District{{ID: 363, StateID: 21, Name: "Pune"}, {ID: 392, StateID: 21, Name: "Thane"}, {ID: 307, StateID: 17, Name: "Ernakulam"}} {
			if err := tx.PutDistrict(ctx, d); err != nil {
				return err
			}
		}
		for _, v := range []string{"COVISHIELD", "COVAXIN", "SPUTNIK V"} {
			if err := tx.PutVaccine(ctx, vax.Vaccine{Name: v, Doses: 2, IntervalDays: 28}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	mux := http.NewServeMux()
	v1.New(v1.Config{Catalog: catalog.New(st, clock, ist, rand.Reader), AdminToken: adminToken}).Register(mux)
	mux.Handle("/", api.NotFound(mux))
	srv := httptest.NewServer(api.Middleware(slog.New(slog.DiscardHandler), nil)(mux))
	t.Cleanup(srv.Close)
	return srv.URL
}

type client struct {
	t     *testing.T
	base  string
	token string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (c client) do(method, path, contentType, body string) response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// json sends body (no Content-Type, as Co-WIN clients do), wants status
// and returns the decoded response.
func (c client) json(method, path, body string, status int) map[string]any {
	c.t.Helper()
	res := c.do(method, path, "", body)
	if res.status != status {
		c.t.Fatalf("%s %s: got %d %s, want %d", method, path, res.status, res.body, status)
	}
	var out map[string]any
	if err := json.Unmarshal(res.body, &out); err != nil {
		c.t.Fatalf("%s %s: body %q: %v", method, path, res.body, err)
	}
	return out
}

// fails sends body and wants an error of status and errorCode whose
// message contains msg.
func (c client) fails(method, path, body string, status int, code, msg string) {
	c.t.Helper()
	res := c.do(method, path, "", body)
	checkError(c.t, res, status, code, msg)
}

func checkError(t *testing.T, res response, status int, code, msg string) {
	t.Helper()
	if res.status != status {
		t.Errorf("got status %d %s, want %d", res.status, res.body, status)
		return
	}
	var e api.ErrorBody
	dec := json.NewDecoder(strings.NewReader(string(res.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Errorf("body %q is not the error shape: %v", res.body, err)
		return
	}
	if e.ErrorCode != code || !strings.Contains(e.Error, msg) {
		t.Errorf("got %+v, want errorCode %s and a message containing %q", e, code, msg)
	}
}

// jsonOf decodes a JSON literal for comparisons.
func jsonOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON %q: %v", s, err)
	}
	return m
}

func TestAdminAuth(t *testing.T) {
	enabled := newServer(t, token)
	disabled := newServer(t, "")
	tests := []struct {
		name   string
		base   string
		header string
		status int
		msg    string
	}{
		{"no bootstrap", disabled, "Bearer anything", 401, "invalid token"},
		{"no bootstrap, no token", disabled, "", 401, "missing token"},
		{"no token", enabled, "", 401, "missing token"},
		{"other scheme", enabled, "Basic " + token, 401, "missing token"},
		{"empty bearer", enabled, "Bearer ", 401, "missing token"},
		{"wrong token", enabled, "Bearer " + token + "x", 401, "invalid token"},
		{"right token", enabled, "Bearer " + token, 200, ""},
		{"scheme in any case", enabled, "bearer " + token, 200, ""},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/v1/admin/centres", "/api/v1/admin/sessions"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				req, err := http.NewRequestWithContext(t.Context(), "GET", tt.base+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tt.header != "" {
					req.Header.Set("Authorization", tt.header)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				if tt.status == 200 {
					if res.StatusCode != 200 {
						t.Errorf("got %d %s, want 200", res.StatusCode, body)
					}
					return
				}
				checkError(t, response{status: res.StatusCode, body: body}, 401, "GENERR0401", tt.msg)
				if res.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 without WWW-Authenticate")
				}
			})
		}
	}

	// Unknown admin paths ask for the token before saying 404 or 405.
	anon := client{t: t, base: enabled}
	anon.fails("GET", "/api/v1/admin/partners", "", 401, "GENERR0401", "missing token")
	admin := client{t: t, base: enabled, token: token}
	admin.fails("GET", "/api/v1/admin/partners", "", 404, "GENERR0404", "no such endpoint")
	admin.fails("DELETE", "/api/v1/admin/centres/1", "", 405, "GENERR0405", "GET, PUT")
}

const aundh = `{"name":"Aundh District Hospital","address":"Aundh Road","state_id":21,"district_id":363,
	"block_name":"Haveli","pincode":411007,"lat":18.56,"long":73.81,"from":"09:00:00","to":"17:00:00","fee_type":"Free"}`

func TestCentres(t *testing.T) {
	c := client{t: t, base: newServer(t, token), token: token}

	created := c.json("POST", "/api/v1/admin/centres", aundh, 201)
	id := created["center_id"].(float64)
	want := jsonOf(t, aundh)
	want["center_id"] = id
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("created centre (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(created, c.json("GET", "/api/v1/admin/centres/"+fmtID(id), "", 200)); diff != "" {
		t.Errorf("fetched centre (-created +fetched):\n%s", diff)
	}

	// Full replace, fees as Co-WIN's strings or as numbers.
	paid := `{"name":"Ruby Hall","state_id":21,"district_id":392,"pincode":400601,"from":"08:00","to":"20:00",
		"fee_type":"Paid","vaccine_fees":[{"vaccine":"COVISHIELD","fee":"780"},{"vaccine":"COVAXIN","fee":1410}]}`
	updated := c.json("PUT", "/api/v1/admin/centres/"+fmtID(id), paid, 200)
	wantUpdated := jsonOf(t, `{"center_id":0,"name":"Ruby Hall","address":"","state_id":21,"district_id":392,"block_name":"",
		"pincode":400601,"lat":0,"long":0,"from":"08:00:00","to":"20:00:00","fee_type":"Paid",
		"vaccine_fees":[{"vaccine":"COVISHIELD","fee":"780"},{"vaccine":"COVAXIN","fee":"1410"}]}`)
	wantUpdated["center_id"] = id
	if diff := cmp.Diff(wantUpdated, updated); diff != "" {
		t.Errorf("updated centre (-want +got):\n%s", diff)
	}

	errs := []struct {
		name, method, path, body string
		status                   int
		code, msg                string
	}{
		{"unknown id", "GET", "/api/v1/admin/centres/999999", "", 404, "GENERR0404", ""},
		{"non-numeric id", "GET", "/api/v1/admin/centres/abc", "", 404, "GENERR0404", "positive whole numbers"},
		{"update unknown", "PUT", "/api/v1/admin/centres/999999", aundh, 404, "GENERR0404", ""},
		{"id mismatch", "PUT", "/api/v1/admin/centres/" + fmtID(id), `{"center_id":5}`, 400, "GENERR0400", "does not match"},
		{"pincode as string", "POST", "/api/v1/admin/centres", `{"pincode":"411007"}`, 400, "GENERR0400", `field "pincode"`},
		{"bad fee", "POST", "/api/v1/admin/centres", `{"vaccine_fees":[{"vaccine":"COVAXIN","fee":"lots"}]}`, 400, "GENERR0400", "whole rupees"},
		{"bad JSON", "POST", "/api/v1/admin/centres", `{"name":`, 400, "GENERR0400", "invalid JSON"},
		{"unknown district", "POST", "/api/v1/admin/centres", strings.Replace(aundh, "363", "9999", 1), 400, "GENERR0400", "unknown district 9999"},
		{"district in another state", "POST", "/api/v1/admin/centres", strings.Replace(aundh, `"state_id":21`, `"state_id":17`, 1), 400, "GENERR0400", "not in state 17"},
		{"paid without fees", "POST", "/api/v1/admin/centres", strings.Replace(aundh, "Free", "Paid", 1), 400, "GENERR0400", "needs a fee"},
		{"taken id", "POST", "/api/v1/admin/centres", strings.Replace(aundh, "{", `{"center_id":`+fmtID(id)+",", 1), 409, "GENERR0409", "already exists"},
		{"bad limit", "GET", "/api/v1/admin/centres?limit=ten", "", 400, "GENERR0400", "query parameter limit"},
		{"negative after", "GET", "/api/v1/admin/centres?after=-1", "", 400, "GENERR0400", "query parameter after"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			c := c
			c.t = t
			c.fails(tt.method, tt.path, tt.body, tt.status, tt.code, tt.msg)
		})
	}
}

func TestListCentresPages(t *testing.T) {
	c := client{t: t, base: newServer(t, token), token: token}
	var pune []float64
	for i := range 5 {
		body := aundh
		if i%2 == 1 {
			body = strings.Replace(aundh, "363", "392", 1) // Thane
		}
		id := c.json("POST", "/api/v1/admin/centres", body, 201)["center_id"].(float64)
		if i%2 == 0 {
			pune = append(pune, id)
		}
	}
	var got []float64
	path := "/api/v1/admin/centres?district_id=363&limit=2"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatalf("more pages than expected")
		}
		page := c.json("GET", path, "", 200)
		for _, ce := range page["centers"].([]any) {
			got = append(got, ce.(map[string]any)["center_id"].(float64))
		}
		next, ok := page["next"].(string)
		if !ok {
			break
		}
		path = "/api/v1/admin/centres?district_id=363&limit=2&after=" + next
	}
	if diff := cmp.Diff(pune, got); diff != "" {
		t.Errorf("Pune centres over pages (-want +got):\n%s", diff)
	}
	empty := c.json("GET", "/api/v1/admin/centres?pincode=110001", "", 200)
	if diff := cmp.Diff(map[string]any{"centers": []any{}}, empty); diff != "" {
		t.Errorf("empty list (-want +got):\n%s", diff)
	}
}

func TestSessions(t *testing.T) {
	c := client{t: t, base: newServer(t, token), token: token}
	centre := fmtID(c.json("POST", "/api/v1/admin/centres", aundh, 201)["center_id"].(float64))

	created := c.json("POST", "/api/v1/admin/sessions", `{"center_id":`+centre+`,"date":"02-06-2021","vaccine":"COVISHIELD",
		"min_age_limit":18,"capacity_dose1":50,"capacity_dose2":20,"slots":["09:00AM-11:00AM","11:00AM-01:00PM"]}`, 201)
	id, _ := created["session_id"].(string)
	if !vax.ValidUUID(id) {
		t.Fatalf("got session_id %q, want a UUID", id)
	}
	want := jsonOf(t, `{"center_id":0,"date":"02-06-2021","vaccine":"COVISHIELD","min_age_limit":18,"allow_all_age":false,
		"capacity_dose1":50,"capacity_dose2":20,"booked_dose1":0,"booked_dose2":0,"available_capacity":70,
		"available_capacity_dose1":50,"available_capacity_dose2":20,"slots":["09:00AM-11:00AM","11:00AM-01:00PM"],"status":"open"}`)
	want["center_id"], want["session_id"], want["updated_at"] = created["center_id"], id, created["updated_at"]
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("created session (-want +got):\n%s", diff)
	}
	if _, err := time.Parse(time.RFC3339, created["updated_at"].(string)); err != nil {
		t.Errorf("updated_at: %v", err)
	}
	if diff := cmp.Diff(created, c.json("GET", "/api/v1/admin/sessions/"+id, "", 200)); diff != "" {
		t.Errorf("fetched session (-created +fetched):\n%s", diff)
	}

	updated := c.json("PUT", "/api/v1/admin/sessions/"+id, `{"date":"2021-06-05","vaccine":"COVAXIN","min_age_limit":45,
		"max_age_limit":60,"capacity_dose1":10,"capacity_dose2":0,"slots":["02:00PM-04:00PM"]}`, 200)
	for k, v := range map[string]any{"date": "05-06-2021", "vaccine": "COVAXIN", "max_age_limit": 60.0, "available_capacity": 10.0, "status": "open"} {
		if updated[k] != v {
			t.Errorf("updated %s: got %v, want %v", k, updated[k], v)
		}
	}

	cancelled := c.json("POST", "/api/v1/admin/sessions/"+id+"/cancel", "", 200)
	if cancelled["status"] != "cancelled" || cancelled["available_capacity"] != 0.0 {
		t.Errorf("got %v, want a cancelled session with nothing available", cancelled)
	}

	base := `{"center_id":` + centre + `,"vaccine":"COVISHIELD","min_age_limit":18,"capacity_dose1":5,"capacity_dose2":5,"slots":["09:00AM-11:00AM"],`
	errs := []struct {
		name, method, path, body string
		status                   int
		code, msg                string
	}{
		{"reopen", "PUT", "/api/v1/admin/sessions/" + id, base + `"date":"05-06-2021","status":"open"}`, 409, "GENERR0409", "cannot reopen"},
		{"unknown id", "GET", "/api/v1/admin/sessions/6f9619ff-8b86-4011-b42d-00c04fc964ff", "", 404, "GENERR0404", ""},
		{"not a UUID", "GET", "/api/v1/admin/sessions/42", "", 404, "GENERR0404", "UUIDs"},
		{"cancel unknown", "POST", "/api/v1/admin/sessions/6f9619ff-8b86-4011-b42d-00c04fc964ff/cancel", "", 404, "GENERR0404", ""},
		{"update unknown", "PUT", "/api/v1/admin/sessions/6f9619ff-8b86-4011-b42d-00c04fc964ff", base + `"date":"05-06-2021"}`, 404, "GENERR0404", ""},
		{"bad date", "POST", "/api/v1/admin/sessions", base + `"date":"45-13-2021"}`, 400, "GENERR0400", "invalid date"},
		{"no date", "POST", "/api/v1/admin/sessions", base + `"date":""}`, 400, "GENERR0400", `"date": required`},
		{"past date", "POST", "/api/v1/admin/sessions", base + `"date":"2021-05-31"}`, 400, "GENERR0400", "in the past"},
		{"unknown vaccine", "POST", "/api/v1/admin/sessions", strings.Replace(base, "COVISHIELD", "MODERNA", 1) + `"date":"02-06-2021"}`, 400, "GENERR0400", "unknown vaccine"},
		{"capacity as string", "POST", "/api/v1/admin/sessions", `{"capacity_dose1":"5"}`, 400, "GENERR0400", `field "capacity_dose1"`},
		{"bad from", "GET", "/api/v1/admin/sessions?from=yesterday", "", 400, "GENERR0400", "query parameter from"},
		{"bad after", "GET", "/api/v1/admin/sessions?after=x", "", 400, "GENERR0400", "query parameter after"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			c := c
			c.t = t
			c.fails(tt.method, tt.path, tt.body, tt.status, tt.code, tt.msg)
		})
	}
}

func TestListSessionsPages(t *testing.T) {
	c := client{t: t, base: newServer(t, token), token: token}
	centre := fmtID(c.json("POST", "/api/v1/admin/centres", aundh, 201)["center_id"].(float64))
	other := fmtID(c.json("POST", "/api/v1/admin/centres", aundh, 201)["center_id"].(float64))
	want := map[string]bool{}
	for day := 1; day <= 6; day++ {
		for _, ctr := range []string{centre, other} {
			s := c.json("POST", "/api/v1/admin/sessions", `{"center_id":`+ctr+`,"date":"2021-06-0`+string(rune('0'+day))+`",
				"vaccine":"COVAXIN","min_age_limit":18,"capacity_dose1":5,"capacity_dose2":5,"slots":["09:00AM-11:00AM"]}`, 201)
			if ctr == centre && day >= 2 && day <= 5 {
				want[s["session_id"].(string)] = true
			}
		}
	}
	got := map[string]bool{}
	query := "/api/v1/admin/sessions?center_id=" + centre + "&from=02-06-2021&to=2021-06-05&limit=3"
	path := query
	for pages := 0; ; pages++ {
		if pages > 2 {
			t.Fatalf("more pages than expected")
		}
		page := c.json("GET", path, "", 200)
		for _, s := range page["sessions"].([]any) {
			got[s.(map[string]any)["session_id"].(string)] = true
		}
		next, ok := page["next"].(string)
		if !ok {
			break
		}
		path = query + "&after=" + next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sessions over pages (-want +got):\n%s", diff)
	}
}

func TestImport(t *testing.T) {
	c := client{t: t, base: newServer(t, token), token: token}

	centres := "\uFEFFcenter_id,name,state_id,district_id,pincode,from,to,fee_type,fees\r\n" +
		"1001,Aundh,21,363,411007,09:00,17:00,Free,\r\n" +
		"1002,Bad Pin,21,363,41100A,09:00,17:00,Free,\r\n" +
		"1003,Ruby Hall,21,363,411001,09:00,17:00,Paid,COVISHIELD:780\r\n" +
		"1001,Again,21,363,411007,09:00,17:00,Free,\r\n"
	res := c.do("POST", "/api/v1/admin/centres/import", "text/csv", centres)
	if res.status != 200 {
		t.Fatalf("centres import: got %d %s, want 200", res.status, res.body)
	}
	wantCentres := jsonOf(t, `{"imported":2,"failed":2,"rows":[
		{"row":2,"center_id":1001},
		{"row":3,"errorCode":"GENERR0400","error":"pincode: want a whole number, got \"41100A\""},
		{"row":4,"center_id":1003},
		{"row":5,"errorCode":"GENERR0409","error":"center_id 1001 repeats row 2"}]}`)
	if diff := cmp.Diff(wantCentres, decode(t, res.body)); diff != "" {
		t.Errorf("centres import (-want +got):\n%s", diff)
	}
	c.json("GET", "/api/v1/admin/centres/1003", "", 200)
	c.fails("GET", "/api/v1/admin/centres/1002", "", 404, "GENERR0404", "")

	sessions := "center_id,date,vaccine,min_age_limit,capacity_dose1,capacity_dose2,slots,session_id\n" +
		"1001,02-06-2021,COVISHIELD,18,10,10,09:00AM-11:00AM,0b7c8e4e-5d5b-4b8e-9f3a-1c2d3e4f5a6b\n" +
		"1003,2021-06-02,COVAXIN,18,10,10,09:00AM-11:00AM,\n"
	res = c.do("POST", "/api/v1/admin/sessions/import", "", sessions)
	if res.status != 200 {
		t.Fatalf("sessions import: got %d %s, want 200", res.status, res.body)
	}
	wantSessions := jsonOf(t, `{"imported":1,"failed":1,"rows":[
		{"row":2,"session_id":"0b7c8e4e-5d5b-4b8e-9f3a-1c2d3e4f5a6b"},
		{"row":3,"errorCode":"GENERR0400","error":"centre 1003 is Paid and has no fee for COVAXIN: add one first"}]}`)
	if diff := cmp.Diff(wantSessions, decode(t, res.body)); diff != "" {
		t.Errorf("sessions import (-want +got):\n%s", diff)
	}
	c.json("GET", "/api/v1/admin/sessions/0b7c8e4e-5d5b-4b8e-9f3a-1c2d3e4f5a6b", "", 200)

	refusals := []struct {
		name, path, contentType, body string
		status                        int
		msg                           string
	}{
		{"unknown column", "/api/v1/admin/centres/import", "text/csv", "name,colour\n", 400, `unknown column "colour"`},
		{"missing column", "/api/v1/admin/sessions/import", "text/csv", "center_id,date\n", 400, `missing column "vaccine"`},
		{"empty", "/api/v1/admin/centres/import", "text/csv", "", 400, "empty file"},
		{"form upload", "/api/v1/admin/centres/import", "multipart/form-data; boundary=x", "--x--", 400, "send the CSV file itself"},
		{"too large", "/api/v1/admin/centres/import", "text/csv", "name,state_id,district_id,pincode,from,to,fee_type\n" + strings.Repeat(strings.Repeat("a", 199)+"\n", api.MaxBodyBytes/200+1), 413, "larger than 10 MiB"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			res := c.do("POST", tt.path, tt.contentType, tt.body)
			code := "GENERR0400"
			if tt.status == 413 {
				code = "GENERR0413"
			}
			checkError(t, res, tt.status, code, tt.msg)
		})
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return m
}

func fmtID(id float64) string { return strconv.FormatFloat(id, 'f', -1, 64) }
