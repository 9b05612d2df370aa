// Package vaccination is the vaccinator's day: verifying a booked
// beneficiary's secret code, registering walk-ins, recording doses (one
// record per beneficiary and dose number, from a real lot of the centre's
// stock), today's queue, bulk upload of offline-recorded doses, vaccine
// lots, and adverse events following immunization (AEFI).
//
// Every operation is authorised against an already-authenticated staff
// member and the centre (or area) involved. Recording a dose appends the
// ChangeDose domain event, and enqueues the next dose's reminder, in the
// dose's own transaction.
//
// It is a rules package: it never imports net/http, database/sql, a store
// or an API surface, and it never logs or returns personal data (mobile and
// photo-ID numbers, secret codes) beyond the masked beneficiary a
// vaccinator needs to see.
package vaccination
