package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// MaxDaysAhead is how far ahead of today a session may be scheduled. Co-WIN
// opened slots a few days to weeks ahead; 90 days leaves room for planning
// while keeping typos like 2201 for 2021 out.
const MaxDaysAhead = 90

// Service applies the catalog rules over a store.
type Service struct {
	st     vax.Store
	clock  vax.Clock
	loc    *time.Location
	random io.Reader
	cancel SessionCanceller
}

// SessionCanceller cancels a session's live appointments, with their SMS,
// in the transaction that cancels the session (booking.Service).
type SessionCanceller interface {
	CancelSessionAppointments(ctx context.Context, tx vax.Tx, sessionID string) error
	// Notify is called after that transaction committed (wakes the SMS
	// dispatcher).
	Notify()
}

// SetSessionCanceller has every session cancellation also cancel the
// session's appointments through c. Call it once while wiring, before the
// service serves requests.
func (s *Service) SetSessionCanceller(c SessionCanceller) { s.cancel = c }

// New returns a Service over st. loc is the deployment's civil time zone
// (--tz), which decides what "today" is; random is the source of session
// ids (crypto/rand.Reader in production).
func New(st vax.Store, clock vax.Clock, loc *time.Location, random io.Reader) *Service {
	return &Service{st: st, clock: clock, loc: loc, random: random}
}

// CreateCentre checks c and stores it as a new centre. c.ID 0 lets the
// store pick the id; another id is used as given (Conflict if taken).
func (s *Service) CreateCentre(ctx context.Context, c vax.Centre) (vax.Centre, error) {
	c = normalizeCentre(c)
	if err := c.Validate(); err != nil {
		return vax.Centre{}, fmt.Errorf("create centre: %w", err)
	}
	var out vax.Centre
	err := s.st.InTx(ctx, func(tx vax.Tx) error {
		var err error
		out, err = s.createCentre(ctx, tx, c)
		return err
	})
	if err != nil {
		return vax.Centre{}, fmt.Errorf("create centre: %w", err)
	}
	return out, nil
}

// UpdateCentre replaces every field of the existing centre c.ID with c's.
func (s *Service) UpdateCentre(ctx context.Context, c vax.Centre) (vax.Centre, error) {
	if c.ID <= 0 {
		return vax.Centre{}, vax.Errorf(vax.Invalid, "update centre: a centre id is required")
	}
	c = normalizeCentre(c)
	if err := c.Validate(); err != nil {
		return vax.Centre{}, fmt.Errorf("update centre %d: %w", c.ID, err)
	}
	var out vax.Centre
	err := s.st.InTx(ctx, func(tx vax.Tx) error {
		if _, err := tx.Centre(ctx, c.ID); err != nil {
			return err
		}
		var err error
		out, err = s.updateCentre(ctx, tx, c)
		return err
	})
	if err != nil {
		return vax.Centre{}, fmt.Errorf("update centre %d: %w", c.ID, err)
	}
	return out, nil
}

// Centre returns one centre; NotFound when unknown.
func (s *Service) Centre(ctx context.Context, id int64) (vax.Centre, error) {
	var c vax.Centre
	err := s.st.View(ctx, func(tx vax.Tx) error {
		var err error
		c, err = tx.Centre(ctx, id)
		return err
	})
	if err != nil {
		return vax.Centre{}, fmt.Errorf("centre %d: %w", id, err)
	}
	return c, nil
}

