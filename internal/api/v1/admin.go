package v1

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/catalog"
	"github.com/vaxport/vaxport/internal/vax"
)

func (s *Server) handleCreateCentre(w http.ResponseWriter, r *http.Request) error {
	var req centreJSON
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := mayManageArea(caller(r), req.StateID, req.DistrictID); err != nil {
		return err
	}
	c, err := s.catalog.CreateCentre(r.Context(), req.centre())
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusCreated, centreWire(c))
}

func (s *Server) handleUpdateCentre(w http.ResponseWriter, r *http.Request) error {
	id, err := centreID(r)
	if err != nil {
		return err
	}
	var req centreJSON
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.CenterID != 0 && req.CenterID != id {
		return vax.Errorf(vax.Invalid, "center_id %d in the body does not match %d in the path", req.CenterID, id)
	}
	req.CenterID = id
	if err := s.mayManageCentre(r.Context(), caller(r), id, vax.RoleDistrictAdmin); err != nil {
		return err
	}
	if err := mayManageArea(caller(r), req.StateID, req.DistrictID); err != nil {
		return err
	}
	c, err := s.catalog.UpdateCentre(r.Context(), req.centre())
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, centreWire(c))
}

func (s *Server) handleGetCentre(w http.ResponseWriter, r *http.Request) error {
	id, err := centreID(r)
	if err != nil {
		return err
	}
	c, err := s.catalog.Centre(r.Context(), id)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, centreWire(c))
}

func (s *Server) handleListCentres(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	cq := vax.CentreQuery{
		DistrictID: q.int("district_id"),
		Pincode:    q.int("pincode"),
		AfterID:    q.int64("after"),
		Limit:      vax.PageSize(q.int("limit")),
	}
	if q.err != nil {
		return q.err
	}
	cs, err := s.catalog.Centres(r.Context(), cq)
	if err != nil {
		return err
	}
	resp := centresJSON{Centers: make([]centreJSON, 0, len(cs))}
	for _, c := range cs {
		resp.Centers = append(resp.Centers, centreWire(c))
	}
	if len(cs) == cq.Limit {
		resp.Next = strconv.FormatInt(cs[len(cs)-1].ID, 10)
	}
	return api.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) handleCreateSession(w http.ResponseWriter, r *http.Request) error {
	var req sessionRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	ss, err := req.session()
	if err != nil {
		return err
	}
	if err := s.mayManageCentre(r.Context(), caller(r), ss.CentreID, vax.RoleFacilityAdmin); err != nil {
		return err
	}
	ss, err = s.catalog.CreateSession(r.Context(), ss)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusCreated, sessionWire(ss))
}

func (s *Server) handleUpdateSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("session_id")
	if !vax.ValidUUID(id) {
		return sessionNotFound(id)
	}
	var req sessionRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.SessionID != "" && !strings.EqualFold(req.SessionID, id) {
		return vax.Errorf(vax.Invalid, "session_id in the body does not match the path")
	}
	req.SessionID = id
	ss, err := req.session()
	if err != nil {
		return err
	}
	// A session stays at its centre: the caller must manage that one.
	if err := s.mayManageSession(r.Context(), caller(r), id); err != nil {
		return err
	}
	ss, err = s.catalog.UpdateSession(r.Context(), ss)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, sessionWire(ss))
}

func (s *Server) handleCancelSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("session_id")
	if !vax.ValidUUID(id) {
		return sessionNotFound(id)
	}
	if err := s.mayManageSession(r.Context(), caller(r), id); err != nil {
		return err
	}
	ss, err := s.catalog.CancelSession(r.Context(), id)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, sessionWire(ss))
}

func (s *Server) handleGetSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("session_id")
	if !vax.ValidUUID(id) {
		return sessionNotFound(id)
	}
	ss, err := s.catalog.Session(r.Context(), id)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, sessionWire(ss))
}

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	sq := vax.SessionQuery{
		CentreID:   q.int64("center_id"),
		DistrictID: q.int("district_id"),
		Pincode:    q.int("pincode"),
		From:       q.date("from"),
		To:         q.date("to"),
		AfterID:    q.str("after"),
		Limit:      vax.PageSize(q.int("limit")),
	}
	if q.err != nil {
		return q.err
	}
	if sq.AfterID != "" && !vax.ValidUUID(sq.AfterID) {
		return vax.Errorf(vax.Invalid, "query parameter after: want a session id")
	}
	ss, err := s.catalog.Sessions(r.Context(), sq)
	if err != nil {
		return err
	}
	resp := sessionsJSON{Sessions: make([]sessionJSON, 0, len(ss))}
	for _, x := range ss {
		resp.Sessions = append(resp.Sessions, sessionWire(x))
	}
	if len(ss) == sq.Limit {
		resp.Next = ss[len(ss)-1].ID
	}
	return api.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) handleImportCentres(w http.ResponseWriter, r *http.Request) error {
	if err := atLeast(caller(r), vax.RoleNationalAdmin); err != nil {
		return err
	}
	body, err := csvBody(w, r)
	if err != nil {
		return err
	}
	rep, err := s.catalog.ImportCentres(r.Context(), body)
	if err != nil {
		return importError(err)
	}
	return api.WriteJSON(w, http.StatusOK, importWire(rep, func(row *importRowJSON, id string) {
		row.CenterID, _ = strconv.ParseInt(id, 10, 64)
	}))
}

