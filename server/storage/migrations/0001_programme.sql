-- The programme: every entity of every kind in one versioned store, so the change feed is one
-- indexed query. `seq` is the global change sequence of the row's last change.
CREATE TABLE feed_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,          -- random per database: a cursor from another database is stale
    seq INTEGER NOT NULL,         -- last change sequence handed out
    floor INTEGER NOT NULL        -- highest seq of a purged tombstone; older cursors get 410
) STRICT;

INSERT INTO feed_state (id, epoch, seq, floor) VALUES (1, lower(hex(randomblob(6))), 0, 0);

CREATE TABLE entities (
    kind TEXT NOT NULL CHECK (kind IN ('event', 'room', 'track', 'format', 'speaker', 'session')),
    id TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE,
    data TEXT NOT NULL CHECK (json_valid(data)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;

-- Deletions stay visible to the change feed until they are older than the retention period.
CREATE TABLE tombstones (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE,
    deleted_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;

CREATE INDEX tombstones_deleted_at ON tombstones (deleted_at);

CREATE TABLE organisers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'announcer')),
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;
