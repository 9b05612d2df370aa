package captcha_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/captcha"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// t0 is when every test starts: whole seconds, as the store keeps times.
var t0 = time.Date(2021, time.May, 1, 10, 0, 0, 0, time.UTC)

const (
	alice = "10000000-0000-4000-8000-000000000001"
	bob   = "10000000-0000-4000-8000-000000000002"
)

func newKeys(t *testing.T) *keyring.Keyring {
	t.Helper()
	keys, err := keyring.Init(filepath.Join(t.TempDir(), "keys"), nil, t0)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return keys
}

func newService(t *testing.T, st vax.Store, keys *keyring.Keyring, clock vax.Clock) *captcha.Service {
	t.Helper()
	svc, err := captcha.New(captcha.Config{Store: st, Keys: keys, Clock: clock})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return svc
}

func issue(t *testing.T, svc *captcha.Service, account string) (answer string, svg []byte) {
	t.Helper()
	answer, svg, err := captcha.IssueWithAnswer(svc, t.Context(), account)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return answer, svg
}

// wrong returns an answer that differs from answer in its first character.
func wrong(answer string) string {
	for _, c := range captcha.Alphabet {
		if byte(c) != answer[0] {
			return string(c) + answer[1:]
		}
	}
	panic("one-character alphabet")
}

// wantRefused fails unless err is the captcha refusal.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, &vax.Error{Code: vax.Invalid, Reason: captcha.ReasonInvalid}) {
		t.Errorf("%s: got %v, want Invalid %s", what, err, captcha.ReasonInvalid)
		return
	}
	if msg := vax.ErrorMessage(err); msg != "captcha invalid or expired: get a new one" {
		t.Errorf("%s: message %q, want the captcha refusal", what, msg)
	}
}

func TestNewNeedsStoreAndKeys(t *testing.T) {
	if _, err := captcha.New(captcha.Config{Keys: newKeys(t)}); vax.ErrorCode(err) != vax.Internal {
		t.Errorf("New without a store: got %v, want Internal", err)
	}
	if _, err := captcha.New(captcha.Config{Store: backendtest.SQLite(t)}); vax.ErrorCode(err) != vax.Internal {
		t.Errorf("New without keys: got %v, want Internal", err)
	}
}

// picture is what a test reads from an SVG document.
type picture struct {
	root          xml.StartElement
	elements      []string // every element's name, in document order
	glyphs, noise int      // paths of polylines only; paths with curves
}

// parse decodes svg as XML (failing the test if it is not) and counts its
// paths: glyphs are drawn as polylines (M, L), noise as cubic curves (C).
func parse(t *testing.T, svg []byte) picture {
	t.Helper()
	var p picture
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not valid XML: %v\n%s", err, svg)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if len(p.elements) == 0 {
			p.root = el
		}
		p.elements = append(p.elements, el.Name.Local)
		if el.Name.Local != "path" {
			continue
		}
		for _, a := range el.Attr {
			if a.Name.Local != "d" {
				continue
			}
			if strings.Contains(a.Value, "C") {
				p.noise++
			} else {
				p.glyphs++
			}
		}
	}
	return p
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestPicture(t *testing.T) {
	svc := newService(t, backendtest.SQLite(t), newKeys(t), vax.NewManualClock(t0))
	seen := map[string]bool{}
	for i := range 200 {
		answer, svg := issue(t, svc, alice)
		if len(answer) != 5 || strings.Trim(answer, captcha.Alphabet) != "" {
			t.Fatalf("answer %q: want 5 characters of %q", answer, captcha.Alphabet)
		}
		if len(svg) >= 8<<10 {
			t.Errorf("picture %d is %d bytes, want under 8 KiB", i, len(svg))
		}
		if bytes.Contains(svg, []byte(answer)) {
			t.Errorf("picture %d holds its answer %q in its source", i, answer)
		}
		p := parse(t, svg)
		if p.root.Name.Local != "svg" || p.root.Name.Space != "http://www.w3.org/2000/svg" || attr(p.root, "viewBox") != "0 0 150 50" {
			t.Fatalf("root %v %v: want an svg element with viewBox 0 0 150 50", p.root.Name, p.root.Attr)
		}
		for _, name := range p.elements {
			if name != "svg" && name != "rect" && name != "path" {
				t.Fatalf("picture has a <%s> element: want only svg, rect and path (never text)", name)
			}
		}
		for _, d := range glyphData(t, svg) {
			for i, f := range strings.FieldsFunc(d, func(r rune) bool { return r == 'M' || r == 'L' || r == ' ' }) {
				v, err := strconv.ParseFloat(f, 64)
				if limit := []float64{150, 50}[i%2]; err != nil || v < 0 || v > limit {
					t.Fatalf("glyph coordinate %q (%v): want a number in [0, %v]", f, err, limit)
				}
			}
		}
		if p.glyphs != 5 || p.noise < 1 {
			t.Errorf("picture has %d glyph paths, %d noise curves; want 5 and some", p.glyphs, p.noise)
		}
		if seen[string(svg)] {
			t.Errorf("picture %d repeats an earlier one", i)
		}
		seen[string(svg)] = true
	}
}

