package catalog

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// Import limits. A file is read whole before any row is written, so a file
// over a limit is refused without leaving anything behind.
const (
	MaxImportRows  = 100_000  // data rows per file
	MaxImportBytes = 64 << 20 // bytes per file
	MaxFieldLen    = 1000     // bytes per field
)

// Report says what an import did, row by row.
type Report struct {
	Imported, Failed int
	Rows             []RowResult // one per data row, in file order
}

// RowResult is the outcome of one data row.
type RowResult struct {
	Row int    // 1-based line number in the file where the row starts; the header is line 1
	ID  string // the centre or session id written, when Err is nil
	Err error  // nil when the row landed
}

func (r *Report) add(line int, id string, err error) {
	if err != nil {
		r.Failed++
		r.Rows = append(r.Rows, RowResult{Row: line, Err: err})
		return
	}
	r.Imported++
	r.Rows = append(r.Rows, RowResult{Row: line, ID: id})
}

// column is a CSV column an import knows.
type column struct {
	name     string
	required bool
}

var centreColumns = []column{
	{"center_id", false},
	{"name", true},
	{"address", false},
	{"state_id", true},
	{"district_id", true},
	{"block_name", false},
	{"pincode", true},
	{"lat", false},
	{"long", false},
	{"from", true},
	{"to", true},
	{"fee_type", true},
	{"fees", false},
}

var sessionColumns = []column{
	{"session_id", false},
	{"center_id", true},
	{"date", true},
	{"vaccine", true},
	{"min_age_limit", true},
	{"max_age_limit", false},
	{"allow_all_age", false},
	{"capacity_dose1", true},
	{"capacity_dose2", true},
	{"slots", true},
}

// ImportCentres reads centres from CSV and writes each row in its own
// transaction: good rows land, bad rows are reported with their line
// number and leave nothing behind.
//
// The first line is a header naming columns in any order: center_id, name,
// address, state_id, district_id, block_name, pincode, lat, long, from, to,
// fee_type, fees (address, block_name, lat, long, fees and center_id may
// be left out). fees reads "COVISHIELD:780;COVAXIN:1410" and is empty for
// Free centres. A row with a center_id that exists replaces that centre;
// one with a new center_id creates the centre under it; one without gets
// the next id. An unknown, repeated or missing required column, or a file
// over the limits, refuses the whole file (Invalid). A store failure stops
// the import and is returned with the report of the rows before it.
func (s *Service) ImportCentres(ctx context.Context, r io.Reader) (Report, error) {
	f, err := readCSV(r, centreColumns)
	if err != nil {
		return Report{}, fmt.Errorf("import centres: %w", err)
	}
	var rep Report
	seen := map[int64]int{}
	for _, row := range f.rows {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("import centres: %w", err)
		}
		id, err := s.importCentre(ctx, f, row, seen)
		if fatal(err) {
			return rep, fmt.Errorf("import centres: row %d: %w", row.line, err)
		}
		rep.add(row.line, id, err)
	}
	return rep, nil
}

func (s *Service) importCentre(ctx context.Context, f *csvFile, row csvRow, seen map[int64]int) (string, error) {
	if row.err != nil {
		return "", row.err
	}
	p := f.parser(row)
	c := vax.Centre{
		ID:         p.int64("center_id", false),
		Name:       p.str("name"),
		Address:    p.str("address"),
		StateID:    p.int("state_id", true),
		DistrictID: p.int("district_id", true),
		BlockName:  p.str("block_name"),
		Pincode:    p.int("pincode", true),
		Lat:        p.float("lat"),
		Long:       p.float("long"),
		From:       p.str("from"),
		To:         p.str("to"),
		FeeType:    vax.FeeType(p.str("fee_type")),
		Fees:       p.fees("fees"),
	}
	if c.ID > 0 {
		if first, dup := seen[c.ID]; dup {
			return "", vax.Errorf(vax.Conflict, "center_id %d repeats row %d", c.ID, first)
		}
		seen[c.ID] = row.line
	}
	if p.err != nil {
		return "", p.err
	}
	if _, err := vax.ParseFeeType(string(c.FeeType)); err != nil {
		return "", err
	}
	c = normalizeCentre(c)
	if err := c.Validate(); err != nil {
		return "", err
	}
	var out vax.Centre
	err := s.st.InTx(ctx, func(tx vax.Tx) error {
		var err error
		if c.ID > 0 {
			_, err = tx.Centre(ctx, c.ID)
			if err == nil {
				out, err = s.updateCentre(ctx, tx, c)
				return err
			}
			if !errors.Is(err, vax.ErrNotFound) {
				return err
			}
		}
		out, err = s.createCentre(ctx, tx, c)
		return err
	})
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(out.ID, 10), nil
}

