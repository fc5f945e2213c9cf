-- Customer notifications (issue 9, item 7): the customer's e-mail address on
-- an order, editable templates, every delivery of a notification (an e-mail,
-- a webhook call) with its attempts, the customer-facing milestones the
-- status page shows, and the status page's links (hashes of the tokens only).
ALTER TABLE orders ADD COLUMN customer_email TEXT;

-- A merchant's version of an event's template; an event without a row uses
-- the default built into the binary.
CREATE TABLE notification_templates (
    event TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One delivery of one notification to one recipient. `notice` is the outbox
-- message (JSON) it delivers; the outbox row `notification_delivery` that
-- carries `id` does the claiming, retrying and dead-lettering.
CREATE TABLE notification_deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    return_id TEXT,
    notice TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX notification_deliveries_order ON notification_deliveries (order_id, id);
CREATE INDEX notification_deliveries_status ON notification_deliveries (status, id);

-- What the customer's status page shows: one row per notification event,
-- written in the same transaction as the change (never internal notes).
CREATE TABLE customer_milestones (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL REFERENCES orders (id),
    return_id TEXT,
    event TEXT NOT NULL,
    notice TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX customer_milestones_order ON customer_milestones (order_id, seq);

-- Links to the status page: SHA-256 (hex) of a random 256-bit token. The
-- token itself is only ever in the message sent; a new one per delivery.
CREATE TABLE status_links (
    token_hash TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    return_id TEXT,
    created_at INTEGER NOT NULL
);
