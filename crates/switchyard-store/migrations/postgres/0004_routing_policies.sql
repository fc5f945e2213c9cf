-- Routing policies as data: every saved version is kept; one is active, one
-- may run in shadow. Every decision records the version it used.
CREATE TABLE routing_policies (
    version BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    body TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    is_active BOOLEAN NOT NULL,
    is_shadow BOOLEAN NOT NULL,
    activated_at BIGINT
);
CREATE UNIQUE INDEX routing_policies_one_active ON routing_policies (is_active) WHERE is_active;
CREATE UNIQUE INDEX routing_policies_one_shadow ON routing_policies (is_shadow) WHERE is_shadow;

-- Who activated, rolled back or shadowed what, and when.
CREATE TABLE routing_policy_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version BIGINT,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);

-- Each routing decision: the policy version it used (NULL: the built-in
-- default), whether it was a shadow decision, and its explanation.
CREATE TABLE routing_decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    policy_version BIGINT,
    shadow BOOLEAN NOT NULL,
    outcome TEXT NOT NULL,
    explanation TEXT NOT NULL,
    trace TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX routing_decisions_order ON routing_decisions (order_id, id);
