package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestCaptchaFlag: --captcha serves getRecaptcha and makes schedule ask
// for its answer; without it neither happens.
func TestCaptchaFlag(t *testing.T) {
	for _, on := range []bool{false, true} {
		m := startMain(t, Config{Demo: true, DataDir: t.TempDir(), Seed: 3, Centres: 40, Captcha: on})
		token := signInCitizen(t, m, "9812345600")
		status, body := request(t, "POST", m.URL()+"/api/v2/auth/getRecaptcha", token, "{}")
		schedStatus, schedBody := request(t, "POST", m.URL()+"/api/v2/appointment/schedule", token,
			`{"dose":1,"session_id":"00000000-0000-4000-8000-000000000000","slot":"09:00AM-11:00AM","beneficiaries":["12345678901234"]}`)
		if !on {
			if status != http.StatusNotFound {
				t.Errorf("getRecaptcha without --captcha: got %d, want 404", status)
			}
			if strings.Contains(string(schedBody), "APPOIN0044") {
				t.Errorf("schedule without --captcha asked for one: %s", schedBody)
			}
			continue
		}
		var pic struct {
			Captcha string `json:"captcha"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &pic) != nil || !strings.HasPrefix(pic.Captcha, "<svg") {
			t.Fatalf("getRecaptcha with --captcha: got %d %.80s", status, body)
		}
		if schedStatus != http.StatusBadRequest || !strings.Contains(string(schedBody), "APPOIN0044") {
			t.Errorf("schedule without an answer: got %d %s, want 400 APPOIN0044", schedStatus, schedBody)
		}
	}
}
