// Package issuer builds what a vaxport deployment publishes about its
// certificate keys, from the shared keyring and the public URL: the SMART
// Health Cards issuer key set (/.well-known/jwks.json), the DCC signer
// certificates, vaxport's trust Bundle (/api/v1/trust), and the cert.Trust
// that verifies the deployment's own certificates.
//
// It never serves, logs or returns private keys (they only sign the DCC
// signer certificates, deterministically), and it talks to no network and
// no store: it is a pure function of the keyring's certificate keys.
package issuer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/vaxport/vaxport/internal/cert"
	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// The subject of vaxport's DCC signer certificates.
const (
	Country      = "IN"
	Organisation = "vaxport"
)

// Material is what a deployment publishes for its certificate keys. It is
// immutable: build it again after the keyring changes (Rotate, Reload).
type Material struct {
	// Issuer is the SHC iss: the public URL without a trailing '/'.
	Issuer string
	// JWKS is the SHC issuer key set, active key first.
	JWKS shc.JWKS
	// Signers are the DCC signers of every certificate key, active first.
	Signers []*dcc.Signer
	// Bundle is vaxport's trust file for this deployment.
	Bundle cert.Bundle
	// Trust verifies this deployment's certificates (SHC bound to Issuer,
	// and DCC).
	Trust *cert.Trust

	bundleJSON []byte // Bundle, encoded
}

// Build builds the Material of the keyring's certificate keys for the
// public URL publicURL (an absolute http or https URL: vaxport's
// --public-url). crls are the deployment's current revocation lists: each
// key's crlVersion is its list's ctr (so SMART Health Cards verifiers know
// to fetch it), and the bundle and Trust carry them, so what we verify
// with reports a superseded certificate revoked.
func Build(kr *keyring.Keyring, publicURL string, crls ...shc.CRL) (*Material, error) {
	iss, err := Issuer(publicURL)
	if err != nil {
		return nil, err
	}
	keys := kr.CertKeys()
	if len(keys) == 0 {
		return nil, vax.Errorf(vax.Internal, "issuer material: the keyring has no certificate key")
	}
	crlVersion := map[string]int{}
	for _, c := range crls {
		crlVersion[c.Kid] = max(crlVersion[c.Kid], c.Ctr)
	}
	set, err := shc.KeySet(keys, crlVersion)
	if err != nil {
		return nil, fmt.Errorf("issuer material: %w", err)
	}
	signers := make([]*dcc.Signer, 0, len(keys))
	for _, k := range keys {
		priv, created, ok := kr.CertPrivateKey(k.ID)
		if !ok {
			return nil, vax.Errorf(vax.Internal, "issuer material: certificate key %s has no private key in the keyring", k.ID)
		}
		s, err := dcc.NewSigner(priv, created, Country, Organisation)
		if err != nil {
			return nil, fmt.Errorf("issuer material: key %s: %w", k.ID, err)
		}
		signers = append(signers, s)
	}
	bundle, err := cert.NewBundle(iss, keys, crls, signers)
	if err != nil {
		return nil, fmt.Errorf("issuer material: %w", err)
	}
	// The trust is read back from the published bundle, so what we verify
	// with is exactly what a verifier loading our bundle gets.
	raw, err := json.Marshal(bundle)
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "issuer material: encode the trust bundle")
	}
	trust := &cert.Trust{}
	if err := trust.Add("vaxport trust bundle", raw); err != nil {
		return nil, fmt.Errorf("issuer material: %w", err)
	}
	return &Material{Issuer: iss, JWKS: set, Signers: signers, Bundle: bundle, Trust: trust, bundleJSON: raw}, nil
}

// Issuer returns the SHC iss for a public URL: an absolute http or https
// URL with a host and no query or fragment, without a trailing '/'.
func Issuer(publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil {
		return "", vax.Wrap(vax.Invalid, err, fmt.Sprintf("public URL %q is not a URL", publicURL))
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", vax.Errorf(vax.Invalid, "public URL %q: want an absolute http(s) URL with a host and no query, fragment or user", publicURL)
	}
	return strings.TrimRight(publicURL, "/"), nil
}

// TrustWith returns a new Trust holding this deployment's bundle and the
// trust files at paths (see cert.Trust.Add: foreign JWKS, CRLs, DCC signer
// certificates, other vaxport bundles): what a node's online verifier
// trusts. A file that conflicts with the bundle (a kid bound to another
// issuer) is an error.
func (m *Material) TrustWith(paths ...string) (*cert.Trust, error) {
	t, err := cert.LoadTrust(paths...)
	if err != nil {
		return nil, fmt.Errorf("verifier trust: %w", err)
	}
	if err := t.Add("vaxport trust bundle", m.bundleJSON); err != nil {
		return nil, fmt.Errorf("verifier trust: %w", err)
	}
	return t, nil
}

// PEM returns the DCC signer certificates, active first, as concatenated
// PEM "CERTIFICATE" blocks: the trust file DCC verifiers load.
func (m *Material) PEM() []byte {
	var b bytes.Buffer
	for _, s := range m.Signers {
		b.Write(s.PEM())
	}
	return b.Bytes()
}
