package sqlite

// Placeholder bodies until the store work for staff, lots, doses and
// adverse events lands (being written in this file).

import (
	"context"

	"github.com/vaxport/vaxport/internal/vax"
)

var errTODO = vax.Errorf(vax.Internal, "not implemented yet")

func (t *tx) CreateStaff(ctx context.Context, s vax.Staff) error      { return errTODO }
func (t *tx) UpdateStaff(ctx context.Context, s vax.Staff) error      { return errTODO }
func (t *tx) Staff(ctx context.Context, id string) (vax.Staff, error) { return vax.Staff{}, errTODO }
func (t *tx) StaffByMobile(ctx context.Context, hashes []string) (vax.Staff, error) {
	return vax.Staff{}, errTODO
}
func (t *tx) StaffList(ctx context.Context, q vax.StaffQuery) ([]vax.Staff, error) {
	return nil, errTODO
}
func (t *tx) CreateLot(ctx context.Context, l vax.Lot) error { return errTODO }
func (t *tx) Lot(ctx context.Context, centreID int64, number string) (vax.Lot, error) {
	return vax.Lot{}, errTODO
}
func (t *tx) Lots(ctx context.Context, centreID int64) ([]vax.Lot, error)     { return nil, errTODO }
func (t *tx) UseLot(ctx context.Context, centreID int64, number string) error { return errTODO }
func (t *tx) RecordDose(ctx context.Context, d vax.Dose) error                { return errTODO }
func (t *tx) Dose(ctx context.Context, id string) (vax.Dose, error)           { return vax.Dose{}, errTODO }
func (t *tx) DosesOf(ctx context.Context, ref string) ([]vax.Dose, error)     { return nil, errTODO }
func (t *tx) BeneficiaryAppointments(ctx context.Context, ref string) ([]vax.Appointment, error) {
	return nil, errTODO
}
func (t *tx) CodeFailure(ctx context.Context, id string) (int, error) { return 0, errTODO }
func (t *tx) CentreQueue(ctx context.Context, centreID int64, date vax.Date) ([]vax.QueueEntry, error) {
	return nil, errTODO
}
func (t *tx) RecordAdverseEvent(ctx context.Context, e vax.AdverseEvent) error { return errTODO }
func (t *tx) AdverseEvents(ctx context.Context, q vax.AdverseEventQuery) ([]vax.AdverseEvent, error) {
	return nil, errTODO
}
