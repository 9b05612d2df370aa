package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// alertTexts returns the slot-alert SMS to mobile in the demo SMS file.
func alertTexts(t *testing.T, path, mobile string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			To   string `json:"to"`
			Text string `json:"text"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.To == mobile && strings.HasPrefix(line.Text, "vaxport: seats open") {
			out = append(out, line.Text)
		}
	}
	return out
}

// waitAlertTexts waits up to 10 s for n slot-alert SMS to mobile.
func waitAlertTexts(t *testing.T, path, mobile string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := alertTexts(t, path, mobile)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d slot-alert SMS to %s within 10 s, want %d", len(got), mobile, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type storedAlert struct {
	SubscriptionID string `json:"subscription_id"`
	LastTextedAt   string `json:"last_texted_at"`
}

// storedAlerts lists the citizen's stored alert subscriptions.
func storedAlerts(t *testing.T, m *Main, token string) []storedAlert {
	t.Helper()
	var out struct {
		Subscriptions []storedAlert `json:"subscriptions"`
	}
	call(t, "GET", m.URL()+"/api/v1/alerts/subscriptions", token, "", &out)
	return out.Subscriptions
}

// TestStoredAlertSMS: with --alert-sms a citizen stores a slot alert, closes
// nothing (no stream is open) and gets one SMS when an admin opens
// matching seats, and none for more seats within 30 minutes.
func TestStoredAlertSMS(t *testing.T) {
	dir := t.TempDir()
	m := startMain(t, Config{Demo: true, DataDir: dir, Seed: 5, Centres: 40, AlertSMS: true})
	u, smsFile := m.URL(), filepath.Join(dir, "sms.jsonl")
	tok, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatalf("demo admin token: %v", err)
	}
	admin := strings.TrimSpace(string(tok))

	const pin, mobile, probeMobile = 688599, "9812345611", "9812345612"
	citizen, probe := signInCitizen(t, m, mobile), signInCitizen(t, m, probeMobile)
	call(t, "POST", u+"/api/v1/alerts/subscriptions", citizen,
		`{"district_id":301,"min_age":45,"dose":1,"vaccine":"COVISHIELD"}`, nil)
	// The probe's alert is for another vaccine at the same place: when it
	// is texted, the node has handled every release before it.
	call(t, "POST", u+"/api/v1/alerts/subscriptions", probe, fmt.Sprintf(`{"pincode":%d,"vaccine":"COVAXIN"}`, pin), nil)

	centre := post(t, u+"/api/v1/admin/centres", admin, fmt.Sprintf(`{"name":"PHC Alerts","address":"Main Road","state_id":17,"district_id":301,"block_name":"Mararikulam","pincode":%d,"lat":9.6,"long":76.3,"from":"09:00:00","to":"17:00:00","fee_type":"Free"}`, pin))
	tomorrow := time.Now().In(mustIST(t)).AddDate(0, 0, 1).Format("02-01-2006")
	session := func(vaccine string, capacity int) string {
		return fmt.Sprintf(`{"center_id":%v,"date":%q,"vaccine":%q,"min_age_limit":45,"capacity_dose1":%d,"capacity_dose2":0,"slots":["09:00AM-11:00AM"]}`,
			centre["center_id"], tomorrow, vaccine, capacity)
	}
	opened := post(t, u+"/api/v1/admin/sessions", admin, session("COVISHIELD", 10))
	got := waitAlertTexts(t, smsFile, mobile, 1)
	if want := "vaxport: seats open at PHC Alerts, PIN 688599 on " + tomorrow + ": COVISHIELD 45+, dose 1: 10, dose 2: 0."; got[0] != want {
		t.Errorf("SMS %q, want %q", got[0], want)
	}
	subs := storedAlerts(t, m, citizen)
	if len(subs) != 1 || subs[0].LastTextedAt == "" {
		t.Fatalf("stored alerts after the SMS: %+v, want one, texted", subs)
	}

	// More seats within 30 minutes: no second SMS. The probe's release
	// comes after, so once the probe is texted this one was handled.
	id := opened["session_id"].(string)
	if status, body := request(t, "PUT", u+"/api/v1/admin/sessions/"+id, admin, session("COVISHIELD", 20)); status != http.StatusOK {
		t.Fatalf("raise capacity: %d %s", status, body)
	}
	post(t, u+"/api/v1/admin/sessions", admin, session("COVAXIN", 10))
	waitAlertTexts(t, smsFile, probeMobile, 1)
	if again := storedAlerts(t, m, citizen); len(again) != 1 || again[0].LastTextedAt != subs[0].LastTextedAt {
		t.Errorf("stored alerts after more seats: %+v, want texted at %s still", again, subs[0].LastTextedAt)
	}
	if got := alertTexts(t, smsFile, mobile); len(got) != 1 {
		t.Errorf("%d slot-alert SMS, want 1: %q", len(got), got)
	}

	// Deleted, it is gone.
	if status, body := request(t, "DELETE", u+"/api/v1/alerts/subscriptions/"+subs[0].SubscriptionID, citizen, ""); status != http.StatusNoContent {
		t.Errorf("delete: %d %s, want 204", status, body)
	}
	if left := storedAlerts(t, m, citizen); len(left) != 0 {
		t.Errorf("after delete: %+v, want none", left)
	}
}

// TestStoredAlertsNeedAlertSMS: without --alert-sms a node stores no slot
// alerts (it could not text them).
func TestStoredAlertsNeedAlertSMS(t *testing.T) {
	m := startMain(t, Config{Demo: true, DataDir: t.TempDir(), Seed: 5, Centres: 40})
	token := signInCitizen(t, m, "9812345613")
	status, body := request(t, "POST", m.URL()+"/api/v1/alerts/subscriptions", token, `{"district_id":301}`)
	if status != http.StatusConflict || !strings.Contains(string(body), "SMS alerts are not enabled") {
		t.Errorf("POST without --alert-sms: got %d %s, want 409 SMS alerts are not enabled", status, body)
	}
}
