// Package qr draws and reads the QR codes that carry certificates.
//
// Encode picks the QR segment modes each certificate format needs, so the
// codes stay as small as their specifications promise: a SMART Health Card
// ("shc:/" + digits) is a byte segment for the prefix and a numeric segment
// for the digits; an EU DCC ("HC1:" + Base45) is one alphanumeric segment,
// since Base45's alphabet is exactly QR's alphanumeric set. Decode reads a
// QR code from an image.
//
// The package never interprets the text it carries.
package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	goqr "github.com/piglig/go-qr"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/vaxport/vaxport/internal/vax"
)

// QuietZone is the light border, in modules, that ISO/IEC 18004 requires
// around a code.
const QuietZone = 4

// MaxDecodePixels bounds the images Decode accepts (about 40 megapixels), so
// a hostile PNG header cannot make a verifier allocate gigabytes.
const MaxDecodePixels = 40_000_000

// Code is an encoded QR code: a square of dark and light modules.
type Code struct {
	q *goqr.QrCode
}

// Encode encodes text, choosing segments by its content:
//
//   - "shc:/…digits" (also chunked "shc:/1/2/…"): the text up to the last
//     '/' in byte mode, the digits in numeric mode, error correction L
//     (SMART Health Cards: a single code stays within version 22 at L);
//   - "HC1:…": one alphanumeric segment, error correction Q (the eHealth
//     Network's recommendation for the DCC);
//   - anything else: the library's own segmentation, error correction M.
//
// The error correction level is raised when that fits in the same version.
func Encode(text string) (*Code, error) {
	segs, ecl, err := segments(text)
	if err != nil {
		return nil, err
	}
	q, err := goqr.EncodeSegments(segs, ecl, goqr.MinVersion, goqr.MaxVersion, -1, true)
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "the text does not fit in a QR code")
	}
	return &Code{q: q}, nil
}

func segments(text string) ([]*goqr.QrSegment, goqr.Ecc, error) {
	switch {
	case strings.HasPrefix(text, "shc:/") && isDigits(text[strings.LastIndexByte(text, '/')+1:]):
		cut := strings.LastIndexByte(text, '/') + 1
		prefix, err := goqr.MakeBytes([]byte(text[:cut]))
		if err != nil {
			return nil, 0, vax.Wrap(vax.Invalid, err, "cannot encode the SMART Health Card prefix")
		}
		digits, err := goqr.MakeNumeric(text[cut:])
		if err != nil {
			return nil, 0, vax.Wrap(vax.Invalid, err, "cannot encode the SMART Health Card digits")
		}
		return []*goqr.QrSegment{prefix, digits}, goqr.Low, nil
	case strings.HasPrefix(text, "HC1:") && isAlphanumeric(text):
		seg, err := goqr.MakeAlphanumeric(text)
		if err != nil {
			return nil, 0, vax.Wrap(vax.Invalid, err, "cannot encode the DCC text")
		}
		return []*goqr.QrSegment{seg}, goqr.Quartile, nil
	}
	segs, err := goqr.MakeSegments(text)
	if err != nil {
		return nil, 0, vax.Wrap(vax.Invalid, err, "cannot encode the text")
	}
	return segs, goqr.Medium, nil
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// alphanumeric is QR's alphanumeric character set (ISO/IEC 18004 §7.4.4).
const alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

func isAlphanumeric(s string) bool {
	for i := range len(s) {
		if strings.IndexByte(alphanumeric, s[i]) < 0 {
			return false
		}
	}
	return true
}

// Size returns the side of the code in modules, without the quiet zone.
func (c *Code) Size() int { return c.q.Size() }

// Version returns the QR version (1–40): the side is 17 + 4·version modules.
func (c *Code) Version() int { return (c.q.Size() - 17) / 4 }

// Dark reports whether the module at column x, row y is dark.
func (c *Code) Dark(x, y int) bool { return c.q.Module(x, y) }

// PNG renders the code as a black-on-white PNG with scale pixels per module
// and a quiet zone of QuietZone modules.
func (c *Code) PNG(scale int) ([]byte, error) {
	if scale < 1 {
		return nil, vax.Errorf(vax.Invalid, "QR scale %d: want at least 1 pixel per module", scale)
	}
	b, err := c.q.ToPNGBytes(goqr.NewQrCodeImgConfig(scale, QuietZone))
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "cannot render the QR code")
	}
	return b, nil
}

