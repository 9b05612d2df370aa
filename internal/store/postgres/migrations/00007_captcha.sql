-- The optional captcha: each account's one open challenge (see
-- vax.CaptchaChallenge). Drawing a new one replaces the row; checking an
-- answer deletes it, so an answer is tried once. The answer is kept only
-- as a keyed hash ("kid:sum"). Times are whole seconds.
--
-- A population table keyed by account (see 00003): no foreign key, so it
-- can be distributed with the account's other rows.

-- +goose Up
CREATE TABLE captchas (
    account_id  uuid PRIMARY KEY,
    answer_hash text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE captchas;