// ImportSessions reads new sessions from CSV and creates each row in its
// own transaction: good rows land, bad rows are reported with their line
// number and leave nothing behind.
//
// The first line is a header naming columns in any order: session_id,
// center_id, date (YYYY-MM-DD or DD-MM-YYYY), vaccine, min_age_limit,
// max_age_limit, allow_all_age (true/false), capacity_dose1,
// capacity_dose2, slots ("09:00AM-11:00AM;11:00AM-01:00PM"); session_id,
// max_age_limit and allow_all_age may be left out. An empty session_id
// gets a new UUID; a session_id already stored is a Conflict for that row.
// Whole-file refusals and store failures are as for ImportCentres.
func (s *Service) ImportSessions(ctx context.Context, r io.Reader) (Report, error) {
	f, err := readCSV(r, sessionColumns)
	if err != nil {
		return Report{}, fmt.Errorf("import sessions: %w", err)
	}
	var rep Report
	seen := map[string]int{}
	for _, row := range f.rows {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("import sessions: %w", err)
		}
		id, err := s.importSession(ctx, f, row, seen)
		if fatal(err) {
			return rep, fmt.Errorf("import sessions: row %d: %w", row.line, err)
		}
		rep.add(row.line, id, err)
	}
	return rep, nil
}

func (s *Service) importSession(ctx context.Context, f *csvFile, row csvRow, seen map[string]int) (string, error) {
	if row.err != nil {
		return "", row.err
	}
	p := f.parser(row)
	ss := vax.Session{
		ID:          strings.ToLower(p.str("session_id")),
		CentreID:    p.int64("center_id", true),
		Date:        p.date("date"),
		Vaccine:     p.str("vaccine"),
		MinAge:      p.int("min_age_limit", true),
		MaxAge:      p.int("max_age_limit", false),
		AllowAllAge: p.bool("allow_all_age"),
		Capacity1:   p.int("capacity_dose1", true),
		Capacity2:   p.int("capacity_dose2", true),
		Slots:       p.list("slots"),
	}
	if ss.ID != "" {
		if first, dup := seen[ss.ID]; dup {
			return "", vax.Errorf(vax.Conflict, "session_id %s repeats row %d", ss.ID, first)
		}
		seen[ss.ID] = row.line
	}
	if p.err != nil {
		return "", p.err
	}
	out, err := s.CreateSession(ctx, ss)
	if err != nil {
		return "", err
	}
	return out.ID, nil
}

// fatal reports whether err means the store, not the row, failed: the
// import stops rather than report every later row as failed too.
func fatal(err error) bool {
	if err == nil {
		return false
	}
	code := vax.ErrorCode(err)
	return code == vax.Internal || code == vax.Unavailable
}

// csvFile is a CSV file read whole: its header's column positions and its
// data rows.
type csvFile struct {
	cols map[string]int
	rows []csvRow
}

// csvRow is one data row; err is set when the row is malformed as CSV.
type csvRow struct {
	line   int
	fields []string
	err    error
}

// readCSV reads a whole CSV file whose header must name only known columns
// and every required one. It strips a UTF-8 byte order mark and accepts
// CRLF line ends. Rows that are malformed (bad quoting, wrong field count,
// over-long fields) are kept with their error; only a problem with the file
// as a whole is returned as an error.
func readCSV(r io.Reader, columns []column) (*csvFile, error) {
	br := bufio.NewReader(&capReader{r: r, left: MaxImportBytes})
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // counts are checked per row, so a bad row does not stop the file

	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, vax.Errorf(vax.Invalid, "empty file: want a header line naming the columns")
		}
		return nil, fileError("header", err)
	}
	f := &csvFile{cols: make(map[string]int, len(header))}
	known := make(map[string]bool, len(columns))
	names := make([]string, len(columns))
	for i, c := range columns {
		known[c.name] = true
		names[i] = c.name
	}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case name == "":
			return nil, vax.Errorf(vax.Invalid, "header: column %d has no name", i+1)
		case !known[name]:
			return nil, vax.Errorf(vax.Invalid, "header: unknown column %q; known columns: %s", clip(h), strings.Join(names, ", "))
		}
		if _, dup := f.cols[name]; dup {
			return nil, vax.Errorf(vax.Invalid, "header: column %q appears twice", name)
		}
		f.cols[name] = i
	}
	for _, c := range columns {
		if _, ok := f.cols[c.name]; c.required && !ok {
			return nil, vax.Errorf(vax.Invalid, "header: missing column %q", c.name)
		}
	}

	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var perr *csv.ParseError
		if err != nil && !errors.As(err, &perr) {
			return nil, fileError("read", err)
		}
		if len(f.rows) == MaxImportRows {
			return nil, vax.Errorf(vax.Invalid, "more than %d rows: split the file", MaxImportRows)
		}
		if perr != nil {
			f.rows = append(f.rows, csvRow{line: perr.StartLine,
				err: vax.Wrap(vax.Invalid, err, "malformed CSV: "+perr.Err.Error())})
			continue
		}
		line, _ := cr.FieldPos(0)
		row := csvRow{line: line, fields: rec}
		if len(rec) != len(header) {
			row.err = vax.Errorf(vax.Invalid, "row has %d fields, the header has %d", len(rec), len(header))
		}
		for i, v := range rec {
			if row.err == nil && len(v) > MaxFieldLen {
				row.err = vax.Errorf(vax.Invalid, "field %d is longer than %d bytes", i+1, MaxFieldLen)
			}
		}
		f.rows = append(f.rows, row)
	}
	return f, nil
}

