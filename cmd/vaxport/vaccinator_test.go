package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/seed"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// shiftedClock is the real clock moved by a fixed offset: time flows, but
// the node believes the day started where the test wants it (before the
// booking cut-off, whatever the hour the test runs).
type shiftedClock struct{ offset time.Duration }

func (c shiftedClock) Now() time.Time { return time.Now().Add(c.offset) }

// atTenIST returns a clock whose now is 10:00 in India today (real date).
func atTenIST() shiftedClock {
	ist := time.FixedZone("IST", 5*3600+1800)
	now := time.Now().In(ist)
	ten := time.Date(now.Year(), now.Month(), now.Day(), 10, 0, 0, 0, ist)
	return shiftedClock{offset: ten.Sub(now)}
}

// signInStaff signs a staff member in by OTP (read from the demo SMS file)
// and returns their token.
func signInStaff(t *testing.T, m *Main, mobile string) string {
	t.Helper()
	txn := postJSON(t, m.URL()+"/api/v1/staff/otp", `{"mobile":"`+mobile+`"}`)["txnId"]
	otp := waitForOTP(t, filepath.Join(m.Config.DataDir, "sms.jsonl"), mobile)
	sum := sha256.Sum256([]byte(otp))
	var tok struct {
		Token string `json:"token"`
		Staff struct {
			Role string `json:"role"`
		} `json:"staff"`
	}
	call(t, "POST", m.URL()+"/api/v1/staff/token", "", `{"otp":"`+hex.EncodeToString(sum[:])+`","txnId":"`+txn+`"}`, &tok)
	if tok.Token == "" || tok.Staff.Role == "" {
		t.Fatalf("staff token answer %+v", tok)
	}
	return tok.Token
}

// signInCitizen signs a citizen in by OTP and returns the token.
func signInCitizen(t *testing.T, m *Main, mobile string) string {
	t.Helper()
	txn := postJSON(t, m.URL()+"/api/v2/auth/generateOTP", `{"mobile":"`+mobile+`"}`)["txnId"]
	otp := waitForOTP(t, filepath.Join(m.Config.DataDir, "sms.jsonl"), mobile)
	sum := sha256.Sum256([]byte(otp))
	return postJSON(t, m.URL()+"/api/v2/auth/confirmOTP", `{"otp":"`+hex.EncodeToString(sum[:])+`","txnId":"`+txn+`"}`)["token"]
}

