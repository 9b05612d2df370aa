package masterdata

import (
	"strings"
	"unicode"
)

// hindiWords translates the English words that recur in Co-WIN district
// names ("North 24 Parganas", "Warangal(Rural)") instead of transliterating
// them, which would read oddly.
var hindiWords = map[string]string{
	"and":         "और",
	"central":     "मध्य",
	"corporation": "कॉर्पोरेशन",
	"delhi":       "दिल्ली",
	"district":    "ज़िला",
	"east":        "पूर्व",
	"hd":          "एचडी", // "health district" in West Bengal's list
	"hills":       "हिल्स",
	"island":      "द्वीप",
	"lower":       "निचला",
	"middle":      "मध्य",
	"new":         "नई",
	"north":       "उत्तर",
	"rural":       "ग्रामीण",
	"s":           "दक्षिण", // "S 24 Parganas"
	"south":       "दक्षिण",
	"sri":         "श्री",
	"upper":       "ऊपरी",
	"urban":       "शहरी",
	"valley":      "घाटी",
	"west":        "पश्चिम",
}

// hindiSuffixes are common place-name endings with an established Hindi
// spelling that the letter rules would get wrong. The value is used after a
// consonant; the key must end the word.
var hindiSuffixes = []struct{ latin, deva string }{
	{"garh", "गढ़"},
	{"abad", "ाबाद"},
	{"gaon", "गांव"},
}

// Independent vowels and their dependent signs (matras). The inherent "a"
// has no sign.
var vowels = map[string][2]string{
	"a":  {"अ", ""},
	"aa": {"आ", "ा"},
	"i":  {"इ", "ि"},
	"ee": {"ई", "ी"},
	"ii": {"ई", "ी"},
	"u":  {"उ", "ु"},
	"oo": {"ऊ", "ू"},
	"uu": {"ऊ", "ू"},
	"e":  {"ए", "े"},
	"ai": {"ऐ", "ै"},
	"o":  {"ओ", "ो"},
	"au": {"औ", "ौ"},
}

var consonants = map[string]string{
	"ksh": "क्ष", "chh": "छ",
	"kh": "ख", "gh": "घ", "ch": "च", "jh": "झ", "th": "थ", "dh": "ध",
	"ph": "फ", "bh": "भ", "sh": "श", "zh": "झ",
	"b": "ब", "c": "क", "d": "द", "f": "फ़", "g": "ग", "h": "ह", "j": "ज",
	"k": "क", "l": "ल", "m": "म", "n": "न", "p": "प", "q": "क", "r": "र",
	"s": "स", "t": "त", "v": "व", "w": "व", "x": "क्स", "y": "य", "z": "ज़",
}

// stops are the consonants before which n (and, for labials, m) is written
// as an anusvara: "Anantapur" → अनंतपुर.
var stops = map[string]bool{
	"k": true, "kh": true, "g": true, "gh": true, "c": true, "ch": true, "chh": true,
	"j": true, "jh": true, "t": true, "th": true, "d": true, "dh": true,
	"p": true, "ph": true, "b": true, "bh": true, "s": true, "sh": true,
}

const virama = "्"

// toHindi transliterates an English (Latin-letter) place name into
// Devanagari. It is approximate: romanised Indian names do not record vowel
// length or dental/retroflex consonants, so "Patna" comes out as पत्ना, not
// पटना. It uses a few rules (longest-match letters, conjuncts with a virama,
// anusvara before stops, a word-final "a" read as आ) and the word list
// above; characters other than letters are kept.
func toHindi(name string) string {
	var b strings.Builder
	word := []rune{}
	flush := func() {
		if len(word) > 0 {
			b.WriteString(hindiWord(strings.ToLower(string(word))))
			word = word[:0]
		}
	}
	for _, r := range name {
		if r < unicode.MaxASCII && unicode.IsLetter(r) {
			word = append(word, r)
			continue
		}
		flush()
		b.WriteRune(r)
	}
	flush()
	return b.String()
}

// unit is one letter group of a word: a vowel or a consonant.
type unit struct {
	latin string
	vowel bool
}

func hindiWord(w string) string {
	if t, ok := hindiWords[w]; ok {
		return t
	}
	suffix := ""
	for _, s := range hindiSuffixes {
		if rest, ok := strings.CutSuffix(w, s.latin); ok && rest != "" {
			w, suffix = rest, s.deva
			break
		}
	}
	units := split(w)
	var b strings.Builder
	for i, u := range units {
		prevConsonant := i > 0 && !units[i-1].vowel
		last := i == len(units)-1 && suffix == ""
		if u.vowel {
			v := vowels[u.latin]
			switch {
			case !prevConsonant && u.latin == "a" && i > 0 && (units[i-1].latin == "i" || units[i-1].latin == "ee"):
				// "Nadia" → नदिया: a glide, not a new syllable.
				if last {
					b.WriteString("या")
				} else {
					b.WriteString("य")
				}
			case !prevConsonant:
				b.WriteString(v[0])
			case last && u.latin == "a":
				b.WriteString("ा")
			case last && u.latin == "i":
				b.WriteString("ी")
			case last && u.latin == "ai":
				b.WriteString("ई") // "Mumbai" → मुंबई
			default:
				b.WriteString(v[1])
			}
			continue
		}
		var next *unit
		if i+1 < len(units) {
			next = &units[i+1]
		}
		nextConsonant := next != nil && !next.vowel
		switch {
		case u.latin == "y" && prevConsonant && next == nil && suffix == "":
			b.WriteString("ी") // "Bareilly"
			continue
		case nextConsonant && i > 0 && units[i-1].vowel &&
			(u.latin == "n" && stops[next.latin] ||
				u.latin == "m" && (next.latin == "p" || next.latin == "b" || next.latin == "ph" || next.latin == "bh")):
			b.WriteString("ं")
			continue
		}
		b.WriteString(consonants[u.latin])
		if nextConsonant {
			b.WriteString(virama)
		}
	}
	if suffix != "" {
		// After a vowel (or alone) "-abad" starts with the full vowel आ.
		if rest, ok := strings.CutPrefix(suffix, "ा"); ok && (len(units) == 0 || units[len(units)-1].vowel) {
			suffix = "आ" + rest
		}
		b.WriteString(suffix)
	}
	return b.String()
}

// split cuts a lower-case word into vowel and consonant groups, longest
// match first.
func split(w string) []unit {
	var units []unit
	for len(w) > 0 {
		matched := false
		for n := 3; n >= 1 && !matched; n-- {
			if n > len(w) {
				continue
			}
			p := w[:n]
			if _, ok := vowels[p]; ok {
				units = append(units, unit{p, true})
				w, matched = w[n:], true
			} else if _, ok := consonants[p]; ok {
				units = append(units, unit{p, false})
				w, matched = w[n:], true
			}
		}
		if !matched {
			w = w[1:] // not a letter we know: drop it
		}
	}
	return units
}
