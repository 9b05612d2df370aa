-- Staff, vaccine lots, dose records, adverse events following immunization,
-- and the count of wrong secret codes entered for an appointment. Times are
-- unix seconds (UTC); a lot's expiry is a civil date 'YYYY-MM-DD', as a
-- session's date.
--
-- Lots belong to a centre and name a vaccine, so they refer to those master
-- tables by foreign key, as sessions do. Staff, doses and adverse events are
-- population tables (see 00003): no foreign keys. Staff mobile numbers are a
-- keyed hash plus sealed ciphertext, as for accounts.

-- +goose Up
CREATE TABLE staff (
    id            TEXT PRIMARY KEY, -- UUID, lower case
    name          TEXT NOT NULL,
    mobile_hash   TEXT NOT NULL UNIQUE,
    mobile_sealed BLOB NOT NULL,
    mobile_last4  TEXT NOT NULL,
    role          TEXT NOT NULL,
    district_id   INTEGER NOT NULL, -- 0: none
    state_id      INTEGER NOT NULL, -- 0: none
    status        TEXT NOT NULL,
    created_by    TEXT NOT NULL, -- a staff id; '' for the bootstrap admin
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- The centres a vaccinator or facility admin is scoped to.
CREATE TABLE staff_centres (
    staff_id  TEXT NOT NULL,
    centre_id INTEGER NOT NULL,
    PRIMARY KEY (staff_id, centre_id)
);
CREATE INDEX staff_centres_centre_id ON staff_centres (centre_id);

CREATE TABLE lots (
    centre_id    INTEGER NOT NULL REFERENCES centres (id),
    number       TEXT NOT NULL,
    vaccine      TEXT NOT NULL REFERENCES vaccines (name),
    manufacturer TEXT NOT NULL,
    expiry       TEXT NOT NULL, -- YYYY-MM-DD
    received     INTEGER NOT NULL,
    used         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (centre_id, number),
    CHECK (0 <= used AND used <= received)
);

-- One record per beneficiary and dose: the unique constraint decides
-- between two vaccinators recording the same dose at once. It also serves
-- every read by beneficiary.
CREATE TABLE doses (
    id              TEXT PRIMARY KEY, -- UUID, lower case
    ref             TEXT NOT NULL,
    dose            INTEGER NOT NULL,
    vaccine         TEXT NOT NULL,
    lot             TEXT NOT NULL,
    centre_id       INTEGER NOT NULL,
    appointment_id  TEXT, -- NULL for a walk-in
    vaccinator_id   TEXT NOT NULL,
    administered_at INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    UNIQUE (ref, dose)
);

ALTER TABLE appointments ADD COLUMN code_failures INTEGER NOT NULL DEFAULT 0;

-- A beneficiary's appointments, cancelled ones included (the live-place
-- index is partial).
CREATE INDEX appointment_places_ref ON appointment_places (ref);

CREATE TABLE adverse_events (
    id          TEXT PRIMARY KEY, -- UUID, lower case
    dose_id     TEXT NOT NULL,
    ref         TEXT NOT NULL,
    centre_id   INTEGER NOT NULL,
    district_id INTEGER NOT NULL,
    severity    TEXT NOT NULL,
    symptoms    TEXT NOT NULL, -- JSON array of strings
    onset       INTEGER NOT NULL,
    reporter_id TEXT NOT NULL,
    reported_at INTEGER NOT NULL
);
-- A district's events, newest first: the admins' list and its pages.
CREATE INDEX adverse_events_district ON adverse_events (district_id, reported_at DESC, id DESC);

-- +goose Down
DROP TABLE adverse_events;
DROP INDEX appointment_places_ref;
ALTER TABLE appointments DROP COLUMN code_failures;
DROP TABLE doses;
DROP TABLE lots;
DROP TABLE staff_centres;
DROP TABLE staff;
