package vax

import (
	"slices"
	"time"
)

// Role is what a staff member may do. Each role is scoped: vaccinators
// and facility admins to centres, district admins to a district, state
// admins to a state; a national admin to everything.
type Role string

// The roles, least to most powerful.
const (
	RoleVaccinator    Role = "vaccinator"
	RoleFacilityAdmin Role = "facility_admin"
	RoleDistrictAdmin Role = "district_admin"
	RoleStateAdmin    Role = "state_admin"
	RoleNationalAdmin Role = "national_admin"
)

// rank orders roles by power.
var rank = map[Role]int{RoleVaccinator: 1, RoleFacilityAdmin: 2, RoleDistrictAdmin: 3, RoleStateAdmin: 4, RoleNationalAdmin: 5}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	if _, ok := rank[Role(s)]; ok {
		return Role(s), nil
	}
	return "", Errorf(Invalid, "invalid role %q: want vaccinator, facility_admin, district_admin, state_admin or national_admin", s)
}

// Outranks reports whether r is more powerful than o.
func (r Role) Outranks(o Role) bool { return rank[r] > rank[o] }

// StaffStatus says whether a staff member may sign in and act.
type StaffStatus string

// The staff statuses.
const (
	StaffActive    StaffStatus = "active"
	StaffSuspended StaffStatus = "suspended"
)

// Staff is a person who runs the programme: a vaccinator or an admin. Like a
// citizen account, the mobile number (their OTP sign-in) is stored as a
// keyed blind index, sealed, and its last 4 digits.
type Staff struct {
	ID           string // UUID: the sub of their tokens
	Name         string
	MobileHash   string // unique among staff
	MobileSealed []byte
	MobileLast4  string
	Role         Role
	// The scope: CentreIDs for vaccinators and facility admins (1..50
	// centres), DistrictID (and its StateID) for district admins, StateID
	// for state admins, nothing for national admins.
	CentreIDs  []int64
	DistrictID int
	StateID    int
	Status     StaffStatus
	CreatedBy  string // the staff id that created them; "" for the bootstrap
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Validate checks a staff member's own fields and that the scope fits the
// role.
func (s Staff) Validate() error {
	switch {
	case !ValidUUID(s.ID):
		return Errorf(Invalid, "invalid staff id %q: want a UUID", s.ID)
	case len(s.Name) == 0 || len(s.Name) > 200:
		return Errorf(Invalid, "staff name must be 1..200 characters")
	case s.MobileHash == "" || len(s.MobileSealed) == 0 || len(s.MobileLast4) != 4:
		return Errorf(Invalid, "staff needs a mobile number")
	case s.Status != StaffActive && s.Status != StaffSuspended:
		return Errorf(Invalid, "invalid staff status %q: want active or suspended", s.Status)
	}
	if _, err := ParseRole(string(s.Role)); err != nil {
		return err
	}
	centres, district, state := len(s.CentreIDs) > 0, s.DistrictID != 0, s.StateID != 0
	switch s.Role {
	case RoleVaccinator, RoleFacilityAdmin:
		if !centres || len(s.CentreIDs) > 50 || district || state {
			return Errorf(Invalid, "a %s is scoped to 1..50 centres, and nothing else", s.Role)
		}
		for _, id := range s.CentreIDs {
			if id <= 0 {
				return Errorf(Invalid, "invalid centre id %d", id)
			}
		}
	case RoleDistrictAdmin:
		if centres || !district || !state {
			return Errorf(Invalid, "a district admin is scoped to one district (with its state)")
		}
	case RoleStateAdmin:
		if centres || district || !state {
			return Errorf(Invalid, "a state admin is scoped to one state")
		}
	case RoleNationalAdmin:
		if centres || district || state {
			return Errorf(Invalid, "a national admin has no scope")
		}
	}
	return nil
}

// Active reports whether s may act.
func (s Staff) Active() bool { return s.Status == StaffActive }

// Covers reports whether the centre c (in its district and state) is within
// s's scope, whatever the role.
func (s Staff) Covers(c Centre) bool {
	switch s.Role {
	case RoleNationalAdmin:
		return true
	case RoleStateAdmin:
		return c.StateID == s.StateID
	case RoleDistrictAdmin:
		return c.DistrictID == s.DistrictID
	}
	return slices.Contains(s.CentreIDs, c.ID)
}

// CoversArea reports whether the district (0: the whole state) of state is
// within s's scope.
func (s Staff) CoversArea(stateID, districtID int) bool {
	switch s.Role {
	case RoleNationalAdmin:
		return true
	case RoleStateAdmin:
		return stateID == s.StateID
	case RoleDistrictAdmin:
		return districtID != 0 && districtID == s.DistrictID
	}
	return false
}

// StaffQuery selects staff. Zero fields do not filter. Pages are keyset by
// id: pass the last id seen as AfterID.
type StaffQuery struct {
	CentreID   int64 // staff scoped to this centre
	DistrictID int
	StateID    int
	Role       Role // "": any role
	AfterID    string
	Limit      int // 0: the store's default; never more than MaxLimit
}
