package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// MaxJSONBytes is the largest JSON request body DecodeJSON reads: 1 MiB,
// far above any legitimate request, small enough that a flood of large
// bodies costs little.
const MaxJSONBytes = 1 << 20

// DecodeJSON decodes r's body, at most MaxJSONBytes, into v. It ignores
// Content-Type (Co-WIN clients omit it) and unknown fields (clients send
// extras), and accepts exactly one JSON value. Every failure is a vax
// Invalid error whose message is safe to return and names the offending
// field when the decoder knows it.
func DecodeJSON(r *http.Request, v any) error {
	if r.Body == nil {
		return vax.Errorf(vax.Invalid, "empty request body: want a JSON object")
	}
	body := http.MaxBytesReader(nil, r.Body, MaxJSONBytes)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	// One value only: anything but white space after it is refused.
	if err := dec.Decode(&json.RawMessage{}); err != io.EOF {
		if err == nil {
			return vax.Errorf(vax.Invalid, "invalid JSON: more than one value in the body")
		}
		return decodeError(err)
	}
	return nil
}

// decodeError turns a decoder error into a safe Invalid error. The message
// never quotes the body: it may hold personal data.
func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
		verr     *vax.Error
	)
	switch {
	case errors.As(err, &tooLarge):
		return vax.Wrap(vax.Invalid, err, fmt.Sprintf("request body larger than %d bytes", tooLarge.Limit))
	case errors.Is(err, io.EOF):
		return vax.Wrap(vax.Invalid, err, "empty request body: want a JSON value")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return vax.Wrap(vax.Invalid, err, "invalid JSON: the body ends too early")
	case errors.As(err, &syntax):
		return vax.Wrap(vax.Invalid, err, fmt.Sprintf("invalid JSON at byte %d", syntax.Offset))
	case errors.As(err, &typ):
		if typ.Field != "" {
			return vax.Wrap(vax.Invalid, err, fmt.Sprintf("field %q: want %s, got %s", typ.Field, jsonKind(typ.Type.String()), typ.Value))
		}
		return vax.Wrap(vax.Invalid, err, fmt.Sprintf("invalid JSON: want %s, got %s", jsonKind(typ.Type.String()), typ.Value))
	case errors.As(err, &verr):
		// A wire type's UnmarshalJSON refused a value with a safe message.
		return err
	}
	return vax.Wrap(vax.Invalid, err, "invalid JSON body")
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	if strings.HasPrefix(goType, "[]") {
		return "an array"
	}
	return "an object"
}

// WriteJSON writes v as JSON with status. It encodes before writing, so an
// unencodable v returns an error (and writes nothing) for the caller to
// report; an error writing to the client is not reported: the client is gone.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
