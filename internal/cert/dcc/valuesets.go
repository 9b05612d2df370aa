package dcc

import (
	"embed"
	"encoding/json"
	"sync"
)

// The EU DCC value sets 1.15 (see valuesets/SOURCES.md).
//
//go:embed valuesets/vaccine-medicinal-product.json valuesets/vaccine-mah-manf.json valuesets/vaccine-prophylaxis.json valuesets/disease-agent-targeted.json valuesets/country-2-codes.json
var valueSetFiles embed.FS

const (
	setProduct      = "vaccine-medicinal-product"
	setManufacturer = "vaccine-mah-manf"
	setProphylaxis  = "vaccine-prophylaxis"
	setTarget       = "disease-agent-targeted"
	setCountry      = "country-2-codes"
)

type valueSetEntry struct {
	Display string `json:"display"`
	Active  bool   `json:"active"`
}

var valueSets = sync.OnceValue(func() map[string]map[string]valueSetEntry {
	out := map[string]map[string]valueSetEntry{}
	for _, name := range []string{setProduct, setManufacturer, setProphylaxis, setTarget, setCountry} {
		b, err := valueSetFiles.ReadFile("valuesets/" + name + ".json")
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		var f struct {
			Values map[string]valueSetEntry `json:"valueSetValues"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			panic(err) // embedded and tested
		}
		out[name] = f.Values
	}
	return out
})

func activeCode(set, code string) bool {
	e, ok := valueSets()[set][code]
	return ok && e.Active
}

func display(set, code string) (string, bool) {
	e, ok := valueSets()[set][code]
	return e.Display, ok
}

// ProductName names a vaccine-medicinal-product code ("Covishield",
// "Comirnaty" for EU/1/20/1528), or returns the code itself if the value
// set does not have it.
func ProductName(code string) string {
	if d, ok := display(setProduct, code); ok {
		return d
	}
	return code
}

// CountryName names an ISO 3166-1 alpha-2 code of the country value set.
func CountryName(code string) (string, bool) { return display(setCountry, code) }
