package seed

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/vax"
)

var allVaccines = []string{masterdata.Covishield, masterdata.Covaxin, masterdata.SputnikV}

// fees are what a Paid centre charges per dose, in rupees: the maximum
// prices for private hospitals the Ministry of Health set on 8 June 2021
// (vaccine price plus GST plus a 150-rupee service charge).
var fees = map[string]int{
	masterdata.Covishield: 780,
	masterdata.Covaxin:    1410,
	masterdata.SputnikV:   1145,
}

// generator derives everything from the seed and the entity it makes (a
// centre id, a centre and a day), each from its own PCG stream, so a centre
// or a day comes out the same whatever order or batch it is made in. That
// is what lets TopUp add days to centres generated long before.
type generator struct {
	seed  int64
	world world
}

// Stream tags keep the per-entity random streams apart.
const (
	streamTraits uint64 = iota + 1
	streamLooks
	streamBlocks
	streamDay
)

func (g *generator) rng(stream uint64, parts ...uint64) *rand.Rand {
	h := stream
	for _, p := range parts {
		h = splitmix(h ^ p)
	}
	return rand.New(rand.NewPCG(uint64(g.seed), splitmix(h)))
}

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// traits are a centre's properties that do not depend on where it is, so
// TopUp can recompute them from the id alone.
type traits struct {
	paid    bool
	offered []string
	early   bool // open 08:00–14:00 instead of 09:00–17:00
}

func (g *generator) traits(id int64) traits {
	r := g.rng(streamTraits, uint64(id))
	t := traits{paid: r.IntN(4) == 0} // about a quarter of centres are private
	u := r.IntN(100)
	if t.paid {
		switch {
		case u < 45:
			t.offered = []string{masterdata.Covishield}
		case u < 65:
			t.offered = []string{masterdata.Covaxin}
		case u < 80:
			t.offered = []string{masterdata.Covishield, masterdata.Covaxin}
		case u < 90:
			t.offered = []string{masterdata.SputnikV}
		default:
			t.offered = []string{masterdata.Covishield, masterdata.SputnikV}
		}
	} else {
		switch {
		case u < 70:
			t.offered = []string{masterdata.Covishield}
		case u < 90:
			t.offered = []string{masterdata.Covaxin}
		default:
			t.offered = []string{masterdata.Covishield, masterdata.Covaxin}
		}
	}
	t.early = r.IntN(5) == 0
	return t
}

// offered returns the vaccines a demo centre's sessions use: what a Paid
// centre charges for (an administrator may have changed that), else the
// centre's generated traits.
func (g *generator) offered(c vax.Centre) []string {
	if c.FeeType == vax.Paid && len(c.Fees) > 0 {
		out := make([]string, len(c.Fees))
		for i, f := range c.Fees {
			out[i] = f.Vaccine
		}
		return out
	}
	return g.traits(c.ID).offered
}

// centre makes the demo centre id, the index-th of the data set, and
// returns it with the vaccines it offers.
func (g *generator) centre(id int64, index int) (vax.Centre, []string) {
	d := g.world.districts[index%len(g.world.districts)]
	t := g.traits(id)
	r := g.rng(streamLooks, uint64(id))
	reg := regionOf(d.StateID)
	town := placeName(r, reg)
	district := shortName(d.Name)

	c := vax.Centre{
		ID:         id,
		StateID:    d.StateID,
		DistrictID: d.ID,
		BlockName:  g.block(d.District, r.IntN(blocksPerDistrict)),
		Pincode:    d.place.Pincodes[r.IntN(len(d.place.Pincodes))],
		Lat:        round4(d.place.Lat + (r.Float64()*2-1)*0.12),
		Long:       round4(d.place.Long + (r.Float64()*2-1)*0.12),
		From:       "09:00:00",
		To:         "17:00:00",
		FeeType:    vax.Free,
	}
	if t.early {
		c.From, c.To = "08:00:00", "14:00:00"
	}
	if t.paid {
		c.FeeType = vax.Paid
		for _, v := range t.offered {
			c.Fees = append(c.Fees, vax.Fee{Vaccine: v, Amount: fees[v]})
		}
		c.Name = fmt.Sprintf("%s %s %s", pick(r, brands), pick(r, privateKinds), town)
	} else {
		switch u := r.IntN(100); {
		case u < 40:
			c.Name = "PHC " + town
		case u < 55:
			c.Name = "CHC " + town
		case u < 65:
			c.Name = "Urban PHC " + town
		case u < 75:
			c.Name = "Sub Centre " + town
		case u < 85:
			c.Name = "Govt Hospital " + district
		case u < 93:
			c.Name = "Taluk Hospital " + c.BlockName
		default:
			c.Name = "District Hospital " + district
		}
	}
	switch r.IntN(5) {
	case 0:
		c.Address = fmt.Sprintf("Near Bus Stand, %s, %s", town, district)
	case 1:
		c.Address = fmt.Sprintf("Main Road, %s, %s", town, district)
	case 2:
		c.Address = fmt.Sprintf("Ward No. %d, %s, %s", 1+r.IntN(40), town, district)
	case 3:
		c.Address = fmt.Sprintf("%d, Hospital Road, %s", 1+r.IntN(300), town)
	default:
		c.Address = fmt.Sprintf("%s Junction, %s", town, c.BlockName)
	}
	return c, t.offered
}

