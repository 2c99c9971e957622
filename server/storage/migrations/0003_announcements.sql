-- Announcements join the programme feed, and Web Push gets subscriptions and a durable outbox.

-- SQLite cannot change a CHECK constraint in place: rebuild `entities` with the new kind.
CREATE TABLE entities_new (
    kind TEXT NOT NULL
        CHECK (kind IN ('event', 'room', 'track', 'format', 'speaker', 'session', 'announcement')),
    id TEXT NOT NULL,
    seq INTEGER NOT NULL UNIQUE,
    data TEXT NOT NULL CHECK (json_valid(data)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
INSERT INTO entities_new SELECT kind, id, seq, data, updated_at FROM entities;
DROP TABLE entities;
ALTER TABLE entities_new RENAME TO entities;

-- Every announcement an organiser wrote, including scheduled and retracted ones. Published ones
-- are also in `entities` (kind 'announcement'), which is what attendees see.
CREATE TABLE announcements (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL CHECK (json_valid(data)),
    state TEXT NOT NULL CHECK (state IN ('scheduled', 'published', 'retracted', 'expired')),
    send_at TEXT NOT NULL,            -- when it is (or was) published, ISO 8601 UTC
    expires_at TEXT,                  -- when it leaves the feed, ISO 8601 UTC
    version INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX announcements_due ON announcements (state, send_at);

CREATE TABLE push_subscriptions (
    id INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    attendee_id TEXT REFERENCES attendees (id) ON DELETE CASCADE,
    participation TEXT CHECK (participation IN ('onsite', 'online')),
    alert_sessions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(alert_sessions)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE INDEX push_subscriptions_attendee ON push_subscriptions (attendee_id);

-- One row per message and subscription. A row is claimed ('sending') before its request and
-- settled after, so a restart resumes exactly where the fan-out stopped.
CREATE TABLE push_outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('announcement', 'alert')),
    ref TEXT NOT NULL,                -- announcement id, or session id for alerts
    subscription_id INTEGER NOT NULL, -- no foreign key: a gone subscription still counts in reports
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'gone', 'cancelled')),
    version INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_status INTEGER,
    updated_at TEXT NOT NULL,
    UNIQUE (kind, ref, subscription_id)
) STRICT;

CREATE INDEX push_outbox_due ON push_outbox (state, next_attempt_at);
CREATE INDEX push_outbox_ref ON push_outbox (kind, ref, state);
