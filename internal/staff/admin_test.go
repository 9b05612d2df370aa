package staff_test

import (
	"slices"
	"testing"

	"github.com/vaxport/vaxport/internal/staff"
	"github.com/vaxport/vaxport/internal/vax"
)

// cast is one of each kind of staff member, created by the bootstrap admin.
type cast map[string]vax.Staff

func newCast(t *testing.T, n *node) cast {
	t.Helper()
	c := cast{"bootstrap": staff.Bootstrap()}
	for name, ns := range map[string]staff.NewStaff{
		"national":      {Role: vax.RoleNationalAdmin},
		"kerala":        {Role: vax.RoleStateAdmin, StateID: kerala},
		"ernakulam":     {Role: vax.RoleDistrictAdmin, StateID: kerala, DistrictID: ernakulam},
		"facilityA":     {Role: vax.RoleFacilityAdmin, CentreIDs: []int64{centreA}},
		"vaccinatorA":   {Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}},
		"suspendedKL":   {Role: vax.RoleStateAdmin, StateID: kerala},
		"vaccinatorB":   {Role: vax.RoleVaccinator, CentreIDs: []int64{centreB}},
		"vaccinatorAC":  {Role: vax.RoleVaccinator, CentreIDs: []int64{centreA, centreC}},
		"chennaiAdmin":  {Role: vax.RoleDistrictAdmin, StateID: tamilNadu, DistrictID: chennai},
		"facilityAdmin": {Role: vax.RoleFacilityAdmin, CentreIDs: []int64{centreA}},
	} {
		c[name] = n.create(t, ns)
	}
	suspended := vax.StaffSuspended
	st, err := n.staff.Update(t.Context(), staff.Bootstrap(), c["suspendedKL"].ID, staff.Update{Status: &suspended})
	if err != nil {
		t.Fatalf("suspend: %v", err)
	}
	c["suspendedKL"] = st
	return c
}

func TestCreateAuthorisation(t *testing.T) { onStores(t, testCreateAuthorisation) }

func testCreateAuthorisation(t *testing.T, w *world) {
	n := w.node(t)
	people := newCast(t, n)
	for _, tc := range []struct {
		name string
		by   string
		new  staff.NewStaff
		want vax.Code // "": created
	}{
		{"bootstrap creates a national admin", "bootstrap", staff.NewStaff{Role: vax.RoleNationalAdmin}, ""},
		{"national admin creates a national admin", "national", staff.NewStaff{Role: vax.RoleNationalAdmin}, ""},
		{"national admin creates a state admin", "national", staff.NewStaff{Role: vax.RoleStateAdmin, StateID: tamilNadu}, ""},
		{"national admin: unknown state", "national", staff.NewStaff{Role: vax.RoleStateAdmin, StateID: 99}, vax.Invalid},
		{"state admin creates a national admin", "kerala", staff.NewStaff{Role: vax.RoleNationalAdmin}, vax.Forbidden},
		{"state admin creates a state admin", "kerala", staff.NewStaff{Role: vax.RoleStateAdmin, StateID: kerala}, vax.Forbidden},
		{"state admin creates a district admin of its state", "kerala", staff.NewStaff{Role: vax.RoleDistrictAdmin, StateID: kerala, DistrictID: thrissur}, ""},
		{"state admin creates a district admin elsewhere", "kerala", staff.NewStaff{Role: vax.RoleDistrictAdmin, StateID: tamilNadu, DistrictID: chennai}, vax.Forbidden},
		{"district not in the given state", "kerala", staff.NewStaff{Role: vax.RoleDistrictAdmin, StateID: kerala, DistrictID: chennai}, vax.Invalid},
		{"state admin creates a vaccinator at two of its centres", "kerala", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreA, centreB}}, ""},
		{"state admin creates a vaccinator at another state's centre", "kerala", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreA, centreC}}, vax.Forbidden},
		{"suspended state admin", "suspendedKL", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}}, vax.Forbidden},
		{"district admin creates a facility admin in its district", "ernakulam", staff.NewStaff{Role: vax.RoleFacilityAdmin, CentreIDs: []int64{centreA}}, ""},
		{"district admin creates a vaccinator in another district", "ernakulam", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreB}}, vax.Forbidden},
		{"district admin creates a district admin", "ernakulam", staff.NewStaff{Role: vax.RoleDistrictAdmin, StateID: kerala, DistrictID: ernakulam}, vax.Forbidden},
		{"facility admin creates a vaccinator at its centre", "facilityA", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}}, ""},
		{"facility admin creates a facility admin", "facilityA", staff.NewStaff{Role: vax.RoleFacilityAdmin, CentreIDs: []int64{centreA}}, vax.Forbidden},
		{"facility admin creates a vaccinator at another centre", "facilityA", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreB}}, vax.Forbidden},
		{"unknown centre", "national", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{999}}, vax.Invalid},
		{"vaccinator creates a vaccinator", "vaccinatorA", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}}, vax.Forbidden},
		{"scope does not fit the role", "national", staff.NewStaff{Role: vax.RoleVaccinator, StateID: kerala}, vax.Invalid},
		{"no centre", "national", staff.NewStaff{Role: vax.RoleVaccinator}, vax.Invalid},
		{"unknown role", "national", staff.NewStaff{Role: "superuser"}, vax.Invalid},
		{"bad mobile", "national", staff.NewStaff{Role: vax.RoleNationalAdmin, Mobile: "12345"}, vax.Invalid},
		{"no name", "national", staff.NewStaff{Role: vax.RoleNationalAdmin, Name: " "}, vax.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := tc.new
			if ns.Mobile == "" {
				ns.Mobile = nextMobile()
			}
			if ns.Name == "" {
				ns.Name = "New staff"
			}
			by := people[tc.by]
			st, err := n.staff.Create(t.Context(), by, ns)
			wantCode(t, "Create", err, tc.want)
			if err != nil {
				return
			}
			got, err := n.staff.Get(t.Context(), staff.Bootstrap(), st.ID)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.CreatedBy != by.ID || got.Status != vax.StaffActive || got.Role != ns.Role {
				t.Errorf("stored: by %q, status %s, role %s; want by %q, active, %s", got.CreatedBy, got.Status, got.Role, by.ID, ns.Role)
			}
		})
	}
}

