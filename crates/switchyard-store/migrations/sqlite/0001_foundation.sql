-- Foundation schema (SQLite). Keep equivalent to ../postgres/0001_foundation.sql.
CREATE TABLE locations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('store', 'warehouse', 'dropship')),
    line1 TEXT NOT NULL,
    city TEXT NOT NULL,
    region TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    country TEXT NOT NULL,
    lat REAL,
    lon REAL,
    can_ship INTEGER NOT NULL,
    can_pickup INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    active INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE skus (
    sku TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    is_bundle INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE sku_components (
    bundle_sku TEXT NOT NULL REFERENCES skus (sku),
    component_sku TEXT NOT NULL REFERENCES skus (sku),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (bundle_sku, component_sku)
);

-- The zero-oversell invariant is also a constraint: a bug elsewhere fails the
-- transaction instead of corrupting stock.
CREATE TABLE stock (
    sku TEXT NOT NULL REFERENCES skus (sku),
    location TEXT NOT NULL REFERENCES locations (code),
    on_hand INTEGER NOT NULL,
    reserved INTEGER NOT NULL,
    safety_stock INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (sku, location),
    CHECK (reserved >= 0 AND reserved <= on_hand AND safety_stock >= 0)
);

CREATE TABLE stock_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    kind TEXT NOT NULL,
    on_hand_delta INTEGER NOT NULL,
    reserved_delta INTEGER NOT NULL,
    safety_stock_delta INTEGER NOT NULL,
    reason TEXT NOT NULL,
    order_id TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX stock_ledger_key ON stock_ledger (sku, location);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    payment TEXT NOT NULL,
    service_level TEXT NOT NULL,
    pickup_location TEXT,
    ship_to TEXT NOT NULL,
    reservation_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX orders_status ON orders (status, id);
CREATE INDEX orders_channel ON orders (channel, id);
CREATE INDEX orders_expiry ON orders (reservation_expires_at) WHERE reservation_expires_at IS NOT NULL;

CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders (id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    backordered INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- Line units allocated to a location; shipped and released count down what
-- is still held.
CREATE TABLE allocations (
    order_id TEXT NOT NULL REFERENCES orders (id),
    line_no INTEGER NOT NULL,
    location TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    shipped INTEGER NOT NULL,
    released INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no, location),
    CHECK (shipped >= 0 AND released >= 0 AND shipped + released <= quantity)
);

-- Stock-holding units behind each allocation (a bundle holds its components).
CREATE TABLE reservations (
    order_id TEXT NOT NULL REFERENCES orders (id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    per_unit INTEGER NOT NULL,
    held INTEGER NOT NULL CHECK (held >= 0),
    PRIMARY KEY (order_id, line_no, sku, location)
);
CREATE INDEX reservations_key ON reservations (sku, location);

CREATE TABLE order_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL REFERENCES orders (id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);

CREATE TABLE shipments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    location TEXT NOT NULL,
    carrier TEXT,
    tracking TEXT,
    lines TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX shipments_order ON shipments (order_id);

-- Written in the same transaction as every stock change; channel adapters
-- drain it to push available-to-promise.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL;
