package seed

import "math/rand/v2"

// Made-up hospital brands, so demo data names no real business.
var brands = []string{
	"Sunrise", "Lifeline", "City Care", "Sanjeevani", "Arogya", "Lotus",
	"Shanti", "Metro", "Green Valley", "Apex", "Unity", "Navjeevan",
	"Sparsh", "Karuna", "Ashirvad", "Medicity", "Dhanvantari", "Suraksha",
}

var privateKinds = []string{
	"Hospital", "Hospital", "Multispeciality Hospital", "Nursing Home", "Medical Centre", "Clinic",
}

// region picks the flavour of made-up place names.
type region int

const (
	north region = iota
	malayalam
	tamil
	kannada
	telugu
	marathi
	gujarati
	bengali
	odia
	northeast
)

// regionOf maps a Co-WIN state id to a naming region.
func regionOf(stateID int) region {
	switch stateID {
	case 17, 19: // Kerala, Lakshadweep
		return malayalam
	case 31, 27: // Tamil Nadu, Puducherry
		return tamil
	case 16:
		return kannada
	case 2, 32: // Andhra Pradesh, Telangana
		return telugu
	case 21, 10: // Maharashtra, Goa
		return marathi
	case 11, 8, 37: // Gujarat, Dadra and Nagar Haveli, Daman and Diu
		return gujarati
	case 36, 33, 4: // West Bengal, Tripura, Assam
		return bengali
	case 26:
		return odia
	case 3, 22, 23, 24, 25, 30: // Arunachal, Manipur, Meghalaya, Mizoram, Nagaland, Sikkim
		return northeast
	}
	return north
}

// Stems and endings of made-up place names per region: plausible, not real
// places (a few may exist by chance).
var nameParts = map[region][2][]string{
	north: {
		{"Ram", "Shiv", "Hari", "Krishna", "Sita", "Lakshmi", "Durga", "Chandra", "Surya", "Gopal",
			"Mohan", "Sultan", "Fateh", "Bahadur", "Anand", "Kishan", "Madho", "Nand", "Raj", "Dev", "Bhawani", "Keshav"},
		{"pur", "nagar", "ganj", "garh", "abad", "puri", "kheda", "gaon", "sar", "pura"},
	},
	malayalam: {
		{"Mara", "Chera", "Kuttana", "Thanne", "Punna", "Ambala", "Kaya", "Chenna", "Aroo", "Mave",
			"Kalla", "Thiru", "Vazha", "Peru", "Kodu", "Nedu", "Mutha", "Pala"},
		{"kulam", "kara", "puram", "kode", "chery", "pally", "thura", "vila", "moodu", "kadavu"},
	},
	tamil: {
		{"Thiru", "Pudu", "Vella", "Kovil", "Sengal", "Mana", "Arani", "Kanda", "Nalla", "Perung",
			"Chinna", "Periya", "Maru", "Vala"},
		{"palayam", "patti", "pettai", "nallur", "kottai", "puram", "kudi", "malai", "kuppam", "ur"},
	},
	kannada: {
		{"Hosa", "Dodda", "Chikka", "Kere", "Hale", "Bela", "Kanaka", "Mala", "Sira", "Hunsu", "Maddu", "Banna"},
		{"halli", "pura", "kere", "gere", "betta", "nagara", "palya"},
	},
	telugu: {
		{"Rama", "Kotha", "Peda", "China", "Nara", "Golla", "Venkata", "Siri", "Bhima", "Konda", "Jagga", "Amala"},
		{"palli", "peta", "gudem", "padu", "puram", "valasa", "konda"},
	},
	marathi: {
		{"Shiv", "Ram", "Vad", "Khed", "Ambe", "Sangam", "Pimpal", "Nandur", "Kopar", "Dhan", "Shirur", "Mangal"},
		{"wadi", "gaon", "pur", "nagar", "ner", "wade"},
	},
	gujarati: {
		{"Vad", "Dhol", "Mans", "Kheral", "Sidh", "Amar", "Nav", "Vir", "Pal", "Bhad", "Rajpi", "Sanand"},
		{"pur", "nagar", "vadi", "gam", "sar", "ka", "ali"},
	},
	bengali: {
		{"Rani", "Krishna", "Shanti", "Bara", "Chanda", "Sona", "Hari", "Debi", "Kali", "Madhya", "Nabi", "Ranga"},
		{"ganj", "pur", "hati", "danga", "nagar", "bari", "gram", "para"},
	},
	odia: {
		{"Jaga", "Bhawani", "Rayaga", "Kesha", "Nila", "Bira", "Sundar", "Bali", "Kunda", "Chandi"},
		{"pur", "garh", "patna", "para", "ganj", "pada"},
	},
	northeast: {
		{"Khawn", "Lung", "Tlang", "Mawk", "Naha", "Phek", "Kohi", "Sena", "Zun", "Ranga", "Tawa", "Mao"},
		{"pui", "thang", "mai", "ling", "pur", "ma", "lai", "rup"},
	},
}

func placeName(r *rand.Rand, reg region) string {
	p := nameParts[reg]
	return pick(r, p[0]) + pick(r, p[1])
}
