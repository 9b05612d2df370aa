package sms

import (
	"context"
	"errors"
	"time"

	"github.com/vaxport/vaxport/internal/sms/outbox"
)

// Provider sends SMS: a gateway, a file, a simulation.
type Provider interface {
	// Name identifies the provider in metrics, logs and the receipts URL.
	Name() string
	// Send hands m to the provider and returns the provider's reference
	// for it ("" if it gives none). An error wrapped by Permanent says the
	// provider refused this message for good (trying it again there is
	// pointless, the provider itself is fine); any other error is
	// transient and counts against the provider's circuit breaker.
	Send(ctx context.Context, m outbox.Message) (ref string, err error)
}

// ReceiptSource is a provider that produces delivery receipts itself; the
// dispatcher gives it the function to report them to.
type ReceiptSource interface {
	SetReceiptHandler(func(Receipt))
}

// ReceiptAuthenticator is a provider whose receipts arrive over HTTP,
// authenticated by a shared secret.
type ReceiptAuthenticator interface {
	// ReceiptSecret is the shared secret; "" refuses every receipt.
	ReceiptSecret() string
}

// ReceiptStatus is what a receipt says happened to a message.
type ReceiptStatus string

// The receipt statuses.
const (
	Delivered ReceiptStatus = "delivered"
	Failed    ReceiptStatus = "failed"
)

// Receipt is a provider's report on one message.
type Receipt struct {
	Provider  string
	MessageID string // the outbox message id the provider was given
	Ref       string // the provider's own id, if it gave one
	Status    ReceiptStatus
	At        time.Time // when it happened; zero: when received
}

// permanentError marks a provider's definitive refusal of one message.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a provider's definitive refusal of one message.
func Permanent(err error) error { return &permanentError{err: err} }

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
