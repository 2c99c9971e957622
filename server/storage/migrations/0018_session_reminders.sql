-- Reminders before bookmarked sessions: a device says how many minutes ahead it wants them (NULL: off),
-- and the push outbox gets a third kind of message, 'reminder' (ref: the session id).
ALTER TABLE push_subscriptions ADD COLUMN reminder_minutes INTEGER
    CHECK (reminder_minutes IS NULL OR reminder_minutes IN (5, 10, 15, 30));

-- SQLite cannot change a CHECK constraint in place: rebuild `push_outbox` with the new kind, and the state
-- 'merged' (a change alert said by the reminder that went out instead of it).
CREATE TABLE push_outbox_new (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('announcement', 'alert', 'reminder')),
    ref TEXT NOT NULL,                -- announcement id, or session id for alerts and reminders
    subscription_id INTEGER NOT NULL, -- no foreign key: a gone subscription still counts in reports
    state TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'gone', 'cancelled', 'merged')),
    version INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_status INTEGER,
    updated_at TEXT NOT NULL,
    lang TEXT,
    UNIQUE (kind, ref, subscription_id)
) STRICT;
INSERT INTO push_outbox_new
    (id, kind, ref, subscription_id, state, version, attempts, next_attempt_at, last_status, updated_at, lang)
    SELECT id, kind, ref, subscription_id, state, version, attempts, next_attempt_at, last_status, updated_at, lang
    FROM push_outbox;
DROP TABLE push_outbox;
ALTER TABLE push_outbox_new RENAME TO push_outbox;
CREATE INDEX push_outbox_due ON push_outbox (state, next_attempt_at);
CREATE INDEX push_outbox_ref ON push_outbox (kind, ref, state);
-- The scheduler looks for devices with reminders on only.
CREATE INDEX push_subscriptions_reminders ON push_subscriptions (reminder_minutes) WHERE reminder_minutes IS NOT NULL;
-- A device may follow its bookmarks for reminders only: change alerts stay on for every device made before.
ALTER TABLE push_subscriptions ADD COLUMN change_alerts INTEGER NOT NULL DEFAULT 1 CHECK (change_alerts IN (0, 1));
