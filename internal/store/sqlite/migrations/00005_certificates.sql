-- Certificates: one row per issuance. A beneficiary's current certificate
-- is its row with superseded_by NULL; issuing a new one marks the old one
-- superseded (revoked) in the same transaction. Times are unix seconds (UTC).
--
-- A population table (see 00003): no foreign keys. The signed forms are not
-- stored: they are rendered from this row and the dose records.

-- +goose Up
CREATE TABLE certificates (
    id            TEXT PRIMARY KEY, -- UUID, lower case
    ref           TEXT NOT NULL,
    doses         INTEGER NOT NULL,
    final         INTEGER NOT NULL, -- 0 or 1
    issued_at     INTEGER NOT NULL,
    superseded_by TEXT,    -- NULL while current
    superseded_at INTEGER  -- NULL while current
);
-- At most one current certificate per beneficiary; also the lookup of it.
CREATE UNIQUE INDEX certificates_current ON certificates (ref) WHERE superseded_by IS NULL;
-- The revocation list reads supersessions in time order.
CREATE INDEX certificates_superseded_at ON certificates (superseded_at, id) WHERE superseded_at IS NOT NULL;

-- +goose Down
DROP TABLE certificates;
