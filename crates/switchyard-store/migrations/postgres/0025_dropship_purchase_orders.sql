-- Dropship purchase orders (issue 9, item 0): a vendor's ways of being told
-- (per dropship location; the webhook secret is write-only), the purchase
-- orders made when an order's allocation goes to a dropship location, their
-- lines, and the vendor's links (SHA-256 of each token only).
CREATE TABLE dropship_vendors (
    location TEXT PRIMARY KEY REFERENCES locations (code),
    email TEXT,
    webhook_url TEXT,
    webhook_secret TEXT,
    updated_at BIGINT NOT NULL
);

-- `ship_to` is the order's ship-to as JSON, copied when the purchase order
-- is made (what the vendor was sent). `exception_id` is the
-- `dropship_unconfirmed` exception the sweeper opened for it, if any.
CREATE TABLE purchase_orders (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL REFERENCES orders (id),
    location TEXT NOT NULL REFERENCES locations (code),
    status TEXT NOT NULL,
    ship_to TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    carrier TEXT,
    tracking TEXT,
    exception_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    shipped_at BIGINT,
    cancelled_at BIGINT
);
CREATE INDEX purchase_orders_order ON purchase_orders (order_id, location);
CREATE INDEX purchase_orders_status ON purchase_orders (status, due_at);

CREATE TABLE purchase_order_lines (
    po_id TEXT NOT NULL REFERENCES purchase_orders (id),
    line_no BIGINT NOT NULL,
    sku TEXT NOT NULL,
    title TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (po_id, line_no)
);

CREATE TABLE purchase_order_links (
    token_hash TEXT PRIMARY KEY,
    po_id TEXT NOT NULL REFERENCES purchase_orders (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
