-- Staff, vaccine lots, dose records, adverse events following immunization,
-- and the count of wrong secret codes entered for an appointment. Times are
-- whole seconds; a lot's expiry is a civil date, stored like a session's.
--
-- Lots belong to a centre and name a vaccine, so they refer to those master
-- tables by foreign key, as sessions do. Staff, doses and adverse events are
-- population tables (see 00003): no foreign keys. Staff mobile numbers are a
-- keyed hash plus sealed ciphertext, as for accounts.

-- +goose Up
CREATE TABLE staff (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    mobile_hash   text COLLATE "C" NOT NULL UNIQUE,
    mobile_sealed bytea NOT NULL,
    mobile_last4  text NOT NULL,
    role          text NOT NULL,
    district_id   integer NOT NULL, -- 0: none
    state_id      integer NOT NULL, -- 0: none
    status        text NOT NULL,
    created_by    text NOT NULL,    -- a staff id; '' for the bootstrap admin
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- The centres a vaccinator or facility admin is scoped to.
CREATE TABLE staff_centres (
    staff_id  uuid NOT NULL,
    centre_id bigint NOT NULL,
    PRIMARY KEY (staff_id, centre_id)
);
CREATE INDEX staff_centres_centre_id_idx ON staff_centres (centre_id);

CREATE TABLE lots (
    centre_id    bigint NOT NULL REFERENCES centres (id),
    number       text COLLATE "C" NOT NULL,
    vaccine      text COLLATE "C" NOT NULL REFERENCES vaccines (name),
    manufacturer text NOT NULL,
    expiry       date NOT NULL,
    received     integer NOT NULL,
    used         integer NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (centre_id, number),
    CHECK (0 <= used AND used <= received)
);

-- One record per beneficiary and dose: the unique constraint decides
-- between two vaccinators recording the same dose at once. It also serves
-- every read by beneficiary.
CREATE TABLE doses (
    id              uuid PRIMARY KEY,
    ref             text COLLATE "C" NOT NULL,
    dose            integer NOT NULL,
    vaccine         text NOT NULL,
    lot             text NOT NULL,
    centre_id       bigint NOT NULL,
    appointment_id  uuid, -- NULL for a walk-in
    vaccinator_id   uuid NOT NULL,
    administered_at timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    UNIQUE (ref, dose)
);

ALTER TABLE appointments ADD COLUMN code_failures integer NOT NULL DEFAULT 0;

-- A beneficiary's appointments, cancelled ones included (the live-place
-- index is partial).
CREATE INDEX appointment_places_ref_idx ON appointment_places (ref);

CREATE TABLE adverse_events (
    id          uuid PRIMARY KEY,
    dose_id     uuid NOT NULL,
    ref         text COLLATE "C" NOT NULL,
    centre_id   bigint NOT NULL,
    district_id integer NOT NULL,
    severity    text NOT NULL,
    symptoms    text[] NOT NULL,
    onset       timestamptz NOT NULL,
    reporter_id uuid NOT NULL,
    reported_at timestamptz NOT NULL
);
-- A district's events, newest first: the admins' list and its pages.
CREATE INDEX adverse_events_district_idx ON adverse_events (district_id, reported_at DESC, id DESC);

-- +goose Down
DROP TABLE adverse_events;
DROP INDEX appointment_places_ref_idx;
ALTER TABLE appointments DROP COLUMN code_failures;
DROP TABLE doses;
DROP TABLE lots;
DROP TABLE staff_centres;
DROP TABLE staff;
