package shc_test

import (
	"bytes"
	"compress/flate"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/vax"
)

const vectors = "../testdata/shc"

// exampleKid is the kid of the specification's example issuer key.
const exampleKid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"

// exampleTime is after every example's nbf (2023-06-22) and before
// example 03's exp (2024-06-21).
var exampleTime = time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC)

func read(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectors, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exampleTrust trusts the example issuer's JWKS and its CRL.
func exampleTrust(t testing.TB) *shc.Trust {
	t.Helper()
	var tr shc.Trust
	if err := tr.AddJWKS(read(t, "issuer/.well-known/jwks.json"), ""); err != nil {
		t.Fatalf("load example JWKS: %v", err)
	}
	crl, err := shc.ParseCRL(read(t, "issuer/.well-known/crl/"+exampleKid+".json"))
	if err != nil {
		t.Fatalf("load example CRL: %v", err)
	}
	if err := tr.AddCRL(crl); err != nil {
		t.Fatal(err)
	}
	return &tr
}

// exampleJWS returns each form of example n: the raw JWS, the JWS in the
// .smart-health-card file, and the JWS decoded from the numeric QR text.
func exampleJWS(t *testing.T, n string) map[string]string {
	t.Helper()
	out := map[string]string{"d-jws": string(read(t, "example-"+n+"-d-jws.txt"))}
	jwss, err := shc.ParseFile(read(t, "example-"+n+"-e-file.smart-health-card"))
	if err != nil || len(jwss) != 1 {
		t.Fatalf("example %s file: %v (%d credentials)", n, err, len(jwss))
	}
	out["e-file"] = jwss[0]
	jws, err := shc.DecodeQR(string(read(t, "example-"+n+"-f-qr-code-numeric-value-0.txt")))
	if err != nil {
		t.Fatalf("example %s QR: %v", n, err)
	}
	out["f-qr"] = jws
	return out
}

func TestExamplesVerify(t *testing.T) {
	trust := exampleTrust(t)
	wantName := map[string]string{"00": "John B. Anyperson", "01": "John B. Anyperson"}
	// Example 01 is signed with the second key, the one with an x5c chain.
	wantKid := map[string]string{"00": exampleKid, "01": "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw"}
	for _, n := range []string{"00", "01"} {
		for form, jws := range exampleJWS(t, n) {
			t.Run(n+"/"+form, func(t *testing.T) {
				v, err := shc.Verify(jws, trust, exampleTime)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got := v.Patient.Name(); got != wantName[n] {
					t.Errorf("name %q, want %q", got, wantName[n])
				}
				if v.Patient.BirthDate != "1951-01-20" {
					t.Errorf("birth date %q, want 1951-01-20", v.Patient.BirthDate)
				}
				if len(v.Immunizations) != 3 || v.Immunizations[0].Code != "207" {
					t.Errorf("immunizations %+v, want 3 starting with CVX 207", v.Immunizations)
				}
				if v.KeyID != wantKid[n] {
					t.Errorf("kid %q, want %q", v.KeyID, wantKid[n])
				}
			})
		}
	}
}

func TestExample03Revoked(t *testing.T) {
	trust := exampleTrust(t)
	for form, jws := range exampleJWS(t, "03") {
		t.Run(form, func(t *testing.T) {
			v, err := shc.Verify(jws, trust, exampleTime)
			if !errors.Is(err, shc.ErrRevoked) {
				t.Fatalf("Verify error %v, want ErrRevoked", err)
			}
			if v == nil || v.RevocationID != "vwAjHdarZuc" || v.Patient.Family != "Revoked" {
				t.Errorf("verified card %+v, want the authenticated card of Johnny Revoked", v)
			}
		})
	}
}

// Without the CRL, a key announcing crlVersion 1 cannot vouch for a
// revocable card: verification fails closed.
func TestMissingCRLFailsClosed(t *testing.T) {
	var tr shc.Trust
	if err := tr.AddJWKS(read(t, "issuer/.well-known/jwks.json"), ""); err != nil {
		t.Fatal(err)
	}
	_, err := shc.Verify(string(read(t, "example-00-d-jws.txt")), &tr, exampleTime)
	if err == nil || !strings.Contains(err.Error(), "cannot check revocation") {
		t.Fatalf("Verify error %v, want cannot check revocation", err)
	}
	// Example 01 has no rid: revocation does not apply.
	if _, err := shc.Verify(string(read(t, "example-01-d-jws.txt")), &tr, exampleTime); err != nil {
		t.Fatalf("example 01 without CRL: %v", err)
	}
}

func TestTimeChecks(t *testing.T) {
	trust := exampleTrust(t)
	jws03 := string(read(t, "example-03-d-jws.txt"))
	jws01 := string(read(t, "example-01-d-jws.txt"))
	for _, tc := range []struct {
		name, jws string
		at        time.Time
		want      string
	}{
		{"before nbf", jws01, time.Date(2023, 6, 22, 16, 19, 0, 0, time.UTC), "not valid before"},
		{"after exp", jws03, time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := shc.Verify(tc.jws, trust, tc.at)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify error %v, want %q", err, tc.want)
			}
			if v == nil {
				t.Errorf("no card returned although the signature verified")
			}
		})
	}
}

