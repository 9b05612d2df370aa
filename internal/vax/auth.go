package vax

import "time"

// Account is a citizen account: a mobile number that proved, by OTP, that
// it answers. The number itself is never stored in clear: MobileHash finds
// the account (a keyed blind index), MobileSealed holds it encrypted (to
// send an SMS) and MobileLast4 is what screens show.
type Account struct {
	ID           string // opaque UUID: the sub of the account's tokens
	MobileHash   string // blind index of the number, "kid:sum" (keyring.Hash)
	MobileSealed []byte // the number, sealed with AES-GCM by the keyring
	MobileLast4  string // the last 4 digits, for masked display
	CreatedAt    time.Time
}

// OTPTxn is one OTP sent to a mobile number, identified by its txnId. The OTP
// itself is never stored: CodeHash is a keyed hash of it bound to ID, so it
// cannot be reversed without the keyring, nor replayed against another txn.
type OTPTxn struct {
	ID         string // the txnId the client holds: a UUID
	MobileHash string // blind index of the number it was sent to
	// MobileSealed is the number, sealed by the keyring: confirming the OTP
	// creates or finds the number's account without the client resending it.
	MobileSealed []byte
	CodeHash     string // keyed hash of the OTP bound to ID, "kid:sum"
	CreatedAt    time.Time
	ExpiresAt    time.Time
	Attempts     int       // wrong guesses so far
	UsedAt       time.Time // when it was confirmed; zero while unused
}

// Revocation says that every token carrying ID (a sign-in session id) is
// revoked until Until, after which those tokens have expired anyway.
type Revocation struct {
	ID    string
	Until time.Time
}
