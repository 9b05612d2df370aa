-- Fair release (see vax.Release): releases, the sessions each holds, the
-- requests pooled for their draws, and the beneficiaries those name. A
-- release's time and an entry's arrival are written to the millisecond (the
-- pooling window is seconds long and arrival order is audited); creation and
-- draw times are whole seconds.
--
-- releases and release_sessions are master data like the sessions they hold
-- (reference tables in the Citus model), so they refer by foreign key.
-- release_entries and release_refs are population tables (see 00003): no
-- foreign keys.

-- +goose Up
CREATE TABLE releases (
    id             uuid PRIMARY KEY,
    release_at     timestamptz NOT NULL, -- milliseconds
    window_seconds integer NOT NULL,
    seed           bytea NOT NULL,
    seed_hash      text NOT NULL,
    status         text NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL,
    drawn_at       timestamptz -- NULL until drawn
);
-- Listed by release time (all, or those of one status: the draw scheduler
-- reads the scheduled ones).
CREATE INDEX releases_release_at_idx ON releases (release_at, id);
CREATE INDEX releases_status_idx ON releases (status, release_at, id);

-- A session is in at most one release, ever: its primary key.
CREATE TABLE release_sessions (
    session_id uuid PRIMARY KEY REFERENCES sessions (id),
    release_id uuid NOT NULL REFERENCES releases (id),
    position   integer NOT NULL -- order given at creation
);
CREATE INDEX release_sessions_release_id_idx ON release_sessions (release_id, position);

CREATE TABLE release_entries (
    id             uuid PRIMARY KEY,
    release_id     uuid NOT NULL,
    account_id     uuid NOT NULL,
    session_id     uuid NOT NULL,
    dose           integer NOT NULL,
    slot           text NOT NULL,
    refs           text[] NOT NULL,
    arrived_at     timestamptz NOT NULL, -- milliseconds
    node           text NOT NULL,
    rank           integer NOT NULL DEFAULT 0, -- 0 until drawn
    status         text NOT NULL,
    appointment_id text NOT NULL DEFAULT '',
    reason         text NOT NULL DEFAULT ''
);
-- A release's entries in arrival order: the draw and the audit read them so.
CREATE INDEX release_entries_release_idx ON release_entries (release_id, arrived_at, id);

-- One entry per beneficiary per release: entries naming the same
-- beneficiary at once, on any node, meet at this primary key.
CREATE TABLE release_refs (
    release_id uuid NOT NULL,
    ref        text COLLATE "C" NOT NULL,
    entry_id   uuid NOT NULL,
    PRIMARY KEY (release_id, ref)
);

-- +goose Down
DROP TABLE release_refs;
DROP TABLE release_entries;
DROP TABLE release_sessions;
DROP TABLE releases;
