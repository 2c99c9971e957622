-- The organiser console and the schedule exports.

-- Organisers sign in to the console with a password (argon2 hash). A one-time password from
-- `kumpul organiser add` must be replaced on first sign-in.
ALTER TABLE organisers ADD COLUMN password_hash TEXT;
ALTER TABLE organisers ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));

-- Console sign-ins: the cookie's token stored hashed, with the CSRF token its requests must echo.
CREATE TABLE console_sessions (
    token_hash BLOB PRIMARY KEY,
    organiser_id INTEGER NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

CREATE INDEX console_sessions_organiser ON console_sessions (organiser_id);

-- Who changed what, when: the console's history view.
CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,        -- created, updated, cancelled, deleted, imported, announced, ...
    kind TEXT NOT NULL,          -- session, speaker, room, track, format, event, announcement, organiser, programme
    entity_id TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT ''
) STRICT;

-- How often each entity was changed: iCalendar's SEQUENCE, so calendars pick up moves.
ALTER TABLE entities ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- An attendee's agenda as a calendar feed at a secret URL; the key is stored hashed.
ALTER TABLE attendees ADD COLUMN calendar_key_hash BLOB;
CREATE UNIQUE INDEX attendees_calendar_key ON attendees (calendar_key_hash) WHERE calendar_key_hash IS NOT NULL;
