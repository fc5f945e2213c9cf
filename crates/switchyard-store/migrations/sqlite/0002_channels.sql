-- Channels: a name plus settings. Orders register their channel on arrival.
CREATE TABLE channels (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    settings TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO channels (name, display_name, settings, active, created_at)
SELECT DISTINCT channel, channel, '{}', 1, 0 FROM orders;
