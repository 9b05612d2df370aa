package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// CreateSession checks ss and stores it as a new session. An empty ss.ID
// gets a new UUID; an empty status means open. Booked counts must be zero:
// only seat admission moves them.
func (s *Service) CreateSession(ctx context.Context, ss vax.Session) (vax.Session, error) {
	if ss.ID == "" {
		id, err := vax.NewUUID(s.random)
		if err != nil {
			return vax.Session{}, fmt.Errorf("create session: %w", err)
		}
		ss.ID = id
	}
	ss = normalizeSession(ss)
	if ss.Status == "" {
		ss.Status = vax.SessionOpen
	}
	if err := s.checkNewSession(ss); err != nil {
		return vax.Session{}, fmt.Errorf("create session: %w", err)
	}
	var out vax.Session
	err := s.st.InTx(ctx, func(tx vax.Tx) error {
		if err := checkSessionRefs(ctx, tx, ss); err != nil {
			return err
		}
		if _, err := tx.Session(ctx, ss.ID); err == nil {
			return vax.Errorf(vax.Conflict, "session %s already exists", ss.ID)
		} else if !errors.Is(err, vax.ErrNotFound) {
			return err
		}
		if err := tx.CreateSession(ctx, ss); err != nil {
			return err
		}
		var err error
		out, err = recordSession(ctx, tx, ss.ID)
		return err
	})
	if err != nil {
		return vax.Session{}, fmt.Errorf("create session %s: %w", ss.ID, err)
	}
	return out, nil
}

func (s *Service) checkNewSession(ss vax.Session) error {
	if err := ss.Validate(); err != nil {
		return err
	}
	if ss.Status != vax.SessionOpen {
		return vax.Errorf(vax.Invalid, "a new session must be open")
	}
	if ss.Booked1 != 0 || ss.Booked2 != 0 {
		return vax.Errorf(vax.Invalid, "a new session has no booked seats")
	}
	return s.checkDate(ss.Date)
}

// checkDate keeps a session's date within today .. today+MaxDaysAhead in
// the deployment's zone.
func (s *Service) checkDate(d vax.Date) error {
	today := vax.Today(s.clock, s.loc)
	if d.Before(today) {
		return vax.Errorf(vax.Invalid, "session date %s is in the past", d.Cowin())
	}
	if last := today.AddDays(MaxDaysAhead); d.After(last) {
		return vax.Errorf(vax.Invalid, "session date %s is more than %d days ahead", d.Cowin(), MaxDaysAhead)
	}
	return nil
}

// UpdateSession replaces the session ss.ID's date, vaccine, ages,
// capacities, slots and status with ss's. A session stays at its centre
// (ss.CentreID 0 means unchanged); booked counts are kept whatever ss says;
// an empty status means unchanged. A cancelled session cannot reopen,
// capacity cannot drop below what is booked, and a session can be neither
// set held nor taken from held except to cancel it (all Conflict).
func (s *Service) UpdateSession(ctx context.Context, ss vax.Session) (vax.Session, error) {
	ss = normalizeSession(ss)
	if !vax.ValidUUID(ss.ID) {
		return vax.Session{}, vax.Errorf(vax.Invalid, "update session: invalid session id %q: want a UUID", clip(ss.ID))
	}
	var out vax.Session
	err := s.st.InTx(ctx, func(tx vax.Tx) error {
		old, err := tx.Session(ctx, ss.ID)
		if err != nil {
			return err
		}
		next := ss
		if next.CentreID == 0 {
			next.CentreID = old.CentreID
		}
		if next.CentreID != old.CentreID {
			return vax.Errorf(vax.Invalid, "a session cannot move to another centre: create a new one")
		}
		next.Booked1, next.Booked2 = old.Booked1, old.Booked2
		if next.Status == "" {
			next.Status = old.Status
		}
		if err := next.Validate(); err != nil {
			return err
		}
		if old.Status == vax.SessionCancelled && next.Status != vax.SessionCancelled {
			return vax.Errorf(vax.Conflict, "session %s is cancelled and cannot reopen", old.ID)
		}
		// Only a fair release holds a session, and only its draw opens it
		// (internal/release); an admin may still cancel a held session.
		release := next.Status == vax.SessionHeld || old.Status == vax.SessionHeld && next.Status != vax.SessionCancelled
		if next.Status != old.Status && release {
			return vax.Errorf(vax.Conflict, "session %s: only a release holds a session, and only its draw opens it", old.ID)
		}
		if next.Date != old.Date {
			if err := s.checkDate(next.Date); err != nil {
				return err
			}
		}
		if err := next.CheckCapacity(); err != nil {
			return err
		}
		if err := checkSessionRefs(ctx, tx, next); err != nil {
			return err
		}
		if err := tx.UpdateSession(ctx, next); err != nil {
			return err
		}
		if old.Status != vax.SessionCancelled && next.Status == vax.SessionCancelled {
			if err := s.cancelAppointments(ctx, tx, next.ID); err != nil {
				return err
			}
		}
		out, err = recordSession(ctx, tx, next.ID)
		return err
	})
	if err != nil {
		return vax.Session{}, fmt.Errorf("update session %s: %w", ss.ID, err)
	}
	return out, nil
}

