// Package cowin serves the Co-WIN API v2, wire-exact, so that software
// written for Co-WIN works against vaxport with only its base URL changed:
//   - availability search (server.go, handlers.go): states, districts,
//     findByPin, findByDistrict, calendarByPin, calendarByDistrict,
//     calendarByCenter and findByLatLong under /public/, and the protected
//     session searches (same paths without /public/, with the optional
//     vaccine filter);
//   - sign-in (auth.go): the three OTP pairs, and the bearer-token check
//     every protected endpoint runs;
//   - beneficiaries and appointments (booking.go): idTypes, genders,
//     beneficiary/new and delete, beneficiaries, schedule, reschedule,
//     cancel and the appointment slip.
//
// Sign-in refusals use USRAUT0014 (Co-WIN's wrong OTP; also an unknown or
// spent txnId), USRAUT0020 (not a 10-digit mobile number), USRAUT0021 (the
// next OTP to this number is too soon), USRAUT0022 (daily cap per number)
// and USRAUT0023 (too many requests from this address); booking's codes are
// listed in internal/booking/rules.go.
//
// The rest of this comment is about search.
//
// It owns the routes (routes.go), the wire shapes (wire.go, separate from
// the vax types so the contract cannot drift), the search error codes and
// the per-node cache of encoded responses. Answers come from a
// search.Index: the request path never touches the store, and a response
// is encoded (and gzipped) once per version of the district, PIN code or
// centre it shows, then served from memory until that version changes.
//
// Search errors are 400 in Co-WIN's {"errorCode","error"} shape, with
// these codes (vaxport's own, in Co-WIN's style):
//
//	SEARCH0001  missing parameter
//	SEARCH0002  invalid pincode (want 6 digits)
//	SEARCH0003  invalid date (want DD-MM-YYYY or DD-MM-YY)
//	SEARCH0004  invalid or unknown district_id
//	SEARCH0005  invalid or unknown state_id
//	SEARCH0006  invalid center_id
//	SEARCH0007  invalid lat or long
//	SEARCH0008  unknown vaccine (protected searches)
//
// An unknown district or state is 400 (Co-WIN answered 400 for invalid
// ids); a well-formed PIN code or centre id without centres or sessions is
// an empty 200 answer ({"sessions":[]}, {"centers":[]}, or {} for
// calendarByCenter), since those are open sets. The public searches ignore
// a vaccine parameter, as Co-WIN's did. Before the index has loaded, every
// search answers 503.
//
// The package holds no business rules and never logs request parameters
// (a PIN code narrows down where someone lives).
package cowin
