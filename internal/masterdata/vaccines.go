package masterdata

import "github.com/vaxport/vaxport/internal/vax"

// The default vaccines' Co-WIN wire names.
const (
	Covishield = "COVISHIELD"
	Covaxin    = "COVAXIN"
	SputnikV   = "SPUTNIK V"
)

// Vaccines returns the vaccines India offered in mid-2021, as defaults that
// operators may change (they are data, see Load).
//
// DCC codes are from the EU DCC value sets 1.15 (data/dcc-valuesets): the
// medicinal product and marketing-authorisation holder Annex A
// (vaccine-encoding-instructions.json) names for each product, and as
// prophylaxis the SNOMED CT type Annex A lists for it. The older ATC code
// J07BX03 ("covid-19 vaccines") is deprecated in these value sets, so it is
// not used.
func Vaccines() []vax.Vaccine {
	return []vax.Vaccine{
		{
			Name:  Covishield,
			Doses: 2,
			// 84 days: Covishield interval of 12–16 weeks, from the
			// Ministry of Health's guidance of 13 May 2021 (NTAGI advice).
			IntervalDays:    84,
			DCCProduct:      "Covishield",
			DCCManufacturer: "ORG-100001981",  // Serum Institute Of India Private Limited
			DCCProphylaxis:  "29061000087103", // COVID-19 non-replicating viral vector vaccine
		},
		{
			Name:  Covaxin,
			Doses: 2,
			// 28 days: Covaxin's second dose 4–6 weeks after the first,
			// per the Ministry of Health's operational guidelines (2021).
			IntervalDays:    28,
			DCCProduct:      "Covaxin",
			DCCManufacturer: "Bharat-Biotech", // no ORG- id in the value set
			DCCProphylaxis:  "1157024006",     // inactivated whole SARS-CoV-2 antigen vaccine
		},
		{
			Name:  SputnikV,
			Doses: 2,
			// 21 days: Sputnik V's component 2 is given 21 days after
			// component 1 (Gamaleya schedule, as approved in India in 2021).
			IntervalDays:    21,
			DCCProduct:      "Sputnik-V",
			DCCManufacturer: "Gamaleya-Research-Institute", // no ORG- id in the value set
			DCCProphylaxis:  "29061000087103",              // COVID-19 non-replicating viral vector vaccine
		},
	}
}
