-- Citizen sign-in and the SMS outbox: accounts, OTP transactions, token
-- revocations and outbound messages. Times are unix seconds (UTC), except in
-- the outbox, where they are unix milliseconds: delivery latency is measured
-- from them. NULL stands for "no time" (unused, unclaimed, never).
--
-- These are population tables: in the Citus model they are distributed (by
-- account or by their own id), so none refers to another by foreign key.
-- Nothing here holds a mobile number or an OTP in clear: numbers are keyed
-- hashes ("kid:sum") plus sealed ciphertext, OTPs keyed hashes only, and
-- message payloads sealed.

-- +goose Up
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY, -- UUID, lower case
    mobile_hash   TEXT NOT NULL UNIQUE,
    mobile_sealed BLOB NOT NULL,
    mobile_last4  TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE otp_txns (
    id            TEXT PRIMARY KEY, -- the txnId: UUID, lower case
    mobile_hash   TEXT NOT NULL,
    mobile_sealed BLOB NOT NULL,
    code_hash     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX otp_txns_mobile_hash ON otp_txns (mobile_hash, created_at);
CREATE INDEX otp_txns_created_at ON otp_txns (created_at);

CREATE TABLE revocations (
    id    TEXT PRIMARY KEY,
    until INTEGER NOT NULL
);
CREATE INDEX revocations_until ON revocations (until);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY, -- UUID, lower case
    kind            TEXT NOT NULL,
    payload         BLOB NOT NULL, -- sealed recipient and text
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_by      TEXT NOT NULL,
    claimed_until   INTEGER,
    provider        TEXT NOT NULL,
    provider_ref    TEXT NOT NULL,
    sent_at         INTEGER,
    done_at         INTEGER
);
-- The dispatchers' queue: only pending rows, by when they are due.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_created_at ON outbox (created_at);

-- +goose Down
DROP TABLE outbox;
DROP TABLE revocations;
DROP TABLE otp_txns;
DROP TABLE accounts;
