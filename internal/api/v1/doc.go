// Package v1 is vaxport's own HTTP API under /api/v1: for now the admin
// part, through which operators manage centres and sessions one by one or
// by CSV import.
//
// It owns the wire shapes (Co-WIN field names where Co-WIN has them),
// bearer-token authentication of /api/v1/admin/* and the mapping of catalog
// calls to routes. It holds no business rules (those are in
// internal/catalog) and never touches a store directly.
package v1
