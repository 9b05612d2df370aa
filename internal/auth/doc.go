// Package auth owns sign-in: OTP rules, citizen accounts and tokens, for
// citizens and, through the same pipeline, for staff (internal/staff says
// who is staff; this package only issues and checks their tokens).
//
// # OTPs
//
// GenerateOTP draws 6 digits from crypto/rand and commits, in one
// transaction, the OTP transaction (txnId) and the SMS that carries the OTP
// to the durable outbox (internal/sms/outbox); it returns the txnId only
// after that commit, so an acknowledged OTP is never lost. The OTP is stored
// only as a keyed hash, HMAC-SHA256 under the keyring's pii hash key of
// "otp v1|<txnId>|<hex SHA-256 of the digits>": the client sends the hex
// SHA-256 (Co-WIN's wire form), which a 6-digit space reverses in a moment,
// so that value is never stored; binding the txnId means one txn's OTP never
// confirms another. Comparison is constant-time.
//
// Rules (Rules; the zero value means the defaults): an OTP is valid for 3
// minutes and confirms once; 5 wrong tries void it (a 6th try fails even
// when right); resends to one number wait 30 s, then 60 s, then 180 s, the
// streak ending with a successful sign-in or after 15 quiet minutes; at most
// 50 OTPs per number per 24 h; and a per-IP token bucket on requests (in
// memory, per node). Concurrent requests for one number take turns in the
// store (Tx.OTPTxnsByMobile locks the number), so the limits hold across
// nodes. Every refusal is a 4xx *vax.Error with a Co-WIN style Reason
// (USRAUT…) and depends only on the number's OTP history and the caller's
// IP, never on whether the number has an account.
//
// A staff OTP (OTPRequest.Staff) follows the same rules, counted with the
// number's citizen OTPs, but its keyed hash covers "staff otp v1|…", so
// only ConfirmStaffOTP confirms it and a citizen OTP never confirms there.
// OTPRequest.Allow lets the staff package refuse a number that is no staff
// member's, inside the OTP's transaction and behind the per-IP limit: the
// one refusal that depends on who owns the number.
//
// # Accounts
//
// Confirming an OTP finds or creates the number's account: an opaque UUID,
// the number's blind index (found under every pii key, so key rotation keeps
// accounts), its sealed ciphertext and its last 4 digits. EnsureAccount
// does the same inside a caller's transaction (walk-in registration).
//
// # Tokens
//
// Tokens are JWTs signed HS256 with the keyring's active token key, whose
// kid is in the header; any token key still in the keyring verifies. Claims:
// sub (the account id, never the number), iat, exp (15 minutes by default),
// jti, kind ("citizen" or "staff": Authenticate accepts only the first,
// AuthenticateStaff only the second; a staff token's sub is the staff id),
// sid (the sign-in session) and auth_time (when the OTP was confirmed). Verification checks only the algorithm HS256 (alg
// "none" and every other algorithm are refused), the kid, the signature, the
// kind and exp, and the in-memory revocation set: it never touches the store.
// Verified tokens are cached by their SHA-256 (expiry and revocation are
// still checked each time), so a repeated token costs well under a
// microsecond and a new one tens of microseconds.
//
// Refresh issues a new token (new jti, fresh exp) for a valid one, up to 12
// hours after auth_time, without revoking the old one: a client's requests
// in flight with the old token keep working until it expires. Logout
// revokes the session id (sid), not just one jti, so it also ends every
// token refreshed from the same sign-in; the revocation row lives until the
// session's end and a "token.revoked" change tells every node's in-memory
// set (FollowRevocations) within the change feed's delay.
//
// The package never logs or puts in an error or metric label a mobile
// number, an OTP, its SHA-256 or a token. It must not import a store,
// database/sql or net/http (not even through a dependency: its Prometheus
// metrics live in internal/auth/authmetrics, behind the Metrics
// interface); it works through vax.Store and the keyring.
package auth
