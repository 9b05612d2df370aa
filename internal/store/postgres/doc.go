// Package postgres is vaxport's production store: vax.Store on PostgreSQL
// through pgx/v5 and pgxpool, with its schema migrations embedded (goose).
//
// It owns the SQL schema, the translation of driver errors into vax error
// codes (raw driver errors never leave it), transaction retries on
// serialization failures and deadlocks, and the change feed's cross-node
// wakeups (LISTEN/NOTIFY on the channel vaxport_changes). Any number of
// vaxport nodes may share one database.
//
// It must never hold business rules (eligibility, admission, validation of
// what callers store): those live above the store. It never imports another
// store. It migrates only when Migrate is called, never on Open.
//
// Domain outcomes (a taken id, an unknown reference, a missing row) are
// detected without raising a server error, so they leave the transaction
// usable, as they do on SQLite.
package postgres