// TestPictureDataDiffers checks that the path data of one character differs
// between pictures, so the source cannot be read by matching known paths.
func TestPictureDataDiffers(t *testing.T) {
	svc := newService(t, backendtest.SQLite(t), newKeys(t), vax.NewManualClock(t0))
	first := map[byte]string{} // character → its path's d, minus coordinates
	var same, compared int
	for range 300 {
		answer, svg := issue(t, svc, alice)
		ds := glyphData(t, svg)
		for i := range answer {
			shape := strings.Map(func(r rune) rune {
				if r == 'M' || r == 'L' {
					return r
				}
				return -1
			}, ds[i])
			if prev, ok := first[answer[i]]; ok {
				compared++
				if prev == shape {
					same++
				}
			} else {
				first[answer[i]] = shape
			}
		}
	}
	// Some simple characters may repeat a command sequence by chance; most
	// must not.
	if compared < 100 || same*4 > compared {
		t.Errorf("%d of %d later drawings of a character had its first drawing's commands; want under a quarter", same, compared)
	}
}

// glyphData returns the d attributes of the glyph paths of svg, in order.
func glyphData(t *testing.T, svg []byte) []string {
	t.Helper()
	var ds []string
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return ds
		}
		if err != nil {
			t.Fatalf("SVG: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "path" {
			if d := attr(el, "d"); !strings.Contains(d, "C") {
				ds = append(ds, d)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	for _, b := range backendtest.All {
		t.Run(b.Name, func(t *testing.T) {
			clock := vax.NewManualClock(t0)
			svc := newService(t, b.Open(t), newKeys(t), clock)
			ctx := t.Context()
			check := func(account, answer string) error { return svc.Check(ctx, account, answer) }

			t.Run("right", func(t *testing.T) {
				answer, _ := issue(t, svc, alice)
				if err := check(alice, answer); err != nil {
					t.Errorf("Check(right answer) = %v, want nil", err)
				}
			})
			t.Run("any case, spaces ignored", func(t *testing.T) {
				answer, _ := issue(t, svc, alice)
				typed := " " + strings.ToLower(answer[:2]) + " " + answer[2:4] + "\t" + strings.ToLower(answer[4:]) + " "
				if err := check(alice, typed); err != nil {
					t.Errorf("Check(%q for %q) = %v, want nil", typed, answer, err)
				}
			})
			t.Run("used twice", func(t *testing.T) {
				answer, _ := issue(t, svc, alice)
				if err := check(alice, answer); err != nil {
					t.Fatalf("first Check = %v, want nil", err)
				}
				wantRefused(t, "second Check", check(alice, answer))
			})
			t.Run("wrong uses it up", func(t *testing.T) {
				answer, _ := issue(t, svc, alice)
				wantRefused(t, "wrong answer", check(alice, wrong(answer)))
				wantRefused(t, "right answer after a wrong one", check(alice, answer))
			})
			t.Run("missing", func(t *testing.T) {
				answer, _ := issue(t, svc, alice)
				wantRefused(t, "empty answer", check(alice, ""))
				wantRefused(t, "blank answer", check(alice, "  "))
				// Nothing was tried: the challenge is still there.
				if err := check(alice, answer); err != nil {
					t.Errorf("Check after a missing answer = %v, want nil", err)
				}
			})
			t.Run("never drawn", func(t *testing.T) {
				wantRefused(t, "no challenge", check(bob, "ABCDE"))
				wantRefused(t, "account id not a UUID", check("not-a-uuid", "ABCDE"))
			})
			t.Run("expired", func(t *testing.T) {
				answer, _ := issue(t, svc, alice)
				clock.Advance(captcha.DefaultTTL - time.Second)
				if err := check(alice, answer); err != nil {
					t.Errorf("Check a second before expiry = %v, want nil", err)
				}
				answer, _ = issue(t, svc, alice)
				clock.Advance(captcha.DefaultTTL)
				wantRefused(t, "Check at expiry", check(alice, answer))
			})
			t.Run("replaced", func(t *testing.T) {
				old, _ := issue(t, svc, alice)
				answer, _ := issue(t, svc, alice)
				if old == answer {
					t.Skip("both pictures drew the same answer")
				}
				if err := check(alice, answer); err != nil {
					t.Errorf("Check(the new answer) = %v, want nil", err)
				}
				// One challenge per account: nothing is left for the old one.
				wantRefused(t, "the previous picture's answer after the new one", check(alice, old))

				old, _ = issue(t, svc, alice)
				answer, _ = issue(t, svc, alice)
				if old != answer {
					wantRefused(t, "the previous picture's answer", check(alice, old))
				}
			})
			t.Run("another account's answer", func(t *testing.T) {
				answerA, _ := issue(t, svc, alice)
				answerB, _ := issue(t, svc, bob)
				if answerA == answerB {
					t.Skip("both drew the same answer")
				}
				wantRefused(t, "alice's answer for bob", check(bob, answerA))
				if err := check(alice, answerA); err != nil {
					t.Errorf("Check(alice's own answer) = %v, want nil", err)
				}
			})
			t.Run("after a key rotation", func(t *testing.T) {
				keys := newKeys(t)
				svc2 := newService(t, b.Open(t), keys, clock)
				answer, _ := issue(t, svc2, alice)
				if _, err := keys.Rotate(keyring.KindPII, nil, t0); err != nil {
					t.Fatalf("Rotate: %v", err)
				}
				if err := svc2.Check(ctx, alice, answer); err != nil {
					t.Errorf("Check of a challenge hashed with the previous key = %v, want nil", err)
				}
			})
			t.Run("race", func(t *testing.T) {
				answer, _ := issue(t, svc, alice)
				const checkers = 8
				errs := make(chan error, checkers)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for range checkers {
					wg.Go(func() {
						<-start
						errs <- check(alice, answer)
					})
				}
				close(start)
				wg.Wait()
				close(errs)
				var ok int
				for err := range errs {
					if err == nil {
						ok++
						continue
					}
					wantRefused(t, "a concurrent Check", err)
				}
				if ok != 1 {
					t.Errorf("%d concurrent Checks of the right answer passed, want exactly 1", ok)
				}
			})
		})
	}
}

// TestAcrossNodes draws on one node and checks on another: two store
// handles (own pools) on one PostgreSQL database, one keyring directory.
func TestAcrossNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	open := func() *postgres.Store {
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{})
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA := open()
	if err := stA.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "keys")
	keysA, err := keyring.Init(dir, nil, t0)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	keysB, err := keyring.Open(dir)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	clock := vax.NewManualClock(t0)
	nodeA, nodeB := newService(t, stA, keysA, clock), newService(t, open(), keysB, clock)

	answer, _ := issue(t, nodeA, alice)
	if err := nodeB.Check(t.Context(), alice, answer); err != nil {
		t.Errorf("Check on node B of node A's challenge = %v, want nil", err)
	}
	wantRefused(t, "the same answer again on node A", nodeA.Check(t.Context(), alice, answer))

	answer, _ = issue(t, nodeA, alice)
	wantRefused(t, "a wrong answer on node B", nodeB.Check(t.Context(), alice, wrong(answer)))
	wantRefused(t, "the right answer on node A after it", nodeA.Check(t.Context(), alice, answer))
}

// TestIssueFailsWithoutRandomness checks that a broken random source is an
// error, not a predictable picture.
func TestIssueFailsWithoutRandomness(t *testing.T) {
	svc, err := captcha.New(captcha.Config{Store: backendtest.SQLite(t), Keys: newKeys(t), Random: strings.NewReader("short")})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := svc.Issue(t.Context(), alice); vax.ErrorCode(err) != vax.Internal {
		t.Errorf("Issue with 5 random bytes: got %v, want Internal", err)
	}
}
