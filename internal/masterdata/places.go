package masterdata

import (
	"math"
)

// span is an inclusive range of three-digit PIN prefixes.
type span struct{ lo, hi int }

// stateInfo is what vaxport adds to a Co-WIN state: local names (hand
// written), the first three PIN digits India Post uses there (roughly
// right), an approximate centroid and the half-extent over which its
// districts are spread. Everything but the names is GENERATED data for demos,
// not official.
type stateInfo struct {
	name        string            // Co-WIN's English name, checked when the data is built
	local       map[string]string // language tag → name
	pins        []span
	lat, long   float64
	latR, longR float64
}

// states is keyed by Co-WIN state id.
var states = map[int]stateInfo{
	1:  {"Andaman and Nicobar Islands", hi("अंडमान और निकोबार द्वीपसमूह"), []span{{744, 744}}, 11.7, 92.7, 1.5, 0.4},
	2:  {"Andhra Pradesh", hi("आंध्र प्रदेश", "te", "ఆంధ్ర ప్రదేశ్"), []span{{515, 535}}, 15.9, 79.7, 2.0, 2.0},
	3:  {"Arunachal Pradesh", hi("अरुणाचल प्रदेश"), []span{{790, 792}}, 28.0, 94.5, 0.8, 1.6},
	4:  {"Assam", hi("असम", "as", "অসম"), []span{{781, 788}}, 26.3, 92.9, 0.6, 2.0},
	5:  {"Bihar", hi("बिहार"), []span{{800, 805}, {841, 855}}, 25.8, 85.6, 1.0, 1.8},
	6:  {"Chandigarh", hi("चंडीगढ़"), []span{{160, 160}}, 30.73, 76.78, 0.05, 0.05},
	7:  {"Chhattisgarh", hi("छत्तीसगढ़"), []span{{490, 497}}, 21.3, 81.9, 2.0, 1.2},
	8:  {"Dadra and Nagar Haveli", hi("दादरा और नगर हवेली"), []span{{396, 396}}, 20.27, 73.02, 0.1, 0.1},
	9:  {"Delhi", hi("दिल्ली"), []span{{110, 110}}, 28.61, 77.21, 0.15, 0.15},
	10: {"Goa", hi("गोवा"), []span{{403, 403}}, 15.4, 74.0, 0.3, 0.2},
	11: {"Gujarat", hi("गुजरात", "gu", "ગુજરાત"), []span{{360, 395}}, 22.6, 71.8, 1.5, 2.2},
	12: {"Haryana", hi("हरियाणा"), []span{{121, 136}}, 29.1, 76.1, 1.0, 1.0},
	13: {"Himachal Pradesh", hi("हिमाचल प्रदेश"), []span{{171, 177}}, 31.9, 77.2, 0.8, 0.8},
	14: {"Jammu and Kashmir", hi("जम्मू और कश्मीर"), []span{{180, 193}}, 33.5, 75.0, 0.9, 0.9},
	15: {"Jharkhand", hi("झारखंड"), []span{{814, 816}, {825, 835}}, 23.6, 85.3, 1.0, 1.5},
	16: {"Karnataka", hi("कर्नाटक", "kn", "ಕರ್ನಾಟಕ"), []span{{560, 591}}, 14.7, 75.9, 2.2, 1.4},
	17: {"Kerala", hi("केरल", "ml", "കേരളം"), []span{{670, 695}}, 10.4, 76.4, 1.6, 0.5},
	18: {"Ladakh", hi("लद्दाख"), []span{{194, 194}}, 34.2, 77.6, 0.5, 1.0},
	19: {"Lakshadweep", hi("लक्षद्वीप"), []span{{682, 682}}, 10.6, 72.6, 0.5, 0.3},
	20: {"Madhya Pradesh", hi("मध्य प्रदेश"), []span{{450, 488}}, 23.5, 78.5, 1.8, 3.5},
	21: {"Maharashtra", hi("महाराष्ट्र", "mr", "महाराष्ट्र"), []span{{400, 402}, {404, 445}}, 19.6, 75.7, 2.0, 3.0},
	22: {"Manipur", hi("मणिपुर"), []span{{795, 795}}, 24.7, 93.9, 0.5, 0.5},
	23: {"Meghalaya", hi("मेघालय"), []span{{793, 794}}, 25.5, 91.4, 0.3, 1.0},
	24: {"Mizoram", hi("मिज़ोरम"), []span{{796, 796}}, 23.2, 92.8, 0.8, 0.3},
	25: {"Nagaland", hi("नागालैंड"), []span{{797, 798}}, 26.1, 94.5, 0.5, 0.4},
	26: {"Odisha", hi("ओडिशा", "or", "ଓଡ଼ିଶା"), []span{{751, 770}}, 20.5, 84.4, 1.6, 1.6},
	27: {"Puducherry", hi("पुदुचेरी"), []span{{533, 533}, {605, 605}, {609, 609}, {673, 673}}, 11.93, 79.83, 0.1, 0.1},
	28: {"Punjab", hi("पंजाब", "pa", "ਪੰਜਾਬ"), []span{{140, 148}, {151, 152}}, 30.9, 75.4, 0.9, 1.1},
	29: {"Rajasthan", hi("राजस्थान"), []span{{301, 345}}, 26.6, 73.8, 2.5, 3.0},
	30: {"Sikkim", hi("सिक्किम"), []span{{737, 737}}, 27.5, 88.5, 0.3, 0.2},
	31: {"Tamil Nadu", hi("तमिलनाडु", "ta", "தமிழ்நாடு"), []span{{600, 604}, {606, 643}}, 11.1, 78.4, 2.0, 1.2},
	32: {"Telangana", hi("तेलंगाना", "te", "తెలంగాణ"), []span{{500, 509}}, 17.9, 79.0, 1.3, 1.5},
	33: {"Tripura", hi("त्रिपुरा"), []span{{799, 799}}, 23.8, 91.5, 0.4, 0.3},
	34: {"Uttar Pradesh", hi("उत्तर प्रदेश"), []span{{201, 245}, {271, 285}}, 26.9, 80.9, 2.0, 3.5},
	35: {"Uttarakhand", hi("उत्तराखंड"), []span{{246, 249}, {262, 263}}, 30.1, 79.2, 0.8, 1.0},
	36: {"West Bengal", hi("पश्चिम बंगाल", "bn", "পশ্চিমবঙ্গ"), []span{{700, 736}, {738, 743}}, 23.5, 87.8, 2.5, 0.8},
	37: {"Daman and Diu", hi("दमन और दीव"), []span{{362, 362}, {396, 396}}, 20.5, 72.3, 0.2, 1.0},
}

