-- Room status, set live by door staff: open, filling up, full, closed, or an emergency message.

-- The `volunteer` role (door staff). SQLite cannot change a CHECK constraint in place, so the organisers table
-- is rebuilt, and with it the two tables that refer to it (dropping the old parent first would cascade-delete
-- their rows). The new tables refer to organisers_next; renaming it rewrites those references.
CREATE TABLE organisers_next (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'announcer', 'volunteer')),
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    password_hash TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    token_issued_at TEXT,
    token_last_used_at TEXT
) STRICT;

INSERT INTO organisers_next (id, name, role, token_hash, created_at, password_hash, must_change_password,
                             token_issued_at, token_last_used_at)
SELECT id, name, role, token_hash, created_at, password_hash, must_change_password, token_issued_at,
       token_last_used_at
FROM organisers;

CREATE TABLE console_sessions_next (
    token_hash BLOB PRIMARY KEY,
    organiser_id INTEGER NOT NULL REFERENCES organisers_next (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

INSERT INTO console_sessions_next SELECT token_hash, organiser_id, csrf_token, created_at, expires_at
FROM console_sessions;

CREATE TABLE console_devices_next (
    token_hash BLOB PRIMARY KEY,
    organiser_id INTEGER NOT NULL REFERENCES organisers_next (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL
) STRICT;

INSERT INTO console_devices_next SELECT token_hash, organiser_id, created_at, last_used_at FROM console_devices;

DROP TABLE console_sessions;
DROP TABLE console_devices;
DROP TABLE organisers;
ALTER TABLE organisers_next RENAME TO organisers;
ALTER TABLE console_sessions_next RENAME TO console_sessions;
ALTER TABLE console_devices_next RENAME TO console_devices;
CREATE INDEX console_sessions_organiser ON console_sessions (organiser_id);
CREATE INDEX console_devices_organiser ON console_devices (organiser_id, last_used_at);

-- One row per room that has had a status: the newest one. `until` is when it lapses by itself (the end of the
-- session running in the room when it was set, or a stated time); readers ignore lapsed rows. `rev` grows with
-- every change, so each server process notices others' changes by reading max(rev).
CREATE TABLE room_status (
    room_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('open', 'filling', 'full', 'closed', 'emergency')),
    message TEXT NOT NULL DEFAULT '' CHECK (length(message) <= 280),
    set_at TEXT NOT NULL,
    until TEXT NOT NULL,
    set_by TEXT NOT NULL,
    rev INTEGER NOT NULL UNIQUE
) STRICT;
