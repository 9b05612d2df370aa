// Package certificates issues vaccination certificates with the dose and
// serves them: the SMART Health Card and EU DCC QR texts, the printable PDF
// and the SMART Health Cards revocation list.
//
// Issuing is a record, not a signature: Issue (the vaccination service's
// OnDose hook) writes one certificate row in the dose's own transaction,
// superseding (and so revoking) the beneficiary's previous certificate. The
// signed forms are rendered from that row and the dose records on demand —
// with the keys published at that moment — and cached, so the dose's
// transaction stays a few statements long and signing never holds it open.
//
// It is a rule package: it never imports a store, database/sql or net/http,
// never logs personal data, and never returns another account's
// beneficiary's certificate (an unknown beneficiary and another account's
// get the same answer).
package certificates
