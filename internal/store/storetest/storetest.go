package storetest

import (
	"reflect"
	"slices"
	"testing"

	"github.com/vaxport/vaxport/internal/vax"
)

// Handles is what an Opener returns: a new, empty, migrated store, and a way
// to open another independent handle (its own connection pools) on the same
// database.
type Handles struct {
	Store  vax.Store
	Second func(t *testing.T) vax.Store
}

// Opener returns a new, empty, migrated store; each call gets an isolated
// store. The Opener registers cleanup (closing every handle it opens; a test
// may already have closed one).
type Opener func(t *testing.T) Handles

// contract is one subtest, named after the interface method it covers
// ("Store.InTx", "Tx.CreateCentre").
type contract struct {
	name string
	run  func(t *testing.T, open Opener)
}

// contracts lists the suite's per-method subtests.
func contracts() []contract {
	return []contract{
		{"Store.InTx", testInTx},
		{"Store.View", testView},
		{"Store.Changes", testChanges},
		{"Store.PruneChanges", testPruneChanges},
		{"Store.Wakeups", testWakeups},
		{"Store.Ping", testPing},
		{"Store.Migrations", testMigrations},
		{"Store.Stats", testStats},
		{"Store.Close", testClose},

		{"Tx.Meta", testMeta},
		{"Tx.SetMeta", testSetMeta},
		{"Tx.PutState", testPutState},
		{"Tx.States", testStates},
		{"Tx.PutDistrict", testPutDistrict},
		{"Tx.District", testDistrict},
		{"Tx.Districts", testDistricts},
		{"Tx.PutVaccine", testPutVaccine},
		{"Tx.Vaccines", testVaccines},
		{"Tx.CreateCentre", testCreateCentre},
		{"Tx.UpdateCentre", testUpdateCentre},
		{"Tx.Centre", testCentre},
		{"Tx.Centres", testCentres},
		{"Tx.CreateSession", testCreateSession},
		{"Tx.UpdateSession", testUpdateSession},
		{"Tx.Session", testSession},
		{"Tx.Sessions", testSessions},
		{"Tx.AppendChange", testAppendChange},

		{"Tx.CreateAccount", testCreateAccount},
		{"Tx.Account", testAccount},
		{"Tx.AccountByMobile", testAccountByMobile},
		{"Tx.CreateOTPTxn", testCreateOTPTxn},
		{"Tx.OTPTxn", testOTPTxn},
		{"Tx.UpdateOTPTxn", testUpdateOTPTxn},
		{"Tx.OTPTxnsByMobile", testOTPTxnsByMobile},
		{"Tx.DeleteOTPTxns", testDeleteOTPTxns},
		{"Tx.RevokeToken", testRevokeToken},
		{"Tx.Revocations", testRevocations},
		{"Tx.DeleteRevocations", testDeleteRevocations},

		{"Tx.EnqueueMessage", testEnqueueMessage},
		{"Tx.ClaimMessages", testClaimMessages},
		{"Tx.Messages", testMessages},
		{"Tx.UpdateMessages", testUpdateMessages},
		{"Tx.DeleteMessages", testDeleteMessages},

		{"Tx.CreateBeneficiary", testCreateBeneficiary},
		{"Tx.Beneficiary", testBeneficiary},
		{"Tx.BeneficiariesOf", testBeneficiariesOf},
		{"Tx.ReserveBeneficiary", testReserveBeneficiary},
		{"Tx.DeleteBeneficiary", testDeleteBeneficiary},
		{"Tx.BookAppointment", testBookAppointment},
		{"Tx.BookAppointments", testBookAppointments},
		{"Store.BookAppointments", testStoreBookAppointments},
		{"Store.Read", testRead},
		{"Tx.BookingFacts", testBookingFacts},
		{"Tx.Appointment", testAppointment},
		{"Tx.AppointmentsOf", testAppointmentsOf},
		{"Tx.SessionAppointments", testSessionAppointments},
		{"Tx.CancelPlaces", testCancelPlaces},
		{"Tx.MoveAppointment", testMoveAppointment},
		{"Tx.ClaimIdempotency", testClaimIdempotency},
		{"Tx.CompleteIdempotency", testCompleteIdempotency},
		{"Tx.DeleteIdempotency", testDeleteIdempotency},
		{"Tx.DeleteIdempotencyBefore", testDeleteIdempotencyBefore},

		{"Tx.CreateStaff", testCreateStaff},
		{"Tx.UpdateStaff", testUpdateStaff},
		{"Tx.Staff", testStaff},
		{"Tx.StaffByMobile", testStaffByMobile},
		{"Tx.StaffList", testStaffList},
		{"Tx.CreateLot", testCreateLot},
		{"Tx.Lot", testLot},
		{"Tx.Lots", testLots},
		{"Tx.UseLot", testUseLot},
		{"Tx.RecordDose", testRecordDose},
		{"Tx.Dose", testDose},
		{"Tx.DosesOf", testDosesOf},
		{"Tx.BeneficiaryAppointments", testBeneficiaryAppointments},
		{"Tx.CodeFailure", testCodeFailure},
		{"Tx.CentreQueue", testCentreQueue},
		{"Tx.RecordAdverseEvent", testRecordAdverseEvent},
		{"Tx.AdverseEvents", testAdverseEvents},

		{"Tx.DoseFacts", testDoseFacts},
		{"Tx.CommitDose", testCommitDose},
		{"Tx.IssueCertificate", testIssueCertificate},
		{"Tx.CurrentCertificate", testCurrentCertificate},
		{"Tx.Certificate", testCertificate},
		{"Tx.SupersededCertificates", testSupersededCertificates},

		{"Tx.CreateRelease", testCreateRelease},
		{"Tx.Release", testRelease},
		{"Tx.ReleaseOfSession", testReleaseOfSession},
		{"Tx.Releases", testReleases},
		{"Tx.EnterRelease", testEnterRelease},
		{"Tx.ReleaseEntry", testReleaseEntry},
		{"Tx.ReleaseEntries", testReleaseEntries},
		{"Tx.DrawRelease", testDrawRelease},
		{"Tx.SetEntryOutcomes", testSetEntryOutcomes},
		{"Tx.PutCaptcha", testPutCaptcha}, {"Tx.TakeCaptcha", testTakeCaptcha},

		{"Tx.CreateAlertSubscription", testCreateAlertSubscription},
		{"Tx.AlertSubscriptionsOf", testAlertSubscriptionsOf},
		{"Tx.AlertSubscriptions", testAlertSubscriptions},
		{"Tx.AlertSubscription", testAlertSubscription},
		{"Tx.DeleteAlertSubscription", testDeleteAlertSubscription},
		{"Tx.MarkAlertTexted", testMarkAlertTexted},
	}
}

