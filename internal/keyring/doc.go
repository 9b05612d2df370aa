// Package keyring owns vaxport's secret keys: the keyring directory that
// every node of a deployment shares (--keys-dir, default <data-dir>/keys).
//
// A keyring holds keys of three kinds, each with a key id (kid) so that keys
// rotate without breaking what they already protect:
//
//   - pii: one 32-byte secret per key, from which HKDF-SHA256 derives two
//     subkeys: an HMAC-SHA256 key for blind indexes (Hash, Hashes: lookup and
//     uniqueness of mobile and photo-ID numbers) and an AES-256-GCM key
//     (Seal, OpenSealed: to send an SMS or print a certificate).
//   - token: 32-byte HMAC secrets for citizen and staff JWTs (HS256).
//   - cert: ECDSA P-256 private keys that sign certificates (ES256). The kid
//     of a cert key is the RFC 7638 JWK thumbprint of its public key, as
//     SMART Health Cards require.
//
// Each kind has exactly one active key, the one added last, which hashes,
// seals and signs. Older keys stay: they still open, verify and match in
// lookups. Keys are never removed.
//
// # Directory layout
//
//	keyring.json            manifest: version, keyring id, keys (kind, id, created, file)
//	<kid>.key               pii or token secret: 32 bytes, standard base64, one line
//	cert-<kid>.pem          cert key: PKCS#8 "PRIVATE KEY" PEM
//	.lock                   held (flock) while Init or Rotate writes
//
// The directory is 0700 and every file 0600. Each file is written to a
// temporary name, synced and renamed; key files before the manifest, so a
// reader (another node) never sees a manifest naming a missing key. Open
// validates every file and refuses key files that the group or others can
// access, and a directory that they can write, as ssh does.
//
// Sealed data records the kid of the key that sealed it:
//
//	0x01 | len(kid) (1 byte) | kid | 12-byte nonce | AES-GCM ciphertext and tag
//
// and the version byte and kid are authenticated with the caller's additional
// data. A random nonce per seal keeps each pii key safe for about 2^32 seals;
// rotate before that.
//
// The package must never log, serve, print or put in an error any key
// material: errors name files and kids only, List and Fingerprint show public
// facts only, and a *Keyring prints as its directory and fingerprint.
package keyring
