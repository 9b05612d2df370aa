package staff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/vax"
)

// NewStaff is a staff member to create. The scope fields that fit Role
// are set (vax.Staff.Validate): CentreIDs for vaccinators and facility
// admins, DistrictID and StateID for district admins, StateID for state
// admins, none for national admins.
type NewStaff struct {
	Name       string
	Mobile     string // any form auth.NormalizeMobile accepts
	Role       vax.Role
	CentreIDs  []int64
	DistrictID int
	StateID    int
}

// Create creates a staff member on behalf of by, who must be active,
// outrank the new role (a national admin may create national admins) and
// cover the new scope. A mobile number already a staff member's is
// Conflict.
func (s *Service) Create(ctx context.Context, by vax.Staff, n NewStaff) (vax.Staff, error) {
	mobile, err := auth.NormalizeMobile(n.Mobile)
	if err != nil {
		return vax.Staff{}, err
	}
	id, err := vax.NewUUID(s.random)
	if err != nil {
		return vax.Staff{}, vax.Wrap(vax.Internal, err, "draw a staff id")
	}
	hashes := s.auth.MobileHashes(mobile)
	sealed, err := s.keys.Seal([]byte(mobile), mobileAAD(id))
	if err != nil {
		return vax.Staff{}, fmt.Errorf("seal mobile: %w", err)
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	st := vax.Staff{
		ID:           id,
		Name:         strings.TrimSpace(n.Name),
		MobileHash:   hashes[0],
		MobileSealed: sealed,
		MobileLast4:  mobile[len(mobile)-4:],
		Role:         n.Role,
		CentreIDs:    slices.Clone(n.CentreIDs),
		DistrictID:   n.DistrictID,
		StateID:      n.StateID,
		Status:       vax.StaffActive,
		CreatedBy:    by.ID,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	slices.Sort(st.CentreIDs)
	st.CentreIDs = slices.Compact(st.CentreIDs)
	if err := st.Validate(); err != nil {
		return vax.Staff{}, err
	}
	err = s.store.InTx(ctx, func(tx vax.Tx) error {
		if err := mayGrant(ctx, tx, by, st); err != nil {
			return err
		}
		_, err := tx.StaffByMobile(ctx, hashes)
		switch {
		case err == nil:
			return duplicateMobile()
		case !errors.Is(err, vax.ErrNotFound):
			return err
		}
		err = tx.CreateStaff(ctx, st)
		if errors.Is(err, vax.ErrConflict) {
			// Another admin added the number a moment ago.
			return duplicateMobile()
		}
		if err != nil {
			return err
		}
		return tx.AppendChange(ctx, vax.ChangeStaff, st.ID)
	})
	if err != nil {
		return vax.Staff{}, fmt.Errorf("create staff: %w", err)
	}
	s.log.Info("staff created", "staff", st.ID, "role", st.Role, "by", by.ID)
	return st, nil
}

func duplicateMobile() error {
	return vax.Errorf(vax.Conflict, "a staff member with this mobile number already exists")
}

// Update changes a staff member. Nil fields stay; a new Role replaces the
// scope, so give the new role's scope with it. A nil CentreIDs keeps the
// centres, an empty one clears them.
type Update struct {
	Name       *string
	Role       *vax.Role
	CentreIDs  *[]int64
	DistrictID *int
	StateID    *int
	Status     *vax.StaffStatus
}

// Update changes the staff member id on behalf of by, who must be active,
// not be that staff member, outrank and cover it as it is (a national admin
// may change other national admins) and as it will be. The change takes
// effect on this node at once and on every other within the change feed's
// delay (at most CacheTTL).
func (s *Service) Update(ctx context.Context, by vax.Staff, id string, u Update) (vax.Staff, error) {
	if !vax.ValidUUID(id) {
		return vax.Staff{}, vax.Errorf(vax.NotFound, "staff member not found")
	}
	var st vax.Staff
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		cur, err := tx.Staff(ctx, id)
		if errors.Is(err, vax.ErrNotFound) {
			return vax.Errorf(vax.NotFound, "staff member not found")
		}
		if err != nil {
			return err
		}
		if by.ID != "" && strings.EqualFold(by.ID, cur.ID) {
			return vax.Errorf(vax.Forbidden, "you cannot change your own staff account")
		}
		if err := mayGrant(ctx, tx, by, cur); err != nil {
			return err
		}
		st = apply(cur, u)
		st.UpdatedAt = s.clock.Now().UTC().Truncate(time.Second)
		if err := st.Validate(); err != nil {
			return err
		}
		if err := mayGrant(ctx, tx, by, st); err != nil {
			return err
		}
		if err := tx.UpdateStaff(ctx, st); err != nil {
			return err
		}
		return tx.AppendChange(ctx, vax.ChangeStaff, st.ID)
	})
	if err != nil {
		return vax.Staff{}, fmt.Errorf("update staff %s: %w", id, err)
	}
	s.evict(st.ID)
	s.log.Info("staff updated", "staff", st.ID, "role", st.Role, "status", st.Status, "by", by.ID)
	return st, nil
}

