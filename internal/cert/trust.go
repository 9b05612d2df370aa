package cert

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"

	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// MaxTrustFile bounds a trust file (16 MiB: a national DSC list is a few
// hundred kilobytes).
const MaxTrustFile = 16 << 20

// Trust is what a verifier trusts: SMART Health Card issuer keys with their
// revocation lists, and DCC signer certificates. Build it with Add or
// LoadTrust, then share it: verification only reads it.
type Trust struct {
	SHC shc.Trust
	DCC dcc.Trust
}

// Bundle is vaxport's own trust file: everything a verifier needs for the
// certificates one vaxport deployment issues, in one JSON document. It is a
// JWKS (so any JWKS reader takes its keys) with three more members.
type Bundle struct {
	// Issuer is the SHC iss the keys are bound to (vaxport's --public-url).
	Issuer string `json:"iss,omitempty"`
	// Keys are the SHC issuer keys (the /.well-known/jwks.json keys).
	Keys []shc.JWK `json:"keys"`
	// CRLs are the current SHC revocation lists, one per key that has one.
	CRLs []shc.CRL `json:"crls,omitempty"`
	// Certificates are the DCC signer certificates, PEM.
	Certificates []string `json:"certificates,omitempty"`
}

// NewBundle builds the trust bundle of a deployment: issuer is the SHC iss
// (--public-url), keys every certificate key of the keyring, crls the
// current revocation lists, signers the DCC signers of the keys.
func NewBundle(issuer string, keys []keyring.CertKey, crls []shc.CRL, signers []*dcc.Signer) (Bundle, error) {
	crlVersion := map[string]int{}
	for _, c := range crls {
		if err := c.Validate(); err != nil {
			return Bundle{}, fmt.Errorf("trust bundle: %w", err)
		}
		crlVersion[c.Kid] = max(crlVersion[c.Kid], c.Ctr)
	}
	set, err := shc.KeySet(keys, crlVersion)
	if err != nil {
		return Bundle{}, fmt.Errorf("trust bundle: %w", err)
	}
	b := Bundle{Issuer: issuer, Keys: set.Keys, CRLs: crls}
	for _, s := range signers {
		b.Certificates = append(b.Certificates, string(s.PEM()))
	}
	return b, nil
}

// Add reads one trust file, recognising its format by content:
//
//   - PEM certificates (one or many): DCC signer certificates;
//   - a DER certificate: one DCC signer certificate;
//   - JSON with "keys": a JWKS (SHC issuer keys), or a vaxport Bundle,
//     whose "iss" binds the keys and whose "crls" and "certificates" are
//     read too;
//   - JSON with "method" and "rids": an SHC revocation list.
//
// name is only for messages. A file that is not understood, or that holds
// anything malformed, is refused whole.
func (t *Trust) Add(name string, data []byte) error {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		if _, err := t.DCC.AddPEM(trimmed); err != nil {
			return fmt.Errorf("trust file %s: %w", name, err)
		}
		return nil
	case bytes.HasPrefix(trimmed, []byte("{")):
		return t.addJSON(name, trimmed)
	}
	if c, err := x509.ParseCertificate(data); err == nil {
		t.DCC.AddCertificate(c)
		return nil
	}
	return vax.Errorf(vax.Invalid, "trust file %s: not a JWKS, CRL, vaxport trust bundle or X.509 certificate (PEM or DER)", name)
}

func (t *Trust) addJSON(name string, data []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return vax.Wrap(vax.Invalid, err, fmt.Sprintf("trust file %s is not valid JSON", name))
	}
	if _, ok := probe["keys"]; ok {
		var b struct {
			Issuer       string            `json:"iss"`
			CRLs         []json.RawMessage `json:"crls"`
			Certificates []string          `json:"certificates"`
		}
		if err := json.Unmarshal(data, &b); err != nil {
			return vax.Wrap(vax.Invalid, err, fmt.Sprintf("trust file %s: malformed bundle members", name))
		}
		// Check everything before trusting anything.
		var staged Trust
		if err := staged.SHC.AddJWKS(data, b.Issuer); err != nil {
			return fmt.Errorf("trust file %s: %w", name, err)
		}
		var crls []shc.CRL
		for i, raw := range b.CRLs {
			c, err := shc.ParseCRL(raw)
			if err != nil {
				return fmt.Errorf("trust file %s: CRL %d: %w", name, i+1, err)
			}
			crls = append(crls, c)
		}
		for i, p := range b.Certificates {
			if _, err := staged.DCC.AddPEM([]byte(p)); err != nil {
				return fmt.Errorf("trust file %s: certificate %d: %w", name, i+1, err)
			}
		}
		if err := t.SHC.AddJWKS(data, b.Issuer); err != nil {
			return fmt.Errorf("trust file %s: %w", name, err)
		}
		for _, c := range crls {
			if err := t.SHC.AddCRL(c); err != nil {
				return fmt.Errorf("trust file %s: %w", name, err)
			}
		}
		for _, p := range b.Certificates {
			if _, err := t.DCC.AddPEM([]byte(p)); err != nil {
				return fmt.Errorf("trust file %s: %w", name, err)
			}
		}
		return nil
	}
	if _, ok := probe["rids"]; ok {
		c, err := shc.ParseCRL(data)
		if err != nil {
			return fmt.Errorf("trust file %s: %w", name, err)
		}
		if err := t.SHC.AddCRL(c); err != nil {
			return fmt.Errorf("trust file %s: %w", name, err)
		}
		return nil
	}
	return vax.Errorf(vax.Invalid, "trust file %s: JSON that is neither a JWKS, a CRL nor a vaxport trust bundle", name)
}

// LoadTrust reads trust files (see Add).
func LoadTrust(paths ...string) (*Trust, error) {
	t := &Trust{}
	for _, p := range paths {
		data, err := readLimited(p, MaxTrustFile)
		if err != nil {
			return nil, err
		}
		if err := t.Add(p, data); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, fmt.Sprintf("cannot open %s", path))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, fmt.Sprintf("cannot read %s", path))
	}
	if st.Size() > limit {
		return nil, vax.Errorf(vax.Invalid, "%s is larger than %d bytes", path, limit)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, fmt.Sprintf("cannot read %s", path))
	}
	return data, nil
}

// Empty reports whether t trusts nothing.
func (t *Trust) Empty() bool { return t == nil || t.SHC.Len() == 0 && t.DCC.Len() == 0 }
