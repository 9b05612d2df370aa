package dcc

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/vaxport/vaxport/internal/vax"
)

// Claims is the CWT payload of a DCC.
type Claims struct {
	Issuer   string    // iss (1): the issuing country, ISO 3166-1 alpha-2
	IssuedAt time.Time // iat (6)
	Expires  time.Time // exp (4)
	// Content is the certificate (hcert −260, key 1) converted to the JSON
	// data model the DCC schema describes: objects, arrays, strings,
	// numbers (json.Number), booleans, null.
	Content any
	// Certificate is Content read into the typed form.
	Certificate Certificate
}

// ParseClaims reads a CWT payload: iss, iat and exp (required), and the
// certificate in hcert. The certificate must be a map with text keys whose
// values are JSON-compatible: no byte strings, no undefined, no tags other
// than the date tags 0, 1 and 1004, which become strings.
func ParseClaims(payload []byte) (*Claims, error) {
	var m map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(payload, &m); err != nil {
		return nil, vax.Wrap(vax.Invalid, fmt.Errorf("%w: %w", errNotCWT, err), "payload is not a CWT claims map")
	}
	var c Claims
	if raw, ok := m[claimIss]; ok {
		if err := decMode.Unmarshal(raw, &c.Issuer); err != nil {
			return nil, vax.Wrap(vax.Invalid, err, "CWT iss is not text")
		}
	}
	for _, d := range []struct {
		key  int64
		name string
		into *time.Time
	}{{claimIat, "iat", &c.IssuedAt}, {claimExp, "exp", &c.Expires}} {
		raw, ok := m[d.key]
		if !ok {
			return nil, vax.Errorf(vax.Invalid, "CWT has no %s", d.name)
		}
		n, err := decodeNumericDate(raw)
		if err != nil {
			return nil, vax.Wrap(vax.Invalid, err, fmt.Sprintf("CWT %s is not a date", d.name))
		}
		*d.into = time.Unix(n, 0).UTC()
	}
	raw, ok := m[claimHCERT]
	if !ok {
		return nil, vax.Errorf(vax.Invalid, "CWT has no hcert claim (-260)")
	}
	var h map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(raw, &h); err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "hcert claim is not a map")
	}
	inner, ok := h[1]
	if !ok {
		return nil, vax.Errorf(vax.Invalid, "hcert claim has no certificate (key 1)")
	}
	content, err := DecodeContent(inner)
	if err != nil {
		return nil, err
	}
	c.Content = content
	cert, err := typed(content)
	if err != nil {
		return nil, err
	}
	c.Certificate = cert
	return &c, nil
}

// DecodeContent decodes the CBOR of a certificate into the JSON data model
// (see Claims.Content).
func DecodeContent(b []byte) (any, error) {
	var v any
	if err := decMode.Unmarshal(b, &v); err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "certificate is not valid CBOR")
	}
	j, err := toJSON(v, 0)
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "certificate is not in the JSON data model")
	}
	if _, ok := j.(map[string]any); !ok {
		return nil, vax.Errorf(vax.Invalid, "certificate is not a map")
	}
	return j, nil
}

func toJSON(v any, depth int) (any, error) {
	if depth > 16 {
		return nil, fmt.Errorf("nested too deep")
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("non-finite number")
		}
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), nil
	case float32:
		return toJSON(float64(x), depth)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			j, err := toJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("map key %v is not text", k)
			}
			j, err := toJSON(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[ks] = j
		}
		return out, nil
	case cbor.Tag:
		switch x.Number {
		case 0, 1004: // RFC 3339 date-time, RFC 8943 full-date: already text
			if s, ok := x.Content.(string); ok {
				return s, nil
			}
		case 1: // epoch seconds
			if n, ok := x.Content.(int64); ok {
				return time.Unix(n, 0).UTC().Format(time.RFC3339), nil
			}
			if n, ok := x.Content.(uint64); ok && n < 1<<40 {
				return time.Unix(int64(n), 0).UTC().Format(time.RFC3339), nil
			}
		}
		return nil, fmt.Errorf("CBOR tag %d", x.Number)
	case time.Time:
		return x.UTC().Format(time.RFC3339), nil
	}
	return nil, fmt.Errorf("value of CBOR type %T", v)
}

// typed reads the JSON data model into a Certificate, leniently: the schema
// check, not this, decides what is allowed.
func typed(content any) (Certificate, error) {
	b, err := json.Marshal(content)
	if err != nil {
		return Certificate{}, vax.Wrap(vax.Internal, err, "cannot re-encode the certificate")
	}
	var w certificateWire
	if err := json.Unmarshal(b, &w); err != nil {
		return Certificate{}, vax.Wrap(vax.Invalid, err, "certificate fields have the wrong types")
	}
	c := Certificate{Version: w.Version, Name: w.Name, DateOfBirth: w.DateOfBirth, Tests: len(w.Tests), Recoveries: len(w.Recoveries)}
	for _, v := range w.V {
		c.Vaccinations = append(c.Vaccinations, Vaccination{
			Target: v.Target, Prophylaxis: v.Prophylaxis, Product: v.Product, Manufacturer: v.Manufacturer,
			Dose: int(v.Dose), Doses: int(v.Doses), Date: v.Date, Country: v.Country, Issuer: v.Issuer, ID: v.ID,
		})
	}
	return c, nil
}

type certificateWire struct {
	Version     string            `json:"ver"`
	Name        Name              `json:"nam"`
	DateOfBirth string            `json:"dob"`
	V           []vaccinationWire `json:"v"`
	Tests       []json.RawMessage `json:"t"`
	Recoveries  []json.RawMessage `json:"r"`
}

type vaccinationWire struct {
	Target       string  `json:"tg"`
	Prophylaxis  string  `json:"vp"`
	Product      string  `json:"mp"`
	Manufacturer string  `json:"ma"`
	Dose         float64 `json:"dn"`
	Doses        float64 `json:"sd"`
	Date         string  `json:"dt"`
	Country      string  `json:"co"`
	Issuer       string  `json:"is"`
	ID           string  `json:"ci"`
}
