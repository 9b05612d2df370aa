// Package booking owns beneficiaries and appointments: the eligibility rules
// (as data, in rules.go), and the service that registers beneficiaries and
// schedules, reschedules and cancels appointments, with their SMS.
//
// Seats are admitted by the store, so capacity holds across nodes: one
// request by vax.Tx.BookAppointment (a conditional update of the session's
// booked count in the transaction that inserts the appointment), a batch of
// concurrent requests for one session by vax.Store.BookAppointments (the
// batch's rows inserted together, then the session row locked once and the
// seats that fit taken by one update; see batch.go). This package decides who
// may book what and when. It must never import a store package, database/sql or
// net/http, never call time.Now (it takes a vax.Clock), and never log or
// return a photo-ID number, a mobile number or a secret code except to the
// account that owns it.
//
// Doses are recorded by vaccinators (internal/vaccination); the rules read
// each beneficiary's records as its History: dose order, same vaccine,
// minimum interval, series length. A beneficiary with a recorded dose cannot
// be deleted, and a place whose dose was given cannot be cancelled.
package booking
