package alerts_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/alerts"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// Accounts of the stored-subscription tests: a citizen, and a probe whose
// subscriptions show that a hub has handled what was published before.
const (
	citizen = "70000000-0000-4000-8000-00000000000c"
	probe   = "70000000-0000-4000-8000-00000000000f"
)

// kottayam is a district without centres in the fixture.
const kottayam = 304

// anyMobile opens every account to one number.
type anyMobile struct{}

func (anyMobile) AccountMobile(vax.Account) (string, error) { return "9876543210", nil }

// outboxLog queues texts in the real outbox and remembers the message ids,
// so a test reads back what was committed (a rolled-back message is not).
type outboxLog struct {
	*alerts.OutboxTexter
	mu  sync.Mutex
	ids map[string]string // message id → account
}

func (o *outboxLog) TextIn(ctx context.Context, tx vax.Tx, account, text string, expires time.Time) (string, error) {
	id, err := o.OutboxTexter.TextIn(ctx, tx, account, text, expires)
	if err == nil {
		o.mu.Lock()
		o.ids[id] = account
		o.mu.Unlock()
	}
	return id, err
}

// node is one vaxport node as far as stored alerts go: its store handle,
// its index and its hub, with Run going.
type node struct {
	st  vax.Store
	ix  *search.Index
	hub *alerts.Hub
}

// storedFixture is one or more nodes on one store, the search fixture's
// bookings they all load, and the SMS they queued.
type storedFixture struct {
	clock          *vax.ManualClock
	keys           *keyring.Keyring
	nodes          []*node
	sent           *outboxLog
	today          vax.Date
	b18, b45, bC   int // bookings of the fixture's sessions
	probesAnswered int
}

// newStoredFixture starts a node on each store handle (all on one
// database), with everything sold out.
func newStoredFixture(t *testing.T, clock *vax.ManualClock, handles ...vax.Store) *storedFixture {
	t.Helper()
	ctx := t.Context()
	if err := masterdata.Load(ctx, handles[0]); err != nil {
		t.Fatalf("load master data: %v", err)
	}
	for i, acct := range []string{citizen, probe} {
		if err := handles[0].InTx(ctx, func(tx vax.Tx) error {
			return tx.CreateAccount(ctx, vax.Account{ID: acct, MobileHash: fmt.Sprintf("k1:%d", i),
				MobileSealed: []byte("sealed"), MobileLast4: "3210", CreatedAt: start})
		}); err != nil {
			t.Fatalf("create account: %v", err)
		}
	}
	kr, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, start)
	if err != nil {
		t.Fatal(err)
	}
	f := &storedFixture{clock: clock, keys: kr, today: vax.DateOf(start, ist), b18: 10, b45: 10, bC: 10,
		sent: &outboxLog{ids: map[string]string{}}}
	f.sent.OutboxTexter = alerts.NewOutboxTexter(handles[0], anyMobile{}, kr, clock, rand.Reader)
	for _, st := range handles {
		ix := search.New(search.Config{Clock: clock, Location: ist})
		ix.Load(fixtureData(f.today, f.b18, f.b45, f.bC))
		hub := alerts.NewHub(alerts.Config{Store: st, Texter: f.sent, SMSEvery: 30 * time.Minute,
			StoredPerAccount: 10, Clock: clock})
		t.Cleanup(ix.OnCommit(hub.Publish))
		if err := hub.LoadStored(ctx); err != nil {
			t.Fatalf("LoadStored: %v", err)
		}
		runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { defer close(done); hub.Run(runCtx) }()
		t.Cleanup(func() { cancel(); <-done })
		f.nodes = append(f.nodes, &node{st: st, ix: ix, hub: hub})
	}
	return f
}

// load commits the current bookings on every node's index, as every node
// follows the same change feed.
func (f *storedFixture) load() {
	for _, n := range f.nodes {
		n.ix.Load(fixtureData(f.today, f.b18, f.b45, f.bC))
	}
}

// release sells out the sessions named, then frees one seat of each, in
// two commits on every node: a release of their seats.
func (f *storedFixture) release(sessions ...*int) {
	for _, b := range sessions {
		*b = 10
	}
	f.load()
	for _, b := range sessions {
		*b = 9
	}
	f.load()
}

// subscribe stores a subscription through node n.
func (f *storedFixture) subscribe(t *testing.T, n int, account string, filter alerts.Filter) vax.AlertSubscription {
	t.Helper()
	s, err := f.nodes[n].hub.CreateStored(t.Context(), account, filter)
	if err != nil {
		t.Fatalf("CreateStored(%v): %v", filter, err)
	}
	return s
}

