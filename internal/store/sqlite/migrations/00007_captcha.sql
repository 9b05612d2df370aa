-- The optional captcha: each account's one open challenge (see
-- vax.CaptchaChallenge). Drawing a new one replaces the row; checking an
-- answer deletes it, so an answer is tried once. The answer is kept only
-- as a keyed hash ("kid:sum"). Times are unix seconds (UTC).
--
-- A population table keyed by account (see 00003): no foreign key.

-- +goose Up
CREATE TABLE captchas (
    account_id  TEXT PRIMARY KEY, -- UUID, lower case
    answer_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- +goose Down
DROP TABLE captchas;
