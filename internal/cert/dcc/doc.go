// Package dcc implements the EU Digital COVID Certificate (HCERT, eHealth
// Network guidelines): the certificate content and its UVCI, the CWT claims
// in a COSE_Sign1 message (ES256), zlib compression, Base45 and the "HC1:"
// prefix; signing with a self-signed signer certificate derived from a
// keyring key; and verifying a certificate against a list of trusted signer
// certificates at a given time, including the DCC JSON schema (1.3.3,
// embedded with its licence in schema/) and the value sets that name the
// vaccines (valuesets/).
//
// Each step of the pipeline is exported (Unprefix, Inflate, ParseCOSE,
// Message.Verify, ParseClaims, ValidateSchema, CheckTime, CheckKeyUsage),
// so that the official test vectors can check each one; Verify runs them
// all.
//
// It owns the format and its rules only. It never touches a store, the
// network or the clock: the verification time is an argument.
package dcc