// Every negative vector of the upstream validator's test data is rejected.
// upstream is the error the SMART Health Cards dev tools report; ours is a
// part of our reason.
func TestNegativeVectors(t *testing.T) {
	trust := exampleTrust(t)
	for _, tc := range []struct {
		file, upstream, ours string
	}{
		{"test-example-00-d-jws-invalid-signature.txt", "JWS_VERIFICATION_ERROR", "signature does not verify"},
		{"test-example-00-d-jws-der-signature.txt", "SIGNATURE_FORMAT_ERROR", "not ASN.1 DER"},
		{"test-example-00-d-jws-no_jws_header_alg.txt", "JWS_HEADER_ERROR, JWS_VERIFICATION_ERROR", "no alg"},
		{"test-example-00-d-jws-no_jws_header_kid.txt", "JWS_HEADER_ERROR, JWS_VERIFICATION_ERROR", "no kid"},
		{"test-example-00-d-jws-no_jws_header_zip.txt", "JWS_HEADER_ERROR, JWS_VERIFICATION_ERROR", "no zip"},
		{"test-example-00-d-jws-wrong_jws_header_kid.txt", "JWS_VERIFICATION_ERROR", "no trusted issuer key"},
		{"test-example-00-d-jws-no_deflate.txt", "INFLATION_ERROR, JWS_HEADER_ERROR", "no zip"},
		{"test-example-00-e-file-invalid_deflate.smart-health-card", "INFLATION_ERROR", "not raw DEFLATE"},
		{"test-example-00-d-jws-trailing_chars.txt", "TRAILING_CHARACTERS", "trailing characters"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := read(t, "negative/"+tc.file)
			jws := string(data)
			if strings.HasSuffix(tc.file, ".smart-health-card") {
				jwss, err := shc.ParseFile(data)
				if err != nil {
					t.Fatal(err)
				}
				jws = jwss[0]
			}
			// Their nbf is in 2021; judge them when they were fresh.
			v, err := shc.Verify(jws, trust, time.Date(2021, 12, 1, 0, 0, 0, 0, time.UTC))
			if err == nil {
				t.Fatalf("Verify accepted a vector upstream rejects with %s", tc.upstream)
			}
			if !strings.Contains(err.Error(), tc.ours) {
				t.Errorf("reason %q, want it to say %q (upstream: %s)", err, tc.ours, tc.upstream)
			}
			if !errors.Is(err, vax.ErrInvalid) {
				t.Errorf("error code %s, want Invalid", vax.ErrorCode(err))
			}
			if v != nil && !strings.Contains(tc.upstream, "INFLATION") {
				t.Errorf("a card was returned for a vector whose signature must not verify")
			}
		})
	}
}