// texts returns the committed SMS to account, oldest first.
func (f *storedFixture) texts(t *testing.T, account string) []string {
	t.Helper()
	f.sent.mu.Lock()
	var ids []string
	for id, a := range f.sent.ids {
		if a == account {
			ids = append(ids, id)
		}
	}
	f.sent.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	var ms []vax.OutboxMessage
	if err := f.nodes[0].st.View(t.Context(), func(tx vax.Tx) (err error) {
		ms, err = tx.Messages(t.Context(), ids)
		return err
	}); err != nil {
		t.Fatalf("Messages: %v", err)
	}
	slices.SortFunc(ms, func(a, b vax.OutboxMessage) int { return a.CreatedAt.Compare(b.CreatedAt) })
	var out []string
	for _, m := range ms {
		opened, err := outbox.Open(f.keys, m)
		if err != nil {
			t.Fatalf("open message: %v", err)
		}
		out = append(out, opened.Text)
	}
	return out
}

// waitTexts waits until account has n committed SMS.
func (f *storedFixture) waitTexts(t *testing.T, account string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := f.texts(t, account)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("account has %d SMS after 10 s, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle returns once every node has handled all that was published
// before: Run handles commits in order, so when a probe subscription
// stored on each node alone (and texted by it alone) gets its SMS for a
// later commit, the earlier ones are done.
func (f *storedFixture) settle(t *testing.T) {
	t.Helper()
	var probes []vax.AlertSubscription
	for i := range f.nodes {
		// Created through node i, the probe is in node i's hub at once;
		// the others would hear of it only through the change feed.
		probes = append(probes, f.subscribe(t, i, probe, alerts.Filter{DistrictID: alappuzha, Age: 18 + i}))
	}
	f.release(&f.bC)
	f.probesAnswered += len(probes)
	f.waitTexts(t, probe, f.probesAnswered)
	for i, p := range probes {
		if err := f.nodes[i].hub.DeleteStored(t.Context(), probe, p.ID); err != nil {
			t.Fatalf("delete probe: %v", err)
		}
	}
}

func TestStoredSubscriptionTexts(t *testing.T) {
	clock := vax.NewManualClock(start)
	f := newStoredFixture(t, clock, openHandles(t, "sqlite", clock, 1)...)
	covaxin45 := f.subscribe(t, 0, citizen, alerts.Filter{DistrictID: ernakulam, Age: 45, Dose: 1, Vaccine: "covaxin"})
	f.subscribe(t, 0, citizen, alerts.Filter{DistrictID: kottayam, Age: 45})        // another district
	f.subscribe(t, 0, citizen, alerts.Filter{DistrictID: ernakulam, Age: 30})       // too young for 45+
	f.subscribe(t, 0, citizen, alerts.Filter{Pincode: pinA, Vaccine: "COVISHIELD"}) // another vaccine
	f.subscribe(t, 0, citizen, alerts.Filter{Pincode: pinA, Dose: 2})               // dose 2 stays sold out

	f.release(&f.b45) // COVAXIN 45+ at centre A opens
	f.settle(t)
	want := []string{"vaxport: seats open at A, PIN 682001 on 14-06-2021: COVAXIN 45+, dose 1: 1, dose 2: 0."}
	if d := cmp.Diff(want, f.texts(t, citizen)); d != "" {
		t.Fatalf("SMS after the release (-want +got):\n%s", d)
	}

	// Within 30 minutes: not again, on any release.
	clock.Advance(29 * time.Minute)
	f.release(&f.b45)
	f.settle(t)
	if got := f.texts(t, citizen); len(got) != 1 {
		t.Fatalf("%d SMS after a release within 30 minutes, want still 1", len(got))
	}
	got, err := f.nodes[0].hub.StoredOf(t.Context(), citizen)
	if err != nil || len(got) != 5 {
		t.Fatalf("StoredOf = %+v, %v; want 5", got, err)
	}
	for _, s := range got {
		want := time.Time{}
		if s.ID == covaxin45.ID {
			want = start.UTC()
		}
		if !s.LastTextedAt.Equal(want) {
			t.Errorf("%s: LastTextedAt = %v, want %v", filterString(s), s.LastTextedAt, want)
		}
	}

	// 30 minutes after the text: again.
	clock.Advance(time.Minute)
	f.release(&f.b45)
	f.settle(t)
	if got := f.texts(t, citizen); len(got) != 2 {
		t.Fatalf("%d SMS after a release 30 minutes on, want 2", len(got))
	}
}

// TestStoredSubscriptionOncePerDeployment runs two nodes on one database:
// both see every release, and each stored subscription is texted once.
func TestStoredSubscriptionOncePerDeployment(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			clock := vax.NewManualClock(start)
			f := newStoredFixture(t, clock, openHandles(t, backend, clock, 2)...)
			a, other := f.nodes[0], f.nodes[1]
			const subs = 4
			var ids []string
			for age := range subs {
				ids = append(ids, f.subscribe(t, 0, citizen, alerts.Filter{DistrictID: ernakulam, Age: 45 + age}).ID)
			}
			feed(t, other, a.st)
			waitStored(t, other.hub, subs)

			for round := range 3 {
				f.release(&f.b45)
				f.settle(t)
				if got := f.texts(t, citizen); len(got) != subs*(round+1) {
					t.Fatalf("round %d: %d SMS, want %d: one per subscription", round, len(got), subs*(round+1))
				}
				clock.Advance(30 * time.Minute)
			}

			// A deletion through one node reaches the other through the
			// change feed; then the subscription texts nowhere.
			for _, id := range ids[1:] {
				if err := a.hub.DeleteStored(t.Context(), citizen, id); err != nil {
					t.Fatalf("DeleteStored: %v", err)
				}
			}
			feed(t, other, a.st)
			waitStored(t, other.hub, 1)
			f.release(&f.b45)
			f.settle(t)
			if got := f.texts(t, citizen); len(got) != subs*3+1 {
				t.Fatalf("%d SMS after deleting all but one subscription, want %d", len(got), subs*3+1)
			}
		})
	}
}