// hi builds a state's local names: Hindi first, then pairs of language tag
// and name.
func hi(hindi string, more ...string) map[string]string {
	m := map[string]string{"hi": hindi}
	for i := 0; i+1 < len(more); i += 2 {
		m[more[i]] = more[i+1]
	}
	return m
}

// fixedPlace pins a district of a small union territory to real head post
// office PINs and approximate town coordinates, where spreading districts
// around a centroid would put them in the sea or another state.
type fixedPlace struct {
	pins      [pinsPerDistrict]int
	lat, long float64
}

// fixedPlaces is keyed by Co-WIN district id.
var fixedPlaces = map[int]fixedPlace{
	1:   {[4]int{744201, 744202, 744203, 744204}, 12.92, 92.90}, // North and Middle Andaman: Mayabunder
	2:   {[4]int{744101, 744102, 744103, 744104}, 11.62, 92.73}, // South Andaman: Port Blair
	3:   {[4]int{744301, 744302, 744303, 744304}, 9.16, 92.76},  // Nicobar: Car Nicobar
	108: {[4]int{160017, 160018, 160019, 160020}, 30.73, 76.78}, // Chandigarh
	137: {[4]int{396230, 396231, 396232, 396233}, 20.27, 73.02}, // Dadra and Nagar Haveli: Silvassa
	138: {[4]int{396210, 396211, 396212, 396213}, 20.41, 72.83}, // Daman
	139: {[4]int{362520, 362521, 362522, 362523}, 20.71, 70.98}, // Diu
	309: {[4]int{194103, 194102, 194105, 194106}, 34.56, 76.13}, // Kargil
	310: {[4]int{194101, 194104, 194401, 194402}, 34.16, 77.58}, // Leh
	311: {[4]int{682555, 682556, 682557, 682558}, 10.57, 72.64}, // Lakshadweep: Kavaratti
	796: {[4]int{682553, 682551, 682552, 682554}, 10.86, 72.19}, // Agatti Island
	475: {[4]int{605001, 605002, 605003, 605004}, 11.93, 79.83}, // Puducherry
	476: {[4]int{609602, 609603, 609604, 609605}, 10.92, 79.84}, // Karaikal
	477: {[4]int{673310, 673311, 673312, 673313}, 11.70, 75.54}, // Mahe
	478: {[4]int{533464, 533465, 533466, 533467}, 16.73, 82.21}, // Yanam
}

// pinsPerDistrict is how many PIN codes each district gets for its centres.
const pinsPerDistrict = 4

// statePlaces generates every district's Place. districts are one state's
// districts in id order; the result is keyed by district id.
func statePlaces(info stateInfo, districts []int) map[int]Place {
	var prefixes []int
	for _, s := range info.pins {
		for p := s.lo; p <= s.hi; p++ {
			prefixes = append(prefixes, p)
		}
	}
	used := map[int]int{} // prefix → districts already on it
	out := make(map[int]Place, len(districts))
	for i, id := range districts {
		if f, ok := fixedPlaces[id]; ok {
			out[id] = Place{Pincodes: f.pins[:], Lat: f.lat, Long: f.long}
			continue
		}
		// Spread the districts over the state's prefixes in id order;
		// districts sharing a prefix get blocks of ten PINs after it
		// ("110001", "110011", ...), like head offices.
		p := prefixes[i*len(prefixes)/len(districts)]
		base := p*1000 + 1 + used[p]*10
		used[p]++
		pins := make([]int, pinsPerDistrict)
		for j := range pins {
			pins[j] = base + j
		}
		u, v := unitPair(uint64(id))
		out[id] = Place{
			Pincodes: pins,
			Lat:      round4(info.lat + u*info.latR),
			Long:     round4(info.long + v*info.longR),
		}
	}
	return out
}

// unitPair returns two deterministic pseudo-random numbers in [-1, 1) for
// a district id (splitmix64), so every build places a district alike.
func unitPair(id uint64) (float64, float64) {
	next := func() float64 {
		id += 0x9e3779b97f4a7c15
		z := id
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		return float64(z>>11)/(1<<52) - 1
	}
	return next(), next()
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
