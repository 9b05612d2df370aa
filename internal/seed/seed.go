package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/vaxport/vaxport/internal/masterdata"
	"github.com/vaxport/vaxport/internal/vax"
)

// MetaKey is the store meta key under which the demo data set is recorded.
const MetaKey = "seed"

// FirstCentreID is the id of the first demo centre; demo centres have
// consecutive ids from it.
const FirstCentreID int64 = 500001

const (
	defaultDays = 7
	maxDays     = 90
	maxCentres  = 5_000_000
	// batchSize is how many centres (with all their sessions) go into one
	// transaction: big enough to amortise a commit, small enough that a
	// transaction stays short and memory flat at 100,000 centres.
	batchSize = 1000
)

// Config says what to generate. The zero value of every field but Today is
// a usable default.
type Config struct {
	Seed int64
	// Centres is the total number of centres; 0 means CentresPerDistrict
	// per district in the store's master data (about 2,300 for India).
	Centres int
	// Days is how many days of sessions, from Today; 0 means 7.
	Days int
	// Today is the first session day; required.
	Today vax.Date
	// Progress, when set, receives a progress line rewritten in place
	// ("\r"), and a final newline.
	Progress io.Writer
}

// CentresPerDistrict is the default number of centres per district.
const CentresPerDistrict = 3

// demoLots are a demo centre's vaccine stock: one lot of each vaccine it
// offers, usable for a year from today.
func demoLots(centre int64, offered []string, today vax.Date) []vax.Lot {
	var out []vax.Lot
	for _, v := range offered {
		m, ok := manufacturers[v]
		if !ok {
			continue
		}
		out = append(out, vax.Lot{CentreID: centre, Number: fmt.Sprintf("%s%dA", m.prefix, centre), Vaccine: v,
			Manufacturer: m.name, Expiry: today.AddDays(365), Received: DemoLotDoses})
	}
	return out
}

// DemoLotDoses is the stock of each demo lot.
const DemoLotDoses = 5000

// manufacturers name who makes each demo vaccine, and its lot prefix.
var manufacturers = map[string]struct{ prefix, name string }{
	masterdata.Covishield: {"CS", "Serum Institute of India"},
	masterdata.Covaxin:    {"CV", "Bharat Biotech"},
	masterdata.SputnikV:   {"SP", "Dr. Reddy's Laboratories"},
}

// Summary reports what Generate wrote.
type Summary struct {
	Centres, Sessions int
}

// record is the meta value describing the demo data set. Every demo centre
// (ids FirstCentre .. FirstCentre+Centres-1) has its sessions for FirstDay
// .. LastDay written, except for days that passed while nothing topped the
// data up; no demo session exists after LastDay, except during a top-up in
// progress: then centres with id < TopUpNext also have TopUpFrom .. TopUpTo.
type record struct {
	Seed        int64  `json:"seed"`
	FirstCentre int64  `json:"first_centre"`
	Centres     int    `json:"centres"` // written so far
	Planned     int    `json:"planned"` // asked for
	FirstDay    string `json:"first_day"`
	LastDay     string `json:"last_day"`
	TopUpFrom   string `json:"topup_from,omitempty"`
	TopUpTo     string `json:"topup_to,omitempty"`
	TopUpNext   int64  `json:"topup_next,omitempty"`
}

func (r record) lastCentre() int64 { return r.FirstCentre + int64(r.Centres) - 1 }

// readRecord returns the demo data record; found is false when there is none.
func readRecord(ctx context.Context, tx vax.Tx) (rec record, found bool, err error) {
	v, err := tx.Meta(ctx, MetaKey)
	if errors.Is(err, vax.ErrNotFound) {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, fmt.Errorf("read meta %s: %w", MetaKey, err)
	}
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return record{}, false, vax.Wrap(vax.Internal, err, "unreadable demo data record")
	}
	return rec, true, nil
}

func writeRecord(ctx context.Context, tx vax.Tx, rec record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return vax.Wrap(vax.Internal, err, "encode demo data record")
	}
	if err := tx.SetMeta(ctx, MetaKey, string(b)); err != nil {
		return fmt.Errorf("write meta %s: %w", MetaKey, err)
	}
	return nil
}

