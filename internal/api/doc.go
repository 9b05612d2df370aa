// Package api is the HTTP plumbing every vaxport surface shares: handlers
// that return errors, the one mapping from vax error codes to HTTP status and
// the {"errorCode","error"} body, size-limited JSON decoding, request ids,
// panic recovery, access logs, per-route metrics and the health endpoints.
//
// It owns no routes of its own beyond /healthz and /readyz and holds no
// business rules. It never logs request paths, query strings or bodies:
// they can carry personal data (mobile numbers, ID numbers). Logs and
// metrics name routes by their ServeMux pattern only.
package api
