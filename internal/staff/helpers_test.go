package staff_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/sms/outbox/outboxtest"
	"github.com/vaxport/vaxport/internal/staff"
	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

// t0 is when every test starts: whole seconds, so stored times equal it.
var t0 = time.Date(2021, time.May, 1, 10, 0, 0, 0, time.UTC)

// The master data every test has: two states, three districts, a centre in
// each district.
const (
	kerala, tamilNadu         = 1, 2
	ernakulam, thrissur       = 10, 11 // in Kerala
	chennai                   = 20     // in Tamil Nadu
	centreA, centreB, centreC = 100, 101, 200
)

// world is a store with master data and the keyring, shared by nodes.
type world struct {
	store vax.Store
	keys  *keyring.Keyring
	clock *vax.ManualClock
}

// node is one process's sign-in and staff services.
type node struct {
	*world
	auth  *auth.Service
	staff *staff.Service
}

// onStores runs test on a fresh world on SQLite and, when
// VAXPORT_TEST_POSTGRES is set, on PostgreSQL.
func onStores(t *testing.T, test func(t *testing.T, w *world)) {
	t.Run("sqlite", func(t *testing.T) {
		clock := vax.NewManualClock(t0)
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vaxport.db"), sqlite.Options{Clock: clock})
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		test(t, newWorld(t, st, clock))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		clock := vax.NewManualClock(t0)
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{Clock: clock})
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		test(t, newWorld(t, st, clock))
	})
}

// newWorld migrates st and puts the master data in it.
func newWorld(t *testing.T, st interface {
	vax.Store
	Migrate(context.Context) error
}, clock *vax.ManualClock) *world {
	t.Helper()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	kr, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, t0)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	err = st.InTx(t.Context(), func(tx vax.Tx) error {
		for _, s := range []vax.State{{ID: kerala, Name: "Kerala"}, {ID: tamilNadu, Name: "Tamil Nadu"}} {
			if err := tx.PutState(t.Context(), s); err != nil {
				return err
			}
		}
		for _, d := range []vax.District{{ID: ernakulam, StateID: kerala, Name: "Ernakulam"},
			{ID: thrissur, StateID: kerala, Name: "Thrissur"}, {ID: chennai, StateID: tamilNadu, Name: "Chennai"}} {
			if err := tx.PutDistrict(t.Context(), d); err != nil {
				return err
			}
		}
		for _, c := range []vax.Centre{{ID: centreA, StateID: kerala, DistrictID: ernakulam},
			{ID: centreB, StateID: kerala, DistrictID: thrissur}, {ID: centreC, StateID: tamilNadu, DistrictID: chennai}} {
			c.Name, c.Pincode, c.From, c.To, c.FeeType = fmt.Sprintf("Centre %d", c.ID), 682001, "09:00:00", "17:00:00", vax.Free
			if _, err := tx.CreateCentre(t.Context(), c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("master data: %v", err)
	}
	return &world{store: st, keys: kr, clock: clock}
}

// readyFeed is a change feed that is ready and never delivers.
type readyFeed struct{}

func (readyFeed) Subscribe(func([]vax.Change)) func() { return func() {} }
func (readyFeed) Ready() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// node starts a node on the world. Its staff service gets changes only
// when the test feeds them.
func (w *world) node(t *testing.T) *node {
	t.Helper()
	a, err := auth.New(auth.Config{Store: w.store, Keys: w.keys, Clock: w.clock})
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	if err := a.FollowRevocations(t.Context(), readyFeed{}); err != nil {
		t.Fatalf("FollowRevocations: %v", err)
	}
	s, err := staff.New(staff.Config{Store: w.store, Keys: w.keys, Auth: a, Clock: w.clock})
	if err != nil {
		t.Fatalf("staff.New: %v", err)
	}
	return &node{world: w, auth: a, staff: s}
}

var mobiles int

// nextMobile returns a number no earlier call returned.
func nextMobile() string {
	mobiles++
	return fmt.Sprintf("98%08d", mobiles)
}

// create creates a staff member by the bootstrap admin, failing the test
// on error.
func (n *node) create(t *testing.T, ns staff.NewStaff) vax.Staff {
	t.Helper()
	if ns.Mobile == "" {
		ns.Mobile = nextMobile()
	}
	if ns.Name == "" {
		ns.Name = "Test " + string(ns.Role)
	}
	st, err := n.staff.Create(t.Context(), staff.Bootstrap(), ns)
	if err != nil {
		t.Fatalf("Create %s: %v", ns.Role, err)
	}
	return st
}

func sha(otp string) string {
	s := sha256.Sum256([]byte(otp))
	return hex.EncodeToString(s[:])
}

var otpDigits = regexp.MustCompile(`^[0-9]{6}\b`)

// otpFor returns the OTP of the newest SMS to mobile in the outbox, read as
// a dispatcher would.
func (w *world) otpFor(t *testing.T, mobile string) string {
	t.Helper()
	newest := outboxtest.Newest(t, w.store, w.keys, w.clock.Now().Add(24*time.Hour), mobile)
	otp := otpDigits.FindString(newest.Text)
	if otp == "" {
		t.Fatalf("no OTP message to the number in the outbox")
	}
	return otp
}

// signIn signs a staff member in on n by OTP and returns the token.
func (n *node) signIn(t *testing.T, mobile string) string {
	t.Helper()
	txn, err := n.staff.SendOTP(t.Context(), mobile, "")
	if err != nil {
		t.Fatalf("SendOTP: %v", err)
	}
	tok, _, err := n.staff.Token(t.Context(), txn, sha(n.otpFor(t, mobile)))
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok.Token
}

// wantCode fails unless err has code ("" : no error).
func wantCode(t *testing.T, what string, err error, code vax.Code) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Errorf("%s: %v, want success", what, err)
		}
		return
	}
	var ve *vax.Error
	if !errors.As(err, &ve) || vax.ErrorCode(err) != code {
		t.Errorf("%s: got %v (%s), want %s", what, err, vax.ErrorCode(err), code)
	}
}
