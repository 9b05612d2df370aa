package dcc_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/cert/base45"
	"github.com/vaxport/vaxport/internal/cert/dcc"
	"github.com/vaxport/vaxport/internal/cert/qr"
)

const vectorDir = "../testdata/dcc"

// vector is one dgc-testdata case (see ../testdata/dcc/README.md).
type vector struct {
	JSON       json.RawMessage `json:"JSON"`
	CBOR       string          `json:"CBOR"`
	COSE       string          `json:"COSE"`
	COMPRESSED string          `json:"COMPRESSED"`
	BASE45     string          `json:"BASE45"`
	PREFIX     string          `json:"PREFIX"`
	Picture    string          `json:"2DCODE"`
	TESTCTX    struct {
		SCHEMA          string `json:"SCHEMA"`
		CERTIFICATE     string `json:"CERTIFICATE"`
		VALIDATIONCLOCK string `json:"VALIDATIONCLOCK"`
		DESCRIPTION     string `json:"DESCRIPTION"`
	} `json:"TESTCTX"`
	EXPECTEDRESULTS map[string]bool `json:"EXPECTEDRESULTS"`
}

// Flags we check. The generation-side flags EXPECTEDVALIDOBJECT and
// EXPECTEDENCODE judge how the vector's author encoded JSON into CBOR; a
// verifier has nothing to say about them, so they are not checked.
var verifierFlags = []string{
	"EXPECTEDPICTUREDECODE", "EXPECTEDUNPREFIX", "EXPECTEDB45DECODE", "EXPECTEDCOMPRESSION",
	"EXPECTEDVERIFY", "EXPECTEDDECODE", "EXPECTEDVALIDJSON", "EXPECTEDSCHEMAVALIDATION",
	"EXPECTEDEXPIRATIONCHECK", "EXPECTEDKEYUSAGE",
}

// exclusions lists, by file and flag, the expectations we do not meet. Each
// one must be covered by a row of tests/known_issues.csv (test name,
// country, test set), and must still disagree: a stale entry fails.
//
// All of them are NL files under the row "test_cose_schema,NL,," (issue 107
// of dgc-testdata: the NL files were made for schema 1.0.0, and their
// schema flags disagree with later schemas). We check against schema
// 1.3.3, the one vaxport embeds:
//
//   - schema 1.3.3 refuses what the file calls valid: an empty co (the
//     country_vt pattern [A-Z]{1,10}), or dn or sd of 0 (dose_posint has
//     minimum 1);
//   - schema 1.3.3 accepts what the file calls invalid: the birth date
//     2023-01-01 (the dob pattern allows 19xx and 20xx), an empty gnt next
//     to a present fnt (person_name needs fnt or gnt), names in other
//     scripts or with emoji (fn and gn have no pattern).
var exclusions = map[string]struct{ flag, knownIssue string }{
	"NL/2DCode/raw/073-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // co ""
	"NL/2DCode/raw/087-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // dob 2023-01-01
	"NL/2DCode/raw/103-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // dob 2023-01-01
	"NL/2DCode/raw/104-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // sd 0
	"NL/2DCode/raw/109-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // sd 0
	"NL/2DCode/raw/111-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // dob 2023-01-01
	"NL/2DCode/raw/119-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // dob 2023-01-01, Arabic script
	"NL/2DCode/raw/120-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // co ""
	"NL/2DCode/raw/121-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // dn 0
	"NL/2DCode/raw/123-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // co ""
	"NL/2DCode/raw/127-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // dob 2023-01-01, Greek script
	"NL/2DCode/raw/130-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // sd 0
	"NL/2DCode/raw/135-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // dob 2023-01-01, gnt ""
	"NL/2DCode/raw/136-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // emoji gn, gnt ""
	"NL/2DCode/raw/137-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // emoji gn, gnt ""
	"NL/2DCode/raw/138-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // emoji gn, gnt ""
	"NL/2DCode/raw/140-NL-vaccination.json": {schemaFlag, nlSchemaIssue}, // emoji gn, gnt ""
}

const (
	schemaFlag    = "EXPECTEDSCHEMAVALIDATION"
	nlSchemaIssue = "test_cose_schema"
)

