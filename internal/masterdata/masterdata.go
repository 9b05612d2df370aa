package masterdata

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/vaxport/vaxport/internal/vax"
)

//go:embed data/cowin-locations.json
var locationsJSON []byte

// Co-WIN ids the demo data relies on.
const (
	KeralaID    = 17  // Kerala's state id
	AlappuzhaID = 301 // Alappuzha's district id (Kerala)
)

// Place is what vaxport GENERATES for a district (Co-WIN publishes neither):
// a few plausible PIN codes in its state's India Post range, the first being
// the district's base PIN, and a coordinate inside its state's rough extent.
// They look right on a map and in a search box; they are not the district's
// real PIN codes or position.
type Place struct {
	Pincodes  []int
	Lat, Long float64
}

type dataset struct {
	states    []vax.State
	districts []vax.District
	places    map[int]Place
}

// data parses the embedded lists once. A malformed embedded file is a build
// defect, so it panics (the package tests load it).
var data = sync.OnceValue(func() dataset {
	var raw struct {
		States []struct {
			ID        int    `json:"state_id"`
			Name      string `json:"state_name"`
			Districts []struct {
				ID   int    `json:"district_id"`
				Name string `json:"district_name"`
			} `json:"districts"`
		} `json:"states"`
	}
	if err := json.Unmarshal(locationsJSON, &raw); err != nil {
		panic(fmt.Sprintf("masterdata: embedded cowin-locations.json: %v", err))
	}
	d := dataset{places: map[int]Place{}}
	for _, s := range raw.States {
		info, ok := states[s.ID]
		if !ok || info.name != s.Name {
			panic(fmt.Sprintf("masterdata: state %d %q has no matching entry in places.go", s.ID, s.Name))
		}
		d.states = append(d.states, vax.State{ID: s.ID, Name: s.Name, LocalNames: info.local})
		var ids []int
		for _, r := range s.Districts {
			ids = append(ids, r.ID)
			d.districts = append(d.districts, vax.District{
				ID: r.ID, StateID: s.ID, Name: r.Name,
				LocalNames: map[string]string{"hi": toHindi(r.Name)},
			})
		}
		slices.Sort(ids)
		maps.Copy(d.places, statePlaces(info, ids))
	}
	slices.SortFunc(d.states, func(a, b vax.State) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(d.districts, func(a, b vax.District) int { return cmp.Compare(a.ID, b.ID) })
	return d
})

// States returns Co-WIN's 37 states and union territories by id, with
// hand-written local names ("hi" for all; also the main language where it
// is not Hindi, e.g. "ml" for Kerala). The result is the caller's to modify.
func States() []vax.State {
	src := data().states
	out := make([]vax.State, len(src))
	for i, s := range src {
		s.LocalNames = maps.Clone(s.LocalNames)
		out[i] = s
	}
	return out
}

// Districts returns Co-WIN's 756 districts by id, each with an approximate,
// generated Hindi name ("hi"). The result is the caller's to modify.
func Districts() []vax.District {
	src := data().districts
	out := make([]vax.District, len(src))
	for i, d := range src {
		d.LocalNames = maps.Clone(d.LocalNames)
		out[i] = d
	}
	return out
}

// DistrictPlace returns the generated Place of a district, and false for an
// id that is not one of Co-WIN's districts.
func DistrictPlace(districtID int) (Place, bool) {
	p, ok := data().places[districtID]
	if !ok {
		return Place{}, false
	}
	p.Pincodes = slices.Clone(p.Pincodes)
	return p, true
}

// Load writes the states, districts and default vaccines into st in one
// transaction. States and districts are replaced (they are Co-WIN's
// reference data); a default vaccine is only added when st has no vaccine
// of that name, so an operator's changes (an interval, a DCC code) survive.
// Running it again changes nothing.
func Load(ctx context.Context, st vax.Store) error {
	err := st.InTx(ctx, func(tx vax.Tx) error {
		for _, s := range States() {
			if err := tx.PutState(ctx, s); err != nil {
				return fmt.Errorf("state %d: %w", s.ID, err)
			}
		}
		for _, d := range Districts() {
			if err := tx.PutDistrict(ctx, d); err != nil {
				return fmt.Errorf("district %d: %w", d.ID, err)
			}
		}
		have, err := tx.Vaccines(ctx)
		if err != nil {
			return fmt.Errorf("list vaccines: %w", err)
		}
		for _, v := range Vaccines() {
			if slices.ContainsFunc(have, func(h vax.Vaccine) bool { return h.Name == v.Name }) {
				continue
			}
			if err := tx.PutVaccine(ctx, v); err != nil {
				return fmt.Errorf("vaccine %s: %w", v.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load master data: %w", err)
	}
	return nil
}
