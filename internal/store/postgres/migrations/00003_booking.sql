-- Beneficiaries and appointments. Times are whole seconds.
--
-- Population tables (distributed by account in the Citus model): none refers
-- to another table by foreign key. Photo-ID numbers are keyed hashes plus
-- sealed ciphertext; secret codes are sealed. A session's booked count for a
-- dose equals its live places: seat admission updates it in the transaction
-- that inserts the places.

-- +goose Up
CREATE TABLE beneficiaries (
    ref             text COLLATE "C" PRIMARY KEY, -- 14 digits, Verhoeff check digit
    account_id      uuid NOT NULL,
    name            text NOT NULL,
    birth_year      integer NOT NULL,
    gender_id       integer NOT NULL,
    photo_id_type   integer NOT NULL,
    photo_id_hash   text COLLATE "C" NOT NULL UNIQUE,
    photo_id_sealed bytea NOT NULL,
    photo_id_last4  text NOT NULL,
    comorbidity     boolean NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX beneficiaries_account_id_idx ON beneficiaries (account_id, created_at);

CREATE TABLE appointments (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    session_id uuid NOT NULL,
    dose       integer NOT NULL,
    slot       text NOT NULL,
    status     text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX appointments_account_id_idx ON appointments (account_id, created_at);
CREATE INDEX appointments_session_id_idx ON appointments (session_id) WHERE status = 'live';

CREATE TABLE appointment_places (
    appointment_id uuid NOT NULL,
    ref            text NOT NULL,
    dose           integer NOT NULL,
    secret_sealed  bytea NOT NULL,
    status         text NOT NULL,
    PRIMARY KEY (appointment_id, ref)
);
-- One live place per beneficiary and dose.
CREATE UNIQUE INDEX appointment_places_live ON appointment_places (ref, dose) WHERE status = 'live';

-- Idempotency keys, scoped to the account; kept until expires_at.
CREATE TABLE idempotency (
    account_id   uuid NOT NULL,
    key          text COLLATE "C" NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL, -- 0 while the first request runs
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_expires_at_idx ON idempotency (expires_at);

-- +goose Down
DROP TABLE idempotency;
DROP TABLE appointment_places;
DROP TABLE appointments;
DROP TABLE beneficiaries;