func TestCreateDuplicateMobile(t *testing.T) { onStores(t, testCreateDuplicateMobile) }

func testCreateDuplicateMobile(t *testing.T, w *world) {
	n := w.node(t)
	mobile := nextMobile()
	n.create(t, staff.NewStaff{Mobile: mobile, Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}})
	_, err := n.staff.Create(t.Context(), staff.Bootstrap(), staff.NewStaff{Name: "Again", Mobile: "0" + mobile, Role: vax.RoleVaccinator, CentreIDs: []int64{centreB}})
	wantCode(t, "Create with a taken number", err, vax.Conflict)
}

func TestUpdateAuthorisation(t *testing.T) { onStores(t, testUpdateAuthorisation) }

func testUpdateAuthorisation(t *testing.T, w *world) {
	n := w.node(t)
	people := newCast(t, n)
	suspended := vax.StaffSuspended
	district := vax.RoleDistrictAdmin
	national := vax.RoleNationalAdmin
	centres := func(ids ...int64) *[]int64 { return &ids }
	num := func(i int) *int { return &i }
	name := "Renamed"
	vaccinatorA := staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreA}}
	for _, tc := range []struct {
		name   string
		by     string
		target staff.NewStaff // created fresh for the row; zero: the by's own record
		update staff.Update
		want   vax.Code
	}{
		{"district admin suspends a vaccinator in its district", "ernakulam", vaccinatorA, staff.Update{Status: &suspended}, ""},
		{"district admin suspends a vaccinator elsewhere", "ernakulam", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreB}}, staff.Update{Status: &suspended}, vax.Forbidden},
		{"district admin suspends a vaccinator partly elsewhere", "ernakulam", staff.NewStaff{Role: vax.RoleVaccinator, CentreIDs: []int64{centreA, centreC}}, staff.Update{Status: &suspended}, vax.Forbidden},
		{"district admin moves a vaccinator out of its district", "ernakulam", vaccinatorA, staff.Update{CentreIDs: centres(centreB)}, vax.Forbidden},
		{"state admin moves a vaccinator within its state", "kerala", vaccinatorA, staff.Update{CentreIDs: centres(centreA, centreB)}, ""},
		{"state admin promotes a vaccinator to district admin", "kerala", vaccinatorA, staff.Update{Role: &district, StateID: num(kerala), DistrictID: num(ernakulam)}, ""},
		{"new role without its scope", "kerala", vaccinatorA, staff.Update{Role: &district}, vax.Invalid},
		{"district admin promotes to district admin", "ernakulam", vaccinatorA, staff.Update{Role: &district, StateID: num(kerala), DistrictID: num(ernakulam)}, vax.Forbidden},
		{"state admin makes a national admin", "kerala", vaccinatorA, staff.Update{Role: &national, CentreIDs: centres()}, vax.Forbidden},
		{"facility admin suspends a peer", "facilityA", staff.NewStaff{Role: vax.RoleFacilityAdmin, CentreIDs: []int64{centreA}}, staff.Update{Status: &suspended}, vax.Forbidden},
		{"facility admin renames a vaccinator", "facilityA", vaccinatorA, staff.Update{Name: &name}, ""},
		{"suspended admin", "suspendedKL", vaccinatorA, staff.Update{Status: &suspended}, vax.Forbidden},
		{"national admin suspends a national admin", "national", staff.NewStaff{Role: vax.RoleNationalAdmin}, staff.Update{Status: &suspended}, ""},
		{"state admin suspends itself", "kerala", staff.NewStaff{}, staff.Update{Status: &suspended}, vax.Forbidden},
		{"national admin suspends itself", "national", staff.NewStaff{}, staff.Update{Status: &suspended}, vax.Forbidden},
		{"vaccinator renames itself", "vaccinatorA", staff.NewStaff{}, staff.Update{Name: &name}, vax.Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			by := people[tc.by]
			id := by.ID
			if tc.target.Role != "" {
				id = n.create(t, tc.target).ID
			}
			before, err := n.staff.Get(t.Context(), staff.Bootstrap(), id)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			st, err := n.staff.Update(t.Context(), by, id, tc.update)
			wantCode(t, "Update", err, tc.want)
			after, gerr := n.staff.Get(t.Context(), staff.Bootstrap(), id)
			if gerr != nil {
				t.Fatalf("Get: %v", gerr)
			}
			if err != nil {
				if !staffEqual(before, after) {
					t.Errorf("refused update changed the record: %+v, was %+v", after, before)
				}
				return
			}
			if !staffEqual(st, after) {
				t.Errorf("Update returned %+v, stored %+v", st, after)
			}
		})
	}
	_, err := n.staff.Update(t.Context(), staff.Bootstrap(), "0b7f2a52-3c1e-4b7a-9a53-7f1c2d9e4a10", staff.Update{Name: &name})
	wantCode(t, "Update of an unknown id", err, vax.NotFound)
}

