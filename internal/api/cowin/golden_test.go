package cowin_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/store/backendtest"
	"github.com/vaxport/vaxport/internal/vax"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	public    = "/api/v2/appointment/sessions/public/"
	protected = "/api/v2/appointment/sessions/"
	near      = "/api/v2/appointment/centers/public/findByLatLong"
	location  = "/api/v2/admin/location/"
)

// goldenCase is one request whose answer is pinned in testdata/<name>.json.
type goldenCase struct {
	name    string
	target  string
	headers []string
	status  int
	shape   shape // what the strict decoder expects
}

// goldenCases covers every endpoint, its variants and its errors. Today is
// 14-06-2021 (see fixture_test.go).
var goldenCases = []goldenCase{
	{"states", location + "states", nil, 200, shapeStates},
	{"states_hi", location + "states", []string{"Accept-Language", "hi-IN,hi;q=0.9,en-US;q=0.8,en;q=0.7"}, 200, shapeStates},
	{"states_ml_hi", location + "states", []string{"Accept-Language", "en;q=0.1, ml;q=0.9, hi;q=0.8"}, 200, shapeStates},
	{"states_en_first", location + "states", []string{"Accept-Language", "en-GB,hi;q=0.9"}, 200, shapeStates},
	{"districts_17", location + "districts/17", nil, 200, shapeDistricts},
	{"districts_17_hi", location + "districts/17", []string{"Accept-Language", "hi"}, 200, shapeDistricts},
	{"districts_abc", location + "districts/abc", nil, 400, shapeError},
	{"districts_unknown", location + "districts/99", nil, 400, shapeError},

	{"findByPin", public + "findByPin?pincode=688001&date=14-06-2021", nil, 200, shapeSessions},
	{"findByPin_yy", public + "findByPin?pincode=688001&date=15-06-21", nil, 200, shapeSessions},
	{"findByPin_no_centres", public + "findByPin?pincode=110001&date=14-06-2021", nil, 200, shapeSessions},
	{"findByPin_abc", public + "findByPin?pincode=abc&date=14-06-2021", nil, 400, shapeError},
	{"findByPin_short", public + "findByPin?pincode=68800&date=14-06-2021", nil, 400, shapeError},
	{"findByPin_bad_date", public + "findByPin?pincode=688001&date=45-13-2021", nil, 400, shapeError},
	{"findByPin_iso_date", public + "findByPin?pincode=688001&date=2021-06-14", nil, 400, shapeError},
	{"findByPin_no_date", public + "findByPin?pincode=688001", nil, 400, shapeError},
	{"findByPin_no_pincode", public + "findByPin?date=14-06-2021", nil, 400, shapeError},
	{"findByDistrict", public + "findByDistrict?district_id=301&date=15-06-2021", nil, 200, shapeSessions},
	{"findByDistrict_no_centres", public + "findByDistrict?district_id=306&date=15-06-2021", nil, 200, shapeSessions},
	{"findByDistrict_unknown", public + "findByDistrict?district_id=9999&date=15-06-2021", nil, 400, shapeError},
	{"findByDistrict_abc", public + "findByDistrict?district_id=abc&date=15-06-2021", nil, 400, shapeError},
	{"findByDistrict_no_district", public + "findByDistrict?date=15-06-2021", nil, 400, shapeError},
	{"calendarByPin", public + "calendarByPin?pincode=688001&date=14-06-2021", nil, 200, shapeCentres},
	{"calendarByPin_no_sessions", public + "calendarByPin?pincode=688524&date=14-06-2021", nil, 200, shapeCentres},
	{"calendarByPin_bad_date", public + "calendarByPin?pincode=688001&date=31-02-2021", nil, 400, shapeError},
	{"calendarByDistrict", public + "calendarByDistrict?district_id=301&date=14-06-2021", nil, 200, shapeCentres},
	{"calendarByDistrict_tomorrow", public + "calendarByDistrict?district_id=301&date=15-06-2021", nil, 200, shapeCentres},
	{"calendarByDistrict_ernakulam", public + "calendarByDistrict?district_id=307&date=14-06-21", nil, 200, shapeCentres},
	{"calendarByDistrict_unknown", public + "calendarByDistrict?district_id=0&date=14-06-2021", nil, 400, shapeError},
	{"calendarByCenter", public + "calendarByCenter?center_id=1002&date=14-06-2021", nil, 200, shapeCentre},
	{"calendarByCenter_free", public + "calendarByCenter?center_id=1001&date=14-06-2021", nil, 200, shapeCentre},
	{"calendarByCenter_no_sessions", public + "calendarByCenter?center_id=1003&date=14-06-2021", nil, 200, shapeCentre},
	{"calendarByCenter_unknown", public + "calendarByCenter?center_id=999999&date=14-06-2021", nil, 200, shapeCentre},
	{"calendarByCenter_abc", public + "calendarByCenter?center_id=abc&date=14-06-2021", nil, 400, shapeError},
	{"calendarByCenter_no_center", public + "calendarByCenter?date=14-06-2021", nil, 400, shapeError},
	// The public surface ignores the protected searches' vaccine filter.
	{"findByDistrict_public_vaccine_ignored", public + "findByDistrict?district_id=301&date=15-06-2021&vaccine=COVAXIN", nil, 200, shapeSessions},

	{"protected_findByPin", protected + "findByPin?pincode=688001&date=14-06-2021", nil, 200, shapeSessions},
	{"protected_findByDistrict_covaxin", protected + "findByDistrict?district_id=301&date=15-06-2021&vaccine=COVAXIN", nil, 200, shapeSessions},
	{"protected_calendarByPin_covishield", protected + "calendarByPin?pincode=688001&date=14-06-2021&vaccine=covishield", nil, 200, shapeCentres},
	{"protected_calendarByDistrict_sputnik", protected + "calendarByDistrict?district_id=307&date=14-06-2021&vaccine=SPUTNIK+V", nil, 200, shapeCentres},
	{"protected_calendarByCenter_covaxin", protected + "calendarByCenter?center_id=1002&date=14-06-2021&vaccine=COVAXIN", nil, 200, shapeCentre},
	{"protected_calendarByCenter_none_left", protected + "calendarByCenter?center_id=1003&date=14-06-2021&vaccine=COVAXIN", nil, 200, shapeCentre},
	{"protected_bad_vaccine", protected + "findByPin?pincode=688001&date=14-06-2021&vaccine=ZYCOV", nil, 400, shapeError},

	{"findByLatLong", near + "?lat=9.50&long=76.33", nil, 200, shapeNear},
	{"findByLatLong_hi", near + "?lat=9.98&long=76.28", []string{"Accept-Language", "hi"}, 200, shapeNear},
	{"findByLatLong_lon", near + "?lat=9.98&lon=76.28", nil, 200, shapeNear},
	{"findByLatLong_bad_lat", near + "?lat=abc&long=76.33", nil, 400, shapeError},
	{"findByLatLong_out_of_range", near + "?lat=95&long=76.33", nil, 400, shapeError},
	{"findByLatLong_no_long", near + "?lat=9.5", nil, 400, shapeError},
}

