-- The outbox's pruning index covers only messages no longer pending, the
-- only ones pruning deletes (as on PostgreSQL, where enqueueing on the
-- booking hot path then writes one index entry less).

-- +goose Up
DROP INDEX outbox_created_at;
CREATE INDEX outbox_done_created_at ON outbox (created_at) WHERE status <> 'pending';

-- +goose Down
DROP INDEX outbox_done_created_at;
CREATE INDEX outbox_created_at ON outbox (created_at);