// Generate writes the demo data set described by cfg: centres with ids from
// FirstCentreID, spread round-robin over the districts (Alappuzha first, so
// it always has one), a lot of each vaccine a centre offers, and their
// sessions for cfg.Days days from cfg.Today.
// It needs the master data loaded (NotFound otherwise) and refuses with
// Conflict if demo data was generated before or a centre id from
// FirstCentreID is taken. It writes batches of centres in separate
// transactions: if it fails half way, the centres written so far stay and
// are recorded, and TopUp keeps them current.
func Generate(ctx context.Context, st vax.Store, cfg Config) (Summary, error) {
	if !cfg.Today.Valid() {
		return Summary{}, vax.Errorf(vax.Invalid, "seed: a valid first day is required")
	}
	if cfg.Days == 0 {
		cfg.Days = defaultDays
	}
	if cfg.Days < 0 || cfg.Days > maxDays {
		return Summary{}, vax.Errorf(vax.Invalid, "seed: days must be 1..%d", maxDays)
	}
	if cfg.Centres < 0 || cfg.Centres > maxCentres {
		return Summary{}, vax.Errorf(vax.Invalid, "seed: centres must be 0..%d", maxCentres)
	}

	w, err := loadWorld(ctx, st)
	if err != nil {
		return Summary{}, fmt.Errorf("seed: %w", err)
	}
	if cfg.Centres == 0 {
		cfg.Centres = CentresPerDistrict * len(w.districts)
	}
	rec := record{
		Seed:        cfg.Seed,
		FirstCentre: FirstCentreID,
		Planned:     cfg.Centres,
		FirstDay:    cfg.Today.String(),
		LastDay:     cfg.Today.AddDays(cfg.Days - 1).String(),
	}
	g := generator{seed: cfg.Seed, world: w}
	var sum Summary
	for start := 0; start < cfg.Centres; start += batchSize {
		n := min(batchSize, cfg.Centres-start)
		var sessions int
		err := st.InTx(ctx, func(tx vax.Tx) error {
			sessions = 0
			// Decide from the record, never from a failed insert: in
			// PostgreSQL a failed statement aborts the transaction.
			have, found, err := readRecord(ctx, tx)
			if err != nil {
				return err
			}
			switch {
			case start == 0 && found:
				return vax.Errorf(vax.Conflict, "demo data already generated (seed %d, %d centres)", have.Seed, have.Centres)
			case start == 0:
				taken, err := tx.Centres(ctx, vax.CentreQuery{AfterID: FirstCentreID - 1, Limit: 1})
				if err != nil {
					return fmt.Errorf("look for centre ids from %d: %w", FirstCentreID, err)
				}
				if len(taken) > 0 {
					return vax.Errorf(vax.Conflict, "centre id %d is taken: demo centre ids start at %d", taken[0].ID, FirstCentreID)
				}
			case !found || have.Seed != rec.Seed || have.Centres != start:
				return vax.Errorf(vax.Conflict, "demo data changed while generating it")
			}
			for i := start; i < start+n; i++ {
				c, offered := g.centre(FirstCentreID+int64(i), i)
				if _, err := tx.CreateCentre(ctx, c); err != nil {
					return fmt.Errorf("create centre %d: %w", c.ID, err)
				}
				for _, l := range demoLots(c.ID, offered, cfg.Today) {
					if err := tx.CreateLot(ctx, l); err != nil {
						return fmt.Errorf("create lot %s of centre %d: %w", l.Number, c.ID, err)
					}
				}
				for day := range cfg.Days {
					for _, s := range g.sessions(c, offered, cfg.Today.AddDays(day)) {
						if err := tx.CreateSession(ctx, s); err != nil {
							return fmt.Errorf("create %s: %w", s, err)
						}
						sessions++
					}
				}
				if err := tx.AppendChange(ctx, vax.ChangeCentre, strconv.FormatInt(c.ID, 10)); err != nil {
					return fmt.Errorf("record change of centre %d: %w", c.ID, err)
				}
			}
			rec.Centres = start + n
			return writeRecord(ctx, tx, rec)
		})
		if err != nil {
			if cfg.Progress != nil && start > 0 {
				fmt.Fprintln(cfg.Progress)
			}
			return sum, fmt.Errorf("seed: centres %d..%d: %w", FirstCentreID+int64(start), FirstCentreID+int64(start+n-1), err)
		}
		sum.Centres += n
		sum.Sessions += sessions
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "\rseed: %d/%d centres, %d sessions", sum.Centres, cfg.Centres, sum.Sessions)
		}
	}
	if cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress)
	}
	return sum, nil
}

