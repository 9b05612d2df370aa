package cowin_test

// A strict decoder of Co-WIN answers, written from COWIN-API.md's types and
// independent of the package's wire structs: if those drift from the
// contract, this fails. It checks two ways: the JSON kind of every field
// (number vs string vs bool vs array vs object, integers without a
// fraction, required fields present, no unknown field, no null anywhere),
// and a typed decode with DisallowUnknownFields followed by value checks
// (formats, Paid-only fees, capacities adding up).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type shape int

const (
	shapeStates shape = iota + 1
	shapeDistricts
	shapeSessions // findByPin, findByDistrict
	shapeCentres  // calendarByPin, calendarByDistrict
	shapeCentre   // calendarByCenter: one object, or {}
	shapeNear     // findByLatLong
	shapeError
)

// kind is a JSON value's type as the contract states it.
type kind int

const (
	kInt     kind = iota + 1 // a number without fraction or exponent
	kNum                     // any number
	kStr                     // a string
	kBool                    // true or false
	kStrs                    // an array of strings
	kObj                     // an object (sub)
	kObjs                    // an array of objects (sub)
	kObjOpt                  // calendarByCenter: an object that may be absent
	kOptInt                  // an optional integer (max_age_limit)
	kOptObjs                 // an optional array of objects (vaccine_fees)
)

type field struct {
	k   kind
	sub schema
}

type schema map[string]field

var (
	sessionSchema = schema{
		"session_id": {k: kStr}, "date": {k: kStr},
		"available_capacity": {k: kInt}, "available_capacity_dose1": {k: kInt}, "available_capacity_dose2": {k: kInt},
		"min_age_limit": {k: kInt}, "max_age_limit": {k: kOptInt}, "allow_all_age": {k: kBool},
		"vaccine": {k: kStr}, "slots": {k: kStrs},
	}
	centreFields = schema{
		"center_id": {k: kInt}, "name": {k: kStr}, "address": {k: kStr}, "state_name": {k: kStr},
		"district_name": {k: kStr}, "block_name": {k: kStr}, "pincode": {k: kInt},
		"lat": {k: kNum}, "long": {k: kNum}, "from": {k: kStr}, "to": {k: kStr}, "fee_type": {k: kStr},
	}
	centreSchema = merge(centreFields, schema{
		"vaccine_fees": {k: kOptObjs, sub: schema{"vaccine": {k: kStr}, "fee": {k: kStr}}},
		"sessions":     {k: kObjs, sub: sessionSchema},
	})
	flatSessionSchema = merge(centreFields, sessionSchema, schema{"fee": {k: kStr}})
	nearSchema        = schema{
		"center_id": {k: kInt}, "name": {k: kStr}, "name_l": {k: kStr}, "address": {k: kStr}, "address_l": {k: kStr},
		"state_name": {k: kStr}, "state_name_l": {k: kStr}, "district_name": {k: kStr}, "district_name_l": {k: kStr},
		"block_name": {k: kStr}, "block_name_l": {k: kStr}, "pincode": {k: kStr}, "lat": {k: kStr}, "long": {k: kStr},
	}
	shapes = map[shape]schema{
		shapeStates: {
			"states": {k: kObjs, sub: schema{"state_id": {k: kInt}, "state_name": {k: kStr}, "state_name_l": {k: kStr}}},
			"ttl":    {k: kInt},
		},
		shapeDistricts: {
			"districts": {k: kObjs, sub: schema{"district_id": {k: kInt}, "district_name": {k: kStr}, "district_name_l": {k: kStr}}},
			"ttl":       {k: kInt},
		},
		shapeSessions: {"sessions": {k: kObjs, sub: flatSessionSchema}},
		shapeCentres:  {"centers": {k: kObjs, sub: centreSchema}},
		shapeCentre:   {"centers": {k: kObjOpt, sub: centreSchema}},
		shapeNear:     {"centers": {k: kObjs, sub: nearSchema}, "ttl": {k: kInt}},
		shapeError:    {"errorCode": {k: kStr}, "error": {k: kStr}},
	}
)

