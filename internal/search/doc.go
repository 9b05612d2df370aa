// Package search owns the per-node, in-memory availability index that
// answers Co-WIN's slot searches: every centre with its open sessions from
// today on, found by district, by PIN code, by centre id or by distance
// (a grid of cells for findByLatLong), together with the state and district
// names (and their local names) that responses carry.
//
// Freshness: Run subscribes to the change feed before it loads a snapshot
// from the store, then re-reads every centre or session the feed names and
// applies the batch in one step, usually milliseconds after the write
// committed on any node. Each district, PIN code and centre has a version
// that changes whenever anything in it does, so a wire layer can cache
// encoded responses and know, with one comparison, when they are stale.
//
// Reads are cheap and safe for concurrent use: they take a read lock only to
// look up immutable entries (Group, Centre, Master), which a change replaces
// rather than modifies. Callers must treat everything the index returns as
// read-only.
//
// The package reads the store and never writes it; it holds no business
// rules (eligibility, booking) and never speaks HTTP.
package search
