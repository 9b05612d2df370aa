package vaccination

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// MaxUploadRows is the most rows one upload may hold.
const MaxUploadRows = 10_000

// maxLine bounds one line of an upload (a row is ~150 bytes).
const maxLine = 4096

// UploadRow is one dose of an offline-recorded upload. Err, when set, is
// why the row could not be parsed; Upload reports it as the row's result.
type UploadRow struct {
	Row int // 1-based among the data rows (CSV: after the header)
	DoseRequest
	Err error
}

// RowStatus is what became of an uploaded row.
type RowStatus string

// The row statuses.
const (
	RowRecorded  RowStatus = "recorded"  // a new dose record
	RowDuplicate RowStatus = "duplicate" // the same dose was already recorded (before, or earlier in the upload)
	RowError     RowStatus = "error"     // refused: nothing was written for it
)

// RowResult is what became of one uploaded row.
type RowResult struct {
	Row    int
	DoseID string // recorded or duplicate: the dose record
	Status RowStatus
	Error  string // citizen-safe message when Status is RowError
	Reason string // the wire error code when Status is RowError
}

// uploadHeader is the CSV header row, in order.
var uploadHeader = []string{"beneficiary_reference_id", "vaccine", "lot", "dose", "center_id", "administered_at"}

// Upload records offline-recorded doses, each row in its own transaction
// through RecordDose's rules, and reports each row's result in order. A
// refused row leaves nothing written; an identical row already recorded
// (before, or earlier in the upload) is a duplicate.
func (s *Service) Upload(ctx context.Context, by vax.Staff, rows []UploadRow) []RowResult {
	out := make([]RowResult, 0, len(rows))
	for i, r := range rows {
		res := RowResult{Row: r.Row}
		if res.Row == 0 {
			res.Row = i + 1
		}
		var (
			d       vax.Dose
			created bool
			err     = r.Err
		)
		switch {
		case i >= MaxUploadRows:
			err = fail(vax.Invalid, ReasonTooLarge, "an upload holds at most %d rows", MaxUploadRows)
		case err == nil && r.AdministeredAt.IsZero():
			err = fail(vax.Invalid, ReasonBadRequest, "administered_at is required")
		case err == nil:
			d, created, err = s.recordDose(ctx, by, r.DoseRequest)
		}
		switch {
		case err != nil:
			res.Status, res.Error, res.Reason = RowError, vax.ErrorMessage(err), vax.ErrorReason(err)
		case created:
			res.Status, res.DoseID = RowRecorded, d.ID
		default:
			res.Status, res.DoseID = RowDuplicate, d.ID
		}
		out = append(out, res)
	}
	return out
}

func badRow(format string, args ...any) error {
	return fail(vax.Invalid, ReasonBadRequest, format, args...)
}

func tooLarge() error {
	return fail(vax.Invalid, ReasonTooLarge, "an upload holds at most %d rows", MaxUploadRows)
}

// ParseCSV reads an upload in CSV with the header row
// beneficiary_reference_id,vaccine,lot,dose,center_id,administered_at
// (center_id may be empty; administered_at is RFC 3339). A malformed row
// is returned with Err set; only a missing or wrong header, an unreadable
// file or more than MaxUploadRows rows fail the whole upload.
func ParseCSV(r io.Reader) ([]UploadRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, badRow("the upload needs the header row %s", strings.Join(uploadHeader, ","))
	}
	for i := range head {
		head[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(head[i], "\uFEFF")))
	}
	if !slices.Equal(head, uploadHeader) {
		return nil, badRow("the upload needs the header row %s", strings.Join(uploadHeader, ","))
	}
	var rows []UploadRow
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if len(rows) == MaxUploadRows {
			return nil, tooLarge()
		}
		row := UploadRow{Row: n}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			row.Err = badRow("malformed CSV row")
		case err != nil:
			return nil, vax.Wrap(vax.Invalid, err, "unreadable upload")
		case len(rec) != len(uploadHeader):
			row.Err = badRow("want %d fields, got %d", len(uploadHeader), len(rec))
		default:
			row.DoseRequest, row.Err = parseFields(rec[0], rec[1], rec[2], rec[3], rec[4], rec[5])
		}
		rows = append(rows, row)
	}
}

// parseFields parses one row's text fields.
func parseFields(ref, vaccine, lot, dose, centre, at string) (DoseRequest, error) {
	r := DoseRequest{Ref: strings.TrimSpace(ref), Vaccine: strings.ToUpper(strings.TrimSpace(vaccine)), Lot: strings.TrimSpace(lot)}
	var err error
	if r.Dose, err = strconv.Atoi(strings.TrimSpace(dose)); err != nil {
		return DoseRequest{}, badRow("dose must be a number")
	}
	if c := strings.TrimSpace(centre); c != "" {
		if r.CentreID, err = strconv.ParseInt(c, 10, 64); err != nil || r.CentreID <= 0 {
			return DoseRequest{}, badRow("center_id must be a positive number")
		}
	}
	if a := strings.TrimSpace(at); a != "" {
		if r.AdministeredAt, err = time.Parse(time.RFC3339, a); err != nil {
			return DoseRequest{}, badRow("administered_at must be an RFC 3339 time, like 2021-06-01T10:30:00+05:30")
		}
	}
	return r, nil
}

// jsonRow is one JSON line of an upload.
type jsonRow struct {
	Ref            string `json:"beneficiary_reference_id"`
	Vaccine        string `json:"vaccine"`
	Lot            string `json:"lot"`
	Dose           int    `json:"dose"`
	CentreID       int64  `json:"center_id"`
	AdministeredAt string `json:"administered_at"`
}

// ParseJSONLines reads an upload in JSON lines: one object per line with
// the CSV header's names as keys (dose and center_id numbers). Blank lines
// are skipped; a malformed line is returned with Err set.
func ParseJSONLines(r io.Reader) ([]UploadRow, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxLine), maxLine)
	var rows []UploadRow
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if len(rows) == MaxUploadRows {
			return nil, tooLarge()
		}
		row := UploadRow{Row: len(rows) + 1}
		var j jsonRow
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil || dec.More() {
			row.Err = badRow("malformed JSON line")
		} else if j.CentreID < 0 {
			row.Err = badRow("center_id must be a positive number")
		} else {
			centre := ""
			if j.CentreID > 0 {
				centre = strconv.FormatInt(j.CentreID, 10)
			}
			row.DoseRequest, row.Err = parseFields(j.Ref, j.Vaccine, j.Lot, strconv.Itoa(j.Dose), centre, j.AdministeredAt)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, badRow("a line of the upload is longer than %d bytes", maxLine)
		}
		return nil, vax.Wrap(vax.Invalid, err, "unreadable upload")
	}
	return rows, nil
}

// String names a row for logs without its reference id.
func (r UploadRow) String() string { return fmt.Sprintf("upload row %d", r.Row) }