// apply returns cur with u's fields.
func apply(cur vax.Staff, u Update) vax.Staff {
	st := cur
	st.CentreIDs = slices.Clone(cur.CentreIDs)
	if u.Name != nil {
		st.Name = strings.TrimSpace(*u.Name)
	}
	if u.Role != nil && *u.Role != cur.Role {
		st.Role = *u.Role
		st.CentreIDs, st.DistrictID, st.StateID = nil, 0, 0
	}
	if u.CentreIDs != nil {
		st.CentreIDs = slices.Clone(*u.CentreIDs)
		slices.Sort(st.CentreIDs)
		st.CentreIDs = slices.Compact(st.CentreIDs)
	}
	if u.DistrictID != nil {
		st.DistrictID = *u.DistrictID
	}
	if u.StateID != nil {
		st.StateID = *u.StateID
	}
	if u.Status != nil {
		st.Status = *u.Status
	}
	return st
}

// mayGrant checks that by may hold authority over st: by is active,
// outranks st's role (or both are national admins) and covers all of st's
// scope, which must exist.
func mayGrant(ctx context.Context, tx vax.Tx, by, st vax.Staff) error {
	if !by.Active() {
		return vax.Errorf(vax.Forbidden, "your staff account is suspended")
	}
	if !by.Role.Outranks(st.Role) && !(by.Role == vax.RoleNationalAdmin && st.Role == vax.RoleNationalAdmin) {
		return vax.Errorf(vax.Forbidden, "a %s cannot create or change a %s", by.Role, st.Role)
	}
	switch st.Role {
	case vax.RoleVaccinator, vax.RoleFacilityAdmin:
		for _, id := range st.CentreIDs {
			c, err := tx.Centre(ctx, id)
			if errors.Is(err, vax.ErrNotFound) {
				return vax.Errorf(vax.Invalid, "centre %d not found", id)
			}
			if err != nil {
				return err
			}
			if !by.Covers(c) {
				return vax.Errorf(vax.Forbidden, "centre %d is outside your scope", id)
			}
		}
	case vax.RoleDistrictAdmin:
		d, err := tx.District(ctx, st.DistrictID)
		if errors.Is(err, vax.ErrNotFound) {
			return vax.Errorf(vax.Invalid, "district %d not found", st.DistrictID)
		}
		if err != nil {
			return err
		}
		if d.StateID != st.StateID {
			return vax.Errorf(vax.Invalid, "district %d is not in state %d", st.DistrictID, st.StateID)
		}
		if !by.CoversArea(st.StateID, st.DistrictID) {
			return vax.Errorf(vax.Forbidden, "district %d is outside your scope", st.DistrictID)
		}
	case vax.RoleStateAdmin:
		states, err := tx.States(ctx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(states, func(x vax.State) bool { return x.ID == st.StateID }) {
			return vax.Errorf(vax.Invalid, "state %d not found", st.StateID)
		}
		if !by.CoversArea(st.StateID, 0) {
			return vax.Errorf(vax.Forbidden, "state %d is outside your scope", st.StateID)
		}
	}
	return nil
}

// mayRead reports whether by may see st: itself, or an active admin
// covering some of st's scope.
func mayRead(ctx context.Context, tx vax.Tx, by, st vax.Staff) (bool, error) {
	if !by.Active() {
		return false, nil
	}
	if by.ID != "" && strings.EqualFold(by.ID, st.ID) {
		return true, nil
	}
	if by.Role == vax.RoleVaccinator {
		return false, nil
	}
	switch st.Role {
	case vax.RoleVaccinator, vax.RoleFacilityAdmin:
		for _, id := range st.CentreIDs {
			c, err := tx.Centre(ctx, id)
			if errors.Is(err, vax.ErrNotFound) {
				continue
			}
			if err != nil {
				return false, err
			}
			if by.Covers(c) {
				return true, nil
			}
		}
		return false, nil
	case vax.RoleDistrictAdmin:
		return by.CoversArea(st.StateID, st.DistrictID), nil
	case vax.RoleStateAdmin:
		return by.CoversArea(st.StateID, 0), nil
	}
	return by.Role == vax.RoleNationalAdmin, nil
}

// Get returns the staff member id if by may see it (itself, or an admin
// covering some of its scope); NotFound otherwise, so an admin learns
// nothing of staff outside its scope.
func (s *Service) Get(ctx context.Context, by vax.Staff, id string) (vax.Staff, error) {
	notFound := vax.Errorf(vax.NotFound, "staff member not found")
	if !vax.ValidUUID(id) {
		return vax.Staff{}, notFound
	}
	var st vax.Staff
	err := s.store.View(ctx, func(tx vax.Tx) error {
		var err error
		st, err = tx.Staff(ctx, id)
		if errors.Is(err, vax.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		ok, err := mayRead(ctx, tx, by, st)
		if err != nil {
			return err
		}
		if !ok {
			return notFound
		}
		return nil
	})
	if err != nil {
		return vax.Staff{}, fmt.Errorf("get staff %s: %w", id, err)
	}
	return st, nil
}

// List lists the staff matching q within by's scope, by id. q is narrowed
// to by's scope: a state admin sees its state, a district admin its
// district, a facility admin one of its centres (q.CentreID, required when
// it has several); a filter outside by's scope is Forbidden. Vaccinators
// may not list staff.
func (s *Service) List(ctx context.Context, by vax.Staff, q vax.StaffQuery) ([]vax.Staff, error) {
	if !by.Active() {
		return nil, vax.Errorf(vax.Forbidden, "your staff account is suspended")
	}
	if q.Role != "" {
		if _, err := vax.ParseRole(string(q.Role)); err != nil {
			return nil, err
		}
	}
	var out []vax.Staff
	err := s.store.View(ctx, func(tx vax.Tx) error {
		scoped, err := scopeQuery(ctx, tx, by, q)
		if err != nil {
			return err
		}
		out, err = tx.StaffList(ctx, scoped)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return out, nil
}

// scopeQuery narrows q to by's scope.
func scopeQuery(ctx context.Context, tx vax.Tx, by vax.Staff, q vax.StaffQuery) (vax.StaffQuery, error) {
	outside := vax.Errorf(vax.Forbidden, "that is outside your scope")
	if q.CentreID != 0 {
		c, err := tx.Centre(ctx, q.CentreID)
		if errors.Is(err, vax.ErrNotFound) {
			return q, vax.Errorf(vax.Invalid, "centre %d not found", q.CentreID)
		}
		if err != nil {
			return q, err
		}
		if !by.Covers(c) {
			return q, outside
		}
	}
	if q.DistrictID != 0 {
		d, err := tx.District(ctx, q.DistrictID)
		if errors.Is(err, vax.ErrNotFound) {
			return q, vax.Errorf(vax.Invalid, "district %d not found", q.DistrictID)
		}
		if err != nil {
			return q, err
		}
		if !by.CoversArea(d.StateID, d.ID) {
			return q, outside
		}
	}
	switch by.Role {
	case vax.RoleNationalAdmin:
	case vax.RoleStateAdmin:
		if q.StateID != 0 && q.StateID != by.StateID {
			return q, outside
		}
		q.StateID = by.StateID
	case vax.RoleDistrictAdmin:
		if q.StateID != 0 && q.StateID != by.StateID {
			return q, outside
		}
		q.DistrictID = by.DistrictID
	case vax.RoleFacilityAdmin:
		if q.StateID != 0 || q.DistrictID != 0 {
			return q, outside
		}
		if q.CentreID == 0 {
			if len(by.CentreIDs) != 1 {
				return q, vax.Errorf(vax.Invalid, "you serve several centres: choose one")
			}
			q.CentreID = by.CentreIDs[0]
		}
	default:
		return q, vax.Errorf(vax.Forbidden, "a %s cannot list staff", by.Role)
	}
	return q, nil
}
