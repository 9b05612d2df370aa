package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

const (
	manifestName  = "keyring.json"
	lockName      = ".lock"
	formatVersion = 1
	secretSize    = 32       // bytes of a pii or token secret
	keyringIDSize = 16       // random bytes of a keyring id (hex in the manifest)
	maxFileSize   = 64 << 10 // no valid manifest or key file comes near this
	maxKIDLen     = 64       // sealed data stores the kid length in one byte

	// HKDF info strings: each subkey has its own, so no two uses share a key.
	infoHash        = "vaxport pii hash v1"
	infoSeal        = "vaxport pii seal v1"
	infoFingerprint = "vaxport keyring fingerprint v1"
)

// manifest is the JSON form of keyring.json.
type manifest struct {
	Version int             `json:"version"`
	Keyring string          `json:"keyring"`
	Keys    []manifestEntry `json:"keys"`
}

type manifestEntry struct {
	Kind    Kind      `json:"kind"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	File    string    `json:"file"`
}

// key is one loaded key. Its fields are never formatted into errors or logs.
type key struct {
	kind    Kind
	id      string
	created time.Time
	file    string

	secret []byte // pii, token: the 32-byte secret as stored

	hashKey []byte      // pii: HMAC-SHA256 key for blind indexes
	aead    cipher.AEAD // pii: AES-256-GCM with random nonces

	priv *ecdsa.PrivateKey // cert
}

// state is an immutable snapshot of a loaded keyring; Reload and Rotate
// replace it whole.
type state struct {
	id          string
	fingerprint string
	keys        []*key // manifest order: oldest first within each kind
	active      map[Kind]*key
	byID        map[string]*key
}

// notFound is the error for a directory without a keyring.
func notFound(dir string) error {
	return vax.Errorf(vax.NotFound, "no keyring in %s: run `vaxport keys init` (or serve --demo)", dir)
}

// damaged is the error for a keyring whose files are not what vaxport wrote.
// Callers pass only file names, kids and facts, never file contents.
func damaged(dir string, err error, format string, args ...any) error {
	msg := fmt.Sprintf("keyring in %s is damaged: ", dir) + fmt.Sprintf(format, args...)
	if err != nil {
		return vax.Wrap(vax.Invalid, err, msg)
	}
	return vax.Errorf(vax.Invalid, "%s", msg)
}

// checkPrivate refuses a file that the group or others may access, and a
// directory that they may write (as ssh's StrictModes does). Windows has no
// such mode bits, so the check is skipped there.
func checkPrivate(path string, fi fs.FileInfo) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	perm := fi.Mode().Perm()
	if fi.IsDir() {
		if perm&0o022 != 0 {
			return vax.Errorf(vax.Invalid, "keyring directory %s has permissions %04o: others may replace its keys; run `chmod 700 %s`", path, perm, path)
		}
		return nil
	}
	if perm&0o077 != 0 {
		return vax.Errorf(vax.Invalid, "keyring file %s has permissions %04o: it must be accessible only by its owner; run `chmod 600 %s`", path, perm, path)
	}
	return nil
}

// checkDir checks that dir exists, is a directory and is private enough.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return notFound(dir)
	}
	if err != nil {
		return vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot read keyring directory %s", dir))
	}
	if !fi.IsDir() {
		return vax.Errorf(vax.Invalid, "keyring path %s is not a directory", dir)
	}
	return checkPrivate(dir, fi)
}

// readPrivate reads dir/name after checking that it is a regular, private
// file of sane size. A missing file gives an error matching fs.ErrNotExist.
func readPrivate(dir, name string) ([]byte, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot read keyring file %s", path))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot read keyring file %s", path))
	}
	if !fi.Mode().IsRegular() {
		return nil, damaged(dir, nil, "%s is not a regular file", name)
	}
	if err := checkPrivate(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot read keyring file %s", path))
	}
	if len(data) > maxFileSize {
		return nil, damaged(dir, nil, "%s is larger than %d bytes", name, maxFileSize)
	}
	return data, nil
}

// load reads and validates the whole keyring in dir.
func load(dir string) (*state, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	data, err := readPrivate(dir, manifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(dir)
	}
	if err != nil {
		return nil, err
	}
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, damaged(dir, err, "%s is not a valid manifest", manifestName)
	}
	if dec.More() {
		return nil, damaged(dir, nil, "%s has data after the manifest", manifestName)
	}
	if m.Version != formatVersion {
		return nil, damaged(dir, nil, "%s has version %d; this vaxport reads version %d", manifestName, m.Version, formatVersion)
	}
	if id, err := hex.DecodeString(m.Keyring); err != nil || len(id) != keyringIDSize || hex.EncodeToString(id) != m.Keyring {
		return nil, damaged(dir, nil, "%s has keyring id %q, want %d lowercase hex digits", manifestName, m.Keyring, 2*keyringIDSize)
	}

	st := &state{id: m.Keyring, active: make(map[Kind]*key), byID: make(map[string]*key)}
	for i, e := range m.Keys {
		if !e.Kind.valid() {
			return nil, damaged(dir, nil, "key %d in %s has unknown kind %q", i, manifestName, e.Kind)
		}
		if !validKID(e.Kind, e.ID) {
			return nil, damaged(dir, nil, "key %d in %s has invalid id %q", i, manifestName, e.ID)
		}
		if _, dup := st.byID[e.ID]; dup {
			return nil, damaged(dir, nil, "key id %s appears twice in %s", e.ID, manifestName)
		}
		if want := fileName(e.Kind, e.ID); e.File != want {
			return nil, damaged(dir, nil, "key %s is stored in %q, want %q", e.ID, e.File, want)
		}
		if e.Created.IsZero() {
			return nil, damaged(dir, nil, "key %s has no creation time", e.ID)
		}
		if prev := st.active[e.Kind]; prev != nil && e.Created.Before(prev.created) {
			return nil, damaged(dir, nil, "key %s is listed after %s but created earlier", e.ID, prev.id)
		}
		raw, err := readPrivate(dir, e.File)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, damaged(dir, nil, "key file %s is missing", e.File)
		}
		if err != nil {
			return nil, err
		}
		k, err := decodeKey(e, raw)
		if err != nil {
			return nil, damaged(dir, err, "key file %s", e.File)
		}
		st.keys = append(st.keys, k)
		st.byID[k.id] = k
		st.active[k.kind] = k // the last of each kind wins
	}
	for _, kind := range kinds {
		if st.active[kind] == nil {
			return nil, damaged(dir, nil, "%s lists no %s key", manifestName, kind)
		}
	}
	st.fingerprint, err = fingerprint(st)
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "cannot compute keyring fingerprint")
	}
	return st, nil
}

// validKID reports whether id is a well-formed kid for kind: cert kids are
// RFC 7638 thumbprints (43 base64url characters); others are the kind, a
// dash and lowercase hex.
func validKID(kind Kind, id string) bool {
	if kind == KindCert {
		b, ok := decodeB64URL(id)
		return ok && len(b) == sha256.Size
	}
	rest, ok := strings.CutPrefix(id, string(kind)+"-")
	if !ok || len(rest) == 0 || len(id) > maxKIDLen {
		return false
	}
	for _, c := range rest {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// decodeB64URL decodes unpadded base64url strictly: one encoding per value
// (the decoder alone would skip CR and LF).
func decodeB64URL(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return b, err == nil
}

// fileName is the file that holds the key kid of kind. Cert kids may begin
// with "-", so their files carry a prefix.
func fileName(kind Kind, kid string) string {
	if kind == KindCert {
		return "cert-" + kid + ".pem"
	}
	return kid + ".key"
}

// decodeKey parses a key file. Its errors describe the shape of the file,
// never its contents.
func decodeKey(e manifestEntry, raw []byte) (*key, error) {
	if e.Kind == KindCert {
		block, rest := pem.Decode(raw)
		if block == nil || block.Type != "PRIVATE KEY" {
			return nil, errors.New("not a PEM \"PRIVATE KEY\" block")
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, errors.New("data after the PEM block")
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("not a PKCS#8 private key")
		}
		priv, ok := parsed.(*ecdsa.PrivateKey)
		if !ok || priv.Curve != elliptic.P256() {
			return nil, errors.New("not an ECDSA P-256 key")
		}
		thumb, err := Thumbprint(&priv.PublicKey)
		if err != nil {
			return nil, err
		}
		if thumb != e.ID {
			return nil, fmt.Errorf("public key thumbprint %s does not match the key id", thumb)
		}
		return &key{kind: e.Kind, id: e.ID, created: e.Created, file: e.File, priv: priv}, nil
	}
	secret, err := base64.StdEncoding.Strict().DecodeString(string(bytes.TrimSpace(raw)))
	if err != nil || len(secret) != secretSize {
		return nil, fmt.Errorf("not a %d-byte base64 secret", secretSize)
	}
	return newSecretKey(e, secret)
}

// newSecretKey builds a pii or token key from its secret, deriving the pii
// subkeys.
func newSecretKey(e manifestEntry, secret []byte) (*key, error) {
	k := &key{kind: e.Kind, id: e.ID, created: e.Created, file: e.File, secret: secret}
	if e.Kind != KindPII {
		return k, nil
	}
	var err error
	if k.hashKey, err = hkdf.Key(sha256.New, secret, nil, infoHash, 32); err != nil {
		return nil, err
	}
	sealKey, err := hkdf.Key(sha256.New, secret, nil, infoSeal, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCMWithRandomNonce(block); err != nil {
		return nil, err
	}
	return k, nil
}

// encodeKey is the file content of k.
func encodeKey(k *key) ([]byte, error) {
	if k.kind == KindCert {
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	return []byte(base64.StdEncoding.EncodeToString(k.secret) + "\n"), nil
}

// fingerprint identifies a keyring's lineage: its id and a one-way function
// of its first pii key, neither of which Rotate changes. It reveals nothing
// about key material.
func fingerprint(st *state) (string, error) {
	var first *key
	for _, k := range st.keys {
		if k.kind == KindPII {
			first = k
			break
		}
	}
	fk, err := hkdf.Key(sha256.New, first.secret, nil, infoFingerprint, 32)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(st.id)) // fixed length, so the concatenation is unambiguous
	h.Write(fk)
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// manifest returns the manifest describing st's keys.
func (st *state) manifest() manifest {
	m := manifest{Version: formatVersion, Keyring: st.id, Keys: make([]manifestEntry, 0, len(st.keys))}
	for _, k := range st.keys {
		m.Keys = append(m.Keys, manifestEntry{Kind: k.kind, ID: k.id, Created: k.created, File: k.file})
	}
	return m
}

// save writes the files of the keys in fresh, then the manifest m, each
// atomically, so that any manifest a reader sees names only complete files.
func save(dir string, m manifest, fresh []*key) error {
	for _, k := range fresh {
		data, err := encodeKey(k)
		if err != nil {
			return vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot encode key %s", k.id))
		}
		if err := writeAtomic(dir, k.file, data); err != nil {
			return err
		}
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return vax.Wrap(vax.Internal, err, "cannot encode keyring manifest")
	}
	if err := writeAtomic(dir, manifestName, append(data, '\n')); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeAtomic writes data to dir/name through a synced temporary file
// (created 0600) and a rename.
func writeAtomic(dir, name string, data []byte) (err error) {
	path := filepath.Join(dir, name)
	fail := func(err error) error {
		return vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot write keyring file %s", path))
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fail(err)
	}
	return nil
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there
	}
	d, err := os.Open(dir)
	if err != nil {
		return vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot sync keyring directory %s", dir))
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot sync keyring directory %s", dir))
	}
	return nil
}
