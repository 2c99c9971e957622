-- The source of record: a pretalx or frab export Kumpul follows (one at most). Every worker of a server
-- runs the follow loop; the lease columns make one of them pull at a time, whichever claims the row first.
CREATE TABLE source_of_record (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    url TEXT NOT NULL,
    every_seconds INTEGER NOT NULL CHECK (every_seconds >= 10),
    etag TEXT,                      -- the validators of the last file imported, sent back on the next pull
    last_modified TEXT,
    last_pull_at TEXT,
    last_result TEXT CHECK (last_result IN ('imported', 'unchanged', 'failed')),
    last_detail TEXT NOT NULL DEFAULT '',
    last_success_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,   -- failed pulls in a row: the retry waits longer after each
    next_pull_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT
) STRICT;

-- Named schedule versions: the programme as published at that moment, rendered again on request.
CREATE TABLE releases (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    seq INTEGER NOT NULL,               -- the change sequence the release was taken at
    programme TEXT NOT NULL CHECK (json_valid(programme)),   -- the snapshot document
    revisions TEXT NOT NULL CHECK (json_valid(revisions)),   -- {sessionId: [revision, updatedAt]}
    speaker_numbers TEXT NOT NULL CHECK (json_valid(speaker_numbers))
) STRICT;

-- What changed for attendees: sessions added, moved, re-roomed, cancelled or removed, noted by the database
-- on every write of a session whatever made it (console, API, import, the source of record).
-- SQLite-specific: triggers with the ->> JSON operator.
CREATE TABLE programme_changes (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    session_id TEXT NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('added', 'moved', 're-roomed', 'cancelled', 'removed')),
    title TEXT NOT NULL,
    old_start TEXT, old_end TEXT, old_room TEXT,
    new_start TEXT, new_end TEXT, new_room TEXT
) STRICT;

CREATE TRIGGER programme_changes_added AFTER INSERT ON entities
WHEN NEW.kind = 'session'
BEGIN
    INSERT INTO programme_changes (at, session_id, change, title, new_start, new_end, new_room)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ'), NEW.id, 'added', NEW.data ->> '$.title',
            NEW.data ->> '$.start', NEW.data ->> '$.end', NEW.data ->> '$.roomId');
END;

CREATE TRIGGER programme_changes_moved AFTER UPDATE OF data ON entities
WHEN NEW.kind = 'session' AND (OLD.data ->> '$.start' IS NOT NEW.data ->> '$.start'
    OR OLD.data ->> '$.end' IS NOT NEW.data ->> '$.end')
BEGIN
    INSERT INTO programme_changes (at, session_id, change, title, old_start, old_end, old_room, new_start, new_end,
        new_room)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ'), NEW.id, 'moved', NEW.data ->> '$.title',
            OLD.data ->> '$.start', OLD.data ->> '$.end', OLD.data ->> '$.roomId',
            NEW.data ->> '$.start', NEW.data ->> '$.end', NEW.data ->> '$.roomId');
END;

CREATE TRIGGER programme_changes_room AFTER UPDATE OF data ON entities
WHEN NEW.kind = 'session' AND OLD.data ->> '$.roomId' IS NOT NEW.data ->> '$.roomId'
BEGIN
    INSERT INTO programme_changes (at, session_id, change, title, old_start, old_end, old_room, new_start, new_end,
        new_room)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ'), NEW.id, 're-roomed', NEW.data ->> '$.title',
            OLD.data ->> '$.start', OLD.data ->> '$.end', OLD.data ->> '$.roomId',
            NEW.data ->> '$.start', NEW.data ->> '$.end', NEW.data ->> '$.roomId');
END;

CREATE TRIGGER programme_changes_cancelled AFTER UPDATE OF data ON entities
WHEN NEW.kind = 'session' AND NEW.data ->> '$.status' = 'cancelled'
    AND OLD.data ->> '$.status' IS NOT 'cancelled'
BEGIN
    INSERT INTO programme_changes (at, session_id, change, title, old_start, old_end, old_room)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ'), NEW.id, 'cancelled', NEW.data ->> '$.title',
            OLD.data ->> '$.start', OLD.data ->> '$.end', OLD.data ->> '$.roomId');
END;

CREATE TRIGGER programme_changes_removed AFTER DELETE ON entities
WHEN OLD.kind = 'session'
BEGIN
    INSERT INTO programme_changes (at, session_id, change, title, old_start, old_end, old_room)
    VALUES (strftime('%Y-%m-%dT%H:%M:%fZ'), OLD.id, 'removed', OLD.data ->> '$.title',
            OLD.data ->> '$.start', OLD.data ->> '$.end', OLD.data ->> '$.roomId');
END;
