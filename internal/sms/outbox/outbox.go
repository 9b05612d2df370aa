// Package outbox puts outbound SMS into the store's durable outbox and
// takes them out again: it seals the recipient and the text with the
// keyring, so the store, its backups and its logs never hold a mobile number
// or an OTP in clear, and opens them for the dispatcher that sends them.
//
// Rules packages (auth, later booking) call Enqueue inside the transaction
// that makes a message necessary; internal/sms dispatches. This package must
// never log, and never import net/http or a store: rules packages depend on
// it.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Message is an outbound SMS in clear.
type Message struct {
	ID        string // UUID: the same on every attempt and every duplicate
	Kind      vax.MessageKind
	To        string // the 10-digit mobile number
	Text      string
	CreatedAt time.Time // when it was requested
	ExpiresAt time.Time // zero: never; an OTP message expires with its OTP
	// NotBefore is when the message is due (a dose-2 reminder is enqueued
	// with the dose, due weeks later); zero: at once.
	NotBefore time.Time
}

// Sealer seals data with the keyring (keyring.Keyring implements it).
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
}

// Opener opens what a Sealer sealed (keyring.Keyring implements it).
type Opener interface {
	OpenSealed(sealed, aad []byte) ([]byte, error)
}

// payload is the sealed part of a message.
type payload struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// aad binds a payload to its message id, so a payload copied onto another
// row does not open.
func aad(id string) []byte { return []byte("vaxport outbox v1 " + id) }

// Enqueue seals m and adds it to the outbox in tx, pending and due at
// m.NotBefore (zero: at once). The message exists exactly when tx commits.
func Enqueue(ctx context.Context, tx vax.Tx, s Sealer, m Message) error {
	om, err := Seal(s, m)
	if err != nil {
		return err
	}
	if err := tx.EnqueueMessage(ctx, om); err != nil {
		return fmt.Errorf("outbox: enqueue message %s: %w", m.ID, err)
	}
	return nil
}

// Seal returns m as the outbox row Enqueue would insert, for callers that
// hand the store several writes at once (a batch of bookings, a dose).
func Seal(s Sealer, m Message) (vax.OutboxMessage, error) {
	if !vax.ValidUUID(m.ID) {
		return vax.OutboxMessage{}, vax.Errorf(vax.Internal, "outbox: message id %q is not a UUID", m.ID)
	}
	plain, err := json.Marshal(payload{To: m.To, Text: m.Text})
	if err != nil {
		return vax.OutboxMessage{}, vax.Wrap(vax.Internal, err, "outbox: encode message")
	}
	sealed, err := s.Seal(plain, aad(m.ID))
	if err != nil {
		return vax.OutboxMessage{}, fmt.Errorf("outbox: seal message %s: %w", m.ID, err)
	}
	due := m.CreatedAt
	if !m.NotBefore.IsZero() {
		due = m.NotBefore
	}
	return vax.OutboxMessage{
		ID:            m.ID,
		Kind:          m.Kind,
		Payload:       sealed,
		CreatedAt:     m.CreatedAt,
		ExpiresAt:     m.ExpiresAt,
		Status:        vax.MessagePending,
		NextAttemptAt: due,
	}, nil
}

// Open returns the message stored as m, recipient and text in clear.
func Open(o Opener, m vax.OutboxMessage) (Message, error) {
	plain, err := o.OpenSealed(m.Payload, aad(m.ID))
	if err != nil {
		return Message{}, fmt.Errorf("outbox: open message %s: %w", m.ID, err)
	}
	var p payload
	if err := json.Unmarshal(plain, &p); err != nil {
		return Message{}, vax.Wrap(vax.Internal, err, "outbox: message "+m.ID+" holds no valid payload")
	}
	return Message{ID: m.ID, Kind: m.Kind, To: p.To, Text: p.Text, CreatedAt: m.CreatedAt, ExpiresAt: m.ExpiresAt}, nil
}

// String names a message for logs without its recipient or text.
func (m Message) String() string { return fmt.Sprintf("%s message %s", m.Kind, m.ID) }

// GoString is String, so %#v cannot print the recipient or text either.
func (m Message) GoString() string { return m.String() }
