package keyring

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// Keyring is a loaded keyring directory. It is safe for concurrent use:
// hashing, sealing and signing read an immutable snapshot that Rotate and
// Reload swap atomically.
type Keyring struct {
	dir string
	mu  sync.Mutex // serialises Rotate and Reload within this process
	st  atomic.Pointer[state]
}

// KeyInfo describes one key without revealing it.
type KeyInfo struct {
	Kind    Kind
	ID      string
	Created time.Time
	Active  bool   // the key of its kind that hashes, seals or signs
	Public  string // cert: the RFC 7638 JWK thumbprint of the public key (equal to ID); otherwise ""
}

// Init creates a keyring in dir (made 0700 if absent) with one key of each
// kind, drawn from random (crypto/rand if nil) and created at now. It
// refuses, with a Conflict error, if dir already holds a keyring.
func Init(dir string, random io.Reader, now time.Time) (*Keyring, error) {
	if random == nil {
		random = rand.Reader
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot create keyring directory %s", dir))
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	_, err = os.Lstat(filepath.Join(dir, manifestName))
	if err == nil {
		return nil, vax.Errorf(vax.Conflict, "a keyring already exists in %s: refusing to replace it (use `vaxport keys rotate` to add keys)", dir)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot read keyring directory %s", dir))
	}

	id := make([]byte, keyringIDSize)
	if _, err := io.ReadFull(random, id); err != nil {
		return nil, vax.Wrap(vax.Internal, err, "cannot read random bytes for the keyring id")
	}
	st := &state{id: hex.EncodeToString(id), byID: make(map[string]*key)}
	created := now.UTC().Truncate(time.Second)
	for _, kind := range kinds {
		k, err := generate(kind, random, created, st.byID)
		if err != nil {
			return nil, err
		}
		st.keys = append(st.keys, k)
		st.byID[k.id] = k
	}
	if err := save(dir, st.manifest(), st.keys); err != nil {
		return nil, err
	}
	// Read back what was written, so the result is exactly what Open gives.
	loaded, err := load(dir)
	if err != nil {
		return nil, fmt.Errorf("read back new keyring: %w", err)
	}
	kr := &Keyring{dir: dir}
	kr.st.Store(loaded)
	return kr, nil
}

// Open loads and validates the keyring in dir. A missing keyring is a
// NotFound error telling the operator how to create one; a damaged keyring,
// or one whose files others may read, is Invalid.
func Open(dir string) (*Keyring, error) {
	st, err := load(dir)
	if err != nil {
		return nil, err
	}
	kr := &Keyring{dir: dir}
	kr.st.Store(st)
	return kr, nil
}

// Dir returns the keyring's directory.
func (k *Keyring) Dir() string { return k.dir }

// String names the keyring by directory and fingerprint, so that printing a
// *Keyring never prints keys.
func (k *Keyring) String() string {
	return fmt.Sprintf("keyring %s (fingerprint %s)", k.dir, k.Fingerprint())
}

// GoString is String, for %#v.
func (k *Keyring) GoString() string { return k.String() }

// Rotate adds a new key of kind, created at now from random (crypto/rand if
// nil), which becomes the active key of its kind; older keys stay. It first
// re-reads the directory, so a rotation another node made is kept, and holds
// the directory's lock while writing. now may not be earlier than the
// current active key's creation time (a Conflict: a node's clock is behind).
func (k *Keyring) Rotate(kind Kind, random io.Reader, now time.Time) (KeyInfo, error) {
	if !kind.valid() {
		return KeyInfo{}, vax.Errorf(vax.Invalid, "unknown key kind %q: want pii, token or cert", kind)
	}
	if random == nil {
		random = rand.Reader
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	unlock, err := lockDir(k.dir)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("rotate %s key: %w", kind, err)
	}
	defer unlock()

	cur, err := load(k.dir)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("rotate %s key: %w", kind, err)
	}
	if err := checkSuccessor(k.dir, k.st.Load(), cur); err != nil {
		return KeyInfo{}, fmt.Errorf("rotate %s key: %w", kind, err)
	}
	created := now.UTC().Truncate(time.Second)
	if a := cur.active[kind]; created.Before(a.created) {
		return KeyInfo{}, vax.Errorf(vax.Conflict, "cannot rotate the %s key at %s: the active key %s was created later, at %s (is this clock behind?)",
			kind, created.Format(time.RFC3339), a.id, a.created.Format(time.RFC3339))
	}
	nk, err := generate(kind, random, created, cur.byID)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("rotate %s key: %w", kind, err)
	}
	m := cur.manifest()
	m.Keys = append(m.Keys, manifestEntry{Kind: nk.kind, ID: nk.id, Created: nk.created, File: nk.file})
	if err := save(k.dir, m, []*key{nk}); err != nil {
		return KeyInfo{}, fmt.Errorf("rotate %s key: %w", kind, err)
	}
	st, err := load(k.dir)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("rotate %s key: read back: %w", kind, err)
	}
	k.st.Store(st)
	return st.info(st.byID[nk.id]), nil
}

