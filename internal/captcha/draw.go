package captcha

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Drawing. A picture is a background, a few noise curves (cubic Béziers,
// thin) and one path per character (polylines only, thicker), in reading
// order. Every coordinate is computed here, with each glyph's rotation,
// shear, scale and position and each vertex's jitter already applied, and
// the strokes are re-cut, re-ordered and re-sampled at random: pictures of
// one character never share their coordinates and rarely even their
// sequence of commands, so reading the source means recognising the
// shapes, just as reading the picture does.

// The picture's size, in SVG user units.
const width, height = 150, 50

// alphabet is what answers are made of: capitals and digits without the
// look-alikes 0/O, 1/I (and l, which case folding would bring in), nor Q,
// an O whose tail the jitter may hide.
const alphabet = "23456789ABCDEFGHJKLMNPRSTUVWXYZ"

// answerLen is the length of an answer: 31⁵ ≈ 2.9e7 answers, and each
// challenge allows one try.
const answerLen = 5

// Drawing parameters, in user units unless said otherwise. They keep a
// glyph, slanted and turned, within its cell (27.6 wide) or barely
// touching the next, and every glyph inside the picture.
const (
	margin       = 6                  // left and right, before the first and after the last glyph cell
	minScale     = 1.7                // user units per glyph grid unit, at the smallest (a glyph 24 high)
	scaleRange   = 0.25               // added at random
	narrow       = 0.9                // horizontal scale relative to vertical: five glyphs must fit
	maxRotation  = 12 * math.Pi / 180 // either way
	maxShear     = 0.12               // italic slant, either way
	maxShiftX    = 1.5                // of a glyph from its cell's centre
	maxShiftY    = 4
	vertexWiggle = 0.35 // of every vertex, each axis
	cutChance    = 0.25 // that a stroke is cut in two at an interior vertex
	dropChance   = 0.33 // that a vertex where a stroke bends gently is left out
	gentleTurn   = 25 * math.Pi / 180
	noiseBehind  = 2 // noise curves under the glyphs
	noiseOver    = 2 // and over them
)

// newAnswer draws an answer from rng.
func newAnswer(rng *rand.Rand) string {
	b := make([]byte, answerLen)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// draw returns the SVG picture of answer (characters of alphabet),
// jittered by rng.
func draw(answer string, rng *rand.Rand) []byte {
	b := make([]byte, 0, 4096)
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" width="150" height="50" viewBox="0 0 150 50"`+
		` fill="none" stroke-linecap="round" stroke-linejoin="round">`...)
	b = append(b, `<rect width="150" height="50" fill="`...)
	b = appendColor(b, rng, 232, 250)
	b = append(b, `"/>`...)
	for range noiseBehind {
		b = appendNoise(b, rng)
	}
	cell := (width - 2*margin) / float64(len(answer))
	for i := range len(answer) {
		cx := margin + cell*(float64(i)+0.5) + between(rng, -maxShiftX, maxShiftX)
		cy := height/2 + between(rng, -maxShiftY, maxShiftY)
		b = appendGlyph(b, rng, glyphs[answer[i]], point{cx, cy})
	}
	for range noiseOver {
		b = appendNoise(b, rng)
	}
	return append(b, "</svg>"...)
}

// between returns a uniform value in [lo, hi).
func between(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

// appendGlyph draws one character centred near c.
func appendGlyph(b []byte, rng *rand.Rand, strokes []stroke, c point) []byte {
	scale := minScale + scaleRange*rng.Float64()
	shear := between(rng, -maxShear, maxShear)
	sin, cos := math.Sincos(between(rng, -maxRotation, maxRotation))
	place := func(p point) point {
		x := (p.x - glyphW/2 + shear*(p.y-glyphH/2)) * scale * narrow
		y := (p.y - glyphH/2) * scale
		return point{
			c.x + x*cos - y*sin + between(rng, -vertexWiggle, vertexWiggle),
			c.y + x*sin + y*cos + between(rng, -vertexWiggle, vertexWiggle),
		}
	}
	var parts []stroke
	for _, s := range strokes {
		placed := make(stroke, len(s))
		for i, p := range s {
			placed[i] = place(p)
		}
		parts = append(parts, cut(rng, resample(rng, placed))...)
	}
	rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })

	b = append(b, `<path stroke="`...)
	b = appendColor(b, rng, 20, 100)
	b = append(b, `" stroke-width="`...)
	b = appendNum(b, between(rng, 2.2, 2.8))
	b = append(b, `" d="`...)
	for i, s := range parts {
		if rng.IntN(2) == 0 {
			reverse(s)
		}
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendPolyline(b, s)
	}
	return append(b, `"/>`...)
}