// staffEqual compares the fields an update may change; centres as a set.
func staffEqual(a, b vax.Staff) bool {
	ac, bc := slices.Sorted(slices.Values(a.CentreIDs)), slices.Sorted(slices.Values(b.CentreIDs))
	return a.ID == b.ID && a.Name == b.Name && a.Role == b.Role && slices.Equal(ac, bc) &&
		a.DistrictID == b.DistrictID && a.StateID == b.StateID && a.Status == b.Status
}

func TestReadScope(t *testing.T) { onStores(t, testReadScope) }

func testReadScope(t *testing.T, w *world) {
	n := w.node(t)
	people := newCast(t, n)
	ids := func(ss []vax.Staff) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		by   string
		q    vax.StaffQuery
		want []string // names in the cast; nil with code: refused
		code vax.Code
	}{
		{"district admin lists its district", "ernakulam", vax.StaffQuery{},
			[]string{"ernakulam", "facilityA", "vaccinatorA", "vaccinatorAC", "facilityAdmin"}, ""},
		{"facility admin lists its centre's vaccinators", "facilityA", vax.StaffQuery{Role: vax.RoleVaccinator},
			[]string{"vaccinatorA", "vaccinatorAC"}, ""},
		{"facility admin asks for another centre", "facilityA", vax.StaffQuery{CentreID: centreB}, nil, vax.Forbidden},
		{"district admin asks for another district", "ernakulam", vax.StaffQuery{DistrictID: thrissur}, nil, vax.Forbidden},
		{"state admin asks for another state", "kerala", vax.StaffQuery{StateID: tamilNadu}, nil, vax.Forbidden},
		{"vaccinator lists", "vaccinatorA", vax.StaffQuery{}, nil, vax.Forbidden},
		{"suspended admin lists", "suspendedKL", vax.StaffQuery{}, nil, vax.Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := n.staff.List(t.Context(), people[tc.by], tc.q)
			wantCode(t, "List", err, tc.code)
			if err != nil {
				return
			}
			var want []string
			for _, name := range tc.want {
				want = append(want, people[name].ID)
			}
			slices.Sort(want)
			if g := ids(got); !slices.Equal(g, want) {
				t.Errorf("List = %v, want %v", g, want)
			}
		})
	}
	for _, tc := range []struct {
		by, target string
		want       vax.Code
	}{
		{"ernakulam", "vaccinatorA", ""},
		{"ernakulam", "vaccinatorAC", ""},
		{"ernakulam", "vaccinatorB", vax.NotFound},
		{"ernakulam", "kerala", vax.NotFound},
		{"kerala", "ernakulam", ""},
		{"chennaiAdmin", "vaccinatorAC", ""},
		{"vaccinatorA", "vaccinatorA", ""},
		{"vaccinatorA", "facilityA", vax.NotFound},
		{"facilityA", "vaccinatorB", vax.NotFound},
	} {
		_, err := n.staff.Get(t.Context(), people[tc.by], people[tc.target].ID)
		wantCode(t, "Get "+tc.target+" by "+tc.by, err, tc.want)
	}
}
