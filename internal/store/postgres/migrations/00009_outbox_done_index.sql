-- The outbox's pruning index covers only messages no longer pending, the
-- only ones pruning deletes (DELETE … WHERE status <> 'pending' AND
-- created_at < $1). A message enters it when it is sent or fails, an
-- update that writes index entries anyway (status is in the due index's
-- predicate, so the update is never HOT); enqueueing, on the booking hot
-- path, writes one index entry less.

-- +goose Up
DROP INDEX outbox_created_at_idx;
CREATE INDEX outbox_done_created_at_idx ON outbox (created_at) WHERE status <> 'pending';

-- +goose Down
DROP INDEX outbox_done_created_at_idx;
CREATE INDEX outbox_created_at_idx ON outbox (created_at);