func merge(ss ...schema) schema {
	out := schema{}
	for _, s := range ss {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}

// checkKinds checks raw against sc: an object with exactly sc's fields
// (optional ones may be absent), each of its kind.
func checkKinds(path string, raw json.RawMessage, sc schema) error {
	var m map[string]json.RawMessage
	if jsonKind(raw) != '{' {
		return fmt.Errorf("%s: want an object, got %.40s", path, raw)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	for name := range m {
		if _, ok := sc[name]; !ok {
			return fmt.Errorf("%s: unknown field %q", path, name)
		}
	}
	for name, f := range sc {
		v, ok := m[name]
		p := path + "." + name
		if !ok {
			switch f.k {
			case kObjOpt, kOptInt, kOptObjs:
				continue
			}
			return fmt.Errorf("%s: missing", p)
		}
		if err := checkKind(p, v, f); err != nil {
			return err
		}
	}
	return nil
}

func checkKind(p string, v json.RawMessage, f field) error {
	k := jsonKind(v)
	if k == 'n' {
		return fmt.Errorf("%s: null (optional fields are omitted, never null)", p)
	}
	want := map[kind]byte{kInt: '0', kOptInt: '0', kNum: '0', kStr: '"', kBool: 'b', kStrs: '[', kObjs: '[', kOptObjs: '[', kObj: '{', kObjOpt: '{'}[f.k]
	if k != want {
		return fmt.Errorf("%s: want JSON kind %q, got %s", p, want, v)
	}
	switch f.k {
	case kInt, kOptInt:
		if bytes.ContainsAny(v, ".eE") {
			return fmt.Errorf("%s: want an integer, got %s", p, v)
		}
	case kStrs:
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		for i, it := range items {
			if jsonKind(it) != '"' {
				return fmt.Errorf("%s[%d]: want a string, got %s", p, i, it)
			}
		}
	case kObjs, kOptObjs:
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		for i, it := range items {
			if err := checkKinds(fmt.Sprintf("%s[%d]", p, i), it, f.sub); err != nil {
				return err
			}
		}
	case kObj, kObjOpt:
		return checkKinds(p, v, f.sub)
	}
	return nil
}

// jsonKind classifies a JSON value by its first byte: '{', '[', '"', 'b'
// (bool), 'n' (null) or '0' (number).
func jsonKind(v json.RawMessage) byte {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return 0
	}
	switch v[0] {
	case '{', '[', '"', 'n':
		return v[0]
	case 't', 'f':
		return 'b'
	}
	return '0'
}

// The typed side, from COWIN-API.md. Optional fields are pointers so that
// absence is visible and a re-encode leaves them out.
type (
	cwState struct {
		StateID    int    `json:"state_id"`
		StateName  string `json:"state_name"`
		StateNameL string `json:"state_name_l"`
	}
	cwStates struct {
		States []cwState `json:"states"`
		TTL    int       `json:"ttl"`
	}
	cwDistrict struct {
		DistrictID    int    `json:"district_id"`
		DistrictName  string `json:"district_name"`
		DistrictNameL string `json:"district_name_l"`
	}
	cwDistricts struct {
		Districts []cwDistrict `json:"districts"`
		TTL       int          `json:"ttl"`
	}
	cwSession struct {
		SessionID              string   `json:"session_id"`
		Date                   string   `json:"date"`
		AvailableCapacity      int      `json:"available_capacity"`
		AvailableCapacityDose1 int      `json:"available_capacity_dose1"`
		AvailableCapacityDose2 int      `json:"available_capacity_dose2"`
		MinAgeLimit            int      `json:"min_age_limit"`
		MaxAgeLimit            *int     `json:"max_age_limit,omitempty"`
		AllowAllAge            bool     `json:"allow_all_age"`
		Vaccine                string   `json:"vaccine"`
		Slots                  []string `json:"slots"`
	}
	cwCentreFields struct {
		CenterID     int64   `json:"center_id"`
		Name         string  `json:"name"`
		Address      string  `json:"address"`
		StateName    string  `json:"state_name"`
		DistrictName string  `json:"district_name"`
		BlockName    string  `json:"block_name"`
		Pincode      int     `json:"pincode"`
		Lat          float64 `json:"lat"`
		Long         float64 `json:"long"`
		From         string  `json:"from"`
		To           string  `json:"to"`
		FeeType      string  `json:"fee_type"`
	}
	cwFee struct {
		Vaccine string `json:"vaccine"`
		Fee     string `json:"fee"`
	}
	cwCentre struct {
		cwCentreFields
		VaccineFees []cwFee     `json:"vaccine_fees,omitempty"`
		Sessions    []cwSession `json:"sessions"`
	}
	cwFlatSession struct {
		cwCentreFields
		cwSession
		Fee string `json:"fee"`
	}
	cwSessions struct {
		Sessions []cwFlatSession `json:"sessions"`
	}
	cwCentres struct {
		Centers []cwCentre `json:"centers"`
	}
	cwOneCentre struct {
		Centers *cwCentre `json:"centers,omitempty"`
	}
	cwNearCentre struct {
		CenterID      int64  `json:"center_id"`
		Name          string `json:"name"`
		NameL         string `json:"name_l"`
		Address       string `json:"address"`
		AddressL      string `json:"address_l"`
		StateName     string `json:"state_name"`
		StateNameL    string `json:"state_name_l"`
		DistrictName  string `json:"district_name"`
		DistrictNameL string `json:"district_name_l"`
		BlockName     string `json:"block_name"`
		BlockNameL    string `json:"block_name_l"`
		Pincode       string `json:"pincode"`
		Lat           string `json:"lat"`
		Long          string `json:"long"`
	}
	cwNear struct {
		Centers []cwNearCentre `json:"centers"`
		TTL     int            `json:"ttl"`
	}
	cwError struct {
		ErrorCode string `json:"errorCode"`
		Error     string `json:"error"`
	}
)

// decodeTyped decodes body into v, refusing unknown fields and trailing
// data.
func decodeTyped(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

var (
	uuidRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	dateRE   = regexp.MustCompile(`^(0[1-9]|[12][0-9]|3[01])-(0[1-9]|1[0-2])-20[0-9]{2}$`)
	hourRE   = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$`)
	slotRE   = regexp.MustCompile(`^(0[0-9]|1[0-2]):[0-5][0-9](AM|PM)-(0[0-9]|1[0-2]):[0-5][0-9](AM|PM)$`)
	rupeesRE = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)
	pinRE    = regexp.MustCompile(`^[1-9][0-9]{5}$`)
	codeRE   = regexp.MustCompile(`^[A-Z]{6}[0-9]{4}$`)
)

func checkCentreFields(c cwCentreFields) error {
	switch {
	case c.CenterID <= 0:
		return fmt.Errorf("center_id %d", c.CenterID)
	case c.Name == "":
		return fmt.Errorf("centre %d: empty name", c.CenterID)
	case !pinRE.MatchString(strconv.Itoa(c.Pincode)):
		return fmt.Errorf("centre %d: pincode %d", c.CenterID, c.Pincode)
	case !hourRE.MatchString(c.From) || !hourRE.MatchString(c.To):
		return fmt.Errorf("centre %d: hours %q-%q", c.CenterID, c.From, c.To)
	case c.FeeType != "Free" && c.FeeType != "Paid":
		return fmt.Errorf("centre %d: fee_type %q", c.CenterID, c.FeeType)
	case c.Lat < -90 || c.Lat > 90 || c.Long < -180 || c.Long > 180:
		return fmt.Errorf("centre %d: position %g,%g", c.CenterID, c.Lat, c.Long)
	}
	return nil
}

func checkSession(s cwSession) error {
	switch {
	case !uuidRE.MatchString(s.SessionID):
		return fmt.Errorf("session_id %q", s.SessionID)
	case !dateRE.MatchString(s.Date):
		return fmt.Errorf("session %s: date %q", s.SessionID, s.Date)
	case s.AvailableCapacity != s.AvailableCapacityDose1+s.AvailableCapacityDose2:
		return fmt.Errorf("session %s: capacity %d is not %d + %d", s.SessionID, s.AvailableCapacity, s.AvailableCapacityDose1, s.AvailableCapacityDose2)
	case s.AvailableCapacityDose1 < 0 || s.AvailableCapacityDose2 < 0:
		return fmt.Errorf("session %s: negative capacity", s.SessionID)
	case s.MinAgeLimit < 0 || s.MaxAgeLimit != nil && *s.MaxAgeLimit < s.MinAgeLimit:
		return fmt.Errorf("session %s: ages %d..%v", s.SessionID, s.MinAgeLimit, s.MaxAgeLimit)
	case s.AllowAllAge && s.MaxAgeLimit != nil:
		return fmt.Errorf("session %s: allow_all_age with max_age_limit %d", s.SessionID, *s.MaxAgeLimit)
	case s.Vaccine == "" || strings.ToUpper(s.Vaccine) != s.Vaccine:
		return fmt.Errorf("session %s: vaccine %q", s.SessionID, s.Vaccine)
	case len(s.Slots) == 0:
		return fmt.Errorf("session %s: no slots", s.SessionID)
	}
	for _, sl := range s.Slots {
		if !slotRE.MatchString(sl) {
			return fmt.Errorf("session %s: slot %q", s.SessionID, sl)
		}
	}
	return nil
}

func checkCentre(c cwCentre) error {
	if err := checkCentreFields(c.cwCentreFields); err != nil {
		return err
	}
	if (c.FeeType == "Paid") != (len(c.VaccineFees) > 0) {
		return fmt.Errorf("centre %d: fee_type %s with %d vaccine_fees (Paid centres only, and always)", c.CenterID, c.FeeType, len(c.VaccineFees))
	}
	for _, f := range c.VaccineFees {
		if f.Vaccine == "" || !rupeesRE.MatchString(f.Fee) {
			return fmt.Errorf("centre %d: fee %+v", c.CenterID, f)
		}
	}
	if len(c.Sessions) == 0 {
		return fmt.Errorf("centre %d: listed without sessions", c.CenterID)
	}
	for _, s := range c.Sessions {
		if err := checkSession(s); err != nil {
			return fmt.Errorf("centre %d: %w", c.CenterID, err)
		}
	}
	return nil
}

func checkFlat(s cwFlatSession) error {
	if err := checkCentreFields(s.cwCentreFields); err != nil {
		return err
	}
	if err := checkSession(s.cwSession); err != nil {
		return err
	}
	if !rupeesRE.MatchString(s.Fee) || s.FeeType == "Free" && s.Fee != "0" {
		return fmt.Errorf("session %s: fee %q at a %s centre", s.SessionID, s.Fee, s.FeeType)
	}
	return nil
}

func checkNear(c cwNearCentre) error {
	lat, err1 := strconv.ParseFloat(c.Lat, 64)
	long, err2 := strconv.ParseFloat(c.Long, 64)
	switch {
	case c.CenterID <= 0 || c.Name == "" || c.NameL == "" || c.StateNameL == "" || c.DistrictNameL == "":
		return fmt.Errorf("near centre %+v: missing id or names", c)
	case !pinRE.MatchString(c.Pincode):
		return fmt.Errorf("near centre %d: pincode %q", c.CenterID, c.Pincode)
	case err1 != nil || err2 != nil || lat < -90 || lat > 90 || long < -180 || long > 180:
		return fmt.Errorf("near centre %d: position %q,%q", c.CenterID, c.Lat, c.Long)
	}
	return nil
}

// decodeStrict decodes body as shape both ways and checks its values.
func decodeStrict(sh shape, body []byte) error {
	if err := checkKinds("$", body, shapes[sh]); err != nil {
		return err
	}
	switch sh {
	case shapeStates:
		var v cwStates
		if err := decodeTyped(body, &v); err != nil {
			return err
		}
		for _, s := range v.States {
			if s.StateID <= 0 || s.StateName == "" || s.StateNameL == "" {
				return fmt.Errorf("state %+v", s)
			}
		}
		return checkTTL(v.TTL)
	case shapeDistricts:
		var v cwDistricts
		if err := decodeTyped(body, &v); err != nil {
			return err
		}
		for _, d := range v.Districts {
			if d.DistrictID <= 0 || d.DistrictName == "" || d.DistrictNameL == "" {
				return fmt.Errorf("district %+v", d)
			}
		}
		return checkTTL(v.TTL)
	case shapeSessions:
		var v cwSessions
		if err := decodeTyped(body, &v); err != nil {
			return err
		}
		for _, s := range v.Sessions {
			if err := checkFlat(s); err != nil {
				return err
			}
		}
	case shapeCentres:
		var v cwCentres
		if err := decodeTyped(body, &v); err != nil {
			return err
		}
		for _, c := range v.Centers {
			if err := checkCentre(c); err != nil {
				return err
			}
		}
	case shapeCentre:
		var v cwOneCentre
		if err := decodeTyped(body, &v); err != nil {
			return err
		}
		if v.Centers != nil {
			return checkCentre(*v.Centers)
		}
	case shapeNear:
		var v cwNear
		if err := decodeTyped(body, &v); err != nil {
			return err
		}
		for _, c := range v.Centers {
			if err := checkNear(c); err != nil {
				return err
			}
		}
		return checkTTL(v.TTL)
	case shapeError:
		var v cwError
		if err := decodeTyped(body, &v); err != nil {
			return err
		}
		if !codeRE.MatchString(v.ErrorCode) || v.Error == "" {
			return fmt.Errorf("error %+v: want a code like APPOIN0040 and a message", v)
		}
	default:
		return fmt.Errorf("unknown shape %d", sh)
	}
	return nil
}

func checkTTL(ttl int) error {
	if ttl <= 0 {
		return fmt.Errorf("ttl %d, want > 0", ttl)
	}
	return nil
}

// TestStrictDecoderRoundTripsCowinExample decodes the real FlatSession
// from COWIN-API.md (testdata/cowin-flatsession-example.json, see
// testdata/SOURCES.md) and encodes it again: the same JSON modulo key
// order.
func TestStrictDecoderRoundTripsCowinExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "cowin-flatsession-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.TrimSpace(raw)
	if err := checkKinds("$", raw, flatSessionSchema); err != nil {
		t.Fatalf("kinds: %v", err)
	}
	var s cwFlatSession
	if err := decodeTyped(raw, &s); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := checkFlat(s); err != nil {
		t.Fatalf("values: %v", err)
	}
	again, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(again, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip changed the FlatSession (-original +re-encoded):\n%s", diff)
	}
	// And as the only element of a findBy answer.
	if err := decodeStrict(shapeSessions, []byte(`{"sessions":[`+string(raw)+`]}`)); err != nil {
		t.Errorf("as a findBy answer: %v", err)
	}
}

// TestStrictDecoderRejects makes sure the strict decoder can fail: each
// case breaks the contract in one way.
func TestStrictDecoderRejects(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "cowin-flatsession-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	good := string(bytes.TrimSpace(raw))
	for _, tc := range []struct{ name, from, to string }{
		{"pincode as a string", `"pincode":401107`, `"pincode":"401107"`},
		{"fee as a number", `"fee":"780"`, `"fee":780`},
		{"capacity as a string", `"available_capacity":0,`, `"available_capacity":"0",`},
		{"capacity with a fraction", `"min_age_limit":18`, `"min_age_limit":18.5`},
		{"allow_all_age as a string", `"allow_all_age":true`, `"allow_all_age":"true"`},
		{"null max_age_limit", `"allow_all_age":true`, `"allow_all_age":true,"max_age_limit":null`},
		{"max_age_limit with allow_all_age", `"allow_all_age":true`, `"allow_all_age":true,"max_age_limit":44`},
		{"unknown field", `"fee":"780"`, `"fee":"780","surprise":1`},
		{"missing slots", `,"slots":["09:00AM-10:00AM","10:00AM-11:00AM"]`, ``},
		{"slots not strings", `["09:00AM-10:00AM","10:00AM-11:00AM"]`, `[9,10]`},
		{"lat as a string", `"lat":19`, `"lat":"19"`},
		{"bad date", `"date":"11-07-2021"`, `"date":"2021-07-11"`},
		{"vaccine_fees in a flat session", `"fee":"780"`, `"fee":"780","vaccine_fees":[]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.from, tc.to, 1)
			if bad == good {
				t.Fatalf("case does not apply: %q not in the example", tc.from)
			}
			if err := decodeStrict(shapeSessions, []byte(`{"sessions":[`+bad+`]}`)); err == nil {
				t.Errorf("decoded %s without error", bad)
			}
		})
	}
	for _, tc := range []struct {
		name string
		sh   shape
		body string
	}{
		{"calendarByCenter as a list", shapeCentre, `{"centers":[]}`},
		{"null sessions", shapeSessions, `{"sessions":null}`},
		{"free centre with fees", shapeCentres, `{"centers":[{"center_id":1,"name":"A","address":"","state_name":"S","district_name":"D","block_name":"B","pincode":688001,"lat":9.5,"long":76.3,"from":"09:00:00","to":"17:00:00","fee_type":"Free","vaccine_fees":[{"vaccine":"COVISHIELD","fee":"0"}],"sessions":[]}]}`},
		{"states without ttl", shapeStates, `{"states":[]}`},
		{"near pincode as a number", shapeNear, `{"centers":[{"center_id":1,"name":"A","name_l":"A","address":"","address_l":"","state_name":"S","state_name_l":"S","district_name":"D","district_name_l":"D","block_name":"B","block_name_l":"B","pincode":688001,"lat":"9.5","long":"76.3"}],"ttl":24}`},
		{"error without code", shapeError, `{"error":"x"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := decodeStrict(tc.sh, []byte(tc.body)); err == nil {
				t.Errorf("decoded %s without error", tc.body)
			}
		})
	}
}
