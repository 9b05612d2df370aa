// Package shc implements SMART Health Cards (https://spec.smarthealth.cards):
// building the FHIR Bundle and the JWS payload of a vaccination card,
// signing it (ES256 on P-256, raw DEFLATE, compact JWS whose kid is the
// RFC 7638 thumbprint of the key), the numeric "shc:/" QR encoding, the
// issuer's key set (JWKS) and revocation lists (CRL, method "rid"), and
// verifying a card against a trust set at a given time.
//
// It owns the format and its rules only. It never touches a store, the
// network or the clock: the verification time is an argument, and keys and
// revocation lists come from the caller.
package shc
