package outbox_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestEnqueueOpen(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vaxport.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2021, 5, 1, 10, 0, 0, 123_000_000, time.UTC)
	m := outbox.Message{ID: "60000000-0000-4000-8000-000000000001", Kind: vax.MessageOTP, To: "9876543210",
		Text: "123456 is your OTP", CreatedAt: now, ExpiresAt: now.Add(3 * time.Minute)}
	other := m
	other.ID = "60000000-0000-4000-8000-000000000002"
	if err := st.InTx(ctx, func(tx vax.Tx) error {
		if err := outbox.Enqueue(ctx, tx, kr, m); err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, kr, other)
	}); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	var stored []vax.OutboxMessage
	if err := st.View(ctx, func(tx vax.Tx) (err error) {
		stored, err = tx.Messages(ctx, []string{m.ID, other.ID})
		return err
	}); err != nil || len(stored) != 2 {
		t.Fatalf("Messages: %d, %v", len(stored), err)
	}
	s := stored[0]
	if s.Status != vax.MessagePending || !s.NextAttemptAt.Equal(now) || s.Kind != vax.MessageOTP {
		t.Errorf("stored = %+v, want pending, due at creation, kind otp", s)
	}
	for _, secret := range []string{m.To, "123456"} {
		if bytes.Contains(s.Payload, []byte(secret)) {
			t.Errorf("payload holds %q in clear", secret)
		}
	}
	got, err := outbox.Open(kr, s)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("opened (-want +got):\n%s", diff)
	}
	// A payload moved onto another message's row does not open.
	swapped := stored[1]
	swapped.Payload = s.Payload
	if _, err := outbox.Open(kr, swapped); err == nil {
		t.Errorf("a payload opened under another message id")
	}
	// Formatting a message never shows its recipient or text.
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(f, got); strings.Contains(out, m.To) || strings.Contains(out, "123456") {
			t.Errorf("%s formats as %q", f, out)
		}
	}
	if err := st.InTx(ctx, func(tx vax.Tx) error {
		return outbox.Enqueue(ctx, tx, kr, outbox.Message{ID: "x"})
	}); err == nil {
		t.Errorf("Enqueue with a bad id: no error")
	}
}
