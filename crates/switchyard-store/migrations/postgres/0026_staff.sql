-- Staff accounts and scoped API tokens (the "staff" issue). A person signs in
-- with an e-mail and a password (an argon2id PHC string; never the password);
-- a token is stored as the SHA-256 of its secret, which is shown once. Role
-- is owner, ops or store; a store role has exactly one location. Disabling a
-- person or revoking a token keeps the row (actions stay attributable).
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'ops', 'store')),
    location TEXT REFERENCES locations (code),
    created_at BIGINT NOT NULL,
    disabled_at BIGINT,
    CHECK ((role = 'store') = (location IS NOT NULL))
);
-- E-mail addresses are unique whatever their case.
CREATE UNIQUE INDEX staff_email ON staff (lower(email));

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'ops', 'store')),
    location TEXT REFERENCES locations (code),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT,
    CHECK ((role = 'store') = (location IS NOT NULL))
);

-- A session opened by a staff member carries them (NULL: the admin token).
ALTER TABLE sessions ADD COLUMN staff_id TEXT REFERENCES staff (id);
CREATE INDEX sessions_staff ON sessions (staff_id);
