package shc

import "github.com/vaxport/vaxport/internal/vax"

// cvxByProduct maps an EU DCC medicinal-product code (vax.Vaccine's
// DCCProduct) to the CVX code a SMART Health Card carries. Every code here
// is in the SMART Health Cards COVID-19 immunization value set
// (https://terminology.smarthealth.cards/ValueSet/immunization-covid-all,
// version 20230616), whose CVX part lists the CDC's "non-US" codes:
//
//   - Covishield (Serum Institute of India) is the ChAdOx1-S vaccine; CVX has
//     no separate code for it and files it under 210 ("COVID-19 vaccine,
//     vector-nr, rS-ChAdOx1, PF, 0.5 mL", AstraZeneca).
//   - Covaxin (Bharat Biotech) is 502 ("COVID-19 IV Non-US Vaccine (COVAXIN)").
//   - Sputnik V (Gamaleya) is 505 ("COVID-19 VVnr Non-US Vaccine (Sputnik V)").
//
// The same value set's SNOMED CT part has 28961000087105 (COVISHIELD),
// 33211000087105 (COVAXIN) and 31341000087103 (Sputnik V); verifiers here
// read those too (see displayNames).
var cvxByProduct = map[string]string{
	"Covishield":    "210",
	"EU/1/21/1529":  "210", // Vaxzevria
	"Covaxin":       "502",
	"Sputnik-V":     "505",
	"Sputnik-Light": "504",
	"EU/1/20/1528":  "208", // Comirnaty
	"EU/1/20/1507":  "207", // Spikevax
	"EU/1/20/1525":  "212", // Jcovden (Janssen)
	"EU/1/21/1618":  "211", // Nuvaxovid (Novavax)
	"BBIBP-CorV":    "510",
	"CoronaVac":     "511",
	"Convidecia":    "506",
	"EpiVacCorona":  "509",
	"Covifenz":      "512",
}

// CVX returns the CVX code for v, chosen by its DCC medicinal product. It
// fails, with an Invalid error, for a vaccine this table does not know:
// issuing "213" (unspecified) would hide a configuration mistake.
func CVX(v vax.Vaccine) (string, error) {
	code, ok := cvxByProduct[v.DCCProduct]
	if !ok {
		return "", vax.Errorf(vax.Invalid, "no CVX code known for vaccine %q (DCC product %q)", v.Name, v.DCCProduct)
	}
	return code, nil
}

// displayNames names the COVID-19 vaccine codes of the SMART Health Cards
// value set (same source as cvxByProduct), for showing a verified card.
var displayNames = map[string]map[string]string{
	SystemCVX: {
		"207": "Moderna (Spikevax)",
		"208": "Pfizer-BioNTech (Comirnaty)",
		"210": "AstraZeneca ChAdOx1 (Vaxzevria, Covishield)",
		"211": "Novavax (Nuvaxovid)",
		"212": "Janssen (Jcovden)",
		"213": "COVID-19 vaccine, unspecified",
		"217": "Pfizer-BioNTech (Comirnaty)",
		"218": "Pfizer-BioNTech (Comirnaty), child dose",
		"219": "Pfizer-BioNTech (Comirnaty), child dose",
		"221": "Moderna (Spikevax)",
		"225": "Sanofi (VidPrevtyn)",
		"226": "Sanofi (VidPrevtyn)",
		"227": "Moderna (Spikevax), child dose",
		"228": "Moderna (Spikevax), child dose",
		"229": "Moderna bivalent (Spikevax Bivalent)",
		"230": "Moderna bivalent (Spikevax Bivalent)",
		"300": "Pfizer-BioNTech bivalent (Comirnaty Bivalent)",
		"301": "Pfizer-BioNTech bivalent (Comirnaty Bivalent)",
		"302": "Pfizer-BioNTech bivalent (Comirnaty Bivalent)",
		"500": "COVID-19 non-US vaccine, product unknown",
		"501": "QazCovid-in",
		"502": "Covaxin (Bharat Biotech)",
		"503": "CoviVac",
		"504": "Sputnik Light",
		"505": "Sputnik V (Gamaleya)",
		"506": "Convidecia (CanSino)",
		"507": "Zifivax (Anhui Zhifei Longcom)",
		"508": "COVID-19 vaccine (Jiangsu CDC)",
		"509": "EpiVacCorona",
		"510": "Sinopharm BIBP (Covilo)",
		"511": "CoronaVac (Sinovac)",
		"512": "Covifenz (Medicago)",
		"513": "Zifivax (Anhui Zhifei Longcom)",
		"514": "ZyCoV-D (Zydus Cadila)",
		"515": "MVC-COV1901 (Medigen)",
		"516": "KCONVAC (Minhai)",
		"517": "Corbevax (Biological E)",
		"518": "VLA2001 (Valneva)",
		"519": "Moderna bivalent (Spikevax Bivalent)",
		"520": "Pfizer-BioNTech bivalent (Comirnaty Bivalent)",
	},
	SystemSNOMED: {
		"28961000087105": "Covishield (Serum Institute of India)",
		"33211000087105": "Covaxin (Bharat Biotech)",
		"31341000087103": "Sputnik V (Gamaleya)",
		"28761000087108": "AstraZeneca (Vaxzevria)",
		"28581000087106": "Pfizer-BioNTech (Comirnaty)",
		"28571000087109": "Moderna (Spikevax)",
		"28951000087107": "Janssen (Jcovden)",
	},
}

// DisplayName names a vaccine code for people: "Covaxin (Bharat Biotech)"
// for CVX 502, or "CVX 999" for a code it does not know.
func DisplayName(system, code string) string {
	if n, ok := displayNames[system][code]; ok {
		return n
	}
	switch system {
	case SystemCVX, "":
		return "CVX " + code
	case SystemSNOMED:
		return "SNOMED CT " + code
	}
	return system + " " + code
}
