-- Channels become connections: the platform they speak to, and a webhook
-- secret (write-only: never returned by the API, never logged).
ALTER TABLE channels ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
ALTER TABLE channels ADD COLUMN webhook_secret TEXT;

-- Webhook deliveries already handled, by the platform's delivery id, so a
-- repeated delivery is answered without being applied again.
CREATE TABLE channel_deliveries (
    channel TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (channel, delivery_id)
);
