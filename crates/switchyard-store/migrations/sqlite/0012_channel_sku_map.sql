-- Per connection: the channel's SKU (or `variant:<id>`, `listing:<id>`,
-- `asin:<ASIN>` ...) → our SKU. Lines arriving from the channel are
-- translated through it before the core's intake sees them.
CREATE TABLE channel_skus (
    channel TEXT NOT NULL,
    channel_sku TEXT NOT NULL,
    sku TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (channel, channel_sku)
);
