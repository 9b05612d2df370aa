package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vaxport/vaxport/internal/vax"
)

// Captcha challenges.

func captchaChallenge(acct int, answerHash string, created time.Time) vax.CaptchaChallenge {
	return vax.CaptchaChallenge{
		AccountID:  accountID(acct),
		AnswerHash: answerHash,
		CreatedAt:  created,
		ExpiresAt:  created.Add(3 * time.Minute),
	}
}

// storedCaptcha is c as a store returns it.
func storedCaptcha(c vax.CaptchaChallenge) vax.CaptchaChallenge {
	c.AccountID = strings.ToLower(c.AccountID)
	c.CreatedAt, c.ExpiresAt = whole(c.CreatedAt), whole(c.ExpiresAt)
	return c
}

func putCaptcha(t *testing.T, s vax.Store, c vax.CaptchaChallenge) {
	t.Helper()
	inTx(t, s, func(tx vax.Tx) error { return tx.PutCaptcha(t.Context(), c) })
}

// takeCaptcha takes the account's challenge in its own committed
// transaction.
func takeCaptcha(t *testing.T, s vax.Store, accountID string) (vax.CaptchaChallenge, error) {
	t.Helper()
	var got vax.CaptchaChallenge
	err := s.InTx(t.Context(), func(tx vax.Tx) (err error) {
		got, err = tx.TakeCaptcha(t.Context(), accountID)
		return err
	})
	return got, err
}

func testPutCaptcha(t *testing.T, open Opener) {
	s := newStore(t, open)
	first := captchaChallenge(1, "pii-00000001:answer-1", authT0)
	putCaptcha(t, s, first)
	got, err := takeCaptcha(t, s, first.AccountID)
	if err != nil {
		t.Fatalf("TakeCaptcha: %v", err)
	}
	if d := cmp.Diff(storedCaptcha(first), got); d != "" {
		t.Errorf("challenge read back (-want +got):\n%s", d)
	}
	checkStamp(t, "CreatedAt", got.CreatedAt)
	checkStamp(t, "ExpiresAt", got.ExpiresAt)

	// A new challenge replaces the account's previous one: one take gets
	// the new one, and nothing is left.
	putCaptcha(t, s, first)
	second := captchaChallenge(1, "pii-00000001:answer-2", authT0.Add(time.Minute))
	putCaptcha(t, s, second)
	if got, err := takeCaptcha(t, s, first.AccountID); err != nil || cmp.Diff(storedCaptcha(second), got) != "" {
		t.Errorf("after replacing: TakeCaptcha = %+v, %v; want the second challenge", got, err)
	}
	_, err = takeCaptcha(t, s, first.AccountID)
	wantCode(t, "TakeCaptcha after taking the replacement", err, vax.NotFound)

	// An upper-case id is kept in lower case, as UUIDs are compared.
	upper := captchaChallenge(2, "pii-00000001:answer-3", authT0)
	upper.AccountID = strings.ToUpper(upper.AccountID)
	putCaptcha(t, s, upper)
	if got, err := takeCaptcha(t, s, strings.ToLower(upper.AccountID)); err != nil || got.AccountID != strings.ToLower(upper.AccountID) {
		t.Errorf("TakeCaptcha(lower-case id) = %q, %v; want the challenge, id in lower case", got.AccountID, err)
	}

	bad := captchaChallenge(3, "pii-00000001:answer-4", authT0)
	bad.AccountID = "not-a-uuid"
	err = txErr(t, s, func(ctx context.Context, tx vax.Tx) error { return tx.PutCaptcha(ctx, bad) })
	wantCode(t, "PutCaptcha, id not a UUID", err, vax.Invalid)

	// A rolled-back put leaves nothing.
	err = s.InTx(t.Context(), func(tx vax.Tx) error {
		if err := tx.PutCaptcha(t.Context(), captchaChallenge(4, "pii-00000001:answer-5", authT0)); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx = %v, want errStop", err)
	}
	_, err = takeCaptcha(t, s, accountID(4))
	wantCode(t, "TakeCaptcha after a rolled-back put", err, vax.NotFound)
}

func testTakeCaptcha(t *testing.T, open Opener) {
	h := open(t)
	s := h.Store
	_, err := takeCaptcha(t, s, accountID(1))
	wantCode(t, "TakeCaptcha, none drawn", err, vax.NotFound)
	_, err = takeCaptcha(t, s, "not-a-uuid")
	wantCode(t, "TakeCaptcha, id not a UUID", err, vax.NotFound)

	a, b := captchaChallenge(1, "pii-00000001:a", authT0), captchaChallenge(2, "pii-00000001:b", authT0)
	putCaptcha(t, s, a)
	putCaptcha(t, s, b)

	// A rolled-back take leaves the challenge in place.
	err = s.InTx(t.Context(), func(tx vax.Tx) error {
		if _, err := tx.TakeCaptcha(t.Context(), a.AccountID); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx = %v, want errStop", err)
	}

	// A take deletes what it returns, and only that account's challenge.
	if got, err := takeCaptcha(t, s, a.AccountID); err != nil || cmp.Diff(storedCaptcha(a), got) != "" {
		t.Errorf("TakeCaptcha(a) = %+v, %v; want a's challenge", got, err)
	}
	_, err = takeCaptcha(t, s, a.AccountID)
	wantCode(t, "TakeCaptcha(a) again", err, vax.NotFound)
	if got, err := takeCaptcha(t, s, b.AccountID); err != nil || cmp.Diff(storedCaptcha(b), got) != "" {
		t.Errorf("TakeCaptcha(b) = %+v, %v; want b's challenge", got, err)
	}

	t.Run("race", func(t *testing.T) { testTakeCaptchaRace(t, h) })
}

// testTakeCaptchaRace takes one challenge from many transactions at once,
// through two handles: exactly one gets it each round.
func testTakeCaptchaRace(t *testing.T, h Handles) {
	const rounds, takers = 10, 8
	handles := []vax.Store{h.Store, h.Second(t)}
	for round := range rounds {
		acct := accountID(100 + round)
		putCaptcha(t, h.Store, captchaChallenge(100+round, fmt.Sprintf("pii-00000001:race-%d", round), authT0))
		start := make(chan struct{})
		errs := make(chan error, takers)
		var wg sync.WaitGroup
		for i := range takers {
			wg.Go(func() {
				<-start
				errs <- handles[i%2].InTx(t.Context(), func(tx vax.Tx) error {
					_, err := tx.TakeCaptcha(t.Context(), acct)
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		var took, none int
		for err := range errs {
			switch {
			case err == nil:
				took++
			case errors.Is(err, vax.ErrNotFound):
				none++
			default:
				t.Fatalf("round %d: TakeCaptcha: %v", round, err)
			}
		}
		if took != 1 || none != takers-1 {
			t.Fatalf("round %d: %d takes got the challenge, %d found none; want 1, %d", round, took, none, takers-1)
		}
	}
}
