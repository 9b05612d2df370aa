package masterdata_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vaxport/vaxport/internal/masterdata"
)

func TestVaccines(t *testing.T) {
	want := map[string][2]int{ // name → doses, interval days
		masterdata.Covishield: {2, 84},
		masterdata.Covaxin:    {2, 28},
		masterdata.SputnikV:   {2, 21},
	}
	got := masterdata.Vaccines()
	if len(got) != len(want) {
		t.Errorf("got %d vaccines, want %d", len(got), len(want))
	}
	for _, v := range got {
		if err := v.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", v.Name, err)
		}
		w, ok := want[v.Name]
		if !ok {
			t.Errorf("unexpected vaccine %q", v.Name)
			continue
		}
		if v.Doses != w[0] || v.IntervalDays != w[1] {
			t.Errorf("%s: got %d doses %d days apart, want %d doses %d days apart", v.Name, v.Doses, v.IntervalDays, w[0], w[1])
		}
	}
}

// valueSet reads a copied EU DCC value set: code → active.
func valueSet(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("data", "dcc-valuesets", file))
	if err != nil {
		t.Fatal(err)
	}
	var vs struct {
		Values map[string]struct {
			Active bool `json:"active"`
		} `json:"valueSetValues"`
	}
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]bool{}
	for code, v := range vs.Values {
		out[code] = v.Active
	}
	return out
}

func TestVaccineDCCCodes(t *testing.T) {
	products := valueSet(t, "vaccine-medicinal-product.json")
	holders := valueSet(t, "vaccine-mah-manf.json")
	prophylaxis := valueSet(t, "vaccine-prophylaxis.json")

	b, err := os.ReadFile(filepath.Join("data", "dcc-valuesets", "vaccine-encoding-instructions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var annexA struct {
		Values map[string]struct {
			Product      string   `json:"vaccine-code"`
			Manufacturer string   `json:"vaccine-manufacturer"`
			SCT          []string `json:"sct-codes"`
		} `json:"valueSetValues"`
	}
	if err := json.Unmarshal(b, &annexA); err != nil {
		t.Fatal(err)
	}

	for _, v := range masterdata.Vaccines() {
		t.Run(v.Name, func(t *testing.T) {
			for _, c := range []struct {
				set         map[string]bool
				file, value string
			}{
				{products, "vaccine-medicinal-product", v.DCCProduct},
				{holders, "vaccine-mah-manf", v.DCCManufacturer},
				{prophylaxis, "vaccine-prophylaxis", v.DCCProphylaxis},
			} {
				active, ok := c.set[c.value]
				if !ok {
					t.Errorf("%q is not in %s", c.value, c.file)
				} else if !active {
					t.Errorf("%q is deprecated in %s", c.value, c.file)
				}
			}
			allowed := false
			for _, e := range annexA.Values {
				if e.Product == v.DCCProduct && e.Manufacturer == v.DCCManufacturer && slices.Contains(e.SCT, v.DCCProphylaxis) {
					allowed = true
				}
			}
			if !allowed {
				t.Errorf("product %s, manufacturer %s, prophylaxis %s: not a combination Annex A allows",
					v.DCCProduct, v.DCCManufacturer, v.DCCProphylaxis)
			}
		})
	}
}
