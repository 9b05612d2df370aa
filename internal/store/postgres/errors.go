package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vaxport/vaxport/internal/vax"
)

// PostgreSQL SQLSTATE codes the store translates.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeCheckViolation       = "23514"
	codeNotNullViolation     = "23502"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeReadOnlyTransaction  = "25006"
)

// dbErr translates a driver error from doing what into a *vax.Error, so that
// no raw driver error leaves the store. An error that is already a
// *vax.Error passes through unchanged.
func dbErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var ve *vax.Error
	if errors.As(err, &ve) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return vax.Wrap(vax.NotFound, err, what+": not found")
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			return vax.Wrap(vax.Conflict, err, what+": already exists")
		case codeForeignKeyViolation:
			return vax.Wrap(vax.NotFound, err, what+": refers to an unknown record")
		case codeCheckViolation, codeNotNullViolation:
			return vax.Wrap(vax.Invalid, err, what+": invalid value")
		case codeSerializationFailure, codeDeadlockDetected:
			return vax.Wrap(vax.Unavailable, err, what+": database busy, try again")
		case codeReadOnlyTransaction:
			return vax.Wrap(vax.Internal, err, what+": write in a read-only transaction")
		}
		return vax.Wrap(vax.Internal, err, what)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return vax.Wrap(vax.Unavailable, err, what+": interrupted")
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return vax.Wrap(vax.Unavailable, err, what+": database unreachable")
	}
	return vax.Wrap(vax.Internal, err, what)
}

// retryable reports whether a transaction that failed with err should run
// again: PostgreSQL aborted it to resolve a conflict with another one.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected
}

// errReadOnly is returned by write methods called in View.
func errReadOnly(method string) error {
	return vax.Errorf(vax.Internal, "%s: write in a read-only transaction", method)
}

// one returns what a single-row read scanned, or its error: a NotFound
// saying notFound when there was no row, any other failure as dbErr names
// it for what.
func one[T any](v T, err error, notFound, what string) (T, error) {
	var zero T
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, vax.Errorf(vax.NotFound, "%s", notFound)
	}
	if err != nil {
		return zero, dbErr(err, what)
	}
	return v, nil
}
