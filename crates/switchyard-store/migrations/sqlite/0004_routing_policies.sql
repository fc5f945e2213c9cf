-- Routing policies as data: every saved version is kept; one is active, one
-- may run in shadow. Every decision records the version it used.
CREATE TABLE routing_policies (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    is_active INTEGER NOT NULL,
    is_shadow INTEGER NOT NULL,
    activated_at INTEGER
);
CREATE UNIQUE INDEX routing_policies_one_active ON routing_policies (is_active) WHERE is_active = 1;
CREATE UNIQUE INDEX routing_policies_one_shadow ON routing_policies (is_shadow) WHERE is_shadow = 1;

-- Who activated, rolled back or shadowed what, and when.
CREATE TABLE routing_policy_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version INTEGER,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);

-- Each routing decision: the policy version it used (NULL: the built-in
-- default), whether it was a shadow decision, and its explanation.
CREATE TABLE routing_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL REFERENCES orders (id),
    policy_version INTEGER,
    shadow INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    explanation TEXT NOT NULL,
    trace TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX routing_decisions_order ON routing_decisions (order_id, id);
