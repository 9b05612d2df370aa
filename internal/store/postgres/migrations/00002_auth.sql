-- Citizen sign-in and the SMS outbox: accounts, OTP transactions, token
-- revocations and outbound messages. NULL stands for "no time" (unused,
-- unclaimed, never). Outbox times are written to the millisecond.
--
-- These are population tables: in the Citus model they are distributed (by
-- account or by their own id), so none refers to another by foreign key.
-- Nothing here holds a mobile number or an OTP in clear: numbers are keyed
-- hashes ("kid:sum") plus sealed ciphertext, OTPs keyed hashes only, and
-- message payloads sealed.

-- +goose Up
CREATE TABLE accounts (
    id            uuid PRIMARY KEY,
    mobile_hash   text COLLATE "C" NOT NULL UNIQUE,
    mobile_sealed bytea NOT NULL,
    mobile_last4  text NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE TABLE otp_txns (
    id            uuid PRIMARY KEY,
    mobile_hash   text COLLATE "C" NOT NULL,
    mobile_sealed bytea NOT NULL,
    code_hash     text NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    attempts      integer NOT NULL,
    used_at       timestamptz
);
CREATE INDEX otp_txns_mobile_hash_idx ON otp_txns (mobile_hash, created_at);
CREATE INDEX otp_txns_created_at_idx ON otp_txns (created_at);

CREATE TABLE revocations (
    id    text COLLATE "C" PRIMARY KEY,
    until timestamptz NOT NULL
);
CREATE INDEX revocations_until_idx ON revocations (until);

CREATE TABLE outbox (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL,
    payload         bytea NOT NULL, -- sealed recipient and text
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz,
    status          text NOT NULL,
    attempts        integer NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    claimed_by      text NOT NULL,
    claimed_until   timestamptz,
    provider        text NOT NULL,
    provider_ref    text NOT NULL,
    sent_at         timestamptz,
    done_at         timestamptz
);
-- The dispatchers' queue: only pending rows, by when they are due.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_created_at_idx ON outbox (created_at);

-- +goose Down
DROP TABLE outbox;
DROP TABLE revocations;
DROP TABLE otp_txns;
DROP TABLE accounts;