// filterString describes a stored subscription's filter.
func filterString(s vax.AlertSubscription) string {
	return alerts.Filter{DistrictID: s.DistrictID, Pincode: s.Pincode, Age: s.MinAge, Dose: s.Dose, Vaccine: s.Vaccine}.String()
}

// feed hands n's hub the store's alert subscription changes, as its change
// feed would.
func feed(t *testing.T, n *node, st vax.Store) {
	t.Helper()
	changes, err := st.Changes(t.Context(), 0, vax.MaxLimit)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	n.hub.Changed(changes)
}

// waitStored waits until hub matches n stored subscriptions.
func waitStored(t *testing.T, hub *alerts.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for hub.StoredLen() != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d stored subscriptions after 10 s, want %d", hub.StoredLen(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStoredSubscriptionRules(t *testing.T) {
	clock := vax.NewManualClock(start)
	f := newStoredFixture(t, clock, openHandles(t, "sqlite", clock, 1)...)
	hub, ctx := f.nodes[0].hub, t.Context()
	bad := []struct {
		name string
		f    alerts.Filter
		want vax.Code
	}{
		{"neither district nor PIN", alerts.Filter{}, vax.Invalid},
		{"both", alerts.Filter{DistrictID: ernakulam, Pincode: pinA}, vax.Invalid},
		{"unknown district", alerts.Filter{DistrictID: 9999}, vax.Invalid},
		{"unknown vaccine", alerts.Filter{DistrictID: ernakulam, Vaccine: "NOVAVAX"}, vax.Invalid},
		{"dose 3", alerts.Filter{DistrictID: ernakulam, Dose: 3}, vax.Invalid},
	}
	for _, tt := range bad {
		if _, err := hub.CreateStored(ctx, citizen, tt.f); vax.ErrorCode(err) != tt.want {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.want)
		}
	}
	first := f.subscribe(t, 0, citizen, alerts.Filter{Pincode: pinA, Vaccine: " covaxin "})
	if first.Vaccine != "COVAXIN" || first.AccountID != citizen {
		t.Errorf("stored %+v, want vaccine COVAXIN for the citizen", first)
	}
	if _, err := hub.CreateStored(ctx, citizen, alerts.Filter{Pincode: pinA, Vaccine: "COVAXIN"}); vax.ErrorCode(err) != vax.Conflict {
		t.Errorf("the same filter twice: got %v, want Conflict", err)
	}
	for age := 1; age < 10; age++ {
		f.subscribe(t, 0, citizen, alerts.Filter{Pincode: pinA, Age: age})
	}
	_, err := hub.CreateStored(ctx, citizen, alerts.Filter{Pincode: pinA, Age: 10})
	if vax.ErrorCode(err) != vax.Invalid || !strings.Contains(vax.ErrorMessage(err), "at most 10") {
		t.Errorf("eleventh subscription: got %v, want Invalid, at most 10", err)
	}

	// Another account's subscription cannot be deleted, and is not told
	// apart from one that does not exist.
	if err := hub.DeleteStored(ctx, probe, first.ID); vax.ErrorCode(err) != vax.NotFound {
		t.Errorf("delete another's: got %v, want NotFound", err)
	}
	if err := hub.DeleteStored(ctx, citizen, first.ID); err != nil {
		t.Errorf("delete own: %v", err)
	}
	if err := hub.DeleteStored(ctx, citizen, first.ID); vax.ErrorCode(err) != vax.NotFound {
		t.Errorf("delete again: got %v, want NotFound", err)
	}

	off := alerts.NewHub(alerts.Config{Store: f.nodes[0].st})
	if _, err := off.CreateStored(ctx, citizen, alerts.Filter{DistrictID: ernakulam}); vax.ErrorCode(err) != vax.Conflict {
		t.Errorf("without a Texter: got %v, want Conflict", err)
	}
	if got, err := off.StoredOf(ctx, citizen); err != nil || len(got) != 9 {
		t.Errorf("without a Texter, StoredOf = %d, %v; want the 9 left", len(got), err)
	}
	if err := off.LoadStored(ctx); err != nil || off.StoredLen() != 0 {
		t.Errorf("without a Texter, LoadStored = %v and %d loaded; want none", err, off.StoredLen())
	}
}

// openHandles opens n handles on one fresh store of the backend's kind.
func openHandles(t *testing.T, backend string, clock vax.Clock, n int) []vax.Store {
	t.Helper()
	open := backendtest.Handles(t, backend, clock)
	var out []vax.Store
	for range n {
		out = append(out, open())
	}
	return out
}
