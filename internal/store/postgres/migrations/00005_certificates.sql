-- Certificates: one row per issuance. A beneficiary's current certificate
-- is its row with superseded_by NULL; issuing a new one marks the old one
-- superseded (revoked) in the same statement. Times are whole seconds.
--
-- A population table (see 00003): no foreign keys, so it can be distributed
-- by beneficiary. The signed forms are not stored: they are rendered from
-- this row and the dose records.

-- +goose Up
CREATE TABLE certificates (
    id            uuid PRIMARY KEY,
    ref           text COLLATE "C" NOT NULL,
    doses         integer NOT NULL,
    final         boolean NOT NULL,
    issued_at     timestamptz NOT NULL,
    superseded_by uuid,        -- NULL while current
    superseded_at timestamptz  -- NULL while current
);
-- At most one current certificate per beneficiary: concurrent issues for
-- one beneficiary meet here (see IssueCertificate). Also the lookup of it.
CREATE UNIQUE INDEX certificates_current_idx ON certificates (ref) WHERE superseded_by IS NULL;
-- The revocation list reads supersessions in time order.
CREATE INDEX certificates_superseded_at_idx ON certificates (superseded_at, id) WHERE superseded_at IS NOT NULL;

-- +goose Down
DROP TABLE certificates;
