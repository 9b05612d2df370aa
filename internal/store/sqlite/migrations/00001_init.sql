-- Master data and the change feed. Times are unix seconds (UTC), civil dates
-- 'YYYY-MM-DD' text, maps and lists JSON text (NULL when empty).
--
-- Every table here is master data: in the Citus model these become reference
-- tables, so foreign keys between them stay enforceable.

-- +goose Up
CREATE TABLE meta (
    "key" TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE states (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    local_names TEXT -- JSON object: language tag → name
);

CREATE TABLE districts (
    id          INTEGER PRIMARY KEY,
    state_id    INTEGER NOT NULL REFERENCES states (id),
    name        TEXT NOT NULL,
    local_names TEXT
);
CREATE INDEX districts_state_id ON districts (state_id, id);

CREATE TABLE vaccines (
    name             TEXT PRIMARY KEY,
    doses            INTEGER NOT NULL,
    interval_days    INTEGER NOT NULL,
    dcc_product      TEXT NOT NULL,
    dcc_manufacturer TEXT NOT NULL,
    dcc_prophylaxis  TEXT NOT NULL
);

CREATE TABLE centres (
    id          INTEGER PRIMARY KEY, -- 0 on insert: SQLite assigns max(id)+1
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    state_id    INTEGER NOT NULL REFERENCES states (id),
    district_id INTEGER NOT NULL REFERENCES districts (id),
    block_name  TEXT NOT NULL,
    pincode     INTEGER NOT NULL,
    lat         REAL NOT NULL,
    long        REAL NOT NULL,
    open_from   TEXT NOT NULL, -- HH:MM:SS local time
    open_to     TEXT NOT NULL,
    fee_type    TEXT NOT NULL,
    fees        TEXT -- JSON array of {"vaccine","amount"}
);
CREATE INDEX centres_district_id ON centres (district_id, id);
CREATE INDEX centres_pincode ON centres (pincode, id);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY, -- UUID
    centre_id     INTEGER NOT NULL REFERENCES centres (id),
    date          TEXT NOT NULL, -- YYYY-MM-DD
    vaccine       TEXT NOT NULL REFERENCES vaccines (name),
    min_age       INTEGER NOT NULL,
    max_age       INTEGER NOT NULL,
    allow_all_age INTEGER NOT NULL, -- 0 or 1
    capacity1     INTEGER NOT NULL,
    capacity2     INTEGER NOT NULL,
    booked1       INTEGER NOT NULL DEFAULT 0,
    booked2       INTEGER NOT NULL DEFAULT 0,
    slots         TEXT, -- JSON array of labels
    status        TEXT NOT NULL,
    updated_at    INTEGER NOT NULL -- unix seconds
);
CREATE INDEX sessions_centre_id_date ON sessions (centre_id, date);
CREATE INDEX sessions_date ON sessions (date);

-- AUTOINCREMENT: a pruned seq is never handed out again.
CREATE TABLE changes (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind  TEXT NOT NULL,
    "key" TEXT NOT NULL,
    at    INTEGER NOT NULL -- unix seconds
);
CREATE INDEX changes_at ON changes (at);

-- +goose Down
DROP TABLE changes;
DROP TABLE sessions;
DROP TABLE centres;
DROP TABLE vaccines;
DROP TABLE districts;
DROP TABLE states;
DROP TABLE meta;