// Centres lists centres matching q by ascending id.
func (s *Service) Centres(ctx context.Context, q vax.CentreQuery) ([]vax.Centre, error) {
	var cs []vax.Centre
	err := s.st.View(ctx, func(tx vax.Tx) error {
		var err error
		cs, err = tx.Centres(ctx, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list centres: %w", err)
	}
	return cs, nil
}

// createCentre writes a validated, normalized c in tx.
func (s *Service) createCentre(ctx context.Context, tx vax.Tx, c vax.Centre) (vax.Centre, error) {
	if err := checkCentreRefs(ctx, tx, c); err != nil {
		return vax.Centre{}, err
	}
	if c.ID > 0 {
		if _, err := tx.Centre(ctx, c.ID); err == nil {
			return vax.Centre{}, vax.Errorf(vax.Conflict, "centre %d already exists", c.ID)
		} else if !errors.Is(err, vax.ErrNotFound) {
			return vax.Centre{}, err
		}
	}
	id, err := tx.CreateCentre(ctx, c)
	if err != nil {
		return vax.Centre{}, err
	}
	return recordCentre(ctx, tx, id)
}

// updateCentre writes a validated, normalized c over the existing centre
// in tx.
func (s *Service) updateCentre(ctx context.Context, tx vax.Tx, c vax.Centre) (vax.Centre, error) {
	if err := checkCentreRefs(ctx, tx, c); err != nil {
		return vax.Centre{}, err
	}
	if c.FeeType == vax.Paid {
		if err := s.checkSessionFees(ctx, tx, c); err != nil {
			return vax.Centre{}, err
		}
	}
	if err := tx.UpdateCentre(ctx, c); err != nil {
		return vax.Centre{}, err
	}
	return recordCentre(ctx, tx, c.ID)
}

// recordCentre appends the centre's change and returns it as stored.
func recordCentre(ctx context.Context, tx vax.Tx, id int64) (vax.Centre, error) {
	if err := tx.AppendChange(ctx, vax.ChangeCentre, strconv.FormatInt(id, 10)); err != nil {
		return vax.Centre{}, err
	}
	return tx.Centre(ctx, id)
}

// checkCentreRefs checks what a centre refers to: its district exists and
// lies in its state, and every fee names a known vaccine.
func checkCentreRefs(ctx context.Context, tx vax.Tx, c vax.Centre) error {
	d, err := tx.District(ctx, c.DistrictID)
	if errors.Is(err, vax.ErrNotFound) {
		return vax.Errorf(vax.Invalid, "unknown district %d", c.DistrictID)
	}
	if err != nil {
		return err
	}
	if d.StateID != c.StateID {
		return vax.Errorf(vax.Invalid, "district %d is not in state %d", c.DistrictID, c.StateID)
	}
	if len(c.Fees) == 0 {
		return nil
	}
	known, err := vaccineNames(ctx, tx)
	if err != nil {
		return err
	}
	for _, f := range c.Fees {
		if !known[f.Vaccine] {
			return vax.Errorf(vax.Invalid, "fee for unknown vaccine %q", f.Vaccine)
		}
	}
	return nil
}

// checkSessionFees refuses to make c Paid without a fee for a vaccine one
// of its open sessions from today on offers.
func (s *Service) checkSessionFees(ctx context.Context, tx vax.Tx, c vax.Centre) error {
	q := vax.SessionQuery{CentreID: c.ID, From: vax.Today(s.clock, s.loc), Limit: vax.MaxLimit}
	for {
		page, err := tx.Sessions(ctx, q)
		if err != nil {
			return err
		}
		for _, ss := range page {
			if ss.Status == vax.SessionOpen && !hasFee(c, ss.Vaccine) {
				return vax.Errorf(vax.Invalid, "a Paid centre needs a fee for %s: session %s on %s offers it",
					ss.Vaccine, ss.ID, ss.Date.Cowin())
			}
		}
		if len(page) < vax.PageSize(q.Limit) {
			return nil
		}
		q.AfterID = page[len(page)-1].ID
	}
}

func hasFee(c vax.Centre, vaccine string) bool {
	for _, f := range c.Fees {
		if f.Vaccine == vaccine {
			return true
		}
	}
	return false
}

// vaccineNames returns the set of configured vaccine names.
func vaccineNames(ctx context.Context, tx vax.Tx) (map[string]bool, error) {
	vs, err := tx.Vaccines(ctx)
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(vs))
	for _, v := range vs {
		known[v.Name] = true
	}
	return known, nil
}

// normalizeCentre trims text, reads the fee type in any case, completes
// "HH:MM" hours to "HH:MM:SS" and upper-cases fee vaccine names, so
// equivalent inputs store the same.
func normalizeCentre(c vax.Centre) vax.Centre {
	c.Name = strings.TrimSpace(c.Name)
	c.Address = strings.TrimSpace(c.Address)
	c.BlockName = strings.TrimSpace(c.BlockName)
	c.From = normalizeHour(c.From)
	c.To = normalizeHour(c.To)
	if ft, err := vax.ParseFeeType(string(c.FeeType)); err == nil {
		c.FeeType = ft
	}
	if len(c.Fees) > 0 {
		fees := make([]vax.Fee, len(c.Fees))
		for i, f := range c.Fees {
			fees[i] = vax.Fee{Vaccine: normalizeVaccine(f.Vaccine), Amount: f.Amount}
		}
		c.Fees = fees
	}
	return c
}

func normalizeHour(h string) string {
	h = strings.TrimSpace(h)
	if len(h) == 5 && h[2] == ':' {
		return h + ":00"
	}
	return h
}

func normalizeVaccine(name string) string { return strings.ToUpper(strings.TrimSpace(name)) }

// ParseDate parses a date as vaxport's admin surfaces accept it:
// "YYYY-MM-DD" or Co-WIN's "DD-MM-YYYY" (and "DD-MM-YY", as Co-WIN does).
func ParseDate(s string) (vax.Date, error) {
	s = strings.TrimSpace(s)
	if len(s) == 10 && s[4] == '-' {
		if d, err := vax.ParseISODate(s); err == nil {
			return d, nil
		}
	}
	d, err := vax.ParseCowinDate(s)
	if err != nil {
		return vax.Date{}, vax.Errorf(vax.Invalid, "invalid date %q: want YYYY-MM-DD or DD-MM-YYYY", clip(s))
	}
	return d, nil
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
