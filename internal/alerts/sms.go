package alerts

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// MessageSlotAlert is the outbox kind of an alert SMS. Message kinds are an
// open set of metric labels; each is defined by the package that sends it.
const MessageSlotAlert vax.MessageKind = "slot_alert"

// Texter texts an account; *OutboxTexter is the real one.
type Texter interface {
	// Text queues text to the account's mobile number in a transaction of
	// its own, dropped if still unsent at expires.
	Text(ctx context.Context, accountID, text string, expires time.Time) (messageID string, err error)
	// TextIn is Text in tx: the message exists exactly when tx commits,
	// so a stored subscription is marked texted if and only if its SMS is
	// queued.
	TextIn(ctx context.Context, tx vax.Tx, accountID, text string, expires time.Time) (messageID string, err error)
}

// Mobiles opens an account's mobile number (auth.Service.AccountMobile).
type Mobiles interface {
	AccountMobile(a vax.Account) (string, error)
}

// OutboxTexter puts alert texts into the store's durable outbox, for the
// SMS dispatchers of every node to send.
type OutboxTexter struct {
	store   vax.Store
	mobiles Mobiles
	keys    outbox.Sealer
	clock   vax.Clock
	random  io.Reader
}

// NewOutboxTexter returns an OutboxTexter.
func NewOutboxTexter(st vax.Store, mobiles Mobiles, keys outbox.Sealer, clock vax.Clock, random io.Reader) *OutboxTexter {
	return &OutboxTexter{store: st, mobiles: mobiles, keys: keys, clock: clock, random: random}
}

// Text enqueues text to the account's mobile number, dropped by the
// dispatcher if still unsent at expires.
func (o *OutboxTexter) Text(ctx context.Context, accountID, text string, expires time.Time) (string, error) {
	var id string
	err := o.store.InTx(ctx, func(tx vax.Tx) (err error) {
		id, err = o.TextIn(ctx, tx, accountID, text, expires)
		return err
	})
	return id, err
}

// TextIn enqueues text to the account's mobile number in tx.
func (o *OutboxTexter) TextIn(ctx context.Context, tx vax.Tx, accountID, text string, expires time.Time) (string, error) {
	id, err := vax.NewUUID(o.random)
	if err != nil {
		return "", vax.Wrap(vax.Internal, err, "draw a message id")
	}
	if err := o.enqueue(ctx, tx, id, accountID, text, expires); err != nil {
		return "", fmt.Errorf("text slot alert to account %s: %w", accountID, err)
	}
	return id, nil
}

func (o *OutboxTexter) enqueue(ctx context.Context, tx vax.Tx, id, accountID, text string, expires time.Time) error {
	a, err := tx.Account(ctx, accountID)
	if err != nil {
		return err
	}
	mobile, err := o.mobiles.AccountMobile(a)
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, tx, o.keys, outbox.Message{
		ID: id, Kind: MessageSlotAlert, To: mobile, Text: text, CreatedAt: o.clock.Now(), ExpiresAt: expires})
}

// AlertText is the SMS for events (at least one): the first released
// session, and how many more.
func AlertText(events []*Event) string {
	e := events[0]
	name := e.Name
	if len(name) > 40 {
		name = name[:40]
	}
	a1, a2 := e.Session.Available()
	var b strings.Builder
	fmt.Fprintf(&b, "vaxport: seats open at %s, PIN %d on %s: %s %d+, dose 1: %d, dose 2: %d.",
		name, e.Pincode, e.Session.Date.Cowin(), e.Session.Vaccine, e.Session.MinAge, a1, a2)
	if len(events) > 1 {
		fmt.Fprintf(&b, " And %d more.", len(events)-1)
	}
	return b.String()
}

// textKey identifies a subscription across reconnects for SMS throttling.
type textKey struct {
	account string
	filter  Filter
}

// Notify texts the account about events if the subscription opted in to
// SMS and it was not texted within Config.SMSEvery (the throttle is per
// account and filter, so reconnecting does not reset it; it is per node).
// It runs in the subscriber's goroutine, never in Publish, and logs a
// failure rather than returning it: an SMS that cannot be queued must not
// end the stream.
func (h *Hub) Notify(ctx context.Context, s *Subscription, events []*Event) {
	if h.cfg.Texter == nil || !s.sms || len(events) == 0 {
		return
	}
	now := h.cfg.Clock.Now()
	k := textKey{s.account, s.filter}
	h.tmu.Lock()
	if last, ok := h.texted[k]; ok && now.Sub(last) < h.cfg.SMSEvery {
		h.tmu.Unlock()
		return
	}
	h.texted[k] = now
	// Forget keys that can no longer throttle anything.
	for key, t := range h.texted {
		if now.Sub(t) >= h.cfg.SMSEvery {
			delete(h.texted, key)
		}
	}
	h.tmu.Unlock()
	if _, err := h.cfg.Texter.Text(ctx, s.account, AlertText(events), now.Add(h.cfg.SMSEvery)); err != nil {
		h.cfg.Logger.Warn("slot alert SMS not queued", "err", err)
	}
}
