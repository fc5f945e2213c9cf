-- The exception queue: what needs a human, with an owner, an SLA and an
-- escalation level; every action on it is logged with who and why.
CREATE TABLE exceptions (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    owner_role TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    level BIGINT NOT NULL,
    sla_ms BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT,
    resolution TEXT,
    note TEXT
);
CREATE INDEX exceptions_open ON exceptions (status, created_at);
CREATE INDEX exceptions_order ON exceptions (order_id);

CREATE TABLE exception_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exception_id TEXT NOT NULL REFERENCES exceptions (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX exception_log_exception ON exception_log (exception_id, id);
