package cowin

import (
	"net/http"
	"strings"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/search"
)

// nearCentres is how many centres findByLatLong returns, as Co-WIN did.
const nearCentres = 20

// Answers for dates in [today-cacheBehind, today+cacheAhead] are cached;
// others (rare, and nearly always empty) are built per request, so that a
// client walking through dates cannot fill the cache.
const (
	cacheBehind = 1
	cacheAhead  = 120
)

func (s *Server) handleStates(w http.ResponseWriter, r *http.Request) error {
	m := s.ix.Master()
	langs := languages(r.Header.Get("Accept-Language"), m)
	key := cacheKey{route: statesRoute, lang: strings.Join(langs, ",")}
	return s.serve(w, r, key, m.Version, true, func() ([]byte, error) {
		return encodeStates(m, langs)
	})
}

func (s *Server) handleDistricts(w http.ResponseWriter, r *http.Request) error {
	m := s.ix.Master()
	id, err := parseState(r.PathValue("state_id"), m)
	if err != nil {
		return err
	}
	langs := languages(r.Header.Get("Accept-Language"), m)
	key := cacheKey{route: districtsRoute, id: int64(id), lang: strings.Join(langs, ",")}
	return s.serve(w, r, key, m.Version, true, func() ([]byte, error) {
		return encodeDistricts(m, id, langs)
	})
}

// sessions returns the handler of one session search; protected ones
// honour the vaccine filter.
func (s *Server) sessions(rt route, protected bool) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		m := s.ix.Master()
		key := cacheKey{route: rt}
		var (
			version uint64
			build   func() ([]byte, error)
			g       *search.Group
			c       *search.Centre
		)
		switch rt {
		case findByPin, calendarByPin:
			pin, err := parsePincode(q)
			if err != nil {
				return err
			}
			key.id = int64(pin)
			g = s.ix.Pincode(pin)
		case findByDistrict, calendarByDistrict:
			id, err := parseDistrict(q)
			if err != nil {
				return err
			}
			var known bool
			if g, known = s.ix.District(id); !known {
				return unknownDistrict(id)
			}
			key.id = int64(id)
		case calendarByCenter:
			id, err := parseCentre(q)
			if err != nil {
				return err
			}
			key.id = id
			c = s.ix.Centre(id)
		}
		date, err := parseDate(q)
		if err != nil {
			return err
		}
		key.date = date
		if protected {
			if key.vaccine, err = parseVaccine(q, m); err != nil {
				return err
			}
		}
		switch rt {
		case findByPin, findByDistrict:
			version = g.Version
			build = func() ([]byte, error) { return encodeFlat(g, key.date, key.vaccine) }
		case calendarByPin, calendarByDistrict:
			version = g.Version
			build = func() ([]byte, error) { return encodeCalendar(g, key.date, key.vaccine) }
		case calendarByCenter:
			build = func() ([]byte, error) { return encodeCalendarCentre(c, key.date, key.vaccine) }
			if c != nil {
				version = c.Version
			}
		}
		today := s.ix.Today()
		// An unknown centre's {} is not cached: it has no version to tell
		// when it goes stale (a centre that disappears from the index
		// would otherwise keep its last answer).
		uncached := rt == calendarByCenter && c == nil
		if uncached || date.Before(today.AddDays(-cacheBehind)) || date.After(today.AddDays(cacheAhead)) {
			body, err := build()
			if err != nil {
				return err
			}
			newEntry(version, body).write(w, r, false)
			return nil
		}
		return s.serve(w, r, key, version, false, build)
	}
}

func (s *Server) handleFindByLatLong(w http.ResponseWriter, r *http.Request) error {
	lat, long, err := parseLatLong(r.URL.Query())
	if err != nil {
		return err
	}
	langs := languages(r.Header.Get("Accept-Language"), s.ix.Master())
	// Not cached: every point is its own key, and the grid answers in
	// microseconds.
	body, err := encodeNear(s.ix.Near(lat, long, nearCentres), langs)
	if err != nil {
		return err
	}
	newEntry(0, body).write(w, r, true)
	return nil
}

// serve answers from the cache when it holds key at version (or newer),
// and otherwise builds the answer once however many requests wait for it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, key cacheKey, version uint64, byLanguage bool, build func() ([]byte, error)) error {
	e := s.cache.get(key)
	if e == nil || e.version < version {
		v, err, _ := s.flight.Do(key.flight(version), func() (any, error) {
			if e := s.cache.get(key); e != nil && e.version >= version {
				return e, nil
			}
			body, err := build()
			if err != nil {
				return nil, err
			}
			return s.cache.put(key, newEntry(version, body)), nil
		})
		if err != nil {
			return err
		}
		e = v.(*entry)
	}
	e.write(w, r, byLanguage)
	return nil
}