// Missing returns the methods of vax.Store and vax.Tx ("Store.InTx",
// "Tx.Meta") that have no contract subtest. Adding a method to either
// interface without a contract makes Run fail.
func Missing() []string {
	have := map[string]bool{}
	for _, c := range contracts() {
		have[c.name] = true
	}
	var missing []string
	for _, typ := range []reflect.Type{reflect.TypeFor[vax.Store](), reflect.TypeFor[vax.Tx]()} {
		for i := range typ.NumMethod() {
			name := typ.Name() + "." + typ.Method(i).Name
			if !have[name] {
				missing = append(missing, name)
			}
		}
	}
	slices.Sort(missing)
	return missing
}

// Run runs the contract suite against stores made by open.
func Run(t *testing.T, open Opener) {
	t.Run("coverage", func(t *testing.T) {
		if m := Missing(); len(m) > 0 {
			t.Errorf("interface methods without a contract subtest: %v", m)
		}
	})
	for _, c := range contracts() {
		t.Run(c.name, func(t *testing.T) { c.run(t, open) })
	}
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("booking race", func(t *testing.T) { testBookingRace(t, open) })
	t.Run("capacity lowered during bookings", func(t *testing.T) { testCapacityRace(t, open) })
	t.Run("dose race", func(t *testing.T) { testDoseRace(t, open) })
	t.Run("lot race", func(t *testing.T) { testLotRace(t, open) })
	t.Run("code failure race", func(t *testing.T) { testCodeFailureRace(t, open) })
}