// request makes a JSON request and returns the status and body.
func request(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestVaccinatorJourney drives the demo's vaccinator through a day: a
// citizen books today's session at the demo centre; the vaccinator signs in
// by OTP, sees them in the queue, checks the secret code, records the dose
// from a lot; the citizen's beneficiary shows the dose, the lot's stock
// went down, and a retry from the tablet records nothing twice.
func TestVaccinatorJourney(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	logger, err := newLogger(&logs, "debug")
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: Config{Demo: true, DataDir: dir, Seed: 11, Centres: 800, Addr: "127.0.0.1:0", TZ: "Asia/Kolkata", LogLevel: "debug"},
		Clock: atTenIST(), Logger: logger}
	if err := m.Start(t.Context()); err != nil {
		m.Close()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	u := m.URL()

	// The citizen books today's 18+ session at the demo vaccinator's centre.
	const mobile = "9812345670"
	citizen := signInCitizen(t, m, mobile)
	aadhaar := "34567890123" + string(vax.VerhoeffDigit("34567890123"))
	var ben struct {
		Ref string `json:"beneficiary_reference_id"`
	}
	call(t, "POST", u+"/api/v2/registration/beneficiary/new", citizen,
		`{"name":"Ravi Menon","birth_year":"1985","gender_id":1,"photo_id_type":1,"photo_id_number":"`+aadhaar+`","comorbidity_ind":"N","consent_version":"V1"}`, &ben)
	today := vax.Today(m.Clock, m.Config.location())
	var session flatSession
	var vaccine string
	for _, s := range findSessionsAt(t, u+"/api/v2/appointment/sessions/public/findByDistrict?district_id=301&date="+today.Cowin()) {
		if s.CenterID == seed.FirstCentreID && s.MinAge <= 18 && s.Dose1 > 0 {
			session, vaccine = s.flatSession, s.Vaccine
			break
		}
	}
	if session.ID == "" {
		t.Fatalf("no open session today at centre %d", seed.FirstCentreID)
	}
	var booked struct {
		No string `json:"appointment_confirmation_no"`
	}
	call(t, "POST", u+"/api/v2/appointment/schedule", citizen, fmt.Sprintf(
		`{"dose":1,"session_id":%q,"slot":%q,"beneficiaries":[%q]}`, session.ID, session.Slots[0], ben.Ref), &booked)
	var appt struct {
		Beneficiaries []struct {
			Code string `json:"secret_code"`
		} `json:"beneficiaries"`
	}
	call(t, "GET", u+"/api/v1/appointments/"+booked.No, citizen, "", &appt)
	code := appt.Beneficiaries[0].Code

	// The vaccinator's day.
	vaccinator := signInStaff(t, m, "9000000001")
	var queue struct {
		Queue []queueRow `json:"queue"`
	}
	call(t, "GET", u+"/api/v1/vaccinator/queue", vaccinator, "", &queue)
	if !queueHas(queue.Queue, ben.Ref, "waiting") {
		t.Errorf("queue = %+v, want %s waiting", queue.Queue, ben.Ref)
	}
	wrong := "0000"
	if code == wrong {
		wrong = "1111"
	}
	if status, body := request(t, "POST", u+"/api/v1/vaccinator/verify", vaccinator,
		fmt.Sprintf(`{"beneficiary_reference_id":%q,"secret_code":%q}`, ben.Ref, wrong)); status/100 != 4 {
		t.Errorf("verify with a wrong code = %d %s, want 4xx", status, body)
	}
	var verified struct {
		AppointmentID string `json:"appointment_id"`
		Beneficiary   struct {
			Name    string `json:"name"`
			PhotoID string `json:"photo_id_number"`
		} `json:"beneficiary"`
	}
	call(t, "POST", u+"/api/v1/vaccinator/verify", vaccinator,
		fmt.Sprintf(`{"beneficiary_reference_id":%q,"secret_code":%q}`, ben.Ref, code), &verified)
	if verified.AppointmentID != booked.No || verified.Beneficiary.Name != "Ravi Menon" || strings.Contains(verified.Beneficiary.PhotoID, aadhaar[:8]) {
		t.Errorf("verify = %+v, want the appointment with the photo ID masked", verified)
	}

	var lots struct {
		Lots []struct {
			Lot       string `json:"lot"`
			Vaccine   string `json:"vaccine"`
			Remaining int    `json:"remaining"`
		} `json:"lots"`
	}
	call(t, "GET", u+"/api/v1/vaccinator/lots", vaccinator, "", &lots)
	lot, before := "", 0
	for _, l := range lots.Lots {
		if l.Vaccine == vaccine {
			lot, before = l.Lot, l.Remaining
		}
	}
	if lot == "" {
		t.Fatalf("no usable %s lot at the demo centre: %+v", vaccine, lots.Lots)
	}
	dose := fmt.Sprintf(`{"beneficiary_reference_id":%q,"vaccine":%q,"lot":%q,"dose":1}`, ben.Ref, vaccine, lot)
	status, first := request(t, "POST", u+"/api/v1/vaccinator/doses", vaccinator, dose)
	if status != http.StatusCreated {
		t.Fatalf("record dose = %d %s, want 201", status, first)
	}
	status, again := request(t, "POST", u+"/api/v1/vaccinator/doses", vaccinator, dose)
	if status != http.StatusOK || doseID(t, again) != doseID(t, first) {
		t.Errorf("retried dose = %d %s, want 200 with the same dose_id as %s", status, again, first)
	}

	call(t, "GET", u+"/api/v1/vaccinator/lots", vaccinator, "", &lots)
	for _, l := range lots.Lots {
		if l.Lot == lot && l.Remaining != before-1 {
			t.Errorf("lot %s has %d doses left after one dose, want %d", lot, l.Remaining, before-1)
		}
	}
	call(t, "GET", u+"/api/v1/vaccinator/queue", vaccinator, "", &queue)
	if !queueHas(queue.Queue, ben.Ref, "vaccinated") {
		t.Errorf("queue after the dose = %+v, want %s vaccinated", queue.Queue, ben.Ref)
	}
	var list struct {
		Beneficiaries []struct {
			Ref    string `json:"beneficiary_reference_id"`
			Status string `json:"vaccination_status"`
			Dose1  string `json:"dose1_date"`
		} `json:"beneficiaries"`
	}
	call(t, "GET", u+"/api/v2/appointment/beneficiaries", citizen, "", &list)
	if len(list.Beneficiaries) != 1 || list.Beneficiaries[0].Status != "Partially Vaccinated" || list.Beneficiaries[0].Dose1 != today.Cowin() {
		t.Errorf("beneficiaries after dose 1 = %+v, want Partially Vaccinated on %s", list.Beneficiaries, today.Cowin())
	}

	// A tablet that was offline uploads its day: the dose again (a
	// duplicate), a malformed row and a dose 2 far too early, each answered
	// on its own.
	at := m.Clock.Now().Format(time.RFC3339)
	csv := "beneficiary_reference_id,vaccine,lot,dose,center_id,administered_at\n" +
		fmt.Sprintf("%s,%s,%s,1,%d,%s\n", ben.Ref, vaccine, lot, seed.FirstCentreID, at) +
		fmt.Sprintf("123,%s,%s,1,%d,%s\n", vaccine, lot, seed.FirstCentreID, at) +
		fmt.Sprintf("%s,%s,%s,2,%d,%s\n", ben.Ref, vaccine, lot, seed.FirstCentreID, at)
	upReq, _ := http.NewRequestWithContext(t.Context(), "POST", u+"/api/v1/vaccinator/doses/upload", strings.NewReader(csv))
	upReq.Header.Set("Authorization", "Bearer "+vaccinator)
	upReq.Header.Set("Content-Type", "text/csv")
	upRes, err := http.DefaultClient.Do(upReq)
	if err != nil {
		t.Fatal(err)
	}
	var upload struct {
		Recorded, Duplicates, Errors int
		Results                      []struct {
			Row    int    `json:"row"`
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"results"`
	}
	if err := json.NewDecoder(upRes.Body).Decode(&upload); err != nil || upRes.StatusCode != 200 {
		t.Fatalf("upload = %d (%v)", upRes.StatusCode, err)
	}
	upRes.Body.Close()
	if upload.Recorded != 0 || upload.Duplicates != 1 || upload.Errors != 2 || len(upload.Results) != 3 {
		t.Errorf("upload = %+v, want 1 duplicate and 2 errors, row by row", upload)
	}

	// A serious adverse event after the dose reaches the national view.
	var event struct {
		ID string `json:"event_id"`
	}
	call(t, "POST", u+"/api/v1/vaccinator/aefi", vaccinator, fmt.Sprintf(
		`{"dose_id":%q,"severity":"serious","symptoms":["anaphylaxis"],"onset":%q}`,
		doseID(t, first), m.Clock.Now().Format(time.RFC3339)), &event)
	adminToken, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	var events struct {
		Events []struct {
			ID string `json:"event_id"`
		} `json:"events"`
	}
	call(t, "GET", u+"/api/v1/admin/aefi?severity=serious", strings.TrimSpace(string(adminToken)), "", &events)
	if len(events.Events) != 1 || events.Events[0].ID != event.ID {
		t.Errorf("serious events = %+v, want %s", events.Events, event.ID)
	}

	// The dose came with a certificate: provisional after dose 1, both QR
	// texts valid with our verifier, the Co-WIN download a PDF.
	var certificate struct {
		Status string `json:"status"`
		Doses  int    `json:"doses"`
		SHC    string `json:"shc"`
		DCC    string `json:"dcc"`
	}
	call(t, "GET", u+"/api/v1/certificates/"+ben.Ref, citizen, "", &certificate)
	if certificate.Status != "provisional" || certificate.Doses != 1 || !strings.HasPrefix(certificate.SHC, "shc:/") || !strings.HasPrefix(certificate.DCC, "HC1:") {
		t.Errorf("certificate after dose 1 = %+v, want a provisional one with both QR texts", certificate)
	}
	for _, qr := range []string{certificate.SHC, certificate.DCC} {
		var verdict struct {
			Valid bool `json:"valid"`
		}
		body, _ := json.Marshal(map[string]string{"qr": qr})
		call(t, "POST", u+"/api/v1/verify", "", string(body), &verdict)
		if !verdict.Valid {
			t.Errorf("our own certificate %.12s… does not verify", qr)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", u+"/api/v2/registration/certificate/download?beneficiary_reference_id="+ben.Ref, nil)
	req.Header.Set("Authorization", "Bearer "+citizen)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Errorf("certificate download = %d %s (%d bytes), want a PDF", res.StatusCode, res.Header.Get("Content-Type"), len(pdf))
	}
	other := signInCitizen(t, m, "9812345679")
	if status, _ := request(t, "GET", u+"/api/v1/certificates/"+ben.Ref, other, ""); status/100 != 4 {
		t.Errorf("another account's certificate = %d, want 4xx", status)
	}

	// Another centre is not the vaccinator's.
	status, body := request(t, "GET", fmt.Sprintf("%s/api/v1/vaccinator/queue?center_id=%d", u, seed.FirstCentreID+1), vaccinator, "")
	if status != http.StatusForbidden {
		t.Errorf("queue of another centre = %d %s, want 403", status, body)
	}
	// A citizen token is no staff token, and the reverse.
	if status, _ := request(t, "GET", u+"/api/v1/vaccinator/queue", citizen, ""); status != http.StatusUnauthorized {
		t.Errorf("queue with a citizen token = %d, want 401", status)
	}
	if status, _ := request(t, "GET", u+"/api/v2/appointment/beneficiaries", vaccinator, ""); status != http.StatusUnauthorized {
		t.Errorf("beneficiaries with a staff token = %d, want 401", status)
	}

	for what, v := range map[string]string{"secret code": `"` + code + `"`, "Aadhaar number": aadhaar, "name": "Ravi Menon",
		"citizen token": citizen, "staff token": vaccinator, "staff mobile": "9000000001"} {
		if strings.Contains(logs.String(), v) {
			t.Errorf("the logs contain the %s", what)
		}
	}
}

type sessionAt struct {
	flatSession
	CenterID int64  `json:"center_id"`
	Vaccine  string `json:"vaccine"`
}

func findSessionsAt(t *testing.T, url string) []sessionAt {
	t.Helper()
	code, body := get(t, url, "")
	if code != 200 {
		t.Fatalf("GET %s = %d %s", url, code, body)
	}
	var out struct {
		Sessions []sessionAt `json:"sessions"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Sessions
}

type queueRow struct {
	Ref    string `json:"beneficiary_reference_id"`
	Status string `json:"status"`
}

func queueHas(q []queueRow, ref, status string) bool {
	for _, e := range q {
		if e.Ref == ref && e.Status == status {
			return true
		}
	}
	return false
}

func doseID(t *testing.T, body []byte) string {
	t.Helper()
	var d struct {
		ID string `json:"dose_id"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.ID == "" {
		t.Fatalf("no dose_id in %s", body)
	}
	return d.ID
}

// TestStaffSuspensionAcrossNodes: two nodes on one PostgreSQL; a vaccinator
// created with `vaxport admin create-staff` signs in on node B; an admin
// suspends them through node A; node B refuses their token well within the
// 60 s the issue allows (the change feed carries it in milliseconds).
func TestStaffSuspensionAcrossNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	bin := vaxportBin(t)
	keys := filepath.Join(t.TempDir(), "keys")
	if out, err := exec.Command(bin, "keys", "init", "--keys-dir", keys).CombinedOutput(); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	const token = "staff-suspension-admin-token"
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	smsFile := filepath.Join(t.TempDir(), "sms.jsonl")
	common := []string{"--db", dsn, "--keys-dir", keys, "--admin-token-file", tokenFile}
	a := startNode(t, append(common, "--data-dir", t.TempDir())...)
	b := startNode(t, append(common, "--data-dir", t.TempDir(), "--sms", "file:"+smsFile)...)

	centre := post(t, a.url+"/api/v1/admin/centres", token, `{"name":"PHC Kalavoor","address":"NH 66","state_id":17,"district_id":301,"block_name":"Aryad","pincode":688522,"lat":9.5,"long":76.3,"from":"09:00:00","to":"17:00:00","fee_type":"Free"}`)
	const mobile = "9000000011"
	out, err := exec.Command(bin, "admin", "create-staff", "--db", dsn, "--keys-dir", keys, "--data-dir", t.TempDir(),
		"--name", "Lakshmi Nair", "--mobile", mobile, "--role", "vaccinator", "--centre", fmt.Sprint(centre["center_id"])).CombinedOutput()
	if err != nil {
		t.Fatalf("admin create-staff: %v\n%s", err, out)
	}
	id := staffIDLine.FindStringSubmatch(string(out))
	if id == nil {
		t.Fatalf("admin create-staff printed no staff id: %s", out)
	}
	if strings.Contains(string(out), mobile) {
		t.Errorf("admin create-staff printed the mobile number: %s", out)
	}

	txn := postJSON(t, b.url+"/api/v1/staff/otp", `{"mobile":"`+mobile+`"}`)["txnId"]
	otp := waitForOTP(t, smsFile, mobile)
	sum := sha256.Sum256([]byte(otp))
	var signedIn struct {
		Token string `json:"token"`
	}
	call(t, "POST", b.url+"/api/v1/staff/token", "", `{"otp":"`+hex.EncodeToString(sum[:])+`","txnId":"`+txn+`"}`, &signedIn)
	for _, n := range []*node{a, b} {
		if code, body := get(t, n.url+"/api/v1/staff/me", signedIn.Token); code != 200 {
			t.Fatalf("staff/me on %s = %d %s", n.url, code, body)
		}
	}

	suspended := time.Now()
	call(t, "PATCH", a.url+"/api/v1/admin/staff/"+id[1], token, `{"status":"suspended"}`, nil)
	for {
		code, _ := get(t, b.url+"/api/v1/staff/me", signedIn.Token)
		if code == http.StatusForbidden || code == http.StatusUnauthorized {
			t.Logf("node B refused the suspended vaccinator %v after the suspension began", time.Since(suspended))
			break
		}
		if time.Since(suspended) > 60*time.Second {
			t.Fatalf("node B still accepts a vaccinator suspended 60 s ago (%d)", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get(t, a.url+"/api/v1/vaccinator/queue", signedIn.Token); code != http.StatusForbidden && code != http.StatusUnauthorized {
		t.Errorf("node A serves the suspended vaccinator's queue: %d", code)
	}
}

var staffIDLine = regexp.MustCompile(`staff id ([0-9a-f-]{36})`)

// TestSupersededCertificateIsRevoked: a walk-in gets dose 1 (recorded 29
// days late, from a lot a facility admin just received) and dose 2 now; the
// provisional certificate is superseded by the final one, the published
// keys announce a revocation list that lists it, and the online verifier
// reports it revoked while the final one verifies.
func TestSupersededCertificateIsRevoked(t *testing.T) {
	dir := t.TempDir()
	m := &Main{Config: Config{Demo: true, DataDir: dir, Seed: 11, Centres: 800, Addr: "127.0.0.1:0", TZ: "Asia/Kolkata", VerifyPerMin: -1},
		Clock: atTenIST(), keyReload: 20 * time.Millisecond}
	if err := m.Start(t.Context()); err != nil {
		m.Close()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	u := m.URL()
	now := m.Clock.Now()

	admin := signInStaff(t, m, "9000000002")
	expiry := now.AddDate(1, 0, 0).In(mustIST(t)).Format("02-01-2006")
	call(t, "POST", u+"/api/v1/admin/lots", admin, fmt.Sprintf(
		`{"center_id":%d,"lot":"CVX-T1","vaccine":"COVAXIN","manufacturer":"Bharat Biotech","expiry":%q,"received":10}`,
		seed.FirstCentreID, expiry), nil)

	vaccinator := signInStaff(t, m, "9000000001")
	aadhaar := "45678901234" + string(vax.VerhoeffDigit("45678901234"))
	var walkIn struct {
		Ref string `json:"beneficiary_reference_id"`
	}
	call(t, "POST", u+"/api/v1/vaccinator/walkins", vaccinator,
		`{"name":"Meera Pillai","birth_year":"1970","gender_id":2,"photo_id_type":1,"photo_id_number":"`+aadhaar+`","comorbidity_ind":"N","mobile":"9812345671"}`, &walkIn)
	dose := func(n int, at time.Time) {
		t.Helper()
		call(t, "POST", u+"/api/v1/vaccinator/doses", vaccinator, fmt.Sprintf(
			`{"beneficiary_reference_id":%q,"vaccine":"COVAXIN","lot":"CVX-T1","dose":%d,"administered_at":%q}`,
			walkIn.Ref, n, at.Format(time.RFC3339)), nil)
	}
	type certificate struct {
		ID     string `json:"certificate_id"`
		Status string `json:"status"`
		SHC    string `json:"shc"`
		DCC    string `json:"dcc"`
	}
	citizen := signInCitizen(t, m, "9812345671") // the walk-in's number finds the record
	dose(1, now.AddDate(0, 0, -29))
	var first, final certificate
	call(t, "GET", u+"/api/v1/certificates/"+walkIn.Ref, citizen, "", &first)
	dose(2, now)
	call(t, "GET", u+"/api/v1/certificates/"+walkIn.Ref, citizen, "", &final)
	if first.Status != "provisional" || final.Status != "final" || first.ID == final.ID {
		t.Fatalf("certificates %+v then %+v, want a provisional one superseded by a final one", first, final)
	}

	verify := func(qr string) (valid, revoked bool) {
		var v struct {
			Valid   bool `json:"valid"`
			Revoked bool `json:"revoked"`
		}
		body, _ := json.Marshal(map[string]string{"qr": qr})
		call(t, "POST", u+"/api/v1/verify", "", string(body), &v)
		return v.Valid, v.Revoked
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, revoked := verify(first.SHC); revoked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the superseded certificate is not reported revoked after 20 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if valid, revoked := verify(final.SHC); !valid || revoked {
		t.Errorf("final certificate: valid %v, revoked %v; want valid and not revoked", valid, revoked)
	}
	var jwks struct {
		Keys []struct {
			Kid        string `json:"kid"`
			CRLVersion int    `json:"crlVersion"`
		} `json:"keys"`
	}
	call(t, "GET", u+"/.well-known/jwks.json", "", "", &jwks)
	if len(jwks.Keys) == 0 || jwks.Keys[0].CRLVersion < 2 {
		t.Fatalf("jwks %+v: want crlVersion ≥ 2 once a certificate is revoked", jwks)
	}
	var crl struct {
		Ctr  int      `json:"ctr"`
		Rids []string `json:"rids"`
	}
	call(t, "GET", u+"/.well-known/crl/"+jwks.Keys[0].Kid+".json", "", "", &crl)
	if len(crl.Rids) == 0 || crl.Ctr != jwks.Keys[0].CRLVersion {
		t.Errorf("crl ctr %d with %d rids; want rids and ctr == crlVersion %d", crl.Ctr, len(crl.Rids), jwks.Keys[0].CRLVersion)
	}
}