func (s *Server) handleImportSessions(w http.ResponseWriter, r *http.Request) error {
	if err := atLeast(caller(r), vax.RoleNationalAdmin); err != nil {
		return err
	}
	body, err := csvBody(w, r)
	if err != nil {
		return err
	}
	rep, err := s.catalog.ImportSessions(r.Context(), body)
	if err != nil {
		return importError(err)
	}
	return api.WriteJSON(w, http.StatusOK, importWire(rep, func(row *importRowJSON, id string) {
		row.SessionID = id
	}))
}

// csvBody returns the request body as the CSV to import, at most
// api.MaxBodyBytes. The CSV is the body itself (text/csv; any or no
// Content-Type is read as CSV), not a form upload.
func csvBody(w http.ResponseWriter, r *http.Request) (io.Reader, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err == nil && (strings.HasPrefix(mt, "multipart/") || mt == "application/x-www-form-urlencoded" || mt == "application/json") {
			return nil, vax.Errorf(vax.Invalid, "send the CSV file itself as the body, with Content-Type: text/csv (not %s)", mt)
		}
	}
	return http.MaxBytesReader(w, r.Body, api.MaxBodyBytes), nil
}

// importError reports a whole-file failure; a body over the limit gets a
// message saying so.
func importError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return vax.Wrap(vax.Invalid, err, fmt.Sprintf("CSV body larger than %d MiB: split the file", tooLarge.Limit>>20))
	}
	return err
}

func importWire(rep catalog.Report, setID func(*importRowJSON, string)) importJSON {
	out := importJSON{Imported: rep.Imported, Failed: rep.Failed, Rows: make([]importRowJSON, 0, len(rep.Rows))}
	for _, rr := range rep.Rows {
		row := importRowJSON{Row: rr.Row}
		if rr.Err != nil {
			_, body := api.Describe(rr.Err)
			row.ErrorCode, row.Error = body.ErrorCode, body.Error
		} else {
			setID(&row, rr.ID)
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

func centreID(r *http.Request) (int64, error) {
	v := r.PathValue("center_id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, vax.Errorf(vax.NotFound, "no centre %q: centre ids are positive whole numbers", clip(v))
	}
	return id, nil
}

func sessionNotFound(id string) error {
	return vax.Errorf(vax.NotFound, "no session %q: session ids are UUIDs", clip(id))
}

// clip shortens outside input quoted in a message.
func clip(s string) string {
	const maxLen = 40
	for i := range s {
		if i >= maxLen {
			return s[:i] + "…"
		}
	}
	return s
}

// query reads typed query parameters; the first error sticks and names
// its parameter.
type query struct {
	v   url.Values
	err error
}

func newQuery(r *http.Request) *query { return &query{v: r.URL.Query()} }

func (q *query) str(name string) string { return strings.TrimSpace(q.v.Get(name)) }

func (q *query) int64(name string) int64 {
	v := q.str(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		if q.err == nil {
			q.err = vax.Errorf(vax.Invalid, "query parameter %s: want a whole number, got %q", name, clip(v))
		}
		return 0
	}
	return n
}

func (q *query) int(name string) int {
	n := q.int64(name)
	if n > 1<<31-1 {
		if q.err == nil {
			q.err = vax.Errorf(vax.Invalid, "query parameter %s: %d is too large", name, n)
		}
		return 0
	}
	return int(n)
}

func (q *query) date(name string) vax.Date {
	v := q.str(name)
	if v == "" {
		return vax.Date{}
	}
	d, err := catalog.ParseDate(v)
	if err != nil && q.err == nil {
		q.err = vax.Errorf(vax.Invalid, "query parameter %s: %s", name, vax.ErrorMessage(err))
	}
	return d
}
