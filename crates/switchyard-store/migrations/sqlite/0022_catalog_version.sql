-- One counter that every change to what routing reads about the shop —
-- locations and which routing policies are active or shadow — moves forward,
-- in the same transaction as the change. Order intake reads it (one tiny
-- row) instead of every location and the policy rows, and reuses what it
-- read last while the counter has not moved: per process, so several
-- processes sharing one PostgreSQL database each see the others' changes.
CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
