// Package pdftest reads a certificate PDF as a verifier holding it would:
// it prints the page to pixels (pdftoppm, from Debian's poppler-utils) and
// scans both QR codes.
package pdftest

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vaxport/vaxport/internal/cert/qr"
)

// resolutions are the dpi a page is rendered at, in turn, until a code
// reads: a printed page is scanned at many scales, and the decoder misjudges
// the module size of a few dense codes at some of them (as a phone's first
// frame may), so a code counts as readable when one of the usual print and
// scan resolutions reads it.
var resolutions = []int{200, 300, 150}

// Codes renders doc's first page and returns the texts of the QR codes in
// its lower-left and lower-right quarters: the SMART Health Card and the EU
// DCC of internal/cert/pdf's layout. A code that no resolution reads fails
// the test. Without pdftoppm the test is skipped, or fails under CI.
func Codes(t testing.TB, doc []byte) (shc, dcc string) {
	t.Helper()
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm (Debian poppler-utils) is required in CI")
		}
		t.Skip("pdftoppm not installed (apt-get install poppler-utils)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "cert.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	texts := make([]string, 2)
	for _, dpi := range resolutions {
		out := filepath.Join(dir, "page"+strconv.Itoa(dpi))
		cmd := exec.CommandContext(t.Context(), pdftoppm, "-png", "-r", strconv.Itoa(dpi), "-singlefile", in, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, b)
		}
		raw, err := os.ReadFile(out + ".png")
		if err != nil {
			t.Fatal(err)
		}
		page, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		r := page.Bounds()
		quarters := []image.Rectangle{
			image.Rect(r.Min.X, r.Min.Y+r.Dy()/2, r.Min.X+r.Dx()/2, r.Max.Y),
			image.Rect(r.Min.X+r.Dx()/2, r.Min.Y+r.Dy()/2, r.Max.X, r.Max.Y),
		}
		for i, q := range quarters {
			if texts[i] != "" {
				continue
			}
			text, err := qr.Decode(page.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(q))
			if err != nil {
				t.Logf("QR code %d of the page not read at %d dpi: %v", i+1, dpi, err)
				continue
			}
			texts[i] = text
		}
		if texts[0] != "" && texts[1] != "" {
			return texts[0], texts[1]
		}
	}
	t.Fatalf("QR codes not read at any of %v dpi (read: SHC %v, DCC %v)", resolutions, texts[0] != "", texts[1] != "")
	return "", ""
}
