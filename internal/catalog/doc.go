// Package catalog owns the business rules for vaccination centres and
// sessions: what makes a centre or session acceptable beyond its own fields
// (its district exists and lies in its state, its vaccine exists, a Paid
// centre charges a fee for every vaccine it offers, a session's date is
// neither past nor too far ahead, a cancelled session stays cancelled), and
// bulk import of both from CSV.
//
// Every write runs in one store transaction together with its change-feed
// entry, so every node learns of it. The package never speaks HTTP, never
// touches SQL and never moves booked counts: seats are admitted by the
// booking rules, not here.
package catalog
