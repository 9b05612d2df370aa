// Package seed generates deterministic demo data: vaccination centres spread
// over every district of the master data, and their sessions for a run of
// days, all derived from one seed so that the same seed always gives the same
// centres, sessions and session ids.
//
// Generate writes the data set once; TopUp adds the days that have come into
// the window since, for the demo centres only. What was generated is recorded
// in the store's meta table (key "seed"), so both can tell demo centres from
// centres an administrator created and never write a session twice.
//
// The package writes only through vax.Store. It never deletes or changes data
// it did not generate, never reads the clock (callers pass the day), and holds
// no booking or eligibility rules: the sessions it makes are plain data.
package seed
