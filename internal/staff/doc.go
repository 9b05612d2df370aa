// Package staff owns the people who run the programme: vaccinators and
// facility, district, state and national admins, each scoped to centres or
// an area (vax.Staff). It signs them in by mobile OTP through internal/auth
// (staff OTPs and tokens are their own kind there), checks on every request
// that the token's staff member is still active, and authorises staff
// administration: who may create, rescope or suspend whom.
//
// # Rules
//
// An admin acts only while active, only on a role it outranks (national >
// state > district > facility > vaccinator; a national admin may also
// create and change national admins) and only within its own scope: every
// centre of a new scope must exist and be covered by the admin, a district
// must be in its state and covered, a state must exist and be covered. To
// change a staff member the admin must also outrank its current role and
// cover all of its current scope; nobody changes themself. Reading (Get,
// List) needs the admin to cover some of the staff member's scope.
//
// # Suspension on every node
//
// Authenticate trusts a looked-up staff record for at most CacheTTL (30 s
// by default, never above a minute). A create or change appends a "staff"
// change in its transaction; StaffChanged, fed by the change feed, drops
// the cached copy on every node, and the node that made the change drops
// its own at once. So a suspension bites at once where it was made, within
// the feed's delay elsewhere, and within CacheTTL even if the feed stalls.
//
// Mobile numbers are stored as citizens' are: a blind index (auth's, under
// every pii key), sealed with the AAD "staff mobile v1|<id>", and the last 4
// digits. The package never logs or returns a number except through
// Mobile. It must not import a store, database/sql or net/http.
package staff
