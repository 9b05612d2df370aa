// Package cert verifies vaccination certificates in the world's formats —
// SMART Health Cards (subpackage shc) and EU Digital COVID Certificates
// (subpackage dcc) — from what a verifier holds: a QR text ("shc:/…",
// "HC1:…"), a raw JWS, a .smart-health-card file or a PNG image of the QR
// code. It loads trust files (JWKS, SHC revocation lists, PEM signer
// certificates, and vaxport's own Bundle), and reports one Result, the
// shape vaxport's verify API and `vaxport verify` return.
//
// Subpackages: base45 (RFC 9285), qr (QR encoding and reading), shc, dcc,
// pdf (the printable certificate).
//
// Verification is offline and keeps personal data where it is: nothing
// here talks to the network, a store or the clock (the time is an
// argument). Issuance from dose records is built on shc.Sign and
// dcc.Signer.Sign by the vaccination package, not here.
package cert
