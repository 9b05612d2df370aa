// Package vax holds vaxport's domain: the types every other package speaks
// (centres, sessions, vaccines, civil dates, identifiers), the one error
// vocabulary, the injected clock and the store interfaces.
//
// It imports only the standard library. It never talks to a database, the
// network or the file system: stores and API surfaces depend on it, never the
// reverse.
package vax
