// Package storetest is the one contract suite every vax.Store passes:
// storetest.Run(t, open) from each store's tests.
//
// It owns what the vax.Store and vax.Tx doc comments promise, made
// executable, plus the conventions both stores share:
//
//   - Empty LocalNames, Fees and Slots come back as nil (an empty map or
//     slice is stored as "none").
//   - Times (Change.At, Session.UpdatedAt) come back in UTC, whole seconds,
//     stamped by the store's clock.
//   - Outbox message times keep milliseconds (truncated), every other
//     stored time whole seconds (truncated); a zero time stays zero.
//   - UUID ids (accounts, OTP txns, messages) come back in lower case.
//   - CreateSession stores the session as given, booked counts included;
//     UpdateSession never changes them or the centre.
//   - Close may be called more than once; it closes the Wakeups channel.
//   - A failed statement is not retried within the same transaction: each
//     expected error is provoked in its own InTx (PostgreSQL aborts the
//     transaction on error).
//
// It never depends on a particular store, on timing (it waits with
// deadlines, never sleeps to assert) or on the store's clock being real.
package storetest
