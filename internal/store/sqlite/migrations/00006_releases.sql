-- Fair release (see vax.Release): releases, the sessions each holds, the
-- requests pooled for their draws, and the beneficiaries those name. A
-- release's time and an entry's arrival are unix milliseconds (the pooling
-- window is seconds long and arrival order is audited); creation and draw
-- times are unix seconds (UTC).
--
-- releases and release_sessions are master data like the sessions they hold
-- (reference tables in the Citus model), so they refer by foreign key.
-- release_entries and release_refs are population tables (see 00003): no
-- foreign keys.

-- +goose Up
CREATE TABLE releases (
    id             TEXT PRIMARY KEY, -- UUID, lower case
    release_at     INTEGER NOT NULL, -- unix milliseconds
    window_seconds INTEGER NOT NULL,
    seed           BLOB NOT NULL,
    seed_hash      TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    drawn_at       INTEGER -- NULL until drawn
);
-- Listed by release time (all, or those of one status: the draw scheduler
-- reads the scheduled ones).
CREATE INDEX releases_release_at ON releases (release_at, id);
CREATE INDEX releases_status ON releases (status, release_at, id);

-- A session is in at most one release, ever: its primary key.
CREATE TABLE release_sessions (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id),
    release_id TEXT NOT NULL REFERENCES releases (id),
    position   INTEGER NOT NULL -- order given at creation
);
CREATE INDEX release_sessions_release_id ON release_sessions (release_id, position);

CREATE TABLE release_entries (
    id             TEXT PRIMARY KEY, -- UUID, lower case
    release_id     TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    dose           INTEGER NOT NULL,
    slot           TEXT NOT NULL,
    refs           TEXT NOT NULL, -- JSON array of beneficiary refs
    arrived_at     INTEGER NOT NULL, -- unix milliseconds
    node           TEXT NOT NULL,
    rank           INTEGER NOT NULL DEFAULT 0, -- 0 until drawn
    status         TEXT NOT NULL,
    appointment_id TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT ''
);
-- A release's entries in arrival order: the draw and the audit read them so.
CREATE INDEX release_entries_release ON release_entries (release_id, arrived_at, id);

-- One entry per beneficiary per release.
CREATE TABLE release_refs (
    release_id TEXT NOT NULL,
    ref        TEXT NOT NULL,
    entry_id   TEXT NOT NULL,
    PRIMARY KEY (release_id, ref)
);

-- +goose Down
DROP TABLE release_refs;
DROP TABLE release_entries;
DROP TABLE release_sessions;
DROP TABLE releases;
