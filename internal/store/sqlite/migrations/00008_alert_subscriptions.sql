-- Stored slot-alert subscriptions (see vax.AlertSubscription): an account's
-- standing request to be texted when seats open in a district or a PIN
-- code. last_texted_at is the deployment-wide SMS throttle: a node texts
-- only after moving it forward in one conditional UPDATE, so of the nodes
-- that see one release exactly one texts. Times are unix seconds (UTC).
--
-- A population table keyed by account (see 00003): no foreign key.

-- +goose Up
CREATE TABLE alert_subscriptions (
    id             TEXT PRIMARY KEY, -- UUID, lower case
    account_id     TEXT NOT NULL,    -- UUID, lower case
    district_id    INTEGER NOT NULL, -- 0 when it names a PIN code
    pincode        INTEGER NOT NULL, -- 0 when it names a district
    min_age        INTEGER NOT NULL,
    dose           INTEGER NOT NULL,
    vaccine        TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_texted_at INTEGER, -- NULL until texted
    CHECK ((district_id > 0) <> (pincode > 0))
);
-- An account's subscriptions, oldest first.
CREATE INDEX alert_subscriptions_account ON alert_subscriptions (account_id, created_at, id);

-- +goose Down
DROP TABLE alert_subscriptions;
