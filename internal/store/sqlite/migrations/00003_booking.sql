-- Beneficiaries and appointments. Times are unix seconds (UTC).
--
-- Population tables (distributed by account in the Citus model): none refers
-- to another table by foreign key. Photo-ID numbers are keyed hashes plus
-- sealed ciphertext; secret codes are sealed. A session's booked count for a
-- dose equals its live places: seat admission updates it in the transaction
-- that inserts the places.

-- +goose Up
CREATE TABLE beneficiaries (
    ref             TEXT PRIMARY KEY, -- 14 digits, Verhoeff check digit
    account_id      TEXT NOT NULL,
    name            TEXT NOT NULL,
    birth_year      INTEGER NOT NULL,
    gender_id       INTEGER NOT NULL,
    photo_id_type   INTEGER NOT NULL,
    photo_id_hash   TEXT NOT NULL UNIQUE,
    photo_id_sealed BLOB NOT NULL,
    photo_id_last4  TEXT NOT NULL,
    comorbidity     INTEGER NOT NULL, -- 0 or 1
    created_at      INTEGER NOT NULL
);
CREATE INDEX beneficiaries_account_id ON beneficiaries (account_id, created_at);

CREATE TABLE appointments (
    id         TEXT PRIMARY KEY, -- UUID, lower case
    account_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    dose       INTEGER NOT NULL,
    slot       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX appointments_account_id ON appointments (account_id, created_at);
CREATE INDEX appointments_session_id ON appointments (session_id) WHERE status = 'live';

CREATE TABLE appointment_places (
    appointment_id TEXT NOT NULL,
    ref            TEXT NOT NULL,
    dose           INTEGER NOT NULL,
    secret_sealed  BLOB NOT NULL,
    status         TEXT NOT NULL,
    PRIMARY KEY (appointment_id, ref)
);
-- One live place per beneficiary and dose.
CREATE UNIQUE INDEX appointment_places_live ON appointment_places (ref, dose) WHERE status = 'live';

-- Idempotency keys, scoped to the account; kept until expires_at.
CREATE TABLE idempotency (
    account_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL, -- 0 while the first request runs
    body         BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_expires_at ON idempotency (expires_at);

-- +goose Down
DROP TABLE idempotency;
DROP TABLE appointment_places;
DROP TABLE appointments;
DROP TABLE beneficiaries;
