-- Connections push stock out: a sync mode (import_only until the shop goes
-- live), the SKUs whose listings we control (a JSON list; empty: all), a
-- base URL replacing the platform's hosts (stand-ins), and the platform's
-- credentials (JSON; write-only: never returned by the API, never logged).
ALTER TABLE channels ADD COLUMN mode TEXT NOT NULL DEFAULT 'import_only';
ALTER TABLE channels ADD COLUMN sku_scope TEXT NOT NULL DEFAULT '[]';
ALTER TABLE channels ADD COLUMN base_url TEXT;
ALTER TABLE channels ADD COLUMN credentials TEXT;

-- The platform's id of the listing a channel SKU is sold as, where the
-- platform needs one to set stock (Shopify inventory item, WooCommerce
-- product, Etsy listing).
ALTER TABLE channel_skus ADD COLUMN listing TEXT;

-- The level each connection should show for each SKU (coalesced: only the
-- newest is ever sent) and the one it last acknowledged. A row is due while
-- changed_at is set: the first change since the last acknowledgement, from
-- which the sync lag is measured.
CREATE TABLE channel_stock (
    channel TEXT NOT NULL,
    sku TEXT NOT NULL,
    wanted BIGINT NOT NULL,
    version BIGINT NOT NULL,
    changed_at BIGINT,
    sent BIGINT,
    sent_at BIGINT,
    failures BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    dead_at BIGINT,
    PRIMARY KEY (channel, sku)
);
CREATE INDEX channel_stock_due ON channel_stock (channel, next_attempt_at)
    WHERE changed_at IS NOT NULL AND dead_at IS NULL;

-- Every request sent to a connection and how it went (recent errors), and
-- the lag of every level acknowledged (p50/p95).
CREATE TABLE channel_sync_log (
    id BIGSERIAL PRIMARY KEY,
    channel TEXT NOT NULL,
    at BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    items BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    http_status BIGINT,
    error TEXT
);
CREATE INDEX channel_sync_log_channel ON channel_sync_log (channel, id);
CREATE TABLE channel_lag (
    channel TEXT NOT NULL,
    acked_at BIGINT NOT NULL,
    lag_ms BIGINT NOT NULL
);
CREATE INDEX channel_lag_channel ON channel_lag (channel, acked_at);

-- Access tokens from a platform's token endpoint, and the refresh token
-- when the platform rotates it (Etsy).
CREATE TABLE channel_tokens (
    channel TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    refresh_token TEXT
);

-- Where each polled connection resumes: the platform's own timestamp of the
-- newest change taken in.
CREATE TABLE channel_polls (
    channel TEXT PRIMARY KEY,
    checkpoint TEXT,
    polled_at BIGINT,
    failures BIGINT NOT NULL DEFAULT 0,
    next_poll_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
