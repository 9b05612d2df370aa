package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// TestCitizenJourney drives one node the way a Co-WIN client does: sign in
// by OTP, register a beneficiary, find a session, book it, and see search
// and the appointment reflect the booking.
func TestCitizenJourney(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	m := startMainLogged(t, Config{Demo: true, DataDir: dir, Seed: 11, Centres: 800, LogLevel: "debug"}, &logs)
	const mobile = "9812345678"

	txn := postJSON(t, m.URL()+"/api/v2/auth/generateOTP", `{"mobile":"`+mobile+`"}`)["txnId"]
	otp := waitForOTP(t, filepath.Join(dir, "sms.jsonl"), mobile)
	sum := sha256.Sum256([]byte(otp))
	signedIn := postJSON(t, m.URL()+"/api/v2/auth/confirmOTP", `{"otp":"`+hex.EncodeToString(sum[:])+`","txnId":"`+txn+`"}`)
	token := signedIn["token"]
	if signedIn["isNewAccount"] != "Y" {
		t.Errorf("isNewAccount = %q for a new number, want Y", signedIn["isNewAccount"])
	}

	var ben struct {
		Ref string `json:"beneficiary_reference_id"`
	}
	aadhaar := "23456789012" + string(vax.VerhoeffDigit("23456789012"))
	call(t, "POST", m.URL()+"/api/v2/registration/beneficiary/new", token,
		`{"name":"Asha Kumari","birth_year":"1990","gender_id":2,"photo_id_type":1,"photo_id_number":"`+aadhaar+`","comorbidity_ind":"N","consent_version":"V1"}`, &ben)
	if err := vax.ValidBeneficiaryRef(ben.Ref); err != nil {
		t.Fatalf("beneficiary/new gave %q: %v", ben.Ref, err)
	}

	tomorrow := vax.Today(vax.SystemClock{}, m.Config.location()).AddDays(1).Cowin()
	search := m.URL() + "/api/v2/appointment/sessions/public/findByDistrict?district_id=301&date=" + tomorrow
	session := pickSession(t, search)

	var booked struct {
		No string `json:"appointment_confirmation_no"`
	}
	call(t, "POST", m.URL()+"/api/v2/appointment/schedule", token, fmt.Sprintf(
		`{"dose":1,"session_id":%q,"slot":%q,"beneficiaries":[%q]}`, session.ID, session.Slots[0], ben.Ref), &booked)
	if booked.No == "" {
		t.Fatal("schedule gave no appointment_confirmation_no")
	}

	// Search shows one seat fewer within a second or so.
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := findSession(t, search, session.ID)
		if now.Dose1 == session.Dose1-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search still shows %d dose-1 seats after booking one of %d", now.Dose1, session.Dose1)
		}
		time.Sleep(20 * time.Millisecond)
	}

	var appt struct {
		Beneficiaries []struct {
			Ref  string `json:"beneficiary_reference_id"`
			Code string `json:"secret_code"`
		} `json:"beneficiaries"`
	}
	call(t, "GET", m.URL()+"/api/v1/appointments/"+booked.No, token, "", &appt)
	if len(appt.Beneficiaries) != 1 || len(appt.Beneficiaries[0].Code) != 4 || appt.Beneficiaries[0].Ref != ben.Ref {
		t.Errorf("appointment = %+v, want the beneficiary with a 4-digit secret code", appt)
	}

	// Without a token the protected surface answers 401 in the error shape.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", m.URL()+"/api/v2/appointment/beneficiaries", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), `"errorCode"`) {
		t.Errorf("beneficiaries without a token = %d %s, want 401 with errorCode", resp.StatusCode, body)
	}

	// Nothing personal or secret reached the logs or the metrics.
	_, metrics := get(t, m.URL()+"/metrics", "")
	secrets := map[string]string{
		"mobile number": mobile, "OTP": otp, "OTP hash": hex.EncodeToString(sum[:]),
		"token": token, "Aadhaar number": aadhaar, "secret code": `"` + appt.Beneficiaries[0].Code + `"`,
		"name": "Asha Kumari",
	}
	if logs.String() == "" {
		t.Fatal("captured no logs")
	}
	for what, v := range secrets {
		if strings.Contains(logs.String(), v) {
			t.Errorf("the logs contain the %s", what)
		}
		if strings.Contains(string(metrics), v) {
			t.Errorf("/metrics contains the %s", what)
		}
	}
}

type flatSession struct {
	ID     string   `json:"session_id"`
	MinAge int      `json:"min_age_limit"`
	Dose1  int      `json:"available_capacity_dose1"`
	Slots  []string `json:"slots"`
}

func findSessions(t *testing.T, url string) []flatSession {
	t.Helper()
	code, body := get(t, url, "")
	if code != 200 {
		t.Fatalf("GET %s = %d %s", url, code, body)
	}
	var out struct {
		Sessions []flatSession `json:"sessions"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Sessions
}

func pickSession(t *testing.T, url string) flatSession {
	t.Helper()
	for _, s := range findSessions(t, url) {
		if s.MinAge == 18 && s.Dose1 > 1 && len(s.Slots) > 0 {
			return s
		}
	}
	t.Fatalf("no open 18+ session at %s", url)
	return flatSession{}
}

func findSession(t *testing.T, url, id string) flatSession {
	t.Helper()
	for _, s := range findSessions(t, url) {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("session %s gone from %s", id, url)
	return flatSession{}
}

// call sends a JSON request with a bearer token and decodes a 2xx answer
// into out.
func call(t *testing.T, method, url, token, body string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s = %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
}
