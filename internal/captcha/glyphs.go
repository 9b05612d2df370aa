package captcha

import "math"

// The stroke font. Each glyph is drawn on a 10 × 14 grid (x right, y down,
// cap height 14) as polylines; curves are arcs sampled every 15°, which the
// jitter of draw.go then bends a little, as a hand would.

// point is a position on the glyph grid, or in the picture.
type point struct{ x, y float64 }

// stroke is one pen movement: a polyline.
type stroke []point

// glyphW and glyphH are the size of the glyph grid.
const glyphW, glyphH = 10, 14

// line is a polyline through xy pairs.
func line(xy ...float64) stroke {
	s := make(stroke, 0, len(xy)/2)
	for i := 0; i+1 < len(xy); i += 2 {
		s = append(s, point{xy[i], xy[i+1]})
	}
	return s
}

// arc samples the ellipse centred on (cx, cy) with radii rx, ry from angle
// a0 to a1 (degrees, clockwise on screen: 0 is right, 90 down, 270 up).
func arc(cx, cy, rx, ry, a0, a1 float64) stroke {
	n := max(2, int(math.Ceil(math.Abs(a1-a0)/15)))
	s := make(stroke, 0, n+1)
	for i := range n + 1 {
		a := (a0 + (a1-a0)*float64(i)/float64(n)) * math.Pi / 180
		s = append(s, point{cx + rx*math.Cos(a), cy + ry*math.Sin(a)})
	}
	return s
}

// then joins strokes drawn without lifting the pen.
func then(parts ...stroke) stroke {
	var s stroke
	for _, p := range parts {
		s = append(s, p...)
	}
	return s
}

// glyphs holds a drawing for every character of alphabet.
var glyphs = map[byte][]stroke{
	'2': {then(arc(5, 4.5, 4.5, 4.5, 170, 400), line(0.5, 14, 10, 14))},
	'3': {then(arc(5, 3.75, 4.5, 3.75, 200, 450), arc(5, 10.75, 4.8, 3.25, 270, 520))},
	'4': {line(7, 14, 7, 0, 0, 10, 10, 10)},
	'5': {then(line(9, 0, 1.5, 0, 1, 6), arc(5, 9.5, 4.5, 4.5, 225, 520))},
	'6': {arc(5, 7.5, 4.5, 6.5, 290, 160), arc(5, 10, 4.5, 4, 0, 360)},
	'7': {line(0, 0, 10, 0, 3.5, 14)},
	'8': {arc(5, 3.6, 3.8, 3.6, 90, 450), arc(5, 10.4, 4.6, 3.6, 270, 630)},
	'9': {arc(5, 4.5, 4.5, 4.5, 0, 360), arc(5, 5, 4.5, 9, 0, 120)},
	'A': {line(0, 14, 5, 0, 10, 14), line(2, 8.5, 8, 8.5)},
	'B': {then(line(0, 14, 0, 0, 6, 0), arc(6, 3.5, 3.5, 3.5, 270, 450), line(0, 7)),
		then(line(0, 7, 6.5, 7), arc(6.5, 10.5, 3.5, 3.5, 270, 450), line(0, 14))},
	'C': {arc(5.5, 7, 4.5, 7, 315, 45)},
	'D': {line(0, 0, 0, 14), then(line(0, 0, 4, 0), arc(4, 7, 6, 7, 270, 450), line(0, 14))},
	'E': {line(10, 0, 0, 0, 0, 14, 10, 14), line(0, 7, 7, 7)},
	'F': {line(10, 0, 0, 0, 0, 14), line(0, 7, 7, 7)},
	'G': {then(arc(5.5, 7, 4.5, 7, 310, 0), line(6, 7))},
	'H': {line(0, 0, 0, 14), line(10, 0, 10, 14), line(0, 7, 10, 7)},
	'J': {then(line(10, 0), arc(5.5, 9.5, 4.5, 4.5, 0, 160))},
	'K': {line(0, 0, 0, 14), line(10, 0, 0, 8), line(3, 5.6, 10, 14)},
	'L': {line(0, 0, 0, 14, 10, 14)},
	'M': {line(0, 14, 0, 0, 5, 9, 10, 0, 10, 14)},
	'N': {line(0, 14, 0, 0, 10, 14, 10, 0)},
	'P': {then(line(0, 14, 0, 0, 6, 0), arc(6, 3.75, 4, 3.75, 270, 450), line(0, 7.5))},
	'R': {then(line(0, 14, 0, 0, 6, 0), arc(6, 3.75, 4, 3.75, 270, 450), line(0, 7.5)), line(5, 7.5, 10, 14)},
	'S': {then(arc(5, 3.75, 4.5, 3.75, 330, 90), arc(5, 10.75, 4.8, 3.25, 270, 510))},
	'T': {line(0, 0, 10, 0), line(5, 0, 5, 14)},
	'U': {then(line(0, 0), arc(5, 9.5, 5, 4.5, 180, 0), line(10, 0))},
	'V': {line(0, 0, 5, 14, 10, 0)},
	'W': {line(0, 0, 2.5, 14, 5, 5, 7.5, 14, 10, 0)},
	'X': {line(0, 0, 10, 14), line(10, 0, 0, 14)},
	'Y': {line(0, 0, 5, 7, 10, 0), line(5, 7, 5, 14)},
	'Z': {line(0, 0, 10, 0, 0, 14, 10, 14)},
}
