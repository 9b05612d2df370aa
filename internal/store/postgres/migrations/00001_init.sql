-- +goose Up
-- Master data and the change feed. Plain tables, B-tree indexes and one
-- sequence only, so the schema stays ready for a Citus-style engine (master
-- data as reference tables). Text keys that are listed in order use
-- COLLATE "C" so PostgreSQL sorts them byte-wise, as the SQLite store does.

CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE states (
    id          integer PRIMARY KEY,
    name        text NOT NULL,
    local_names jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE districts (
    id          integer PRIMARY KEY,
    state_id    integer NOT NULL REFERENCES states (id),
    name        text NOT NULL,
    local_names jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX districts_state_id_idx ON districts (state_id);

CREATE TABLE vaccines (
    name             text COLLATE "C" PRIMARY KEY,
    doses            integer NOT NULL,
    interval_days    integer NOT NULL,
    dcc_product      text NOT NULL,
    dcc_manufacturer text NOT NULL,
    dcc_prophylaxis  text NOT NULL
);

CREATE SEQUENCE centres_id_seq AS bigint;
CREATE TABLE centres (
    id          bigint PRIMARY KEY DEFAULT nextval('centres_id_seq'),
    name        text NOT NULL,
    address     text NOT NULL,
    state_id    integer NOT NULL,
    district_id integer NOT NULL REFERENCES districts (id),
    block_name  text NOT NULL,
    pincode     integer NOT NULL,
    lat         double precision NOT NULL,
    long        double precision NOT NULL,
    open_from   text NOT NULL,
    open_to     text NOT NULL,
    fee_type    text NOT NULL,
    fees        jsonb NOT NULL DEFAULT '[]'
);
ALTER SEQUENCE centres_id_seq OWNED BY centres.id;
CREATE INDEX centres_district_id_idx ON centres (district_id);
CREATE INDEX centres_pincode_idx ON centres (pincode);

CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    centre_id     bigint NOT NULL REFERENCES centres (id),
    date          date NOT NULL,
    vaccine       text COLLATE "C" NOT NULL REFERENCES vaccines (name),
    min_age       integer NOT NULL,
    max_age       integer NOT NULL,
    allow_all_age boolean NOT NULL,
    capacity1     integer NOT NULL,
    capacity2     integer NOT NULL,
    booked1       integer NOT NULL DEFAULT 0,
    booked2       integer NOT NULL DEFAULT 0,
    slots         text[] NOT NULL,
    status        text NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX sessions_centre_id_date_idx ON sessions (centre_id, date);
CREATE INDEX sessions_date_idx ON sessions (date);

CREATE TABLE changes (
    seq  bigserial PRIMARY KEY,
    kind text NOT NULL,
    key  text NOT NULL,
    at   timestamptz NOT NULL
);
CREATE INDEX changes_at_idx ON changes (at);

-- +goose Down
DROP TABLE changes;
DROP TABLE sessions;
DROP TABLE centres;
DROP TABLE vaccines;
DROP TABLE districts;
DROP TABLE states;
DROP TABLE meta;
