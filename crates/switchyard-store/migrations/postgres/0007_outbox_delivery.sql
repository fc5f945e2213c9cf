-- The outbox becomes a work queue: consumers claim rows (a lease), then
-- acknowledge them or fail them with a next attempt time; rows that keep
-- failing are dead-lettered. Messages with the same coalescing key for the
-- same destination replace each other (only the newest stock level is sent).
ALTER TABLE outbox ADD COLUMN destination TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN coalesce_key TEXT;
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
ALTER TABLE outbox ADD COLUMN dead_at BIGINT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_ready ON outbox (topic, next_attempt_at, id) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_coalesce ON outbox (coalesce_key, destination, id)
    WHERE delivered_at IS NULL AND coalesce_key IS NOT NULL;
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
