-- What a channel is told it may sell: available less a buffer (units, then
-- a percentage), optionally capped at a share.
ALTER TABLE channels ADD COLUMN buffer_units BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN buffer_percent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN max_share_percent BIGINT;
