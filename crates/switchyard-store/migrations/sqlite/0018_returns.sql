-- Returns (issue 9): return policy versions (like routing_policies: every
-- saved version kept, at most one active; none active means the built-in
-- default), the returns with their decision, their lines, what was received
-- and in which grade, and each return's timeline.
CREATE TABLE return_policies (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    is_active INTEGER NOT NULL,
    activated_at INTEGER,
    activated_by TEXT
);
CREATE UNIQUE INDEX return_policies_one_active ON return_policies (is_active) WHERE is_active = 1;

-- One return of (part of) an order. `rma` is set when the return is
-- authorized (RMA-YYMMDD-NNNN, counted per UTC day in return_rma_days).
-- The decision is the core's ReturnDecision as JSON; the amounts beside it
-- are its money in minor units of `currency`, for reports.
CREATE TABLE returns (
    id TEXT PRIMARY KEY,
    rma TEXT UNIQUE,
    order_id TEXT NOT NULL REFERENCES orders (id),
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_text TEXT NOT NULL,
    item_condition TEXT,
    outcome TEXT NOT NULL,
    explanation TEXT NOT NULL,
    decision TEXT NOT NULL,
    policy_version INTEGER,
    currency TEXT NOT NULL,
    subtotal INTEGER NOT NULL,
    restocking_fee INTEGER NOT NULL,
    shipping_fee INTEGER NOT NULL,
    refund INTEGER NOT NULL,
    refund_method TEXT NOT NULL,
    shipping_paid_by TEXT NOT NULL,
    refunded INTEGER,
    refunded_at INTEGER,
    destination TEXT NOT NULL,
    exception_id TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX returns_order ON returns (order_id);
CREATE INDEX returns_status ON returns (status, id);
CREATE INDEX returns_exception ON returns (exception_id);

-- The order lines a return takes back, and how many of each arrived.
CREATE TABLE return_lines (
    return_id TEXT NOT NULL REFERENCES returns (id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    received INTEGER NOT NULL,
    PRIMARY KEY (return_id, line_no),
    CHECK (received >= 0 AND received <= quantity)
);

-- Units received per line and grade, with their disposition and where
-- they were received (a line may come back partly resellable, partly
-- damaged).
CREATE TABLE return_receipts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    return_id TEXT NOT NULL REFERENCES returns (id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    grade TEXT NOT NULL,
    disposition TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    location TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX return_receipts_return ON return_receipts (return_id, id);

-- Each return's timeline: every transition, with who acted.
CREATE TABLE return_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    return_id TEXT NOT NULL REFERENCES returns (id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX return_events_return ON return_events (return_id, id);

-- RMA numbers handed out per UTC day (YYYY-MM-DD).
CREATE TABLE return_rma_days (
    day TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