// Reload re-reads the directory, picking up keys another node added. The
// keyring must be the same one (same fingerprint) and still hold every key
// already loaded; otherwise Reload fails and the loaded keys stay in use.
func (k *Keyring) Reload() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	st, err := load(k.dir)
	if err != nil {
		return fmt.Errorf("reload keyring: %w", err)
	}
	if err := checkSuccessor(k.dir, k.st.Load(), st); err != nil {
		return fmt.Errorf("reload keyring: %w", err)
	}
	k.st.Store(st)
	return nil
}

// checkSuccessor checks that next, read from dir, continues old: the same
// lineage and every old key unchanged.
func checkSuccessor(dir string, old, next *state) error {
	if next.fingerprint != old.fingerprint {
		return vax.Errorf(vax.Conflict, "the keyring in %s was replaced (fingerprint %s, was %s): data protected by the old keys cannot be read with it; restore the old keyring or restart every node",
			dir, next.fingerprint, old.fingerprint)
	}
	for _, o := range old.keys {
		n := next.byID[o.id]
		if n == nil {
			return damaged(dir, nil, "key %s was removed", o.id)
		}
		same := n.kind == o.kind && n.created.Equal(o.created) && bytes.Equal(n.secret, o.secret)
		if o.priv != nil {
			same = same && n.priv != nil && o.priv.Equal(n.priv)
		}
		if !same {
			return damaged(dir, nil, "key %s was changed", o.id)
		}
	}
	return nil
}

// List describes every key, sorted by kind ("cert", "pii", "token") and
// then by creation time.
func (k *Keyring) List() []KeyInfo {
	st := k.st.Load()
	out := make([]KeyInfo, 0, len(st.keys))
	for _, key := range st.keys {
		out = append(out, st.info(key))
	}
	slices.SortStableFunc(out, func(a, b KeyInfo) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), a.Created.Compare(b.Created))
	})
	return out
}

// Fingerprint identifies the keyring's lineage: stable across Rotate,
// different for keyrings made by separate Init calls. Stores record it so a
// node with the wrong keyring refuses to start. It reveals no key material.
func (k *Keyring) Fingerprint() string { return k.st.Load().fingerprint }

func (st *state) info(k *key) KeyInfo {
	ki := KeyInfo{Kind: k.kind, ID: k.id, Created: k.created, Active: st.active[k.kind] == k}
	if k.kind == KindCert {
		ki.Public = k.id // the kid is the thumbprint, checked when loading
	}
	return ki
}

// newest returns the keys of kind, active (newest) first.
func (st *state) newest(kind Kind) []*key {
	var out []*key
	for i := len(st.keys) - 1; i >= 0; i-- {
		if st.keys[i].kind == kind {
			out = append(out, st.keys[i])
		}
	}
	return out
}

// generate makes a new key of kind from random, with a kid not in taken.
func generate(kind Kind, random io.Reader, created time.Time, taken map[string]*key) (*key, error) {
	if kind == KindCert {
		priv, err := newCertKey(random)
		if err != nil {
			return nil, err
		}
		kid, err := Thumbprint(&priv.PublicKey)
		if err != nil {
			return nil, vax.Wrap(vax.Internal, err, "cannot compute the thumbprint of a new cert key")
		}
		if taken[kid] != nil {
			return nil, vax.Errorf(vax.Internal, "new cert key %s is already in the keyring: the random source repeats", kid)
		}
		return &key{kind: kind, id: kid, created: created, file: fileName(kind, kid), priv: priv}, nil
	}
	secret := make([]byte, secretSize)
	if _, err := io.ReadFull(random, secret); err != nil {
		return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot read random bytes for a %s key", kind))
	}
	for range 10 {
		var b [4]byte
		if _, err := io.ReadFull(random, b[:]); err != nil {
			return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot read random bytes for a %s key id", kind))
		}
		kid := string(kind) + "-" + hex.EncodeToString(b[:])
		if taken[kid] != nil {
			continue
		}
		k, err := newSecretKey(manifestEntry{Kind: kind, ID: kid, Created: created, File: fileName(kind, kid)}, secret)
		if err != nil {
			return nil, vax.Wrap(vax.Internal, err, fmt.Sprintf("cannot derive subkeys of a new %s key", kind))
		}
		return k, nil
	}
	return nil, vax.Errorf(vax.Internal, "cannot find an unused %s key id: the random source repeats", kind)
}
