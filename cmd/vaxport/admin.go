package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vaxport/vaxport/internal/auth"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/staff"
	"github.com/vaxport/vaxport/internal/vax"
)

const adminUsage = `usage: vaxport admin create-staff --name NAME --mobile NUMBER --role ROLE [scope] [store flags]

Creates a staff member, acting as the deployment's bootstrap national admin
(whoever can run this command can read the keyring anyway). Roles and their
scope:
  vaccinator, facility_admin   --centre ID (repeatable, or comma-separated)
  district_admin               --district ID (its state is looked up)
  state_admin                  --state ID
  national_admin               no scope
The person then signs in with an OTP at POST /api/v1/staff/otp.
`

// cmdAdmin runs the operator's staff commands.
func cmdAdmin(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "create-staff" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, adminUsage)
			return nil
		}
		fmt.Fprint(stderr, adminUsage)
		return errUsage
	}
	var (
		cfg                 Config
		name, mobile, role  string
		centres             listFlag
		districtID, stateID int
	)
	fs := newFlagSet("vaxport admin create-staff", getenv)
	fs.SetOutput(stderr)
	fs.storeFlags(&cfg)
	fs.StringVar(&name, "name", "", "the staff member's name")
	fs.StringVar(&mobile, "mobile", "", "their 10-digit mobile number (they sign in with an OTP sent to it)")
	fs.StringVar(&role, "role", "", "vaccinator, facility_admin, district_admin, state_admin or national_admin")
	fs.Var(&centres, "centre", "centre id for a vaccinator or facility admin, repeatable")
	fs.IntVar(&districtID, "district", 0, "district id for a district admin")
	fs.IntVar(&stateID, "state", 0, "state id for a state admin")
	if err := parseFlags(fs, args[1:], &cfg); err != nil {
		return err
	}
	r, err := vax.ParseRole(role)
	if err != nil {
		return fmt.Errorf("--role: %s", vax.ErrorMessage(err))
	}
	n := staff.NewStaff{Name: name, Mobile: mobile, Role: r, DistrictID: districtID, StateID: stateID}
	for _, c := range centres {
		for _, part := range strings.Split(c, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("--centre %q: want a centre id", part)
			}
			n.CentreIDs = append(n.CentreIDs, id)
		}
	}
	kr, err := keyring.Open(cfg.KeysDir)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	st, err := openStore(ctx, &cfg, vax.SystemClock{})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := prepareStore(ctx, st); err != nil {
		return err
	}
	if err := bindKeyring(ctx, st, kr, cfg.KeysDir); err != nil {
		return err
	}
	if r == vax.RoleDistrictAdmin && n.StateID == 0 && n.DistrictID != 0 {
		err := st.View(ctx, func(tx vax.Tx) error {
			d, err := tx.District(ctx, n.DistrictID)
			n.StateID = d.StateID
			return err
		})
		if err != nil {
			return fmt.Errorf("--district %d: %s", n.DistrictID, vax.ErrorMessage(err))
		}
	}
	a, err := auth.New(auth.Config{Store: st, Keys: kr})
	if err != nil {
		return err
	}
	svc, err := staff.New(staff.Config{Store: st, Keys: kr, Auth: a})
	if err != nil {
		return err
	}
	created, err := svc.Create(ctx, staff.Bootstrap(), n)
	if err != nil {
		return fmt.Errorf("create staff: %s", vax.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "created %s %s (mobile XXXXXX%s): staff id %s\n", created.Role, created.Name, created.MobileLast4, created.ID)
	return nil
}
