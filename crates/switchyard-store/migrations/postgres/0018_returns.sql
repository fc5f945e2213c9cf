-- Returns (issue 9): return policy versions (like routing_policies: every
-- saved version kept, at most one active; none active means the built-in
-- default), the returns with their decision, their lines, what was received
-- and in which grade, and each return's timeline.
CREATE TABLE return_policies (
    version BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    body TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    is_active BOOLEAN NOT NULL,
    activated_at BIGINT,
    activated_by TEXT
);
CREATE UNIQUE INDEX return_policies_one_active ON return_policies (is_active) WHERE is_active;

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
    policy_version BIGINT,
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    restocking_fee BIGINT NOT NULL,
    shipping_fee BIGINT NOT NULL,
    refund BIGINT NOT NULL,
    refund_method TEXT NOT NULL,
    shipping_paid_by TEXT NOT NULL,
    refunded BIGINT,
    refunded_at BIGINT,
    destination TEXT NOT NULL,
    exception_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX returns_order ON returns (order_id);
CREATE INDEX returns_status ON returns (status, id);
CREATE INDEX returns_exception ON returns (exception_id);

-- The order lines a return takes back, and how many of each arrived.
CREATE TABLE return_lines (
    return_id TEXT NOT NULL REFERENCES returns (id),
    line_no BIGINT NOT NULL,
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price BIGINT NOT NULL,
    received BIGINT NOT NULL,
    PRIMARY KEY (return_id, line_no),
    CHECK (received >= 0 AND received <= quantity)
);

-- Units received per line and grade, with their disposition and where
-- they were received (a line may come back partly resellable, partly
-- damaged).
CREATE TABLE return_receipts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    return_id TEXT NOT NULL REFERENCES returns (id),
    line_no BIGINT NOT NULL,
    sku TEXT NOT NULL,
    grade TEXT NOT NULL,
    disposition TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    location TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX return_receipts_return ON return_receipts (return_id, id);

-- Each return's timeline: every transition, with who acted.
CREATE TABLE return_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    return_id TEXT NOT NULL REFERENCES returns (id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX return_events_return ON return_events (return_id, id);

-- RMA numbers handed out per UTC day (YYYY-MM-DD).
CREATE TABLE return_rma_days (
    day TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);