// IsPNG reports whether b starts with the PNG signature.
func IsPNG(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }

// DecodePNG reads the one QR code in a PNG image.
func DecodePNG(b []byte) (string, error) {
	img, err := decodePNG(b)
	if err != nil {
		return "", err
	}
	return Decode(img)
}

func decodePNG(b []byte) (image.Image, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "not a readable PNG image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxDecodePixels {
		return nil, vax.Errorf(vax.Invalid, "PNG image of %d×%d pixels: too large to scan", cfg.Width, cfg.Height)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "not a readable PNG image")
	}
	return img, nil
}

// Decode reads the QR code in img. It fails, with an Invalid error, when the
// image holds no readable QR code.
func Decode(img image.Image) (text string, err error) {
	defer recoverDecoder(&err)
	text, err = decode(img)
	if err == nil {
		return text, nil
	}
	// The finder-pattern detector misjudges the module size of some dense
	// codes at some resolutions (a printed page rendered at 150 dpi, say);
	// the same picture at another size reads.
	b := img.Bounds()
	if b.Dx()*b.Dy() > maxRescanPixels {
		return "", err
	}
	for _, f := range []struct{ num, den int }{{3, 2}, {2, 1}, {3, 4}, {5, 4}} {
		if text, err2 := decode(scale(img, f.num, f.den)); err2 == nil {
			return text, nil
		}
	}
	return "", err
}

// maxRescanPixels bounds the images Decode looks at again at other sizes
// (a page crop, a screenshot): rescanning a large photo would cost seconds.
const maxRescanPixels = 4_000_000

// decode tries the decoder's settings in turn: the hybrid binarizer suits
// photos; a rendered page sometimes reads only with a global threshold; a
// code filling the image with no quiet zone defeats the finder pattern
// detector and reads as a pure barcode.
func decode(img image.Image) (string, error) {
	src := gozxing.NewLuminanceSourceFromImage(img)
	reader := zxingqr.NewQRCodeReader()
	var first error
	for _, try := range []struct {
		bin  func(gozxing.LuminanceSource) gozxing.Binarizer
		hint gozxing.DecodeHintType
	}{
		{gozxing.NewHybridBinarizer, gozxing.DecodeHintType_TRY_HARDER},
		{gozxing.NewGlobalHistgramBinarizer, gozxing.DecodeHintType_TRY_HARDER},
		{gozxing.NewHybridBinarizer, gozxing.DecodeHintType_PURE_BARCODE},
	} {
		bmp, err := gozxing.NewBinaryBitmap(try.bin(src))
		if err != nil {
			return "", vax.Wrap(vax.Invalid, err, "cannot read the image")
		}
		res, err := reader.Decode(bmp, map[gozxing.DecodeHintType]any{try.hint: true})
		if err == nil {
			return res.GetText(), nil
		}
		if first == nil {
			first = err
		}
	}
	return "", vax.Wrap(vax.Invalid, first, "no readable QR code in the image")
}

// scale returns img resized by num/den, in grey, nearest neighbour.
func scale(img image.Image, num, den int) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()*num/den, b.Dy()*num/den))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			c := color.GrayModel.Convert(img.At(b.Min.X+x*den/num, b.Min.Y+y*den/num)).(color.Gray)
			out.SetGray(x, y, c)
		}
	}
	return out
}

// recoverDecoder turns a panic of the QR decoder, which reads untrusted
// images, into an Invalid error: a hostile image must not take down a
// verifier.
func recoverDecoder(err *error) {
	if r := recover(); r != nil {
		*err = vax.Wrap(vax.Invalid, fmt.Errorf("QR decoder panic: %v", r), "no readable QR code in the image")
	}
}
