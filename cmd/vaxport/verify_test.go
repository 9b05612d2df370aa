package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaxport/vaxport/internal/cert"
)

const certVectors = "../../internal/cert/testdata/shc"

func runVerify(t *testing.T, stdin string, args ...string) (int, cert.Result, string) {
	t.Helper()
	if stdin != "" {
		old := verifyStdin
		verifyStdin = strings.NewReader(stdin)
		t.Cleanup(func() { verifyStdin = old })
	}
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), append([]string{"verify"}, args...), &stdout, &stderr, func(string) string { return "" })
	var res cert.Result
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("stdout is not a result: %v\n%s", err, stdout.String())
		}
	}
	return code, res, stderr.String()
}

func TestVerifyCommand(t *testing.T) {
	jwks := filepath.Join(certVectors, "issuer/.well-known/jwks.json")
	crl := filepath.Join(certVectors, "issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json")
	at := "2023-07-01T00:00:00Z"
	ex := func(name string) string { return filepath.Join(certVectors, name) }

	t.Run("valid QR text", func(t *testing.T) {
		code, res, stderr := runVerify(t, "", "--trust", jwks, "--trust", crl, "--at", at, ex("example-00-f-qr-code-numeric-value-0.txt"))
		if code != 0 || !res.Valid || res.Holder == nil || res.Holder.Name != "John B. Anyperson" {
			t.Errorf("exit %d, result %+v, stderr %q; want 0 and valid", code, res, stderr)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		jws := string(readFile(t, ex("example-01-d-jws.txt")))
		code, res, _ := runVerify(t, jws+"\n", "--trust", jwks, "--trust", crl, "--at", at, "-")
		if code != 0 || !res.Valid {
			t.Errorf("exit %d, result %+v; want 0 and valid", code, res)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		code, res, stderr := runVerify(t, "", "--trust", jwks, "--trust", crl, "--at", at, ex("example-03-e-file.smart-health-card"))
		if code != 1 || res.Valid || !res.Revoked || !strings.Contains(stderr, "revoked") {
			t.Errorf("exit %d, result %+v, stderr %q; want 1 and revoked", code, res, stderr)
		}
	})
	t.Run("expired now", func(t *testing.T) {
		code, res, _ := runVerify(t, "", "--trust", jwks, "--trust", crl, "--at", "2030-01-01T00:00:00Z", ex("example-03-d-jws.txt"))
		if code != 1 || res.Valid {
			t.Errorf("exit %d, result %+v; want 1 and invalid", code, res)
		}
	})
	for name, args := range map[string][]string{
		"no trust":    {ex("example-00-d-jws.txt")},
		"bad --at":    {"--trust", jwks, "--at", "yesterday", ex("example-00-d-jws.txt")},
		"two files":   {"--trust", jwks, ex("example-00-d-jws.txt"), ex("example-01-d-jws.txt")},
		"bad flag":    {"--trust", jwks, "--nope"},
		"empty trust": {"--trust", "", ex("example-00-d-jws.txt")},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _, stderr := runVerify(t, "", args...); code != 2 {
				t.Errorf("exit %d (stderr %q), want 2", code, stderr)
			}
		})
	}
	t.Run("bad trust file", func(t *testing.T) {
		code, _, stderr := runVerify(t, "", "--trust", filepath.Join(certVectors, "negative/wrong_kid_key.json"), ex("example-00-d-jws.txt"))
		if code != 1 || !strings.Contains(stderr, "thumbprint") {
			t.Errorf("exit %d, stderr %q; want 1 naming the bad key", code, stderr)
		}
	})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
