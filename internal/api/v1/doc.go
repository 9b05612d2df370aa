// Package v1 is vaxport's own HTTP API under /api/v1: the admin part,
// through which operators manage centres and sessions one by one or by CSV
// import; citizen token refresh and logout (/api/v1/auth/…); and SMS
// delivery receipts from gateways (/api/v1/sms/receipts/{provider}); and the
// public certificate surface: issuer keys (/.well-known/jwks.json), the
// trust bundle (/api/v1/trust), online verification (POST /api/v1/verify)
// and its /verify page; staff and the vaccinator's day; slot alerts (the
// SSE stream and stored subscriptions); and fair releases (admin creation,
// the public audit, a citizen's request).
//
// It owns the wire shapes (Co-WIN field names where Co-WIN has them),
// bearer-token authentication of /api/v1/admin/* and the mapping of catalog,
// auth and sms calls to routes. It holds no business rules (those are in
// internal/catalog and internal/auth) and never touches a store directly.
package v1
