-- Exceptions about a channel connection rather than an order (stock levels
-- the channel never accepted): `order_id` becomes optional and `channel`
-- names the connection; every exception names one or the other.
-- SQLite cannot drop NOT NULL in place, so both tables are rebuilt; the
-- log is dropped before the table it references, so no foreign key ever
-- points at a dropped table, and the rename carries the new log's
-- reference over to the new name.
CREATE TABLE exceptions_new (
    id TEXT PRIMARY KEY,
    order_id TEXT REFERENCES orders (id),
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    owner_role TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    level INTEGER NOT NULL,
    sla_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by TEXT,
    resolution TEXT,
    note TEXT,
    channel TEXT,
    CHECK (order_id IS NOT NULL OR channel IS NOT NULL)
);
INSERT INTO exceptions_new (id, order_id, kind, severity, owner_role, status, message, level, sla_ms, created_at,
                            resolved_at, resolved_by, resolution, note)
SELECT id, order_id, kind, severity, owner_role, status, message, level, sla_ms, created_at,
       resolved_at, resolved_by, resolution, note FROM exceptions;

CREATE TABLE exception_log_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exception_id TEXT NOT NULL REFERENCES exceptions_new (id),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL
);
INSERT INTO exception_log_new (id, exception_id, at, actor, action, note)
SELECT id, exception_id, at, actor, action, note FROM exception_log;

DROP TABLE exception_log;
DROP TABLE exceptions;
ALTER TABLE exceptions_new RENAME TO exceptions;
ALTER TABLE exception_log_new RENAME TO exception_log;

CREATE INDEX exceptions_open ON exceptions (status, created_at);
CREATE INDEX exceptions_order ON exceptions (order_id);
CREATE INDEX exceptions_channel ON exceptions (channel, status);
CREATE INDEX exception_log_exception ON exception_log (exception_id, id);
