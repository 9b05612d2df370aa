package search

import (
	"cmp"
	"math"
	"slices"
)

// The spatial index is a grid of cellDeg × cellDeg cells keyed by row and
// column. 0.05° is about 5.5 km north–south: small enough that a dense city
// cell holds tens of centres, large enough that a rural query finds its 20
// nearest within a few rings (BenchmarkNear: 100,000 centres, half of them
// in six city clusters; 0.05° was fastest of 0.025–0.2°). A query walks
// rings of cells outwards until the n-th best distance found is no farther
// than any cell not yet visited can be, so the answer is exact, not
// approximate.
const (
	cellDeg  = 0.05
	gridRows = int(180 / cellDeg)
	gridCols = int(360 / cellDeg)
	earthKm  = 6371.0088 // mean Earth radius (IUGG)
	degToRad = math.Pi / 180
)

// point is a centre's position in the grid.
type point struct {
	id        int64
	lat, long float64 // degrees
	cosLat    float64
}

type cellKey struct{ row, col int32 }

// grid maps cells to the centres in them; guarded by Index.mu.
type grid map[cellKey][]point

func cellOf(lat, long float64) (row, col int) {
	row = int(math.Floor((lat + 90) / cellDeg))
	row = min(max(row, 0), gridRows-1)
	col = int(math.Floor((long + 180) / cellDeg))
	col = ((col % gridCols) + gridCols) % gridCols
	return row, col
}

func (g grid) add(id int64, lat, long float64) {
	r, c := cellOf(lat, long)
	k := cellKey{int32(r), int32(c)}
	g[k] = append(g[k], point{id: id, lat: lat, long: long, cosLat: math.Cos(lat * degToRad)})
}

func (g grid) remove(id int64, lat, long float64) {
	r, c := cellOf(lat, long)
	k := cellKey{int32(r), int32(c)}
	ps := slices.DeleteFunc(g[k], func(p point) bool { return p.id == id })
	if len(ps) == 0 {
		delete(g, k)
		return
	}
	g[k] = ps
}

// hav is the haversine of the central angle between two points: monotonic
// in distance, so comparisons need no asin.
func hav(lat1, long1, cosLat1 float64, p *point) float64 {
	dLat := (p.lat - lat1) * degToRad
	dLong := (p.long - long1) * degToRad
	s1, s2 := math.Sin(dLat/2), math.Sin(dLong/2)
	return s1*s1 + cosLat1*p.cosLat*s2*s2
}

func havToKm(h float64) float64 { return 2 * earthKm * math.Asin(math.Sqrt(min(max(h, 0), 1))) }

// angleToHav is the haversine of a central angle (radians, up to π).
func angleToHav(rad float64) float64 {
	s := math.Sin(min(rad, math.Pi) / 2)
	return s * s
}

// cand is a candidate result: a centre and its haversine value.
type cand struct {
	h  float64
	id int64
}

func candLess(a, b cand) bool { return a.h < b.h || a.h == b.h && a.id < b.id }

// best keeps the n best candidates in a max-heap (worst on top).
type best struct {
	n int
	h []cand
}

func (b *best) full() bool  { return len(b.h) == b.n }
func (b *best) worst() cand { return b.h[0] }

func (b *best) offer(c cand) {
	if len(b.h) < b.n {
		b.h = append(b.h, c)
		for i := len(b.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !candLess(b.h[p], b.h[i]) {
				break
			}
			b.h[p], b.h[i] = b.h[i], b.h[p]
			i = p
		}
		return
	}
	if !candLess(c, b.h[0]) {
		return
	}
	b.h[0] = c
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(b.h) && candLess(b.h[m], b.h[l]) {
			m = l
		}
		if r < len(b.h) && candLess(b.h[m], b.h[r]) {
			m = r
		}
		if m == i {
			break
		}
		b.h[m], b.h[i] = b.h[i], b.h[m]
		i = m
	}
}

// Near returns the n centres nearest to (lat, long), nearest first (ties by
// id), with their great-circle distances. It returns nil for coordinates
// out of range or n < 1.
func (ix *Index) Near(lat, long float64, n int) []Hit {
	if n < 1 || !(lat >= -90 && lat <= 90 && long >= -180 && long <= 180) {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	b := best{n: n, h: make([]cand, 0, n)}
	ix.grid.near(lat, long, len(ix.centres), &b)
	slices.SortFunc(b.h, func(x, y cand) int {
		return cmp.Or(cmp.Compare(x.h, y.h), cmp.Compare(x.id, y.id))
	})
	out := make([]Hit, 0, len(b.h))
	for _, c := range b.h {
		if e := ix.centres[c.id]; e != nil {
			out = append(out, Hit{Centre: e, Km: havToKm(c.h)})
		}
	}
	return out
}

// near offers b the candidates it needs: the cells ring by ring around the
// point, or every centre when the rings would visit more cells than there
// are centres (a point far from all of them) or span half the globe.
func (g grid) near(lat, long float64, total int, b *best) {
	cosLat := math.Cos(lat * degToRad)
	row, col := cellOf(lat, long)
	// Where the point sits inside its cell, in degrees from the cell's
	// south and west edges (clamped against rounding at cell borders).
	latOff := min(max(lat+90-float64(row)*cellDeg, 0), cellDeg)
	longOff := min(max(math.Mod(long+180-float64(col)*cellDeg+360, 360), 0), cellDeg)
	scan := func(k cellKey) {
		for i := range g[k] {
			p := &g[k][i]
			b.offer(cand{h: hav(lat, long, cosLat, p), id: p.id})
		}
	}
	if b.n >= total {
		g.all(scan)
		return
	}
	for r := 0; ; r++ {
		if side := 2*r + 1; side*side > total/2+64 || side >= gridCols/2 {
			b.h = b.h[:0]
			g.all(scan)
			return
		}
		for dr := -r; dr <= r; dr++ {
			rr := row + dr
			if rr < 0 || rr >= gridRows {
				continue
			}
			if dr == -r || dr == r {
				for dc := -r; dc <= r; dc++ {
					scan(cellKey{int32(rr), int32(((col+dc)%gridCols + gridCols) % gridCols)})
				}
				continue
			}
			scan(cellKey{int32(rr), int32(((col-r)%gridCols + gridCols) % gridCols)})
			if r > 0 {
				scan(cellKey{int32(rr), int32(((col+r)%gridCols + gridCols) % gridCols)})
			}
		}
		if !b.full() {
			continue
		}
		// Lower bound on the distance to anything outside the rings seen:
		// across a parallel it is the latitude gap; across a meridian at
		// longitude gap Δλ ≤ 90° it is asin(sin Δλ · cos φ) (the distance
		// to that meridian's great circle; beyond 90° the ±90° meridian
		// is crossed first, which is farther still).
		rd := float64(r) * cellDeg
		bound := math.Inf(1)
		if row-r > 0 {
			bound = min(bound, (latOff+rd)*degToRad)
		}
		if row+r+1 < gridRows {
			bound = min(bound, (cellDeg-latOff+rd)*degToRad)
		}
		dLong := min(longOff+rd, cellDeg-longOff+rd) * degToRad
		bound = min(bound, math.Asin(math.Min(1, math.Sin(dLong)*cosLat)))
		if b.worst().h <= angleToHav(bound) {
			return
		}
	}
}

// all visits every cell.
func (g grid) all(visit func(cellKey)) {
	for k := range g {
		visit(k)
	}
}