const blocksPerDistrict = 4

// block names the j-th block of a district; a district's blocks are the
// same for every centre in it.
func (g *generator) block(d vax.District, j int) string {
	r := g.rng(streamBlocks, uint64(d.ID), uint64(j))
	return placeName(r, regionOf(d.StateID))
}

// sessions makes a centre's sessions on one day: one to three, each of a
// vaccine the centre offers. Alappuzha's centres always open with an 18+
// session of at most 150 dose-1 seats, so a demo always has a small, open
// session there to book and fill.
func (g *generator) sessions(c vax.Centre, offered []string, day vax.Date) []vax.Session {
	r := g.rng(streamDay, uint64(c.ID), uint64(day.Year*10000+int(day.Month)*100+day.Day))
	slots := slotsFor(c.From, c.To)
	var n int
	switch u := r.IntN(100); {
	case u < 45:
		n = 1
	case u < 80:
		n = 2
	default:
		n = 3
	}
	out := make([]vax.Session, n)
	for i := range out {
		s := vax.Session{
			ID:       g.sessionID(c.ID, day, i),
			CentreID: c.ID,
			Date:     day,
			Vaccine:  offered[r.IntN(len(offered))],
			Slots:    slots,
			Status:   vax.SessionOpen,
		}
		switch u := r.IntN(100); {
		case u < 55: // 18 and over, no upper limit
			s.MinAge, s.AllowAllAge = 18, true
		case u < 85: // 45 and over
			s.MinAge = 45
		default: // the 18–44 drive of May–June 2021
			s.MinAge, s.MaxAge = 18, 44
		}
		switch u := r.IntN(100); {
		case u < 85:
			s.Capacity1 = 50 + 10*r.IntN(16) // 50..200
		case u < 95:
			s.Capacity1 = 10 + r.IntN(40) // 10..49
		default:
			s.Capacity1 = 210 + 10*r.IntN(10) // 210..300
		}
		// Dose 2 is usually the smaller share: 20–100% of dose 1.
		s.Capacity2 = s.Capacity1 * (20 + r.IntN(81)) / 100
		if i == 0 && c.DistrictID == masterdata.AlappuzhaID {
			s.MinAge, s.MaxAge, s.AllowAllAge = 18, 0, true
			s.Capacity1 = 50 + 10*r.IntN(11) // 50..150
			s.Capacity2 = min(s.Capacity2, s.Capacity1)
		}
		out[i] = s
	}
	return out
}

// sessionID is a version-4-shaped UUID from SHA-256 of the seed, the
// centre, the day and the session's index: stable across runs, unique in
// practice.
func (g *generator) sessionID(centre int64, day vax.Date, index int) string {
	h := sha256.New()
	var b [8]byte
	h.Write([]byte("vaxport seed session\x00"))
	binary.BigEndian.PutUint64(b[:], uint64(g.seed))
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(centre))
	h.Write(b[:])
	h.Write([]byte(day.String()))
	binary.BigEndian.PutUint64(b[:], uint64(index))
	h.Write(b[:])
	var id [16]byte
	copy(id[:], h.Sum(nil))
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return vax.FormatUUID(id)
}

// slotsFor cuts opening hours ("HH:MM:SS") into two-hour slot labels like
// "09:00AM-11:00AM"; the last slot ends at closing time.
func slotsFor(from, to string) []string {
	start, end := minutes(from), minutes(to)
	if start < 0 || end <= start {
		return []string{"09:00AM-05:00PM"}
	}
	var out []string
	for t := start; t < end; t += 120 {
		out = append(out, clock12(t)+"-"+clock12(min(t+120, end)))
	}
	return out
}

func minutes(hms string) int {
	if len(hms) < 5 {
		return -1
	}
	h, err1 := strconv.Atoi(hms[0:2])
	m, err2 := strconv.Atoi(hms[3:5])
	if err1 != nil || err2 != nil {
		return -1
	}
	return h*60 + m
}

func clock12(min int) string {
	h, m := min/60%24, min%60
	suffix := "AM"
	if h >= 12 {
		suffix = "PM"
	}
	h %= 12
	if h == 0 {
		h = 12
	}
	return fmt.Sprintf("%02d:%02d%s", h, m, suffix)
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// shortName drops a parenthesised alias: "Thoothukudi (Tuticorin)".
func shortName(name string) string {
	if i := strings.Index(name, " ("); i > 0 {
		return name[:i]
	}
	if i := strings.Index(name, "("); i > 0 {
		return name[:i]
	}
	return name
}