// TopUp adds the demo centres' sessions for every day in [today,
// today+days) after the last day generated so far, and reports how many
// sessions it added. Days already generated are never written again, days
// before today are skipped, and centres outside the demo range are left
// alone, so calling it again (or from several nodes) adds nothing twice. It
// returns NotFound when no demo data was generated.
func TopUp(ctx context.Context, st vax.Store, today vax.Date, days int) (int, error) {
	if !today.Valid() {
		return 0, vax.Errorf(vax.Invalid, "seed top-up: a valid day is required")
	}
	if days < 1 || days > maxDays {
		return 0, vax.Errorf(vax.Invalid, "seed top-up: days must be 1..%d", maxDays)
	}
	var g *generator
	added := 0
	for {
		var n int
		var done bool
		err := st.InTx(ctx, func(tx vax.Tx) error {
			n, done = 0, false
			rec, found, err := readRecord(ctx, tx)
			if err != nil {
				return err
			}
			if !found {
				return vax.Errorf(vax.NotFound, "no demo data to top up")
			}
			if rec.TopUpTo == "" {
				last, err := vax.ParseISODate(rec.LastDay)
				if err != nil {
					return vax.Wrap(vax.Internal, err, "unreadable demo data record")
				}
				from, to := last.AddDays(1), today.AddDays(days-1)
				if from.Before(today) {
					from = today // past days are of no use to anyone
				}
				if from.After(to) || rec.Centres == 0 {
					done = true
					return nil
				}
				rec.TopUpFrom, rec.TopUpTo, rec.TopUpNext = from.String(), to.String(), rec.FirstCentre
			}
			from, err1 := vax.ParseISODate(rec.TopUpFrom)
			to, err2 := vax.ParseISODate(rec.TopUpTo)
			if err := errors.Join(err1, err2); err != nil {
				return vax.Wrap(vax.Internal, err, "unreadable demo data record")
			}
			if g == nil || g.seed != rec.Seed {
				g = &generator{seed: rec.Seed}
			}
			centres, err := tx.Centres(ctx, vax.CentreQuery{AfterID: rec.TopUpNext - 1, Limit: batchSize})
			if err != nil {
				return fmt.Errorf("list demo centres from %d: %w", rec.TopUpNext, err)
			}
			next := rec.lastCentre() + 1
			for _, c := range centres {
				if c.ID > rec.lastCentre() {
					break
				}
				offered := g.offered(c)
				for d := from; !d.After(to); d = d.AddDays(1) {
					for _, s := range g.sessions(c, offered, d) {
						if err := tx.CreateSession(ctx, s); err != nil {
							return fmt.Errorf("create %s: %w", s, err)
						}
						n++
					}
				}
				if err := tx.AppendChange(ctx, vax.ChangeCentre, strconv.FormatInt(c.ID, 10)); err != nil {
					return fmt.Errorf("record change of centre %d: %w", c.ID, err)
				}
				next = c.ID + 1
			}
			if len(centres) < batchSize || next > rec.lastCentre() {
				rec.LastDay, rec.TopUpFrom, rec.TopUpTo, rec.TopUpNext = rec.TopUpTo, "", "", 0
			} else {
				rec.TopUpNext = next
			}
			return writeRecord(ctx, tx, rec)
		})
		if err != nil {
			return added, fmt.Errorf("seed top-up to %s: %w", today.AddDays(days-1), err)
		}
		added += n
		if done {
			return added, nil
		}
	}
}

// world is the master data a data set is generated over.
type world struct {
	districts []district // Alappuzha first, then by id
}

type district struct {
	vax.District
	place masterdata.Place
}

// loadWorld reads the districts and vaccines from the store and checks that
// what the generator needs is there.
func loadWorld(ctx context.Context, st vax.Store) (world, error) {
	var w world
	err := st.View(ctx, func(tx vax.Tx) error {
		w = world{}
		states, err := tx.States(ctx)
		if err != nil {
			return fmt.Errorf("list states: %w", err)
		}
		for _, s := range states {
			ds, err := tx.Districts(ctx, s.ID)
			if err != nil {
				return fmt.Errorf("list districts of state %d: %w", s.ID, err)
			}
			for _, d := range ds {
				// Only districts with a generated place: PINs and
				// coordinates come from it.
				if p, ok := masterdata.DistrictPlace(d.ID); ok {
					w.districts = append(w.districts, district{d, p})
				}
			}
		}
		vaccines, err := tx.Vaccines(ctx)
		if err != nil {
			return fmt.Errorf("list vaccines: %w", err)
		}
		for _, name := range allVaccines {
			if !slices.ContainsFunc(vaccines, func(v vax.Vaccine) bool { return v.Name == name }) {
				return vax.Errorf(vax.NotFound, "vaccine %s is not in the store: load the master data first", name)
			}
		}
		return nil
	})
	if err != nil {
		return world{}, err
	}
	if len(w.districts) == 0 {
		return world{}, vax.Errorf(vax.NotFound, "no districts in the store: load the master data first")
	}
	slices.SortStableFunc(w.districts, func(a, b district) int {
		switch {
		case a.ID == b.ID:
			return 0
		case a.ID == masterdata.AlappuzhaID:
			return -1
		case b.ID == masterdata.AlappuzhaID:
			return 1
		case a.ID < b.ID:
			return -1
		}
		return 1
	})
	return w, nil
}
