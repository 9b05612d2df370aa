package cowin

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/vax"
)

// The search error codes (see the package comment).
const (
	codeMissing  = "SEARCH0001"
	codePincode  = "SEARCH0002"
	codeDate     = "SEARCH0003"
	codeDistrict = "SEARCH0004"
	codeState    = "SEARCH0005"
	codeCentre   = "SEARCH0006"
	codeLatLong  = "SEARCH0007"
	codeVaccine  = "SEARCH0008"
)

// invalid returns a 400 error with a Co-WIN-style code. Messages quote
// at most a short, sanitised piece of what was sent.
func invalid(code, format string, args ...any) error {
	e := vax.Errorf(vax.Invalid, format, args...)
	e.Reason = code
	return e
}

// param returns a query parameter, trimmed; a missing or empty one is an
// error naming it.
func param(q url.Values, name string) (string, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return "", invalid(codeMissing, "missing parameter %s", name)
	}
	return v, nil
}

// quote shows a bad value in an error message: at most 20 characters,
// quoted so that control characters cannot forge log lines.
func quote(s string) string {
	if len(s) > 20 {
		s = s[:20] + "…"
	}
	return strconv.Quote(s)
}

func parsePincode(q url.Values) (int, error) {
	v, err := param(q, "pincode")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || len(v) != 6 || n < 110000 {
		return 0, invalid(codePincode, "invalid pincode %s: want 6 digits", quote(v))
	}
	return n, nil
}

func parseDate(q url.Values) (vax.Date, error) {
	v, err := param(q, "date")
	if err != nil {
		return vax.Date{}, err
	}
	d, err := vax.ParseCowinDate(v)
	if err != nil {
		return vax.Date{}, invalid(codeDate, "invalid date %s: want DD-MM-YYYY", quote(v))
	}
	return d, nil
}

func parseDistrict(q url.Values) (int, error) {
	v, err := param(q, "district_id")
	if err != nil {
		return 0, err
	}
	id, err := strconv.Atoi(v)
	if err != nil || id <= 0 {
		return 0, invalid(codeDistrict, "invalid district_id %s: want a number", quote(v))
	}
	return id, nil
}

func unknownDistrict(id int) error {
	return invalid(codeDistrict, "invalid district_id %d: no such district", id)
}

func parseState(v string, m *search.Master) (int, error) {
	id, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || id <= 0 {
		return 0, invalid(codeState, "invalid state_id %s: want a number", quote(v))
	}
	if _, ok := m.State(id); !ok {
		return 0, invalid(codeState, "invalid state_id %d: no such state", id)
	}
	return id, nil
}

func parseCentre(q url.Values) (int64, error) {
	v, err := param(q, "center_id")
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid(codeCentre, "invalid center_id %s: want a number", quote(v))
	}
	return id, nil
}

// parseVaccine returns the protected searches' optional vaccine filter,
// upper case; "" means every vaccine.
func parseVaccine(q url.Values, m *search.Master) (string, error) {
	v := strings.ToUpper(strings.TrimSpace(q.Get("vaccine")))
	if v == "" {
		return "", nil
	}
	if !m.Vaccine(v) {
		return "", invalid(codeVaccine, "invalid vaccine %s: not a vaccine offered here", quote(v))
	}
	return v, nil
}

// parseLatLong reads lat and long (some clients say lon or lng).
func parseLatLong(q url.Values) (lat, long float64, err error) {
	lv, err := param(q, "lat")
	if err != nil {
		return 0, 0, err
	}
	name := "long"
	for _, alt := range []string{"lon", "lng"} {
		if q.Get(name) == "" && q.Get(alt) != "" {
			name = alt
		}
	}
	gv, err := param(q, name)
	if err != nil {
		return 0, 0, err
	}
	lat, err1 := strconv.ParseFloat(lv, 64)
	long, err2 := strconv.ParseFloat(gv, 64)
	if err1 != nil || err2 != nil || math.IsNaN(lat) || math.IsNaN(long) ||
		lat < -90 || lat > 90 || long < -180 || long > 180 {
		return 0, 0, invalid(codeLatLong, "invalid lat/long %s,%s: want degrees, -90..90 and -180..180", quote(lv), quote(gv))
	}
	return lat, long, nil
}

// maxLangs bounds the languages taken from Accept-Language, and so the
// cache keys it makes.
const maxLangs = 3

// languages returns the language tags of an Accept-Language header that
// local names exist in, most preferred first (by q-value, then order),
// stopping at English or "*" (English is the fallback anyway). Region
// subtags are dropped ("hi-IN" is "hi").
func languages(header string, m *search.Master) []string {
	if header == "" {
		return nil
	}
	if len(header) > 512 {
		header = header[:512]
	}
	type pref struct {
		tag string
		q   float64
		i   int
	}
	var prefs []pref
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag == "" {
			continue
		}
		q, ok := qValue(params)
		if !ok || q <= 0 {
			continue
		}
		if p, _, found := strings.Cut(tag, "-"); found {
			tag = p
		}
		prefs = append(prefs, pref{tag, q, i})
	}
	slices.SortStableFunc(prefs, func(a, b pref) int { return cmp.Compare(b.q, a.q) })
	var out []string
	for _, p := range prefs {
		if p.tag == "en" || p.tag == "*" || len(out) == maxLangs {
			break
		}
		if m.Language(p.tag) && !slices.Contains(out, p.tag) {
			out = append(out, p.tag)
		}
	}
	return out
}

// qValue parses the parameters after a tag or coding for q=; absent means
// 1, malformed is not ok.
func qValue(params string) (float64, bool) {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if strings.TrimSpace(strings.ToLower(k)) != "q" {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0, false
		}
		return q, true
	}
	return 1, true
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: named
// (or x-gzip) with q > 0, or "*" with q > 0 and gzip not refused.
func acceptsGzip(header string) bool {
	star := false
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		q, ok := qValue(params)
		switch {
		case strings.EqualFold(name, "gzip") || strings.EqualFold(name, "x-gzip"):
			return ok && q > 0
		case name == "*":
			star = ok && q > 0
		}
	}
	return star
}