func TestNegativeKeys(t *testing.T) {
	for _, tc := range []struct {
		file, upstream, ours string
	}{
		{"wrong_curve_key.json", "INVALID_KEY_WRONG_CRV", `crv is "P-384"`},
		{"wrong_alg_key.json", "INVALID_KEY_WRONG_ALG", `alg is "ES256K"`},
		{"wrong_kid_key.json", "INVALID_KEY_WRONG_KID", "not the key's RFC 7638 thumbprint"},
		{"wrong_kty_key.json", "INVALID_KEY_WRONG_KTY", `kty is "RSA"`},
		{"wrong_use_key.json", "INVALID_KEY_WRONG_USE", `use is "enc"`},
		{"badjwks/.well-known/jwks.json", "(JWKS parse failure)", "not a JSON Web Key Set"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var tr shc.Trust
			err := tr.AddJWKS(read(t, "negative/"+tc.file), "")
			if err == nil {
				t.Fatalf("AddJWKS accepted a key set upstream rejects with %s", tc.upstream)
			}
			if !strings.Contains(err.Error(), tc.ours) {
				t.Errorf("reason %q, want it to say %q (upstream: %s)", err, tc.ours, tc.upstream)
			}
			if tr.Len() != 0 {
				t.Errorf("%d keys trusted after a refused key set, want 0", tr.Len())
			}
		})
	}
}

