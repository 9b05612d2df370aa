package v1

import (
	"context"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/release"
	"github.com/vaxport/vaxport/internal/vax"
)

// Fair releases: staff publish sessions with a release time
// (/api/v1/admin/releases), anyone can re-check a draw
// (/api/v1/releases/{release_id}) and a citizen polls the outcome of a
// request the Co-WIN schedule call pooled
// (/api/v1/releases/requests/{request_id}). The rules are
// internal/release's.

// Releases runs fair releases (release.Service).
type Releases interface {
	Create(ctx context.Context, by string, req release.CreateRequest) (vax.Release, error)
	List(ctx context.Context) ([]vax.Release, error)
	Audit(ctx context.Context, id string) (vax.Release, []vax.ReleaseEntry, error)
	Entry(ctx context.Context, accountID, id string) (vax.ReleaseEntry, vax.Release, error)
}

// orderRule is the lottery of release.Order in one line, served with every
// audit so that a reader can re-check the ranks without reading our code.
const orderRule = "rank = place of HMAC-SHA256(key: the seed's 32 bytes, message: the lower-case request_id) " +
	"in ascending byte order (equal values: by request_id); the draw books entries in rank order while seats last, " +
	"then the sessions open first come, first served; sha256(seed) = seed_hash, published before the release"

// drawnCache is the Cache-Control of a drawn release's audit: it never
// changes again.
const drawnCache = "public, max-age=86400, immutable"

// releaseRequest is the body of POST /api/v1/admin/releases.
type releaseRequest struct {
	SessionIDs    []string `json:"session_ids"`
	ReleaseAt     string   `json:"release_at"`     // RFC 3339
	WindowSeconds *int     `json:"window_seconds"` // absent: the deployment's default
}

// releaseJSON is a release as staff see it.
type releaseJSON struct {
	ReleaseID     string   `json:"release_id"`
	SessionIDs    []string `json:"session_ids"`
	ReleaseAt     string   `json:"release_at"` // RFC 3339, UTC, with the milliseconds kept
	WindowSeconds int      `json:"window_seconds"`
	Status        string   `json:"status"`
	SeedHash      string   `json:"seed_hash"` // hex SHA-256 of the seed
	CreatedAt     string   `json:"created_at"`
}

// releasesJSON is the body of GET /api/v1/admin/releases.
type releasesJSON struct {
	Releases []releaseJSON `json:"releases"`
}

// auditJSON is the public record of a release: enough to re-check its draw
// and nothing about who entered.
type auditJSON struct {
	ReleaseID     string      `json:"release_id"`
	SessionIDs    []string    `json:"session_ids"`
	ReleaseAt     string      `json:"release_at"`
	WindowSeconds int         `json:"window_seconds"`
	Status        string      `json:"status"`
	SeedHash      string      `json:"seed_hash"`
	Seed          string      `json:"seed"`     // hex; "" until drawn
	DrawnAt       string      `json:"drawn_at"` // "" until drawn
	Order         string      `json:"order"`    // orderRule
	Entries       []entryJSON `json:"entries"`
}

// entryJSON is one pooled request in an audit.
type entryJSON struct {
	RequestID string `json:"request_id"`
	SessionID string `json:"session_id"`
	Dose      int    `json:"dose"`
	ArrivedAt string `json:"arrived_at"` // RFC 3339, UTC, milliseconds
	Node      string `json:"node"`
	Rank      int    `json:"rank"` // 0 until drawn
	Status    string `json:"status"`
	Reason    string `json:"reason"`
}

// requestJSON is the body of GET /api/v1/releases/requests/{request_id}:
// a citizen's own pooled request.
type requestJSON struct {
	RequestID     string `json:"request_id"`
	ReleaseID     string `json:"release_id"`
	SessionID     string `json:"session_id"`
	Dose          int    `json:"dose"`
	Status        string `json:"status"`
	Rank          int    `json:"rank"`
	AppointmentID string `json:"appointment_id"`
	Reason        string `json:"reason"`
	DrawAt        string `json:"draw_at"` // when the draw is due: the window's end
}