// resample leaves out some vertices where s bends gently (arcs) and adds
// some along its long segments (straight lines), so the number of vertices
// says little about the character.
func resample(rng *rand.Rand, s stroke) stroke {
	out := stroke{s[0]}
	for i := 1; i < len(s); i++ {
		prev, p := out[len(out)-1], s[i]
		if i+1 < len(s) && turn(prev, p, s[i+1]) < gentleTurn && rng.Float64() < dropChance {
			continue
		}
		if n := int(math.Hypot(p.x-prev.x, p.y-prev.y) / 5); n > 0 {
			for range rng.IntN(n + 1) {
				f := between(rng, 0.2, 0.8)
				out = append(out, point{
					prev.x + f*(p.x-prev.x) + between(rng, -vertexWiggle, vertexWiggle),
					prev.y + f*(p.y-prev.y) + between(rng, -vertexWiggle, vertexWiggle),
				})
				prev = out[len(out)-1]
			}
		}
		out = append(out, p)
	}
	return out
}

// turn is the angle between segments a→b and b→c (0: straight on).
func turn(a, b, c point) float64 {
	t := math.Abs(math.Atan2(c.y-b.y, c.x-b.x) - math.Atan2(b.y-a.y, b.x-a.x))
	if t > math.Pi {
		t = 2*math.Pi - t
	}
	return t
}

// cut splits s at some interior vertices into strokes that meet there
// (copies: each may be reversed), so the number of subpaths says little
// about the character either.
func cut(rng *rand.Rand, s stroke) []stroke {
	var out []stroke
	start := 0
	for i := 1; i < len(s)-1; i++ {
		if rng.Float64() < cutChance {
			out = append(out, slices.Clone(s[start:i+1]))
			start = i
		}
	}
	return append(out, s[start:])
}

func reverse(s stroke) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// appendPolyline appends "Mx y Lx y x y…".
func appendPolyline(b []byte, s stroke) []byte {
	for i, p := range s {
		switch i {
		case 0:
			b = append(b, 'M')
		case 1:
			b = append(b, 'L')
		default:
			b = append(b, ' ')
		}
		b = appendPoint(b, p)
	}
	return b
}

// appendNoise draws a thin cubic curve across the picture.
func appendNoise(b []byte, rng *rand.Rand) []byte {
	b = append(b, `<path stroke="`...)
	b = appendColor(b, rng, 90, 170)
	b = append(b, `" stroke-width="`...)
	b = appendNum(b, between(rng, 1, 1.8))
	b = append(b, `" d="M`...)
	b = appendPoint(b, point{between(rng, 0, 20), between(rng, 5, height-5)})
	b = append(b, 'C')
	for i, x := range []float64{between(rng, 30, 70), between(rng, 80, 120), between(rng, 130, width)} {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendPoint(b, point{x, between(rng, 5, height-5)})
	}
	return append(b, `"/>`...)
}

// appendPoint appends "x y".
func appendPoint(b []byte, p point) []byte {
	b = appendNum(b, p.x)
	b = append(b, ' ')
	return appendNum(b, p.y)
}

// appendNum appends v with one decimal, always: so no run of digits in
// the source is longer than three, and an answer made of digits cannot
// appear in it.
func appendNum(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'f', 1, 64) }

// appendColor appends "rgb(r,g,b)" with each channel in [lo, hi]: in
// decimal, as the numbers are, since hex could hold a run of digits.
func appendColor(b []byte, rng *rand.Rand, lo, hi int) []byte {
	b = append(b, "rgb("...)
	for i := range 3 {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(lo+rng.IntN(hi-lo+1)), 10)
	}
	return append(b, ')')
}
