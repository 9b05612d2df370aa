package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vaxport/vaxport/internal/vax"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dbErr translates a driver error from doing what into a *vax.Error. The
// driver error stays in the chain (for logs) but never decides the code a
// caller sees.
func dbErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var ve *vax.Error
	if errors.As(err, &ve) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return vax.Wrap(vax.NotFound, err, what+": not found")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return vax.Wrap(vax.Unavailable, err, what+": cancelled")
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return vax.Wrap(vax.Conflict, err, what+": already exists")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return vax.Wrap(vax.NotFound, err, what+": a record it refers to does not exist")
		case sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_CHECK:
			return vax.Wrap(vax.Invalid, err, what+": invalid value")
		}
		if retryable(err) {
			return vax.Wrap(vax.Unavailable, err, what+": database busy")
		}
	}
	return vax.Wrap(vax.Internal, err, what)
}

// retryable reports whether err says the database was locked by another
// connection, so the whole transaction may be run again.
func retryable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// one returns what a single-row read scanned, or its error: a NotFound
// saying notFound when there was no row, any other failure as dbErr names
// it for what.
func one[T any](v T, err error, notFound, what string) (T, error) {
	var zero T
	if errors.Is(err, sql.ErrNoRows) {
		return zero, vax.Errorf(vax.NotFound, "%s", notFound)
	}
	if err != nil {
		return zero, fmt.Errorf("sqlite: %w", dbErr(err, what))
	}
	return v, nil
}
