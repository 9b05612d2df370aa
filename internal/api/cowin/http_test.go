package cowin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/vaxport/vaxport/internal/api/cowin"
	"github.com/vaxport/vaxport/internal/search"
	"github.com/vaxport/vaxport/internal/store/backendtest"
)

func TestHeadersAndGzip(t *testing.T) {
	f := newFixture(t, backendtest.OpenSQLite, nil)
	big := public + "calendarByDistrict?district_id=301&date=14-06-2021"
	small := public + "calendarByCenter?center_id=1003&date=14-06-2021" // {}
	plain := f.get(t, big)
	for _, tc := range []struct {
		name, target, acceptEncoding string
		gzipped                      bool
	}{
		{"no header", big, "", false},
		{"gzip", big, "gzip, deflate, br", true},
		{"x-gzip", big, "x-gzip", true},
		{"star", big, "*", true},
		{"gzip refused", big, "gzip;q=0, identity", false},
		{"star but not gzip", big, "*, gzip;q=0", false},
		{"other codings only", big, "br, deflate", false},
		{"small body", small, "gzip", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := f.get(t, tc.target, "Accept-Encoding", tc.acceptEncoding)
			if res.status != http.StatusOK {
				t.Fatalf("status %d, want 200", res.status)
			}
			if got := res.header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding", got)
			}
			if got := res.header.Get("Content-Length"); got != strconv.Itoa(len(res.body)) {
				t.Errorf("Content-Length %s, want %d", got, len(res.body))
			}
			gzipped := res.header.Get("Content-Encoding") == "gzip"
			if gzipped != tc.gzipped {
				t.Fatalf("gzipped %v, want %v", gzipped, tc.gzipped)
			}
			if gzipped && !bytes.Equal(gunzip(t, res.body), plain.body) {
				t.Errorf("gunzipped body differs from the plain one")
			}
		})
	}
	for _, target := range []string{location + "states", location + "districts/17", near + "?lat=9.5&long=76.3"} {
		if got := f.get(t, target).header.Get("Vary"); got != "Accept-Encoding, Accept-Language" {
			t.Errorf("%s: Vary %q, want Accept-Encoding, Accept-Language", target, got)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	f := newFixture(t, backendtest.OpenSQLite, nil)
	for _, tc := range []struct {
		header, kerala, tamilNadu string
	}{
		{"", "Kerala", "Tamil Nadu"},
		{"ml-IN", "കേരളം", "Tamil Nadu"},
		{"ML", "കേരളം", "Tamil Nadu"},
		{"ta, hi;q=0.5", "केरल", "தமிழ்நாடு"},
		{"hi;q=0.5, ta", "केरल", "தமிழ்நாடு"},
		{"hi;q=0", "Kerala", "Tamil Nadu"},
		{"hi;q=abc", "Kerala", "Tamil Nadu"},
		{"*, hi", "Kerala", "Tamil Nadu"},
		{"en-IN, ml", "Kerala", "Tamil Nadu"},
		{"xx, zz-ZZ, ml", "കേരളം", "Tamil Nadu"},
		{"fr;q=0.9, ml;q=0.8, , ;q=1", "കേരളം", "Tamil Nadu"},
	} {
		t.Run(tc.header, func(t *testing.T) {
			res := f.get(t, location+"states", "Accept-Language", tc.header)
			var v struct {
				States []struct {
					ID    int    `json:"state_id"`
					NameL string `json:"state_name_l"`
				} `json:"states"`
			}
			if err := json.Unmarshal(res.body, &v); err != nil {
				t.Fatal(err)
			}
			names := map[int]string{}
			for _, s := range v.States {
				names[s.ID] = s.NameL
			}
			if names[17] != tc.kerala || names[31] != tc.tamilNadu {
				t.Errorf("Kerala %q, Tamil Nadu %q; want %q, %q", names[17], names[31], tc.kerala, tc.tamilNadu)
			}
		})
	}
}

func TestNotReady(t *testing.T) {
	ix := search.New(search.Config{}) // never loaded
	mux := http.NewServeMux()
	cowin.New(cowin.Config{Index: ix}).Register(mux)
	for _, target := range []string{location + "states", public + "findByPin?pincode=688001&date=14-06-2021", near + "?lat=1&long=2"} {
		res := get(t, mux, target)
		if res.status != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", target, res.status)
		}
		if err := decodeStrict(shapeError, res.body); err != nil {
			t.Errorf("%s: %v", target, err)
		}
	}
}

func TestDatesOutsideTheCache(t *testing.T) {
	f := newFixture(t, backendtest.OpenSQLite, nil)
	for _, target := range []string{
		public + "findByDistrict?district_id=301&date=01-01-2030",
		public + "calendarByDistrict?district_id=301&date=01-01-2020",
		public + "calendarByCenter?center_id=1001&date=08-06-2021", // a week ago: the window reaches today
	} {
		res := f.get(t, target)
		if res.status != http.StatusOK {
			t.Errorf("%s: status %d, want 200", target, res.status)
		}
	}
	res := f.get(t, public+"calendarByCenter?center_id=1001&date=08-06-2021")
	if got := dose1(t, res.body); len(got) != 1 || got["a1000000-0000-4000-8000-000000000001"] != 95 {
		t.Errorf("calendar from a week ago: %v, want today's session with 95 seats", got)
	}
}
