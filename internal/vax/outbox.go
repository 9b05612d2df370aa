package vax

import "time"

// MessageKind says what an outbound message is for. Kinds are labels in
// metrics and decide nothing in the store.
type MessageKind string

// The sign-in message kind. Kinds are an open set: each package that sends
// messages defines its own (booking.MessageBooked, alerts.MessageSlotAlert).
const (
	MessageOTP MessageKind = "otp" // a sign-in OTP: worthless once the OTP expired
)

// MessageStatus is where an outbound message is in its delivery.
type MessageStatus string

// The message statuses. Pending messages are the dispatchers' queue; every
// other status is final except Sent, which a delivery receipt moves on.
const (
	MessagePending   MessageStatus = "pending"   // waiting to be (re)sent
	MessageSent      MessageStatus = "sent"      // a provider accepted it
	MessageDelivered MessageStatus = "delivered" // a receipt says it reached the phone
	MessageFailed    MessageStatus = "failed"    // given up, or a receipt says undeliverable
	MessageDropped   MessageStatus = "dropped"   // expired before it could be sent
)

// ParseMessageStatus parses a message status.
func ParseMessageStatus(s string) (MessageStatus, error) {
	switch MessageStatus(s) {
	case MessagePending, MessageSent, MessageDelivered, MessageFailed, MessageDropped:
		return MessageStatus(s), nil
	}
	return "", Errorf(Invalid, "invalid message status %q", s)
}

// OutboxMessage is an outbound message (SMS) in the durable outbox. It is
// written in the transaction that makes it necessary (an OTP, a booking), so
// a message exists exactly when its cause committed; dispatchers on every
// node claim and send it, at least once.
//
// Unlike other stored times, outbox times keep milliseconds: delivery
// latency is measured from CreatedAt.
type OutboxMessage struct {
	ID   string // UUID; stable across retries, so duplicates can be told apart
	Kind MessageKind
	// Payload holds the recipient and the text, sealed by the keyring: the
	// store never sees a number or an OTP.
	Payload   []byte
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never; an OTP message expires with its OTP

	Status        MessageStatus
	Attempts      int       // sends tried so far
	NextAttemptAt time.Time // a pending message is not sent before this
	ClaimedBy     string    // the dispatcher holding the message, while ClaimedUntil is ahead
	ClaimedUntil  time.Time // end of the claim's lease; zero when unclaimed
	Provider      string    // the provider that last took (or refused) it
	ProviderRef   string    // the provider's id for it, when it gave one
	SentAt        time.Time // when a provider accepted it
	DoneAt        time.Time // when it was delivered, failed or dropped
}

// MessageClaim asks for pending messages due at Now that no live claim
// holds, to be held by By until Until.
type MessageClaim struct {
	By    string
	Now   time.Time
	Until time.Time
	Limit int // 0: the store's default (vax.PageSize)
}
