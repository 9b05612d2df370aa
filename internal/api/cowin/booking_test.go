package cowin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/api/cowin"
	v1 "github.com/vaxport/vaxport/internal/api/v1"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

// bookingNow is 10:00 IST on 1 June 2021.
var bookingNow = time.Date(2021, time.June, 1, 10, 0, 0, 0, time.FixedZone("IST", 5*3600+1800))

type bookingFixture struct {
	st  vax.Store
	mux *http.ServeMux
}

func bkAcct(n int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", n) }
func bkSess(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// newBookingFixture serves the booking surface over SQLite. The test
// Authenticate accepts "Bearer acct-N" as account N.
func newBookingFixture(t *testing.T) *bookingFixture {
	t.Helper()
	ctx := t.Context()
	ist := bookingNow.Location()
	clock := vax.NewManualClock(bookingNow)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vaxport.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, bookingNow)
	if err != nil {
		t.Fatal(err)
	}
	aad := func(id string) []byte { return []byte("test|" + strings.ToLower(id)) }
	cid := backendtest.KochiCentre(t, st)
	err = st.InTx(ctx, func(tx vax.Tx) error {
		for n, cap1 := range map[int]int{1: 10, 2: 1, 3: 10} {
			if err := tx.CreateSession(ctx, vax.Session{ID: bkSess(n), CentreID: cid, Date: vax.DateOf(bookingNow, ist).AddDays(1),
				Vaccine: "COVISHIELD", MinAge: 18, Capacity1: cap1, Capacity2: 10, Slots: []string{"09:00AM-11:00AM"},
				Status: vax.SessionOpen}); err != nil {
				return err
			}
		}
		for n := 1; n <= 2; n++ {
			sealed, err := keys.Seal([]byte(fmt.Sprintf("98765%05d", n)), aad(bkAcct(n)))
			if err != nil {
				return err
			}
			if err := tx.CreateAccount(ctx, vax.Account{ID: bkAcct(n), MobileHash: fmt.Sprint("h", n), MobileSealed: sealed,
				MobileLast4: fmt.Sprintf("%04d", n), CreatedAt: bookingNow}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := booking.New(booking.Config{Store: st, Keys: keys, Clock: clock, Rules: booking.Rules{Location: ist},
		Mobile: func(a vax.Account) (string, error) {
			b, err := keys.OpenSealed(a.MobileSealed, aad(a.ID))
			return string(b), err
		}})
	if err != nil {
		t.Fatal(err)
	}
	authn := func(r *http.Request) (auth.Principal, error) {
		var n int
		if _, err := fmt.Sscanf(r.Header.Get("Authorization"), "Bearer acct-%d", &n); err != nil {
			return auth.Principal{}, vax.Errorf(vax.Unauthorized, "unauthenticated access")
		}
		return auth.Principal{AccountID: bkAcct(n)}, nil
	}
	mux := http.NewServeMux()
	cowin.NewBooking(cowin.BookingConfig{Appointments: svc, Authenticate: authn}).Register(mux)
	v1.New(v1.Config{Appointments: svc, Authenticate: authn}).Register(mux)
	return &bookingFixture{st: st, mux: mux}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request as account acct (0: no token); body nil for GET.
func (f *bookingFixture) do(t *testing.T, acct int, method, path, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, path, rd)
	if acct > 0 {
		req.Header.Set("Authorization", fmt.Sprintf("Bearer acct-%d", acct))
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return reply{rec.Code, rec.Header(), rec.Body.Bytes()}
}

func (r reply) errorCode(t *testing.T) string {
	t.Helper()
	var e api.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.ErrorCode == "" || e.Error == "" {
		t.Errorf("error body %q: want {errorCode, error} (%v)", r.body, err)
	}
	return e.ErrorCode
}

func (f *bookingFixture) booked(t *testing.T, session string) int {
	t.Helper()
	var se vax.Session
	if err := f.st.View(t.Context(), func(tx vax.Tx) (err error) { se, err = tx.Session(context.Background(), session); return err }); err != nil {
		t.Fatal(err)
	}
	return se.Booked1
}

func newBen(n int) string {
	body := fmt.Sprintf("%011d", 30000000000+n)
	return fmt.Sprintf(`{"name":"Person %c","birth_year":"1990","gender_id":1,"photo_id_type":1,"photo_id_number":"%s","comorbidity_ind":"N","consent_version":"V1"}`,
		'A'+n, body+string(vax.VerhoeffDigit(body)))
}

func TestBookingEndToEnd(t *testing.T) {
	f := newBookingFixture(t)
	const reg, appt = "/api/v2/registration/beneficiary/", "/api/v2/appointment/"

	if r := f.do(t, 1, "GET", reg+"idTypes", ""); r.status != 200 ||
		!strings.Contains(string(r.body), `{"type":"Aadhaar Card","type_l":"Aadhaar Card","id":1}`) ||
		!strings.Contains(string(r.body), `"id":16`) || !strings.Contains(string(r.body), `"ttl":`) {
		t.Errorf("idTypes: %d %s", r.status, r.body)
	}
	if r := f.do(t, 1, "GET", reg+"genders", ""); r.status != 200 ||
		string(r.body) != `{"genders":[{"gender":"Male","gender_l":"Male","id":1},{"gender":"Female","gender_l":"Female","id":2},{"gender":"Others","gender_l":"Others","id":3}]}`+"\n" {
		t.Errorf("genders: %d %s", r.status, r.body)
	}
	var refs []string
	for n := range 2 {
		r := f.do(t, 1, "POST", reg+"new", newBen(n))
		var out struct {
			Ref string `json:"beneficiary_reference_id"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &out) != nil || vax.ValidBeneficiaryRef(out.Ref) != nil {
			t.Fatalf("new beneficiary: %d %s", r.status, r.body)
		}
		refs = append(refs, out.Ref)
	}
	r := f.do(t, 2, "POST", reg+"new", newBen(5))
	var other struct {
		Ref string `json:"beneficiary_reference_id"`
	}
	json.Unmarshal(r.body, &other)

	r = f.do(t, 1, "POST", appt+"schedule", fmt.Sprintf(`{"dose":1,"session_id":%q,"slot":"09:00AM-11:00AM","beneficiaries":[%q,%q],"center_id":1}`, bkSess(1), refs[0], refs[1]))
	var conf map[string]string
	if r.status != 200 || json.Unmarshal(r.body, &conf) != nil || !vax.ValidUUID(conf["appointment_confirmation_no"]) || len(conf) != 1 {
		t.Fatalf("schedule: %d %s", r.status, r.body)
	}
	id := conf["appointment_confirmation_no"]

	r = f.do(t, 1, "GET", appt+"beneficiaries", "")
	var bens struct {
		Beneficiaries []map[string]any `json:"beneficiaries"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &bens) != nil || len(bens.Beneficiaries) != 2 {
		t.Fatalf("beneficiaries: %d %s", r.status, r.body)
	}
	b0 := bens.Beneficiaries[0]
	for k, want := range map[string]any{"birth_year": "1990", "gender": "Male", "mobile_number": "0001", "photo_id_type": "Aadhaar Card",
		"comorbidity_ind": "N", "vaccination_status": "Not Vaccinated", "vaccine": "", "dose1_date": "", "dose2_date": ""} {
		if b0[k] != want {
			t.Errorf("beneficiary %s: got %v, want %v", k, b0[k], want)
		}
	}
	if s, _ := b0["photo_id_number"].(string); !strings.HasPrefix(s, "XXXX") || len(s) != 12 {
		t.Errorf("photo_id_number %q: want masked", s)
	}
	as, _ := b0["appointments"].([]any)
	if len(as) != 1 || as[0].(map[string]any)["appointment_id"] != id || as[0].(map[string]any)["dose"] != float64(1) ||
		as[0].(map[string]any)["center_id"] == nil || as[0].(map[string]any)["date"] != "02-06-2021" {
		t.Errorf("appointments: %v", as)
	}

	r = f.do(t, 1, "GET", "/api/v1/appointments/"+id, "")
	var view struct {
		Beneficiaries []struct {
			Ref        string `json:"beneficiary_reference_id"`
			SecretCode string `json:"secret_code"`
		} `json:"beneficiaries"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &view) != nil || len(view.Beneficiaries) != 2 {
		t.Fatalf("v1 appointment: %d %s", r.status, r.body)
	}
	for _, b := range view.Beneficiaries {
		if len(b.SecretCode) != 4 || strings.Trim(b.SecretCode, "0123456789") != "" {
			t.Errorf("secret code of %s: %q, want 4 digits", b.Ref, b.SecretCode)
		}
	}
	if r := f.do(t, 2, "GET", "/api/v1/appointments/"+id, ""); r.status != 404 {
		t.Errorf("v1 appointment of another account: %d, want 404", r.status)
	}
	r = f.do(t, 1, "GET", appt+"appointmentslip/download?appointment_id="+id, "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF")) {
		t.Errorf("slip: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := f.do(t, 2, "GET", appt+"appointmentslip/download?appointment_id="+id, ""); r.status != 404 {
		t.Errorf("slip of another account: %d", r.status)
	}

	if r := f.do(t, 1, "POST", appt+"reschedule", fmt.Sprintf(`{"appointment_id":%q,"session_id":%q,"slot":"09:00AM-11:00AM"}`, id, bkSess(3))); r.status != 204 {
		t.Errorf("reschedule: %d %s", r.status, r.body)
	}
	if f.booked(t, bkSess(1)) != 0 || f.booked(t, bkSess(3)) != 2 {
		t.Errorf("after reschedule: booked %d, %d", f.booked(t, bkSess(1)), f.booked(t, bkSess(3)))
	}
	if r := f.do(t, 1, "POST", reg+"delete", fmt.Sprintf(`{"beneficiary_reference_id":%q}`, refs[1])); r.status != 409 || r.errorCode(t) != booking.ReasonUndeletable {
		t.Errorf("delete with a live appointment: %d %s", r.status, r.body)
	}
	if r := f.do(t, 1, "POST", appt+"cancel", fmt.Sprintf(`{"appointment_id":%q,"beneficiariesToCancel":[%q]}`, id, refs[1])); r.status != 204 {
		t.Errorf("cancel: %d %s", r.status, r.body)
	}
	if r := f.do(t, 1, "POST", reg+"delete", fmt.Sprintf(`{"beneficiary_reference_id":%q}`, refs[1])); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if f.booked(t, bkSess(3)) != 1 {
		t.Errorf("after cancel: booked %d, want 1", f.booked(t, bkSess(3)))
	}
	if r := f.do(t, 0, "GET", appt+"beneficiaries", ""); r.status != 401 {
		t.Errorf("without a token: %d", r.status)
	}
}

func TestBookingBadInput(t *testing.T) {
	f := newBookingFixture(t)
	const reg, appt = "/api/v2/registration/beneficiary/", "/api/v2/appointment/"
	var refs []string
	for n := range 4 {
		var out map[string]string
		json.Unmarshal(f.do(t, 1, "POST", reg+"new", newBen(n)).body, &out)
		refs = append(refs, out["beneficiary_reference_id"])
	}
	var o map[string]string
	json.Unmarshal(f.do(t, 2, "POST", reg+"new", newBen(9)).body, &o)
	stranger := o["beneficiary_reference_id"]
	badDigit := refs[0][:13] + string('0'+(refs[0][13]-'0'+1)%10)
	sched := func(dose int, session string, refs ...string) string {
		b, _ := json.Marshal(map[string]any{"dose": dose, "session_id": session, "slot": "09:00AM-11:00AM", "beneficiaries": refs})
		return string(b)
	}
	cases := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"malformed json", appt + "schedule", `{"dose":1,`, 400, "GENERR0400"},
		{"wrong type", appt + "schedule", `{"dose":1,"beneficiaries":"x"}`, 400, "GENERR0400"},
		{"empty body", appt + "schedule", ``, 400, "GENERR0400"},
		{"unknown session", appt + "schedule", sched(1, bkSess(99), refs[0]), 404, booking.ReasonNoSession},
		{"slot not in session", appt + "schedule", strings.Replace(sched(1, bkSess(1), refs[0]), "09:00AM-11:00AM", "01:00PM-03:00PM", 1), 400, booking.ReasonSlot},
		{"five beneficiaries", appt + "schedule", sched(1, bkSess(1), append(refs[:4:4], stranger)...), 400, booking.ReasonCount},
		{"another account's beneficiary", appt + "schedule", sched(1, bkSess(1), refs[0], stranger), 400, booking.ReasonNotRegistered},
		{"dose beyond series", appt + "schedule", sched(3, bkSess(1), refs[0]), 400, booking.ReasonSeries},
		{"dose 2 before dose 1", appt + "schedule", sched(2, bkSess(1), refs[0]), 400, booking.ReasonDoseOrder},
		{"wrong check digit", appt + "schedule", sched(1, bkSess(1), badDigit), 400, booking.ReasonBadRef},
		{"family beyond capacity", appt + "schedule", sched(1, bkSess(2), refs[0], refs[1]), 409, booking.ReasonFull},
		{"delete another's", reg + "delete", fmt.Sprintf(`{"beneficiary_reference_id":%q}`, stranger), 400, booking.ReasonNotRegistered},
		{"delete bad digit", reg + "delete", fmt.Sprintf(`{"beneficiary_reference_id":%q}`, badDigit), 400, booking.ReasonBadRef},
		{"new bad comorbidity", reg + "new", strings.Replace(newBen(20), `"N"`, `"maybe"`, 1), 400, booking.ReasonBadBeneficiary},
		{"new bad birth year", reg + "new", strings.Replace(newBen(20), `"1990"`, `"19x0"`, 1), 400, booking.ReasonBadBeneficiary},
		{"fifth beneficiary", reg + "new", newBen(20), 409, booking.ReasonTooMany},
		{"reschedule unknown", appt + "reschedule", fmt.Sprintf(`{"appointment_id":%q,"session_id":%q,"slot":"09:00AM-11:00AM"}`, bkSess(9), bkSess(1)), 404, booking.ReasonNoAppointment},
		{"cancel malformed id", appt + "cancel", `{"appointment_id":"x","beneficiariesToCancel":[]}`, 404, booking.ReasonNoAppointment},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.do(t, 1, "POST", c.path, c.body)
			if r.status != c.status {
				t.Errorf("status %d, want %d (%s)", r.status, c.status, r.body)
			}
			if code := r.errorCode(t); code != c.code {
				t.Errorf("errorCode %s, want %s", code, c.code)
			}
		})
	}
	for _, s := range []int{1, 2, 3} {
		if b := f.booked(t, bkSess(s)); b != 0 {
			t.Errorf("session %d booked %d after refusals, want 0", s, b)
		}
	}
	// Only now fill session 2 and see 409 APPOIN0040.
	if r := f.do(t, 1, "POST", appt+"schedule", sched(1, bkSess(2), refs[0])); r.status != 200 {
		t.Fatalf("schedule: %d %s", r.status, r.body)
	}
	if r := f.do(t, 1, "POST", appt+"schedule", sched(1, bkSess(2), refs[1])); r.status != 409 || r.errorCode(t) != "APPOIN0040" {
		t.Errorf("full: %d %s", r.status, r.body)
	}
}

func TestBookingIdempotencyKey(t *testing.T) {
	f := newBookingFixture(t)
	var out map[string]string
	json.Unmarshal(f.do(t, 1, "POST", "/api/v2/registration/beneficiary/new", newBen(1)).body, &out)
	ref := out["beneficiary_reference_id"]
	body := fmt.Sprintf(`{"dose":1,"session_id":%q,"slot":"09:00AM-11:00AM","beneficiaries":[%q]}`, bkSess(1), ref)
	send := func(key, body string) reply {
		req := httptest.NewRequestWithContext(t.Context(), "POST", "/api/v2/appointment/schedule", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer acct-1")
		req.Header.Set("Idempotency-Key", key)
		rec := httptest.NewRecorder()
		f.mux.ServeHTTP(rec, req)
		return reply{rec.Code, rec.Header(), rec.Body.Bytes()}
	}
	first := send("k-1", body)
	if first.status != 200 {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	again := send("k-1", body)
	if again.status != 200 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry: %d %s (replayed %q); want the first answer", again.status, again.body, again.header.Get("Idempotent-Replayed"))
	}
	if f.booked(t, bkSess(1)) != 1 {
		t.Errorf("booked %d after a retry, want 1", f.booked(t, bkSess(1)))
	}
	if r := send("k-1", strings.Replace(body, bkSess(1), bkSess(3), 1)); r.status != 422 || r.errorCode(t) != booking.ReasonKeyReused {
		t.Errorf("same key, other body: %d %s", r.status, r.body)
	}
	// Without a key, a second attempt is refused by the rules instead.
	if r := f.do(t, 1, "POST", "/api/v2/appointment/schedule", body); r.status != 409 || r.errorCode(t) != booking.ReasonLiveAppointment {
		t.Errorf("second booking without a key: %d %s", r.status, r.body)
	}
	// A refusal is replayed too.
	bad := strings.Replace(body, `"dose":1`, `"dose":9`, 1)
	r1, r2 := send("k-2", bad), send("k-2", bad)
	if r1.status != 400 || r2.status != 400 || !bytes.Equal(r1.body, r2.body) {
		t.Errorf("refusal replay: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
	}
}