// CancelSession cancels a session and, with a SessionCanceller set, its live
// appointments (freeing their seats and texting their accounts) in the same
// transaction; cancelling a cancelled session changes nothing.
func (s *Service) CancelSession(ctx context.Context, id string) (vax.Session, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if !vax.ValidUUID(id) {
		return vax.Session{}, vax.Errorf(vax.Invalid, "cancel session: invalid session id %q: want a UUID", clip(id))
	}
	var out vax.Session
	err := s.st.InTx(ctx, func(tx vax.Tx) error {
		old, err := tx.Session(ctx, id)
		if err != nil {
			return err
		}
		if old.Status == vax.SessionCancelled {
			out = old
			return nil
		}
		old.Status = vax.SessionCancelled
		if err := tx.UpdateSession(ctx, old); err != nil {
			return err
		}
		if err := s.cancelAppointments(ctx, tx, id); err != nil {
			return err
		}
		out, err = recordSession(ctx, tx, id)
		return err
	})
	if err != nil {
		return vax.Session{}, fmt.Errorf("cancel session %s: %w", id, err)
	}
	if s.cancel != nil {
		s.cancel.Notify()
	}
	return out, nil
}

// Session returns one session; NotFound when unknown.
func (s *Service) Session(ctx context.Context, id string) (vax.Session, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	var ss vax.Session
	err := s.st.View(ctx, func(tx vax.Tx) error {
		var err error
		ss, err = tx.Session(ctx, id)
		return err
	})
	if err != nil {
		return vax.Session{}, fmt.Errorf("session %s: %w", clip(id), err)
	}
	return ss, nil
}

// Sessions lists sessions matching q, ordered by id.
func (s *Service) Sessions(ctx context.Context, q vax.SessionQuery) ([]vax.Session, error) {
	q.AfterID = strings.ToLower(q.AfterID)
	var ss []vax.Session
	err := s.st.View(ctx, func(tx vax.Tx) error {
		var err error
		ss, err = tx.Sessions(ctx, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return ss, nil
}

// checkSessionRefs checks what a session refers to: its centre and vaccine
// exist, and a Paid centre charges a fee for the vaccine.
func checkSessionRefs(ctx context.Context, tx vax.Tx, ss vax.Session) error {
	c, err := tx.Centre(ctx, ss.CentreID)
	if errors.Is(err, vax.ErrNotFound) {
		return vax.Errorf(vax.Invalid, "unknown centre %d", ss.CentreID)
	}
	if err != nil {
		return err
	}
	known, err := vaccineNames(ctx, tx)
	if err != nil {
		return err
	}
	if !known[ss.Vaccine] {
		return vax.Errorf(vax.Invalid, "unknown vaccine %q", ss.Vaccine)
	}
	if c.FeeType == vax.Paid && !hasFee(c, ss.Vaccine) {
		return vax.Errorf(vax.Invalid, "centre %d is Paid and has no fee for %s: add one first", c.ID, ss.Vaccine)
	}
	return nil
}

// recordSession appends the session's change and returns it as stored.
func recordSession(ctx context.Context, tx vax.Tx, id string) (vax.Session, error) {
	if err := tx.AppendChange(ctx, vax.ChangeSession, id); err != nil {
		return vax.Session{}, err
	}
	return tx.Session(ctx, id)
}

// normalizeSession lower-cases the id (UUIDs compare case-blind), and trims
// and upper-cases the vaccine and slot labels, so equivalent inputs store
// the same.
func normalizeSession(ss vax.Session) vax.Session {
	ss.ID = strings.ToLower(strings.TrimSpace(ss.ID))
	ss.Vaccine = normalizeVaccine(ss.Vaccine)
	if len(ss.Slots) > 0 {
		slots := make([]string, len(ss.Slots))
		for i, sl := range ss.Slots {
			slots[i] = strings.ToUpper(strings.TrimSpace(sl))
		}
		ss.Slots = slots
	}
	return ss
}

// cancelAppointments cancels a session's appointments in tx, when a
// SessionCanceller is set.
func (s *Service) cancelAppointments(ctx context.Context, tx vax.Tx, id string) error {
	if s.cancel == nil {
		return nil
	}
	if err := s.cancel.CancelSessionAppointments(ctx, tx, id); err != nil {
		return fmt.Errorf("cancel the session's appointments: %w", err)
	}
	return nil
}