func TestGolden(t *testing.T) {
	f := newFixture(t, backendtest.OpenSQLite, nil)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.get(t, tc.target, tc.headers...)
			if res.status != tc.status {
				t.Errorf("status %d, want %d; body %s", res.status, tc.status, res.body)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			path := filepath.Join("testdata", tc.name+".json")
			if *update {
				if err := os.WriteFile(path, res.body, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create): %v", err)
			}
			if !bytes.Equal(res.body, want) {
				t.Errorf("body differs from %s:\ngot  %s\nwant %s", path, res.body, want)
			}
		})
	}
}

// TestGoldenFilesDecodeStrictly runs every golden file through the strict
// decoder written from COWIN-API.md.
func TestGoldenFilesDecodeStrictly(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := decodeStrict(tc.shape, body); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		})
	}
}

// TestProtectedAuthenticate checks the one hook of the protected searches:
// its error is the answer; the public surface never calls it.
func TestProtectedAuthenticate(t *testing.T) {
	calls := 0
	f := newFixture(t, backendtest.OpenSQLite, func(r *http.Request) (auth.Principal, error) {
		calls++
		if r.Header.Get("Authorization") != "Bearer good" {
			return auth.Principal{}, vax.Errorf(vax.Unauthorized, "unauthenticated access")
		}
		return auth.Principal{AccountID: "x"}, nil
	})
	q := "findByPin?pincode=688001&date=14-06-2021"
	if res := f.get(t, protected+q); res.status != http.StatusUnauthorized {
		t.Errorf("without token: status %d, want 401", res.status)
	} else if err := decodeStrict(shapeError, res.body); err != nil {
		t.Errorf("401 body: %v", err)
	}
	if res := f.get(t, protected+q, "Authorization", "Bearer good"); res.status != http.StatusOK {
		t.Errorf("with token: status %d, want 200", res.status)
	}
	if res := f.get(t, public+q); res.status != http.StatusOK {
		t.Errorf("public: status %d, want 200", res.status)
	}
	if calls != 2 {
		t.Errorf("Authenticate called %d times, want 2 (protected requests only)", calls)
	}
}

// wantCodes is the errorCode of each golden error.
var wantCodes = map[string]string{
	"districts_abc":              "SEARCH0005",
	"districts_unknown":          "SEARCH0005",
	"findByPin_abc":              "SEARCH0002",
	"findByPin_short":            "SEARCH0002",
	"findByPin_bad_date":         "SEARCH0003",
	"findByPin_iso_date":         "SEARCH0003",
	"findByPin_no_date":          "SEARCH0001",
	"findByPin_no_pincode":       "SEARCH0001",
	"findByDistrict_unknown":     "SEARCH0004",
	"findByDistrict_abc":         "SEARCH0004",
	"findByDistrict_no_district": "SEARCH0001",
	"calendarByPin_bad_date":     "SEARCH0003",
	"calendarByDistrict_unknown": "SEARCH0004",
	"calendarByCenter_abc":       "SEARCH0006",
	"calendarByCenter_no_center": "SEARCH0001",
	"protected_bad_vaccine":      "SEARCH0008",
	"findByLatLong_bad_lat":      "SEARCH0007",
	"findByLatLong_out_of_range": "SEARCH0007",
	"findByLatLong_no_long":      "SEARCH0001",
}

// TestErrorCodes checks the code of each kind of bad request.
func TestErrorCodes(t *testing.T) {
	for _, tc := range goldenCases {
		if tc.status < 400 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var e struct{ ErrorCode, Error string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			want, ok := wantCodes[tc.name]
			if !ok {
				t.Fatalf("no expected code for %s in wantCodes", tc.name)
			}
			if e.ErrorCode != want {
				t.Errorf("errorCode %q, want %q (error %q)", e.ErrorCode, want, e.Error)
			}
		})
	}
}
