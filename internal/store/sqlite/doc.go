// Package sqlite is vaxport's embedded store: vax.Store on one SQLite file
// (modernc.org/sqlite, pure Go) in WAL mode, with the schema migrations
// embedded in the binary.
//
// It owns the SQL for SQLite and the translation of driver errors into
// *vax.Error codes. It never holds business rules (who may book, what a
// capacity may be beyond what the schema guarantees) and never lets a raw
// driver error escape.
//
// One writer connection serialises read-write transactions, which begin
// IMMEDIATE so they take the write lock up front and never fail half-way
// on a lock upgrade; a pool of query-only reader connections serves View,
// Changes and Ping concurrently with the writer. Several processes may open
// the same file: a transaction that finds the file locked past the busy
// timeout is retried a few times with backoff.
package sqlite
