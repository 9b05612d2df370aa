package vax

import "time"

// CaptchaChallenge is the one open captcha challenge of an account: the
// optional captcha a schedule request must answer (Co-WIN's getRecaptcha).
// It lives in the store, not in a node's memory, so a challenge drawn by
// one node is checked by whichever node gets the schedule request. The
// answer itself is never stored: AnswerHash is a keyed hash of it bound to
// the account, so a leaked row neither reveals nor can be tested against
// an answer without the keyring.
type CaptchaChallenge struct {
	AccountID  string // the account it was drawn for: a UUID, one challenge each
	AnswerHash string // keyed hash of the normalised answer, "kid:sum"
	CreatedAt  time.Time
	ExpiresAt  time.Time // answers from then on are refused
}