func TestJWKRefusesPrivateKey(t *testing.T) {
	key := newKey(t)
	j, err := shc.PublicJWK(&key.PublicKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(j)
	withD := strings.Replace(string(b), `"kty"`, `"d":"AAAA","kty"`, 1)
	if _, err := shc.ParseJWK([]byte(withD)); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("ParseJWK with d: %v, want refusal", err)
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sampleCard(t testing.TB) shc.Card {
	t.Helper()
	code, err := shc.CVX(masterdata.Vaccines()[0]) // Covishield
	if err != nil {
		t.Fatal(err)
	}
	return shc.Card{
		Issuer:       "https://vaxport.example",
		NotBefore:    time.Date(2021, 9, 17, 10, 0, 0, 0, time.UTC),
		RevocationID: "c2VjcmV0LXJpZA",
		Patient:      shc.Patient{Family: "Sharma", Given: []string{"Asha"}, BirthDate: "1985"},
		Immunizations: []shc.Immunization{
			{System: shc.SystemCVX, Code: code, Date: vax.Date{Year: 2021, Month: 5, Day: 1}, Performer: "PHC Anandpur"},
			{System: shc.SystemCVX, Code: code, Date: vax.Date{Year: 2021, Month: 8, Day: 2}, Performer: "PHC Anandpur"},
		},
	}
}

func TestCVX(t *testing.T) {
	want := map[string]string{masterdata.Covishield: "210", masterdata.Covaxin: "502", masterdata.SputnikV: "505"}
	for _, v := range masterdata.Vaccines() {
		got, err := shc.CVX(v)
		if err != nil || got != want[v.Name] {
			t.Errorf("CVX(%s) = %q, %v, want %q", v.Name, got, err, want[v.Name])
		}
	}
	if _, err := shc.CVX(vax.Vaccine{Name: "X", DCCProduct: "unknown"}); err == nil {
		t.Error("CVX of an unknown product: no error")
	}
}

func TestRoundTrip(t *testing.T) {
	key := newKey(t)
	kid, err := keyring.Thumbprint(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	card := sampleCard(t)
	jws, err := shc.Sign(card, kid, key)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}

	// Our verifier, through the QR text.
	qrText, err := shc.EncodeQR(jws)
	if err != nil {
		t.Fatal(err)
	}
	back, err := shc.DecodeQR(qrText)
	if err != nil || back != jws {
		t.Fatalf("DecodeQR(EncodeQR(jws)) = %q, %v", back, err)
	}
	jwk, err := shc.PublicJWK(&key.PublicKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(shc.JWKS{Keys: []shc.JWK{jwk}})
	var tr shc.Trust
	if err := tr.AddJWKS(set, "https://vaxport.example"); err != nil {
		t.Fatal(err)
	}
	v, err := shc.Verify(jws, &tr, card.NotBefore.Add(time.Hour))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if diff := cmp.Diff(card, v.Card); diff != "" {
		t.Errorf("verified card differs (-signed +verified):\n%s", diff)
	}

	// Independently, with go-jose: the signature, the header and the payload.
	obj, err := jose.ParseSignedCompact(jws, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("go-jose parse: %v", err)
	}
	hdr := obj.Signatures[0].Protected
	if hdr.KeyID != kid || hdr.Algorithm != "ES256" || hdr.ExtraHeaders["zip"] != "DEF" {
		t.Errorf("go-jose header %+v, want kid %s, ES256, zip DEF", hdr, kid)
	}
	compressed, err := obj.Verify(&key.PublicKey)
	if err != nil {
		t.Fatalf("go-jose verify: %v", err)
	}
	payload, err := io.ReadAll(flate.NewReader(bytes.NewReader(compressed)))
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	want, err := shc.Payload(card)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(payload, want) {
		t.Errorf("go-jose payload %s, want %s", payload, want)
	}

	// A card for another issuer is refused by an issuer-bound key.
	other := card
	other.Issuer = "https://elsewhere.example"
	jws2, err := shc.Sign(other, kid, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shc.Verify(jws2, &tr, card.NotBefore.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("issuer-bound verify of a foreign iss: %v, want refusal", err)
	}
}

func TestSignRefusesWrongKid(t *testing.T) {
	if _, err := shc.Sign(sampleCard(t), "not-the-thumbprint", newKey(t)); err == nil {
		t.Fatal("Sign with a wrong kid: no error")
	}
}

func TestPayloadGolden(t *testing.T) {
	card := sampleCard(t)
	card.Expires = time.Date(2022, 9, 17, 10, 0, 0, 0, time.UTC)
	got, err := shc.Payload(card)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"iss":"https://vaxport.example","nbf":1631872800,"exp":1663408800,"vc":{"type":["https://smarthealth.cards#health-card"],"credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"resource:0","resource":{"resourceType":"Patient","name":[{"family":"Sharma","given":["Asha"]}],"birthDate":"1985"}},{"fullUrl":"resource:1","resource":{"resourceType":"Immunization","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"210"}]},"patient":{"reference":"resource:0"},"occurrenceDateTime":"2021-05-01","performer":[{"actor":{"display":"PHC Anandpur"}}]}},{"fullUrl":"resource:2","resource":{"resourceType":"Immunization","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"210"}]},"patient":{"reference":"resource:0"},"occurrenceDateTime":"2021-08-02","performer":[{"actor":{"display":"PHC Anandpur"}}]}}]}},"rid":"c2VjcmV0LXJpZA"}}`
	if string(got) != want {
		t.Errorf("payload\n got %s\nwant %s", got, want)
	}
}

func TestPayloadRefusesBadCards(t *testing.T) {
	for name, mutate := range map[string]func(*shc.Card){
		"no issuer":       func(c *shc.Card) { c.Issuer = "" },
		"trailing slash":  func(c *shc.Card) { c.Issuer += "/" },
		"no nbf":          func(c *shc.Card) { c.NotBefore = time.Time{} },
		"no name":         func(c *shc.Card) { c.Patient = shc.Patient{BirthDate: "1985"} },
		"bad birth date":  func(c *shc.Card) { c.Patient.BirthDate = "1985-13" },
		"no immunization": func(c *shc.Card) { c.Immunizations = nil },
		"bad rid":         func(c *shc.Card) { c.RevocationID = "has.dot" },
		"exp before nbf":  func(c *shc.Card) { c.Expires = c.NotBefore.Add(-time.Hour) },
	} {
		t.Run(name, func(t *testing.T) {
			c := sampleCard(t)
			mutate(&c)
			if _, err := shc.Payload(c); !errors.Is(err, vax.ErrInvalid) {
				t.Errorf("Payload error %v, want Invalid", err)
			}
		})
	}
}

func TestDecodeQRChunks(t *testing.T) {
	jws := string(read(t, "example-00-d-jws.txt"))
	whole, err := shc.EncodeQR(jws)
	if err != nil {
		t.Fatal(err)
	}
	digits := strings.TrimPrefix(whole, "shc:/")
	third := len(digits) / 3 &^ 1
	chunks := []string{
		"shc:/2/3/" + digits[third:2*third],
		"shc:/1/3/" + digits[:third],
		"SHC:/3/3/" + digits[2*third:],
	}
	got, err := shc.DecodeQR(chunks...)
	if err != nil || got != jws {
		t.Fatalf("DecodeQR(chunks) = %.40q, %v, want the JWS", got, err)
	}
	for name, bad := range map[string][]string{
		"missing chunk":   chunks[:2],
		"duplicate chunk": {chunks[0], chunks[0], chunks[2]},
		"odd digits":      {"shc:/123"},
		"pair above 77":   {"shc:/7800"},
		"no prefix":       {"HC1:ABC"},
		"letters":         {"shc:/12ab"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := shc.DecodeQR(bad...); !errors.Is(err, vax.ErrInvalid) {
				t.Errorf("DecodeQR error %v, want Invalid", err)
			}
		})
	}
}

func TestKeySetFromKeyring(t *testing.T) {
	kr, err := keyring.Init(t.TempDir(), rand.Reader, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	set, err := shc.KeySet(kr.CertKeys(), map[string]int{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(set)
	var tr shc.Trust
	if err := tr.AddJWKS(b, ""); err != nil {
		t.Fatalf("our own JWKS does not load: %v", err)
	}
	kid, _ := kr.CertKey()
	if got := tr.KeyIDs(); len(got) != 1 || got[0] != kid {
		t.Errorf("trusted kids %v, want [%s]", got, kid)
	}
	if strings.Contains(string(b), `"d"`) {
		t.Errorf("JWKS leaks a private member: %s", b)
	}
}

func FuzzParseJWS(f *testing.F) {
	f.Add(string(read(f, "example-00-d-jws.txt")))
	f.Add(string(read(f, "negative/test-example-00-d-jws-trailing_chars.txt")))
	f.Add("a.b.c")
	f.Add("..")
	trust := exampleTrust(f)
	f.Fuzz(func(t *testing.T, s string) {
		j, err := shc.ParseJWS(s)
		if err != nil {
			return
		}
		_ = j.CheckHeader()
		_, _ = j.Inflate()
		_, _ = shc.Verify(s, trust, exampleTime)
	})
}

func FuzzDecodeQR(f *testing.F) {
	f.Add(string(read(f, "example-00-f-qr-code-numeric-value-0.txt")))
	f.Add("shc:/1/2/0011")
	f.Add("shc:/77")
	f.Fuzz(func(t *testing.T, s string) {
		jws, err := shc.DecodeQR(strings.Split(s, "\n")...)
		if err != nil {
			return
		}
		if len(strings.Split(s, "\n")) == 1 && !strings.Contains(s[5:], "/") {
			back, err := shc.EncodeQR(jws)
			if err == nil && !strings.EqualFold(back, s) {
				t.Fatalf("EncodeQR(DecodeQR(%q)) = %q", s, back)
			}
		}
	})
}

func FuzzParsePayload(f *testing.F) {
	f.Add(read(f, "example-00-c-jws-payload-minified.json"))
	f.Add(read(f, "example-03-c-jws-payload-minified.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = shc.ParsePayload(b)
	})
}

func BenchmarkSign(b *testing.B) {
	key := newKey(b)
	kid, err := keyring.Thumbprint(&key.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	card := sampleCard(b)
	b.ReportAllocs()
	for b.Loop() {
		jws, err := shc.Sign(card, kid, key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := shc.EncodeQR(jws); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	key := newKey(b)
	kid, _ := keyring.Thumbprint(&key.PublicKey)
	card := sampleCard(b)
	jws, err := shc.Sign(card, kid, key)
	if err != nil {
		b.Fatal(err)
	}
	qrText, _ := shc.EncodeQR(jws)
	jwk, _ := shc.PublicJWK(&key.PublicKey, 0)
	set, _ := json.Marshal(shc.JWKS{Keys: []shc.JWK{jwk}})
	var tr shc.Trust
	if err := tr.AddJWKS(set, ""); err != nil {
		b.Fatal(err)
	}
	at := card.NotBefore.Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		j, err := shc.DecodeQR(qrText)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := shc.Verify(j, &tr, at); err != nil {
			b.Fatal(err)
		}
	}
}
