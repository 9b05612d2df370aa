package qr_test

import (
	"errors"
	"image"
	"image/color"
	"os"
	"strings"
	"testing"

	"github.com/vaxport/vaxport/internal/cert/qr"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestEncodeDecode(t *testing.T) {
	shcText, err := os.ReadFile("../testdata/shc/example-00-f-qr-code-numeric-value-0.txt")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		text       string
		maxVersion int
	}{
		// The specification's example fits version 22 only in numeric mode.
		"shc":   {string(shcText), 22},
		"hc1":   {"HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IDOEZPH3JAVUIJM1G4B56%N", 40},
		"other": {"hello, verifier", 40},
		"chunk": {"shc:/1/2/" + strings.Repeat("56", 100), 40},
	} {
		t.Run(name, func(t *testing.T) {
			code, err := qr.Encode(tc.text)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if v := code.Version(); v > tc.maxVersion || code.Size() != 17+4*v {
				t.Errorf("version %d (size %d), want at most %d", v, code.Size(), tc.maxVersion)
			}
			png, err := code.PNG(3)
			if err != nil {
				t.Fatal(err)
			}
			if !qr.IsPNG(png) {
				t.Fatal("PNG output lacks the PNG signature")
			}
			got, err := qr.DecodePNG(png)
			if err != nil || got != tc.text {
				t.Errorf("DecodePNG = %.30q…, %v, want %.30q…", got, err, tc.text)
			}
		})
	}
}

func TestNumericModeIsSmaller(t *testing.T) {
	digits := "shc:/" + strings.Repeat("0123456789", 100)
	numeric, err := qr.Encode(digits)
	if err != nil {
		t.Fatal(err)
	}
	bytesMode, err := qr.Encode("x" + digits) // not an SHC text: general segmentation
	if err != nil {
		t.Fatal(err)
	}
	if numeric.Version() >= bytesMode.Version() {
		t.Errorf("SHC text at version %d, general text at %d: want the SHC one smaller", numeric.Version(), bytesMode.Version())
	}
}

func TestDecodeVectorPNG(t *testing.T) {
	b, err := os.ReadFile("../testdata/dcc/DE/2DCode/png/1.png")
	if err != nil {
		t.Fatal(err)
	}
	text, err := qr.DecodePNG(b)
	if err != nil || !strings.HasPrefix(text, "HC1:") {
		t.Errorf("DecodePNG = %.20q, %v, want an HC1 text", text, err)
	}
}

func TestDecodeNothing(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 100, 100))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.Set(50, 50, color.Black)
	if _, err := qr.Decode(img); !errors.Is(err, vax.ErrInvalid) {
		t.Errorf("Decode(blank) error %v, want Invalid", err)
	}
	if _, err := qr.DecodePNG([]byte("\x89PNG\r\n\x1a\nnot really")); !errors.Is(err, vax.ErrInvalid) {
		t.Errorf("DecodePNG(garbage) error %v, want Invalid", err)
	}
	if _, err := qr.Encode(strings.Repeat("x", 8000)); !errors.Is(err, vax.ErrInvalid) {
		t.Errorf("Encode(too long) error %v, want Invalid", err)
	}
}

// FuzzDecodePNG: whatever bytes arrive as an uploaded image, the decoder
// answers a text or an Invalid error, never a panic or another error.
func FuzzDecodePNG(f *testing.F) {
	if b, err := os.ReadFile("../testdata/dcc/DE/2DCode/png/1.png"); err == nil {
		f.Add(b)
	}
	code, err := qr.Encode("shc:/5676290952432060346029243740446031222959532654603460292540772804336028702864716745222809286133314564376531415906402203064504590856435503414245413640370636654171372412363803043756220467374075323239254334433260573601064529315312707424284350386122127671665437102572713671033059320411285934033603")
	if err != nil {
		f.Fatal(err)
	}
	if b, err := code.PNG(2); err == nil {
		f.Add(b)
	}
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := qr.DecodePNG(b); err != nil && !errors.Is(err, vax.ErrInvalid) {
			t.Errorf("DecodePNG error %v, want Invalid", err)
		}
	})
}
