package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Idempotency-Key wire codes: a key reused with another request (the HTTP
// surface answers 422), and a retry while the first request still runs
// (409).
const (
	ReasonKeyReused  = "IDEMPO0422"
	ReasonKeyRunning = "IDEMPO0409"
	ReasonBadKey     = "IDEMPO0400"
)

// Idempotency parameters.
const (
	// KeyTTL is how long a key's answer is kept.
	KeyTTL = 24 * time.Hour
	// InFlightLease is how long a first request may run before a retry
	// may take its key over (its node crashed): the retry then runs the
	// request again, and the rules (one live place per beneficiary and
	// dose) keep it from booking twice.
	InFlightLease = time.Minute
)

// Answer is a response as the HTTP surface recorded it.
type Answer struct {
	Status int
	Body   []byte
}

// Idempotent runs run at most once per (account, key) within KeyTTL: a retry
// with the same requestHash gets the first Answer (replayed true); another
// requestHash is Invalid with ReasonKeyReused; a retry while the first still
// runs is Conflict with ReasonKeyRunning. An answer with Status ≥ 500 is not
// kept, so the client may retry at once.
func (s *Service) Idempotent(ctx context.Context, accountID, key, requestHash string, run func() Answer) (Answer, bool, error) {
	if len(key) == 0 || len(key) > 255 {
		return Answer{}, false, fail(vax.Invalid, ReasonBadKey, "Idempotency-Key must be 1..255 characters")
	}
	for i := range len(key) {
		if key[i] < 0x21 || key[i] > 0x7e {
			return Answer{}, false, fail(vax.Invalid, ReasonBadKey, "Idempotency-Key must be printable ASCII")
		}
	}
	var prior vax.IdempotencyRecord
	var fresh bool
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		now := s.clock.Now()
		r := vax.IdempotencyRecord{AccountID: accountID, Key: key, RequestHash: requestHash, CreatedAt: now, ExpiresAt: now.Add(KeyTTL)}
		var err error
		prior, fresh, err = tx.ClaimIdempotency(ctx, r)
		if err != nil || fresh || prior.Status != 0 || now.Sub(prior.CreatedAt) < InFlightLease {
			return err
		}
		// The first request's node died mid-request: take the key over.
		if err := tx.DeleteIdempotency(ctx, accountID, key); err != nil {
			return err
		}
		prior, fresh, err = tx.ClaimIdempotency(ctx, r)
		return err
	})
	if err != nil {
		return Answer{}, false, fmt.Errorf("idempotency key: %w", err)
	}
	if !fresh {
		switch {
		case prior.RequestHash != requestHash:
			return Answer{}, false, fail(vax.Invalid, ReasonKeyReused, "this Idempotency-Key was used with another request")
		case prior.Status == 0:
			return Answer{}, false, fail(vax.Conflict, ReasonKeyRunning, "a request with this Idempotency-Key is still running")
		}
		return Answer{Status: prior.Status, Body: prior.Body}, true, nil
	}
	a := run()
	// The answer is recorded even if the client has gone: use a context
	// that outlives the request.
	ctx = context.WithoutCancel(ctx)
	err = s.store.InTx(ctx, func(tx vax.Tx) error {
		if a.Status >= 500 {
			return tx.DeleteIdempotency(ctx, accountID, key)
		}
		return tx.CompleteIdempotency(ctx, vax.IdempotencyRecord{AccountID: accountID, Key: key, Status: a.Status, Body: a.Body})
	})
	if err != nil {
		return a, false, fmt.Errorf("record idempotent answer: %w", err)
	}
	return a, false, nil
}

// PruneIdempotency deletes keys that expired before now, and reports how
// many (run it periodically, e.g. hourly).
func (s *Service) PruneIdempotency(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.InTx(ctx, func(tx vax.Tx) (err error) {
		n, err = tx.DeleteIdempotencyBefore(ctx, s.clock.Now())
		return err
	})
	return n, err
}
