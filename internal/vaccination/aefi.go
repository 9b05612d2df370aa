package vaccination

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/vaxport/vaxport/internal/sms/outbox"
	"github.com/vaxport/vaxport/internal/vax"
)

// MessageSeriousAEFI is the SMS kind that flags a serious adverse event to
// a district admin.
const MessageSeriousAEFI vax.MessageKind = "aefi_serious"

// NewAdverseEvent is an adverse event following immunization, as reported.
type NewAdverseEvent struct {
	DoseID   string
	Severity vax.Severity
	Symptoms []string // 1..20, each 1..100 characters
	Onset    time.Time
}

func badEvent(format string, args ...any) error {
	return fail(vax.Invalid, ReasonBadEvent, format, args...)
}

// ReportAdverseEvent records an adverse event following a dose given at a
// centre by covers (any role). A serious one is flagged by SMS, in the same
// transaction, to every active district admin of the centre's district.
func (s *Service) ReportAdverseEvent(ctx context.Context, by vax.Staff, n NewAdverseEvent) (vax.AdverseEvent, error) {
	if err := allowed(by, anyRole); err != nil {
		return vax.AdverseEvent{}, err
	}
	if !vax.ValidUUID(n.DoseID) {
		return vax.AdverseEvent{}, fail(vax.NotFound, ReasonNoDose, "dose not found")
	}
	if _, err := vax.ParseSeverity(string(n.Severity)); err != nil {
		return vax.AdverseEvent{}, badEvent("%s", vax.ErrorMessage(err))
	}
	symptoms, err := cleanSymptoms(n.Symptoms)
	if err != nil {
		return vax.AdverseEvent{}, err
	}
	now := s.clock.Now()
	onset := n.Onset.UTC().Truncate(time.Second)
	switch {
	case n.Onset.IsZero():
		return vax.AdverseEvent{}, badEvent("onset is required")
	case onset.After(now):
		return vax.AdverseEvent{}, badEvent("onset is in the future")
	}
	var (
		e        vax.AdverseEvent
		enqueued bool
	)
	err = s.store.InTx(ctx, func(tx vax.Tx) error {
		enqueued = false
		d, err := tx.Dose(ctx, strings.ToLower(n.DoseID))
		if errors.Is(err, vax.ErrNotFound) {
			return fail(vax.NotFound, ReasonNoDose, "dose not found")
		}
		if err != nil {
			return err
		}
		c, err := centreFor(ctx, tx, by, d.CentreID, anyRole)
		if err != nil {
			return err
		}
		if onset.Before(d.AdministeredAt) {
			return badEvent("onset is before the dose was given")
		}
		id, err := s.newID()
		if err != nil {
			return err
		}
		e = vax.AdverseEvent{ID: id, DoseID: d.ID, Ref: d.Ref, CentreID: c.ID, DistrictID: c.DistrictID,
			Severity: n.Severity, Symptoms: symptoms, Onset: onset, ReporterID: by.ID, ReportedAt: now.UTC().Truncate(time.Second)}
		if err := tx.RecordAdverseEvent(ctx, e); err != nil {
			return err
		}
		if e.Severity != vax.SeveritySerious {
			return nil
		}
		enqueued, err = s.flag(ctx, tx, e, c, now)
		return err
	})
	if err != nil {
		return vax.AdverseEvent{}, fmt.Errorf("report adverse event: %w", err)
	}
	if enqueued {
		s.notify()
	}
	return e, nil
}

// flag texts every active district admin of the centre's district about a
// serious event: its id, centre and severity, no personal data.
func (s *Service) flag(ctx context.Context, tx vax.Tx, e vax.AdverseEvent, c vax.Centre, now time.Time) (bool, error) {
	admins, err := tx.StaffList(ctx, vax.StaffQuery{DistrictID: c.DistrictID, Role: vax.RoleDistrictAdmin, Limit: vax.MaxLimit})
	if err != nil {
		return false, err
	}
	text := fmt.Sprintf("vaxport: %s adverse event %s reported at %s (centre %d). Review it today.",
		e.Severity, e.ID, clipRunes(c.Name, 60), c.ID)
	sent := false
	for _, a := range admins {
		if !a.Active() || a.Role != vax.RoleDistrictAdmin || a.DistrictID != c.DistrictID {
			continue
		}
		to, err := s.staffMobile(a)
		if err != nil {
			return false, fmt.Errorf("mobile of staff %s: %w", a.ID, err)
		}
		id, err := s.newID()
		if err != nil {
			return false, err
		}
		err = outbox.Enqueue(ctx, tx, s.keys, outbox.Message{ID: id, Kind: MessageSeriousAEFI, To: to, Text: text, CreatedAt: now})
		if err != nil {
			return false, err
		}
		sent = true
	}
	return sent, nil
}

// cleanSymptoms trims the symptoms and checks their number and lengths.
func cleanSymptoms(in []string) ([]string, error) {
	if len(in) == 0 || len(in) > 20 {
		return nil, badEvent("1..20 symptoms are required")
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.Join(strings.Fields(s), " ")
		if s == "" || len(s) > 100 || strings.IndexFunc(s, unicode.IsControl) >= 0 {
			return nil, badEvent("each symptom must be 1..100 characters")
		}
		out = append(out, s)
	}
	return out, nil
}

// clipRunes shortens s to n runes.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// AdverseEvents lists adverse events in by's area, newest first: a district
// admin's own district (whatever q.DistrictID says), a district of a state
// admin's state (q.DistrictID required), anywhere for a national admin.
func (s *Service) AdverseEvents(ctx context.Context, by vax.Staff, q vax.AdverseEventQuery) ([]vax.AdverseEvent, error) {
	if err := allowed(by, []vax.Role{vax.RoleDistrictAdmin, vax.RoleStateAdmin, vax.RoleNationalAdmin}); err != nil {
		return nil, err
	}
	if q.Severity != "" {
		if _, err := vax.ParseSeverity(string(q.Severity)); err != nil {
			return nil, badEvent("%s", vax.ErrorMessage(err))
		}
	}
	switch by.Role {
	case vax.RoleDistrictAdmin:
		q.DistrictID = by.DistrictID
	case vax.RoleStateAdmin:
		if q.DistrictID == 0 {
			return nil, fail(vax.Invalid, ReasonBadRequest, "district_id is required")
		}
	}
	var es []vax.AdverseEvent
	err := s.store.View(ctx, func(tx vax.Tx) error {
		if by.Role == vax.RoleStateAdmin {
			d, err := tx.District(ctx, q.DistrictID)
			if errors.Is(err, vax.ErrNotFound) || err == nil && !by.CoversArea(d.StateID, d.ID) {
				return forbidden("district %d is not in your state", q.DistrictID)
			}
			if err != nil {
				return err
			}
		}
		var err error
		es, err = tx.AdverseEvents(ctx, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list adverse events: %w", err)
	}
	return es, nil
}
