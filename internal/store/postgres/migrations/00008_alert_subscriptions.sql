-- Stored slot-alert subscriptions (see vax.AlertSubscription): an account's
-- standing request to be texted when seats open in a district or a PIN
-- code. last_texted_at is the deployment-wide SMS throttle: a node texts
-- only after moving it forward in one conditional UPDATE, so of the nodes
-- that see one release exactly one texts. Times are whole seconds.
--
-- A population table keyed by account (see 00003): no foreign key, so it
-- can be distributed with the account's other rows.

-- +goose Up
CREATE TABLE alert_subscriptions (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL,
    district_id    integer NOT NULL, -- 0 when it names a PIN code
    pincode        integer NOT NULL, -- 0 when it names a district
    min_age        integer NOT NULL,
    dose           integer NOT NULL,
    vaccine        text NOT NULL,
    created_at     timestamptz NOT NULL,
    last_texted_at timestamptz, -- NULL until texted
    CHECK ((district_id > 0) <> (pincode > 0))
);
-- An account's subscriptions, oldest first.
CREATE INDEX alert_subscriptions_account_idx ON alert_subscriptions (account_id, created_at, id);

-- +goose Down
DROP TABLE alert_subscriptions;
