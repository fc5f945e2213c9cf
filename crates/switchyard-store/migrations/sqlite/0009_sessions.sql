-- Dashboard sessions, kept server-side so that signing out (or changing the
-- admin token) ends them. Only a hash of the browser's random session id is
-- stored; `binding` ties the session to the admin token it was opened with.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    binding TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
