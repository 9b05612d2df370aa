package dcc

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vaxport/vaxport/internal/vax"
)

// The DCC JSON schema 1.3.3 (see schema/SOURCES.md): four files that refer
// to each other by their $id.
//
//go:embed schema/DCC.schema.json schema/DCC.Core.Types.schema.json schema/DCC.Types.schema.json schema/DCC.ValueSets.schema.json
var schemaFiles embed.FS

const schemaID = "https://id.uvci.eu/DCC.schema.json"

// noLoader refuses every URL: the schema must never be fetched.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded; refusing to fetch it", url)
}

var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	// Assert "format" (date, date-time), as the schema's own tests do
	// (ajv with ajv-formats); in draft 2020-12 it is otherwise only an
	// annotation.
	c.AssertFormat()
	for _, name := range []string{"DCC.schema.json", "DCC.Core.Types.schema.json", "DCC.Types.schema.json", "DCC.ValueSets.schema.json"} {
		b, err := schemaFiles.ReadFile("schema/" + name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		if err := c.AddResource("https://id.uvci.eu/"+name, doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
	}
	return c.Compile(schemaID)
})

// ValidateSchema checks certificate content (the JSON data model, as in
// Claims.Content) against the DCC JSON schema 1.3.3.
func ValidateSchema(content any) error {
	sch, err := schema()
	if err != nil {
		return vax.Wrap(vax.Internal, err, "the embedded DCC schema does not compile")
	}
	// Round-trip through JSON so every number is a json.Number and every
	// object a map[string]any, as the validator expects.
	b, err := json.Marshal(content)
	if err != nil {
		return vax.Wrap(vax.Invalid, err, "certificate content is not JSON")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return vax.Wrap(vax.Invalid, err, "certificate content is not JSON")
	}
	if err := sch.Validate(inst); err != nil {
		return vax.Wrap(vax.Invalid, err, "certificate does not follow the DCC schema")
	}
	return nil
}
