-- Orders the marketplace fulfils from its own stock (Amazon FBA, eBay's
-- own fulfilment): recorded for reporting, never routed or reserved.
CREATE TABLE marketplace_orders (
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    units BIGINT NOT NULL,
    lines TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (channel, external_id)
);
