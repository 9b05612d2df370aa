package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAcknowledgedOTPSurvivesSIGKILL: an OTP whose generateOTP was answered
// is delivered even though the node that took it is killed before sending.
// The first node has no SMS provider, so the message can only be in the
// store's outbox when the node dies; a restarted node sends it.
func TestAcknowledgedOTPSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	var out bytes.Buffer
	if code := run(t.Context(), []string{"keys", "init", "--keys-dir", keys}, &out, &out, noEnv); code != 0 {
		t.Fatalf("keys init: %s", out.String())
	}
	args := []string{"--data-dir", dir, "--keys-dir", keys}
	a := startNode(t, args...)
	const mobile = "9876543210"
	txn := postJSON(t, a.url+"/api/v2/auth/public/generateOTP", `{"mobile":"`+mobile+`"}`)["txnId"]
	if txn == "" {
		t.Fatal("generateOTP answered no txnId")
	}
	if err := a.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, no flush
		t.Fatal(err)
	}

	outbox := filepath.Join(dir, "sms.jsonl")
	b := startNode(t, append(args, "--sms", "file:"+outbox)...)
	otp := waitForOTP(t, outbox, mobile)
	sum := sha256.Sum256([]byte(otp))
	tok := postJSON(t, b.url+"/api/v2/auth/public/confirmOTP", `{"otp":"`+hex.EncodeToString(sum[:])+`","txnId":"`+txn+`"}`)["token"]
	if strings.Count(tok, ".") != 2 {
		t.Errorf("confirmOTP with the delivered OTP gave token %q, want a JWT", tok)
	}
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// waitForOTP reads the file provider's JSON lines until one to mobile
// arrives, and returns the OTP in its text.
func waitForOTP(t *testing.T, path, mobile string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		f, err := os.Open(path)
		if err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var line struct {
					To   string `json:"to"`
					Text string `json:"text"`
				}
				if json.Unmarshal(sc.Bytes(), &line) == nil && line.To == mobile {
					f.Close()
					if otp := sixDigits.FindString(line.Text); otp != "" {
						return otp
					}
					t.Fatalf("SMS to %s has no OTP: %q", mobile, line.Text)
				}
			}
			f.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no SMS to %s in %s within 30 s", mobile, path)
	return ""
}

func postJSON(t *testing.T, url, body string) map[string]string {
	t.Helper()
	resp, err := http.Post(url, "", strings.NewReader(body)) // Co-WIN clients often send no Content-Type
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s = %d %s", url, resp.StatusCode, b)
	}
	var out map[string]string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("POST %s: %v in %s", url, err, b)
	}
	return out
}

// TestSIGTERMShutsDownCleanly: SIGTERM stops the node gracefully: it says
// so, and exits 0.
func TestSIGTERMShutsDownCleanly(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, "--demo", "--centres", "800", "--data-dir", dir)
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("vaxport still running 30 s after SIGTERM:\n%s", n.stderr.String())
	}
	if n.err != nil {
		t.Errorf("after SIGTERM: %v, want exit 0:\n%s", n.err, n.stderr.String())
	}
	if !strings.Contains(n.stderr.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown message in the log:\n%s", n.stderr.String())
	}
}
