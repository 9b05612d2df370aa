package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

// The booking acceptance tests: many distinct signed-in citizens race for a
// few seats through real `serve` processes, and the database must end up
// exact.

// stormClient is an HTTP client with enough idle connections for a storm.
var stormClient = &http.Client{
	Timeout:   2 * time.Minute,
	Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256},
}

// otpTail follows file SMS providers' JSON lines and remembers the last
// OTP texted to each mobile number.
type otpTail struct {
	mu   sync.Mutex
	cond *sync.Cond
	otps map[string]string
}

func tailOTPs(t *testing.T, paths ...string) *otpTail {
	o := &otpTail{otps: map[string]string{}}
	o.cond = sync.NewCond(&o.mu)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, p := range paths {
		wg.Go(func() { o.follow(ctx, p) })
	}
	return o
}

func (o *otpTail) follow(ctx context.Context, path string) {
	var off int64
	var partial []byte
	for ctx.Err() == nil {
		f, err := os.Open(path)
		if err == nil {
			f.Seek(off, io.SeekStart)
			b, _ := io.ReadAll(f)
			f.Close()
			off += int64(len(b))
			partial = append(partial, b...)
			if i := bytes.LastIndexByte(partial, '\n'); i >= 0 {
				o.add(partial[:i+1])
				partial = append([]byte(nil), partial[i+1:]...)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (o *otpTail) add(lines []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(lines))
	for sc.Scan() {
		var line struct {
			To   string `json:"to"`
			Text string `json:"text"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil {
			if otp := sixDigits.FindString(line.Text); otp != "" && strings.Contains(line.Text, "OTP") {
				o.otps[line.To] = otp
			}
		}
	}
	o.cond.Broadcast()
}

// wait returns the OTP texted to mobile, waiting up to 30 s.
func (o *otpTail) wait(mobile string) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	stop := time.AfterFunc(30*time.Second, func() { o.mu.Lock(); o.cond.Broadcast(); o.mu.Unlock() })
	defer stop.Stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.otps[mobile] == "" {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no OTP to %s within 30 s", mobile)
		}
		o.cond.Wait()
	}
	return o.otps[mobile], nil
}

// send makes one JSON request and returns the status and body.
func send(ctx context.Context, method, url, token, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := stormClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// sendJSON sends a request that must answer 2xx and decodes the answer.
func sendJSON(ctx context.Context, method, url, token, body string, out any) error {
	code, b, err := send(ctx, method, url, token, body)
	if err != nil {
		return err
	}
	if code/100 != 2 {
		return fmt.Errorf("%s %s = %d %s", method, url, code, b)
	}
	return json.Unmarshal(b, out)
}

// citizen is a signed-in account with one registered beneficiary.
type citizen struct {
	node  string // the node it signed in through and books through
	token string
	ref   string
}

// citizens signs in n distinct mobile numbers by OTP, spread over nodes,
// and registers one beneficiary each, with a bounded pool of workers.
func citizens(t *testing.T, nodes []string, otps *otpTail, n int) []citizen {
	t.Helper()
	out := make([]citizen, n)
	errs := make(chan error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 24 {
		wg.Go(func() {
			for i := range next {
				c, err := signUp(t.Context(), nodes[i%len(nodes)], otps, i)
				if err != nil {
					errs <- fmt.Errorf("citizen %d: %w", i, err)
					continue
				}
				out[i] = c
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

func signUp(ctx context.Context, node string, otps *otpTail, i int) (citizen, error) {
	mobile := fmt.Sprintf("97%08d", 10_000_000+i)
	var gen struct {
		TxnID string `json:"txnId"`
	}
	if err := sendJSON(ctx, "POST", node+"/api/v2/auth/generateOTP", "", `{"mobile":"`+mobile+`"}`, &gen); err != nil {
		return citizen{}, err
	}
	otp, err := otps.wait(mobile)
	if err != nil {
		return citizen{}, err
	}
	sum := sha256.Sum256([]byte(otp))
	var in struct {
		Token string `json:"token"`
	}
	if err := sendJSON(ctx, "POST", node+"/api/v2/auth/confirmOTP", "",
		`{"otp":"`+hex.EncodeToString(sum[:])+`","txnId":"`+gen.TxnID+`"}`, &in); err != nil {
		return citizen{}, err
	}
	body := fmt.Sprintf("%011d", 30_000_000_000+i)
	aadhaar := body + string(vax.VerhoeffDigit(body))
	var ben struct {
		Ref string `json:"beneficiary_reference_id"`
	}
	if err := sendJSON(ctx, "POST", node+"/api/v2/registration/beneficiary/new", in.Token,
		`{"name":"Storm Citizen","birth_year":"1990","gender_id":1,"photo_id_type":1,"photo_id_number":"`+aadhaar+`","comorbidity_ind":"N","consent_version":"V1"}`, &ben); err != nil {
		return citizen{}, err
	}
	return citizen{node: node, token: in.Token, ref: ben.Ref}, nil
}

// storm has every citizen try to book one seat of session id at once. It
// returns the confirmation numbers answered 2xx, how many were refused as
// full and the transport errors (a killed node's requests fail).
func storm(t *testing.T, cs []citizen, id, slot string, onBooked func(n int)) (booked []string, full int, lost []error) {
	t.Helper()
	var mu sync.Mutex
	var other []string
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			<-start
			code, b, err := send(t.Context(), "POST", c.node+"/api/v2/appointment/schedule", c.token,
				fmt.Sprintf(`{"dose":1,"session_id":%q,"slot":%q,"beneficiaries":[%q]}`, id, slot, c.ref))
			mu.Lock()
			defer mu.Unlock()
			var out struct {
				No        string `json:"appointment_confirmation_no"`
				ErrorCode string `json:"errorCode"`
			}
			json.Unmarshal(b, &out)
			switch {
			case err != nil:
				lost = append(lost, err)
			case code/100 == 2 && out.No != "":
				booked = append(booked, out.No)
				if onBooked != nil {
					onBooked(len(booked))
				}
			case code == http.StatusConflict && out.ErrorCode == "APPOIN0040":
				full++
			default:
				other = append(other, fmt.Sprintf("%d %s", code, b))
			}
		})
	}
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Errorf("%d answers neither booked nor full, first: %s", len(other), other[0])
	}
	return booked, full, lost
}

// checkSeats checks the store: the session's dose-1 count is within its
// capacity and equals its live places, and every confirmed appointment is
// live. It returns the booked count.
func checkSeats(t *testing.T, s vax.Store, id string, confirmed []string) int {
	t.Helper()
	var se vax.Session
	var live int
	err := s.View(t.Context(), func(tx vax.Tx) error {
		var err error
		if se, err = tx.Session(t.Context(), id); err != nil {
			return err
		}
		as, err := tx.SessionAppointments(t.Context(), id)
		for _, a := range as {
			live += len(a.Live())
		}
		if err != nil {
			return err
		}
		for _, no := range confirmed {
			a, err := tx.Appointment(t.Context(), no)
			if err != nil {
				return fmt.Errorf("confirmed appointment %s: %w", no, err)
			}
			if a.Status != vax.AppointmentLive || a.SessionID != strings.ToLower(id) {
				return fmt.Errorf("confirmed appointment %s is %s in session %s", no, a.Status, a.SessionID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if se.Booked1 > se.Capacity1 || se.Booked1 != live {
		t.Errorf("session booked1 %d, capacity1 %d, live places %d; want booked1 ≤ capacity1 and booked1 == live places",
			se.Booked1, se.Capacity1, live)
	}
	return se.Booked1
}

// bookingSession creates a centre and a session of seats dose-1 seats for
// tomorrow through node url, and returns its id and slot.
func bookingSession(t *testing.T, url, token string, seats int) (string, string) {
	t.Helper()
	centre := post(t, url+"/api/v1/admin/centres", token, `{"name":"PHC Storm","address":"Main Road","state_id":17,"district_id":301,"block_name":"Mararikulam","pincode":688523,"lat":9.6,"long":76.3,"from":"09:00:00","to":"17:00:00","fee_type":"Free"}`)
	tomorrow := time.Now().In(mustIST(t)).AddDate(0, 0, 1).Format("02-01-2006")
	const slot = "09:00AM-11:00AM"
	session := post(t, url+"/api/v1/admin/sessions", token, fmt.Sprintf(
		`{"center_id":%v,"date":%q,"vaccine":"COVISHIELD","min_age_limit":18,"allow_all_age":true,"capacity_dose1":%d,"capacity_dose2":0,"slots":[%q]}`,
		centre["center_id"], tomorrow, seats, slot))
	id, _ := session["session_id"].(string)
	if id == "" {
		t.Fatalf("no session_id in %v", session)
	}
	return id, slot
}

func adminToken(t *testing.T) (file, token string) {
	file = filepath.Join(t.TempDir(), "admin-token")
	token = "booking-storm-admin-token"
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, token
}

func initKeys(t *testing.T) string {
	keys := filepath.Join(t.TempDir(), "keys")
	var out bytes.Buffer
	if code := run(t.Context(), []string{"keys", "init", "--keys-dir", keys}, &out, &out, noEnv); code != 0 {
		t.Fatalf("keys init: %s", out.String())
	}
	return keys
}

// bookingNodes starts n serve processes on one PostgreSQL database for
// booking tests: one keyring and admin token, each node with its own data
// directory and SMS file (returned, for tailOTPs), no OTP or per-address
// booking limit (one address is all the tests' clients), plus extra flags.
func bookingNodes(t *testing.T, dsn, keys, tokenFile string, n int, extra ...string) (nodes []*node, smsFiles []string) {
	t.Helper()
	for range n {
		dir := t.TempDir()
		sms := filepath.Join(dir, "sms.jsonl")
		args := append([]string{"--db", dsn, "--keys-dir", keys, "--admin-token-file", tokenFile, "--data-dir", dir,
			"--sms", "file:" + sms, "--otp-ip-per-minute", "-1", "--book-ip-per-minute", "-1"}, extra...)
		nodes, smsFiles = append(nodes, startNode(t, args...)), append(smsFiles, sms)
	}
	return nodes, smsFiles
}

// urlsOf lists the nodes' base URLs.
func urlsOf(nodes []*node) []string {
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.url)
	}
	return urls
}

// TestBookingStormThreeNodesPostgres: 2,000 distinct signed-in citizens
// race for a 100-seat session through three serve processes sharing one
// PostgreSQL database; exactly 100 are booked.
func TestBookingStormThreeNodesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("storm test")
	}
	const attempts, seats = 2000, 100
	dsn := pgtest.DSN(t)
	keys := initKeys(t)
	tokenFile, token := adminToken(t)
	nodes, files := bookingNodes(t, dsn, keys, tokenFile, 3)
	urls := urlsOf(nodes)
	id, slot := bookingSession(t, urls[0], token, seats)
	start := time.Now()
	cs := citizens(t, urls, tailOTPs(t, files...), attempts)
	t.Logf("%d citizens signed in with a beneficiary each in %v", attempts, time.Since(start))

	start = time.Now()
	booked, full, lost := storm(t, cs, id, slot, nil)
	t.Logf("storm: %d booked, %d full, %d lost in %v", len(booked), full, len(lost), time.Since(start))
	if len(lost) > 0 {
		t.Errorf("%d requests failed in transport, first: %v", len(lost), lost[0])
	}
	if len(booked) != seats || full != attempts-seats {
		t.Errorf("got %d booked, %d full; want %d, %d", len(booked), full, seats, attempts-seats)
	}

	s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := checkSeats(t, s, id, booked); got != seats {
		t.Errorf("session booked1 = %d, want %d", got, seats)
	}
	// Each node reads the same count through the admin API.
	for _, u := range urls {
		var se struct {
			Booked int `json:"booked_dose1"`
		}
		if err := sendJSON(t.Context(), "GET", u+"/api/v1/admin/sessions/"+id, token, "", &se); err != nil {
			t.Fatal(err)
		}
		if se.Booked != seats {
			t.Errorf("node %s: booked_dose1 = %d, want %d", u, se.Booked, seats)
		}
	}
}

// TestBookingSurvivesSIGKILL kills a node (SIGKILL: no shutdown) during a
// booking storm; after a restart every booking answered 2xx exists, the
// session is within capacity and booked equals the live places.
func TestBookingSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("storm test")
	}
	const attempts, seats = 600, 400
	dir := t.TempDir()
	keys := initKeys(t)
	tokenFile, token := adminToken(t)
	sms := filepath.Join(dir, "sms.jsonl")
	args := []string{"--data-dir", dir, "--keys-dir", keys, "--admin-token-file", tokenFile,
		"--sms", "file:" + sms, "--otp-ip-per-minute", "-1", "--book-ip-per-minute", "-1"}
	a := startNode(t, args...)
	id, slot := bookingSession(t, a.url, token, seats)
	cs := citizens(t, []string{a.url}, tailOTPs(t, sms), attempts)

	var once sync.Once
	booked, full, lost := storm(t, cs, id, slot, func(n int) {
		if n == 50 {
			once.Do(func() {
				if err := a.cmd.Process.Kill(); err != nil {
					t.Error(err)
				}
			})
		}
	})
	t.Logf("storm: %d booked, %d full, %d lost to the kill", len(booked), full, len(lost))
	if len(lost) == 0 {
		t.Errorf("no request was lost: the node was not killed during the storm")
	}
	if len(booked) < 50 {
		t.Fatalf("got %d bookings before the kill, want ≥ 50", len(booked))
	}

	b := startNode(t, args...)
	var se struct {
		Booked int `json:"booked_dose1"`
	}
	if err := sendJSON(t.Context(), "GET", b.url+"/api/v1/admin/sessions/"+id, token, "", &se); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), filepath.Join(dir, "vaxport.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := checkSeats(t, s, id, booked)
	if got < len(booked) || se.Booked != got {
		t.Errorf("booked1 %d in the store, %d through the restarted node; want both ≥ %d answered 2xx and equal",
			got, se.Booked, len(booked))
	}
}

// TestBookingSurvivesSIGKILLPostgres: two nodes on one PostgreSQL take a
// booking storm and one is killed (SIGKILL) half way; the other carries on.
// Every booking answered 2xx exists, the session is within capacity, and
// booked equals the live places, read by the surviving node too.
func TestBookingSurvivesSIGKILLPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("storm test")
	}
	const attempts, seats = 600, 400
	dsn := pgtest.DSN(t)
	keys := initKeys(t)
	tokenFile, token := adminToken(t)
	nodes, files := bookingNodes(t, dsn, keys, tokenFile, 2)
	urls := urlsOf(nodes)
	id, slot := bookingSession(t, urls[1], token, seats)
	cs := citizens(t, urls, tailOTPs(t, files...), attempts)

	var once sync.Once
	booked, full, lost := storm(t, cs, id, slot, func(n int) {
		if n == 50 {
			once.Do(func() {
				if err := nodes[0].cmd.Process.Kill(); err != nil {
					t.Error(err)
				}
			})
		}
	})
	t.Logf("storm: %d booked, %d full, %d lost to the kill", len(booked), full, len(lost))
	if len(lost) == 0 {
		t.Errorf("no request was lost: node A was not killed during the storm")
	}
	if len(booked) < 50 {
		t.Fatalf("got %d bookings, want ≥ 50", len(booked))
	}

	s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := checkSeats(t, s, id, booked)
	var se struct {
		Booked int `json:"booked_dose1"`
	}
	if err := sendJSON(t.Context(), "GET", urls[1]+"/api/v1/admin/sessions/"+id, token, "", &se); err != nil {
		t.Fatal(err)
	}
	if got < len(booked) || se.Booked != got {
		t.Errorf("booked1 %d in the store, %d through node B; want both ≥ %d answered 2xx and equal", got, se.Booked, len(booked))
	}
}
