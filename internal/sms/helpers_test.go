package sms_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/sms"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

// openStore opens (and migrates) the SQLite database at path.
func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

func newStore(t *testing.T) *sqlite.Store {
	return openStore(t, filepath.Join(t.TempDir(), "vaxport.db"))
}

func newKeys(t *testing.T) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, time.Now())
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return kr
}

// msgID returns the n-th test message id.
func msgID(n int) string { return fmt.Sprintf("40000000-0000-4000-8000-%012d", n) }

// otpMessage returns OTP message n to a number, created now, valid 3 min.
func otpMessage(n int, now time.Time) outbox.Message {
	return outbox.Message{
		ID:        msgID(n),
		Kind:      vax.MessageOTP,
		To:        fmt.Sprintf("98%08d", n),
		Text:      fmt.Sprintf("%06d is your OTP", n),
		CreatedAt: now,
		ExpiresAt: now.Add(3 * time.Minute),
	}
}

func enqueue(t *testing.T, st vax.Store, kr *keyring.Keyring, ms ...outbox.Message) {
	t.Helper()
	err := st.InTx(t.Context(), func(tx vax.Tx) error {
		for _, m := range ms {
			if err := outbox.Enqueue(t.Context(), tx, kr, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

// start runs d until the test ends.
func start(t *testing.T, d *sms.Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := d.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// newDispatcher makes a dispatcher with quick retries for tests.
func newDispatcher(t *testing.T, cfg sms.Config) *sms.Dispatcher {
	t.Helper()
	if cfg.RetryMin == 0 {
		cfg.RetryMin = 10 * time.Millisecond
	}
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	d, err := sms.New(cfg)
	if err != nil {
		t.Fatalf("sms.New: %v", err)
	}
	return d
}

func message(t *testing.T, st vax.Store, id string) vax.OutboxMessage {
	t.Helper()
	var ms []vax.OutboxMessage
	err := st.View(t.Context(), func(tx vax.Tx) (err error) {
		ms, err = tx.Messages(t.Context(), []string{id})
		return err
	})
	if err != nil || len(ms) != 1 {
		t.Fatalf("Messages(%s): %d, %v", id, len(ms), err)
	}
	return ms[0]
}

// waitFor polls cond every 5 ms until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStatus waits until message id has status want.
func waitStatus(t *testing.T, st vax.Store, id string, want vax.MessageStatus) vax.OutboxMessage {
	t.Helper()
	var m vax.OutboxMessage
	waitFor(t, fmt.Sprintf("message %s %s", id, want), func() bool {
		m = message(t, st, id)
		return m.Status == want
	})
	return m
}

// fileLines reads a FileProvider's file.
func fileLines(t *testing.T, path string) []sms.FileLine {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var out []sms.FileLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l sms.FileLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}

// funcProvider sends with a function; it makes no receipts.
type funcProvider struct {
	name string
	send func(outbox.Message) (string, error)
}

func (p *funcProvider) Name() string { return p.name }
func (p *funcProvider) Send(_ context.Context, m outbox.Message) (string, error) {
	return p.send(m)
}

// countingProvider accepts everything and counts sends per message.
type countingProvider struct {
	name string
	mu   sync.Mutex
	sent map[string]int
}

func newCounting(name string) *countingProvider {
	return &countingProvider{name: name, sent: map[string]int{}}
}

func (p *countingProvider) Name() string { return p.name }
func (p *countingProvider) Send(_ context.Context, m outbox.Message) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent[m.ID]++
	return "ref-" + m.ID, nil
}

func (p *countingProvider) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent[id]
}

func (p *countingProvider) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.sent {
		n += c
	}
	return n
}