func loadVectors(t *testing.T) map[string]vector {
	t.Helper()
	out := map[string]vector{}
	for _, pattern := range []string{"common/2DCode/raw/*.json", "DE/2DCode/raw/*.json", "AT/2DCode/raw/*.json", "NL/2DCode/raw/*.json"} {
		files, err := filepath.Glob(filepath.Join(vectorDir, pattern))
		if err != nil || len(files) == 0 {
			t.Fatalf("no vectors for %s: %v", pattern, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v vector
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			rel, _ := filepath.Rel(vectorDir, f)
			out[filepath.ToSlash(rel)] = v
		}
	}
	return out
}

func knownIssues(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(vectorDir, "tests/known_issues.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

// clock parses VALIDATIONCLOCK: RFC 3339, fractional seconds, and (in the
// NL files) no zone, read as UTC.
func clock(t *testing.T, s string) time.Time {
	t.Helper()
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if c, err := time.Parse(layout, s); err == nil {
			return c
		}
	}
	t.Fatalf("unreadable VALIDATIONCLOCK %q", s)
	return time.Time{}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in vector: %v", err)
	}
	return b
}

// normal turns JSON-model values into plain decoded JSON, so that numbers
// compare as numbers whatever their spelling.
func normal(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// coseBytes returns the vector's COSE message: its COSE field, or decoded
// from PREFIX when the field is absent.
func coseBytes(t *testing.T, v vector) ([]byte, bool) {
	if v.COSE != "" {
		return unhex(t, v.COSE), true
	}
	b45, err := dcc.Unprefix(v.PREFIX)
	if err != nil {
		return nil, false
	}
	z, err := base45.Decode(b45)
	if err != nil {
		return nil, false
	}
	raw, err := dcc.Inflate(z)
	return raw, err == nil
}

// vectorContent reads a vector's CBOR field: the certificate content in
// some files, the whole CWT claims map in others.
func vectorContent(t *testing.T, hexCBOR string) (any, error) {
	b := unhex(t, hexCBOR)
	if c, err := dcc.ParseClaims(b); err == nil {
		return c.Content, nil
	}
	return dcc.DecodeContent(b)
}

// check runs the check a flag names and reports whether it succeeded.
// ok is false when the vector lacks what the check needs.
func check(t *testing.T, flag string, v vector, signer *x509.Certificate, at time.Time) (passed, ok bool) {
	trust := &dcc.Trust{}
	trust.AddCertificate(signer)
	claims := func() (*dcc.Claims, bool) {
		raw, ok := coseBytes(t, v)
		if !ok {
			return nil, false
		}
		msg, err := dcc.ParseCOSE(raw)
		if err != nil {
			return nil, true
		}
		c, err := dcc.ParseClaims(msg.Payload)
		if err != nil {
			return nil, true
		}
		return c, true
	}
	switch flag {
	case "EXPECTEDPICTUREDECODE":
		if v.Picture == "" {
			return false, false
		}
		png, err := base64.StdEncoding.DecodeString(v.Picture)
		if err != nil {
			return false, true
		}
		text, err := qr.DecodePNG(png)
		return err == nil && text == v.PREFIX, true
	case "EXPECTEDUNPREFIX":
		b45, err := dcc.Unprefix(v.PREFIX)
		return err == nil && (v.BASE45 == "" || b45 == v.BASE45), true
	case "EXPECTEDB45DECODE":
		if v.BASE45 == "" {
			return false, false
		}
		z, err := base45.Decode(v.BASE45)
		return err == nil && (v.COMPRESSED == "" || hex.EncodeToString(z) == strings.ToLower(v.COMPRESSED)), true
	case "EXPECTEDCOMPRESSION":
		if v.COMPRESSED == "" {
			return false, false
		}
		raw, err := dcc.Inflate(unhex(t, v.COMPRESSED))
		return err == nil && (v.COSE == "" || hex.EncodeToString(raw) == strings.ToLower(v.COSE)), true
	case "EXPECTEDVERIFY":
		raw, ok := coseBytes(t, v)
		if !ok {
			return false, false
		}
		msg, err := dcc.ParseCOSE(raw)
		if err != nil {
			return false, true
		}
		_, err = trust.VerifySignature(msg)
		return err == nil, true
	case "EXPECTEDDECODE":
		c, ok := claims()
		if !ok {
			return false, false
		}
		if c == nil {
			return false, true
		}
		if v.CBOR == "" {
			return true, true
		}
		want, err := vectorContent(t, v.CBOR)
		return err == nil && cmp.Equal(normal(t, c.Content), normal(t, want)), true
	case "EXPECTEDVALIDJSON":
		c, ok := claims()
		if !ok || v.JSON == nil {
			return false, false
		}
		var want any
		if err := json.Unmarshal(v.JSON, &want); err != nil {
			t.Fatal(err)
		}
		return c != nil && cmp.Equal(normal(t, c.Content), want), true
	case "EXPECTEDSCHEMAVALIDATION":
		var content any
		if v.CBOR != "" {
			c, err := vectorContent(t, v.CBOR)
			if err != nil {
				return false, true
			}
			content = c
		} else {
			c, ok := claims()
			if !ok {
				return false, false
			}
			if c == nil {
				return false, true
			}
			content = c.Content
		}
		return dcc.ValidateSchema(content) == nil, true
	case "EXPECTEDEXPIRATIONCHECK":
		c, ok := claims()
		if !ok {
			return false, false
		}
		return c != nil && dcc.CheckTime(c, signer, at) == nil, true
	case "EXPECTEDKEYUSAGE":
		c, ok := claims()
		if !ok {
			return false, false
		}
		return c != nil && c.Certificate.Kind() != 0 && dcc.CheckKeyUsage(signer, c.Certificate.Kind()) == nil, true
	}
	t.Fatalf("no check for %s", flag)
	return false, false
}

func TestVectors(t *testing.T) {
	vectors := loadVectors(t)
	issues := knownIssues(t)
	for name, ex := range exclusions {
		found := false
		country := strings.Split(name, "/")[0]
		for _, row := range issues {
			if row[0] == ex.knownIssue && row[1] == country && (row[2] == "" || strings.Contains(name, "/"+row[2]+".json")) {
				found = true
			}
		}
		if !found {
			t.Errorf("exclusion %s (%s) is not covered by known_issues.csv row %s,%s", name, ex.flag, ex.knownIssue, country)
		}
	}
	names := make([]string, 0, len(vectors))
	for n := range vectors {
		names = append(names, n)
	}
	slices.Sort(names)
	checked := 0
	for _, name := range names {
		v := vectors[name]
		t.Run(name, func(t *testing.T) {
			der, err := base64.StdEncoding.DecodeString(v.TESTCTX.CERTIFICATE)
			if err != nil {
				t.Fatalf("CERTIFICATE: %v", err)
			}
			signer, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatalf("CERTIFICATE: %v", err)
			}
			at := clock(t, v.TESTCTX.VALIDATIONCLOCK)
			anyFalse := false
			for _, flag := range verifierFlags {
				want, present := v.EXPECTEDRESULTS[flag]
				if !present {
					continue
				}
				got, ok := check(t, flag, v, signer, at)
				if !ok {
					continue // the vector lacks the field this check needs
				}
				checked++
				if ex, excluded := exclusions[name]; excluded && ex.flag == flag {
					if got == want {
						t.Errorf("%s: excluded (%s) but now passes: remove the exclusion", flag, ex.knownIssue)
					}
					continue
				}
				if !want && flag != "EXPECTEDPICTUREDECODE" {
					anyFalse = true
				}
				if got != want {
					t.Errorf("%s: got %v, want %v (%s)", flag, got, want, v.TESTCTX.DESCRIPTION)
				}
			}
			// The whole verification agrees with the flags: a certificate
			// that fails a check is not valid; one that passes signature and
			// time checks, with no check failing, is.
			trust := &dcc.Trust{}
			trust.AddCertificate(signer)
			_, err = dcc.Verify(v.PREFIX, trust, at)
			if _, excluded := exclusions[name]; excluded {
				return
			}
			switch {
			case anyFalse && err == nil:
				t.Errorf("Verify accepted a certificate with a failing check")
			case !anyFalse && v.EXPECTEDRESULTS["EXPECTEDVERIFY"] && v.EXPECTEDRESULTS["EXPECTEDEXPIRATIONCHECK"] && err != nil:
				t.Errorf("Verify: %v, want valid", err)
			}
		})
	}
	t.Logf("%d vectors, %d flag checks, %d excluded", len(vectors), checked, len(exclusions))
	if checked < 300 {
		t.Errorf("only %d flag checks ran", checked)
	}
}