// fileError reports a failure reading the file as a whole. A reader's own
// error (e.g. an HTTP body limit) stays in the chain for the caller to
// recognise.
func fileError(what string, err error) error {
	if errors.Is(err, errTooLarge) {
		return vax.Wrap(vax.Invalid, err, fmt.Sprintf("file larger than %d MiB: split it", MaxImportBytes>>20))
	}
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return vax.Wrap(vax.Invalid, err, fmt.Sprintf("%s: malformed CSV on line %d: %v", what, perr.StartLine, perr.Err))
	}
	return vax.Wrap(vax.Invalid, fmt.Errorf("%s: %w", what, err), "cannot read the CSV file")
}

var errTooLarge = errors.New("input over the import size limit")

// capReader fails once more than left bytes have been read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// parser reads typed fields from one row; the first error sticks and names
// its column.
type parser struct {
	f   *csvFile
	row csvRow
	err error
}

func (f *csvFile) parser(row csvRow) *parser { return &parser{f: f, row: row} }

// str returns the trimmed field of column name, "" when the file lacks it.
func (p *parser) str(name string) string {
	i, ok := p.f.cols[name]
	if !ok {
		return ""
	}
	return strings.TrimSpace(p.row.fields[i])
}

func (p *parser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = vax.Errorf(vax.Invalid, format, args...)
	}
}

func (p *parser) int64(name string, required bool) int64 {
	v := p.str(name)
	if v == "" {
		if required {
			p.fail("%s: required", name)
		}
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		p.fail("%s: want a whole number, got %q", name, clip(v))
		return 0
	}
	return n
}

func (p *parser) int(name string, required bool) int {
	n := p.int64(name, required)
	if n > math.MaxInt32 {
		p.fail("%s: %d is too large", name, n)
		return 0
	}
	return int(n)
}

func (p *parser) float(name string) float64 {
	v := p.str(name)
	if v == "" {
		return 0
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		p.fail("%s: want a number, got %q", name, clip(v))
		return 0
	}
	return x
}

func (p *parser) bool(name string) bool {
	switch strings.ToLower(p.str(name)) {
	case "", "false", "no", "n", "0":
		return false
	case "true", "yes", "y", "1":
		return true
	}
	p.fail("%s: want true or false, got %q", name, clip(p.str(name)))
	return false
}

func (p *parser) date(name string) vax.Date {
	v := p.str(name)
	if v == "" {
		p.fail("%s: required", name)
		return vax.Date{}
	}
	d, err := ParseDate(v)
	if err != nil {
		p.fail("%s: %s", name, vax.ErrorMessage(err))
		return vax.Date{}
	}
	return d
}

// list splits a ";"-separated field, dropping empty items.
func (p *parser) list(name string) []string {
	var out []string
	for item := range strings.SplitSeq(p.str(name), ";") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// fees parses "COVISHIELD:780;COVAXIN:1410".
func (p *parser) fees(name string) []vax.Fee {
	var out []vax.Fee
	for _, item := range p.list(name) {
		vaccine, amount, ok := strings.Cut(item, ":")
		n, err := strconv.Atoi(strings.TrimSpace(amount))
		if !ok || strings.TrimSpace(vaccine) == "" || err != nil {
			p.fail("%s: want VACCINE:RUPEES;…, got %q", name, clip(item))
			return nil
		}
		out = append(out, vax.Fee{Vaccine: strings.TrimSpace(vaccine), Amount: n})
	}
	return out
}