// stamp formats t as RFC 3339 in UTC keeping sub-second digits (release
// and arrival times keep milliseconds); "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func releaseWire(r vax.Release) releaseJSON {
	return releaseJSON{ReleaseID: r.ID, SessionIDs: nonNil(r.SessionIDs), ReleaseAt: stamp(r.ReleaseAt),
		WindowSeconds: int(r.Window / time.Second), Status: string(r.Status), SeedHash: r.SeedHash,
		CreatedAt: stamp(r.CreatedAt)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// releaseRoutes serves fair releases for a Server.
type releaseRoutes struct {
	s   *Server
	rel Releases
}

// maxWindowSeconds only keeps window_seconds from overflowing a Duration;
// the release service holds the real limit.
const maxWindowSeconds = 1 << 20

func (h releaseRoutes) handleCreate(w http.ResponseWriter, r *http.Request) error {
	var req releaseRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.ReleaseAt) == "" {
		return vax.Errorf(vax.Invalid, `field "release_at": required, as RFC 3339 (2021-06-01T16:00:00+05:30)`)
	}
	at, err := time.Parse(time.RFC3339, strings.TrimSpace(req.ReleaseAt))
	if err != nil {
		return vax.Errorf(vax.Invalid, `field "release_at": want RFC 3339 (2021-06-01T16:00:00+05:30)`)
	}
	var window time.Duration
	if req.WindowSeconds != nil {
		n := *req.WindowSeconds
		if n < 1 || n > maxWindowSeconds {
			return vax.Errorf(vax.Invalid, `field "window_seconds": want a positive whole number of seconds`)
		}
		window = time.Duration(n) * time.Second
	}
	ids := make([]string, len(req.SessionIDs))
	for i, id := range req.SessionIDs {
		ids[i] = strings.ToLower(strings.TrimSpace(id))
	}
	by := caller(r)
	if err := h.mayRelease(r.Context(), by, ids); err != nil {
		return err
	}
	rel, err := h.rel.Create(r.Context(), by.ID, release.CreateRequest{SessionIDs: ids, ReleaseAt: at, Window: window})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusCreated, releaseWire(rel))
}

// mayRelease refuses by unless it may manage the centre of every session
// (the rule for editing a session: a release holds the sessions). Each
// distinct centre is checked once.
func (h releaseRoutes) mayRelease(ctx context.Context, by vax.Staff, ids []string) error {
	if err := atLeast(by, vax.RoleFacilityAdmin); err != nil {
		return err
	}
	checked := map[int64]bool{}
	for _, id := range ids {
		if !vax.ValidUUID(id) {
			return sessionNotFound(id)
		}
		ss, err := h.s.catalog.Session(ctx, id)
		if err != nil {
			return err
		}
		if checked[ss.CentreID] {
			continue
		}
		if err := h.s.mayManageCentre(ctx, by, ss.CentreID, vax.RoleFacilityAdmin); err != nil {
			return err
		}
		checked[ss.CentreID] = true
	}
	return nil
}

func (h releaseRoutes) handleList(w http.ResponseWriter, r *http.Request) error {
	rs, err := h.rel.List(r.Context())
	if err != nil {
		return err
	}
	out := releasesJSON{Releases: make([]releaseJSON, 0, len(rs))}
	for _, x := range rs {
		out.Releases = append(out.Releases, releaseWire(x))
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func releaseNotFound(id string) error {
	return vax.Errorf(vax.NotFound, "no release %q: release ids are UUIDs", clip(id))
}

// handleAudit serves the public record of a release. It names no account,
// beneficiary or appointment: only request ids, which nobody but their
// owner can look up.
func (h releaseRoutes) handleAudit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("release_id")
	if !vax.ValidUUID(id) {
		return releaseNotFound(id)
	}
	rel, entries, err := h.rel.Audit(r.Context(), strings.ToLower(id))
	if err != nil {
		return err
	}
	out := auditJSON{ReleaseID: rel.ID, SessionIDs: nonNil(rel.SessionIDs), ReleaseAt: stamp(rel.ReleaseAt),
		WindowSeconds: int(rel.Window / time.Second), Status: string(rel.Status), SeedHash: rel.SeedHash,
		Order: orderRule, Entries: make([]entryJSON, 0, len(entries))}
	drawn := rel.Status == vax.ReleaseDrawn
	if drawn {
		out.Seed, out.DrawnAt = hex.EncodeToString(rel.Seed), stamp(rel.DrawnAt)
	}
	for _, e := range entries {
		out.Entries = append(out.Entries, entryJSON{RequestID: e.ID, SessionID: e.SessionID, Dose: e.Dose,
			ArrivedAt: stamp(e.ArrivedAt), Node: e.Node, Rank: e.Rank, Status: string(e.Status), Reason: e.Reason})
	}
	if drawn {
		w.Header().Set("Cache-Control", drawnCache)
	} else {
		w.Header().Set("Cache-Control", "no-cache") // entries arrive until the draw
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

// handleRequest answers a citizen's own pooled request; another account's
// is the same 404 as an unknown one.
func (h releaseRoutes) handleRequest(w http.ResponseWriter, r *http.Request) error {
	p, err := h.s.authn(r)
	if err != nil {
		return unauthorized(w, err)
	}
	if p.AccountID == "" || p.Kind == auth.KindStaff {
		return unauthorized(w, vax.Errorf(vax.Unauthorized, "a citizen's token is required"))
	}
	id := r.PathValue("request_id")
	if !vax.ValidUUID(id) {
		return vax.Errorf(vax.NotFound, "no request %q: request ids are UUIDs", clip(id))
	}
	e, rel, err := h.rel.Entry(r.Context(), p.AccountID, strings.ToLower(id))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	return api.WriteJSON(w, http.StatusOK, requestJSON{RequestID: e.ID, ReleaseID: e.ReleaseID, SessionID: e.SessionID,
		Dose: e.Dose, Status: string(e.Status), Rank: e.Rank, AppointmentID: e.AppointmentID, Reason: e.Reason,
		DrawAt: stamp(rel.WindowEnd())})
}
