-- The PostgreSQL schema as the SQLite migrations 0001-0018 leave it, in one step: the same tables, columns (names
-- and order), constraints, indexes and triggers, so the same statements run on either engine.
--
-- Conventions: SQLite INTEGER is BIGINT, and a rowid the database numbers is an identity column; BLOB is BYTEA,
-- REAL is DOUBLE PRECISION. Times stay text in the form SQLite's strftime writes, YYYY-MM-DDTHH:MM:SS.sssZ, so they
-- compare as strings; JSON stays text; booleans stay 0/1. The file holds no percent sign or question mark, so a
-- driver looking for placeholders leaves it as it is.

-- The current UTC time in that form.
CREATE FUNCTION kumpul_now() RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The current UTC time moved by `seconds`, in that form (SQLite: strftime with the modifier '+N seconds').
CREATE FUNCTION kumpul_now(seconds double precision) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT to_char((clock_timestamp() + make_interval(secs => seconds)) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- SQLite's json_valid: whether the text is a JSON document that jsonb can hold, as the triggers read it. Unlike
-- SQLite it refuses the escapes \u0000 and a lone surrogate (\ud800), and allows nesting deeper than 1000.
CREATE FUNCTION kumpul_json_valid(document text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    PERFORM document::jsonb;
    RETURN true;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    RETURN false;
END
$$;

-- How private a speaker or session is (migration 0005): 1 for an anonymous speaker; 1 for a session that is not
-- recorded, 2 for one off the record. As in SQLite, `anonymous` counts when it is true or the number 1.
CREATE FUNCTION kumpul_privacy_level(kind text, data text) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN kind = 'speaker' AND (data::jsonb -> 'anonymous') IN ('true'::jsonb, '1'::jsonb) THEN 1
        WHEN kind = 'session' AND data::jsonb ->> 'recording' = 'off-the-record' THEN 2
        WHEN kind = 'session' AND data::jsonb ->> 'recording' = 'no-recording' THEN 1
        ELSE 0 END::bigint
$$;

-- The programme: every entity of every kind in one versioned store, so the change feed is one
-- indexed query. `seq` is the global change sequence of the row's last change.
CREATE TABLE feed_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,          -- random per database: a cursor from another database is stale
    seq BIGINT NOT NULL,          -- last change sequence handed out
    floor BIGINT NOT NULL         -- highest seq of a purged tombstone; older cursors get 410
);

-- Deletions stay visible to the change feed until they are older than the retention period.
CREATE TABLE tombstones (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    deleted_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE INDEX tombstones_deleted_at ON tombstones (deleted_at);

-- Anonymous attendees and their private documents. Nothing here identifies a person: an attendee is a random id
-- with device tokens. `calendar_key_hash`: the key of the agenda's calendar feed, hashed. `key_id`: the current
-- notebook key (0: none yet); `keyring`: the older keys, encrypted under the current one by a device.
-- `calendar_lang`: the language of the agenda feed (NULL: the event's main language).
CREATE TABLE attendees (
    id TEXT PRIMARY KEY,
    participation TEXT CHECK (participation IN ('onsite', 'online')),
    language TEXT,
    doc_seq BIGINT NOT NULL DEFAULT 0,    -- last change sequence of this attendee's documents
    created_at TEXT NOT NULL,
    calendar_key_hash BYTEA,
    key_id BIGINT NOT NULL DEFAULT 0,
    keyring BYTEA,
    calendar_lang TEXT
);

-- One token per linked device, stored as a SHA-256 hash. `device_id` is public (shown in the list of linked
-- devices), unlike the token; `public_key` receives a rotated notebook key, `proof` ties it to the notebook key.
CREATE TABLE attendee_tokens (
    token_hash BYTEA PRIMARY KEY,
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    device_id TEXT,
    name TEXT,
    public_key BYTEA,
    proof BYTEA,
    last_seen_at TEXT
);

CREATE INDEX attendee_tokens_attendee ON attendee_tokens (attendee_id);
-- Also the key wrapped_keys refers to.
CREATE UNIQUE INDEX attendee_tokens_device ON attendee_tokens (device_id);

-- Codes that link a new device to an attendee: single use, short-lived, stored hashed.
CREATE TABLE link_codes (
    code_hash BYTEA PRIMARY KEY,
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE INDEX link_codes_attendee ON link_codes (attendee_id);

-- Each document's merged state as one Yjs update (which is also its compacted history).
CREATE TABLE documents (
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    state BYTEA NOT NULL,
    seq BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (attendee_id, doc_id)
);

CREATE INDEX documents_changed ON documents (attendee_id, seq);

-- `revision`: how often the entity was changed, iCalendar's SEQUENCE.
CREATE TABLE entities (
    kind TEXT NOT NULL
        CHECK (kind IN ('event', 'room', 'track', 'format', 'speaker', 'session', 'announcement')),
    id TEXT NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    data TEXT NOT NULL CHECK (kumpul_json_valid(data)),
    updated_at TEXT NOT NULL,
    revision BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, id)
);

-- Every announcement an organiser wrote, including scheduled and retracted ones. Published ones
-- are also in `entities` (kind 'announcement'), which is what attendees see.
CREATE TABLE announcements (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL CHECK (kumpul_json_valid(data)),
    state TEXT NOT NULL CHECK (state IN ('scheduled', 'published', 'retracted', 'expired')),
    send_at TEXT NOT NULL,            -- when it is (or was) published, ISO 8601 UTC
    expires_at TEXT,                  -- when it leaves the feed, ISO 8601 UTC
    version BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE INDEX announcements_due ON announcements (state, send_at);

-- `lang`: the language the device's attendee reads; `reminder_minutes`: how long before bookmarked sessions the
-- device wants reminders (NULL: off); `change_alerts`: 0 for a device that follows its bookmarks for reminders only.
CREATE TABLE push_subscriptions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    attendee_id TEXT REFERENCES attendees (id) ON DELETE CASCADE,
    participation TEXT CHECK (participation IN ('onsite', 'online')),
    alert_sessions TEXT NOT NULL DEFAULT '[]' CHECK (kumpul_json_valid(alert_sessions)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    lang TEXT CHECK (lang IS NULL OR length(lang) BETWEEN 2 AND 35),
    reminder_minutes BIGINT CHECK (reminder_minutes IS NULL OR reminder_minutes IN (5, 10, 15, 30)),
    change_alerts BIGINT NOT NULL DEFAULT 1 CHECK (change_alerts IN (0, 1))
);

CREATE INDEX push_subscriptions_attendee ON push_subscriptions (attendee_id);
-- The scheduler looks for devices with reminders on only.
CREATE INDEX push_subscriptions_reminders ON push_subscriptions (reminder_minutes) WHERE reminder_minutes IS NOT NULL;

-- Who changed what, when: the console's history view.
CREATE TABLE history (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,        -- created, updated, cancelled, deleted, imported, announced, ...
    kind TEXT NOT NULL,          -- session, speaker, room, track, format, event, announcement, organiser, programme
    entity_id TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT ''
);

-- An attendee's agenda as a calendar feed at a secret URL; the key is stored hashed.
CREATE UNIQUE INDEX attendees_calendar_key ON attendees (calendar_key_hash) WHERE calendar_key_hash IS NOT NULL;

-- Anonymity and recording policies only tighten as a side effect of a write.
--
-- A floor per speaker and session: 1 for an anonymous speaker; 1 for a session that is not recorded,
-- 2 for one off the record. Every write of an entity raises its floor to the entity's level, and
-- the floor stays when the entity is deleted, so a stale file cannot bring a speaker back under
-- their former name. A write below the floor is refused by the database itself; only the admin
-- actions that reveal a speaker or loosen a recording policy lower a floor, in the same transaction.
CREATE TABLE privacy_floors (
    kind TEXT NOT NULL CHECK (kind IN ('speaker', 'session')),
    id TEXT NOT NULL,
    level BIGINT NOT NULL CHECK (level > 0),
    PRIMARY KEY (kind, id)
);

CREATE VIEW entity_privacy_levels AS
SELECT kind, id, kumpul_privacy_level(kind, data) AS level
FROM entities;

-- frab clients (ConfClerk, schedule-convert) key people on an integer id. Each speaker gets one, drawn at
-- random when the speaker is first stored: never derived from a name (an anonymous speaker's id may have
-- been made from the name they no longer use), never the order in which speakers were added, and kept when
-- the speaker is deleted so a speaker stored again under the same id keeps their number.
CREATE TABLE speaker_numbers (
    number BIGINT PRIMARY KEY CHECK (number BETWEEN 1000 AND 2147483647),
    id TEXT NOT NULL UNIQUE
);

-- The current notebook key, wrapped by one device for another device's public key.
CREATE TABLE wrapped_keys (
    device_id TEXT PRIMARY KEY REFERENCES attendee_tokens (device_id) ON DELETE CASCADE,
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    key_id BIGINT NOT NULL,
    wrapped BYTEA NOT NULL
);

CREATE INDEX wrapped_keys_attendee ON wrapped_keys (attendee_id);

-- Encrypted documents: an ordered log of frames per document. A snapshot at version v stands for every entry up
-- to v (the entries it replaced are deleted). `seq` is the attendee's document sequence, shared with `documents`,
-- so one cursor names what a device has seen of both.
CREATE TABLE doc_log (
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    snapshot BIGINT NOT NULL CHECK (snapshot IN (0, 1)),
    frame BYTEA NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (attendee_id, doc_id, version)
);

CREATE INDEX doc_log_changed ON doc_log (attendee_id, seq);

-- The source of record: a pretalx or frab export Kumpul follows (one at most). Every worker of a server
-- runs the follow loop; the lease columns make one of them pull at a time, whichever claims the row first.
CREATE TABLE source_of_record (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    url TEXT NOT NULL,
    every_seconds BIGINT NOT NULL CHECK (every_seconds >= 10),
    etag TEXT,                      -- the validators of the last file imported, sent back on the next pull
    last_modified TEXT,
    last_pull_at TEXT,
    last_result TEXT CHECK (last_result IN ('imported', 'unchanged', 'failed')),
    last_detail TEXT NOT NULL DEFAULT '',
    last_success_at TEXT,
    failures BIGINT NOT NULL DEFAULT 0,    -- failed pulls in a row: the retry waits longer after each
    next_pull_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT
);

-- Named schedule versions: the programme as published at that moment, rendered again on request.
CREATE TABLE releases (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    seq BIGINT NOT NULL,                -- the change sequence the release was taken at
    programme TEXT NOT NULL CHECK (kumpul_json_valid(programme)),   -- the snapshot document
    revisions TEXT NOT NULL CHECK (kumpul_json_valid(revisions)),   -- {sessionId: [revision, updatedAt]}
    speaker_numbers TEXT NOT NULL CHECK (kumpul_json_valid(speaker_numbers))
);

-- What changed for attendees: sessions added, moved, re-roomed, cancelled or removed, noted by the database
-- on every write of a session whatever made it (console, API, import, the source of record).
CREATE TABLE programme_changes (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at TEXT NOT NULL,
    session_id TEXT NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('added', 'moved', 're-roomed', 'cancelled', 'removed')),
    title TEXT NOT NULL,
    old_start TEXT, old_end TEXT, old_room TEXT,
    new_start TEXT, new_end TEXT, new_room TEXT
);

-- Organisers sign in to the console with a password (argon2 hash); a one-time password from
-- `kumpul organiser add` must be replaced on first sign-in. `token_issued_at`: when the current API token was
-- issued, NULL once it is revoked; `token_last_used_at`: written at most once a minute per token.
CREATE TABLE organisers (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'announcer', 'volunteer')),
    token_hash BYTEA NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    password_hash TEXT,
    must_change_password BIGINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    token_issued_at TEXT,
    token_last_used_at TEXT
);

-- Console sign-ins: the cookie's token stored hashed, with the CSRF token its requests must echo.
CREATE TABLE console_sessions (
    token_hash BYTEA PRIMARY KEY,
    organiser_id BIGINT NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- A browser that signed in to the console: the random token of its long-lived device cookie, stored hashed.
CREATE TABLE console_devices (
    token_hash BYTEA PRIMARY KEY,
    organiser_id BIGINT NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL
);

CREATE INDEX console_sessions_organiser ON console_sessions (organiser_id);
CREATE INDEX console_devices_organiser ON console_devices (organiser_id, last_used_at);

-- One row per room that has had a status: the newest one. `until` is when it lapses by itself; readers ignore
-- lapsed rows. `rev` grows with every change, so each server process notices others' changes by reading max(rev).
CREATE TABLE room_status (
    room_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('open', 'filling', 'full', 'closed', 'emergency')),
    message TEXT NOT NULL DEFAULT '' CHECK (length(message) <= 280),
    set_at TEXT NOT NULL,
    until TEXT NOT NULL,
    set_by TEXT NOT NULL,
    rev BIGINT NOT NULL UNIQUE
);

-- Info pages (code of conduct, safeguarding contact, emergency numbers, wifi, ...). `translations` has the
-- shape the programme entities use: {"id": {"title": "...", "body": "..."}}.
CREATE TABLE info_pages (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    translations TEXT NOT NULL DEFAULT '{}' CHECK (kumpul_json_valid(translations)),
    updated_at TEXT NOT NULL
);

-- One floor plan per floor: the image as uploaded and a smaller copy for phones. `version` grows with every
-- upload and is part of the images' addresses, so devices may cache an address for good.
CREATE TABLE floor_plans (
    id TEXT PRIMARY KEY,
    floor TEXT NOT NULL UNIQUE,
    position BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    media_type TEXT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    image BYTEA NOT NULL,
    small_media_type TEXT NOT NULL,
    small_width BIGINT NOT NULL,
    small_height BIGINT NOT NULL,
    small_image BYTEA NOT NULL,
    updated_at TEXT NOT NULL
);

-- Where a room is on its floor's plan, as fractions of the plan's width and height from its top left corner.
CREATE TABLE room_pins (
    room_id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES floor_plans (id) ON DELETE CASCADE,
    x DOUBLE PRECISION NOT NULL CHECK (x >= 0 AND x <= 1),
    y DOUBLE PRECISION NOT NULL CHECK (y >= 0 AND y <= 1)
);

-- Attendees' feedback on sessions: a rating 1-5 and an optional comment, one per attendee per session.
-- The rater is a keyed hash (HMAC-SHA256 under feedback_key) of the attendee id: the upsert key, and what
-- "erase my data" finds again. Nothing here names an attendee, and no foreign key leads to one.
CREATE TABLE session_feedback (
    session_id TEXT NOT NULL,
    rater BYTEA NOT NULL,
    rating BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (session_id, rater)
);

CREATE INDEX session_feedback_rater ON session_feedback (rater);

-- The key of the raters' hashes (one row).
CREATE TABLE feedback_key (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    secret BYTEA NOT NULL
);

-- Which revision of its source each translated text was made from: a short hash of the source text, per
-- entity, field and language. A translation is stale when the hash of the current source differs.
CREATE TABLE translation_sources (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    lang TEXT NOT NULL,
    field TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    PRIMARY KEY (kind, id, lang, field)
);

-- One row per message and subscription. A row is claimed ('sending') before its request and settled after, so a
-- restart resumes exactly where the fan-out stopped. 'merged': a change alert said by the reminder that went out
-- instead of it. `lang`: the subscription's language when the message was queued, then when it was sent.
CREATE TABLE push_outbox (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('announcement', 'alert', 'reminder')),
    ref TEXT NOT NULL,                -- announcement id, or session id for alerts and reminders
    subscription_id BIGINT NOT NULL,  -- no foreign key: a gone subscription still counts in reports
    state TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'gone', 'cancelled', 'merged')),
    version BIGINT NOT NULL DEFAULT 1,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_status BIGINT,
    updated_at TEXT NOT NULL,
    lang TEXT,
    UNIQUE (kind, ref, subscription_id)
);

CREATE INDEX push_outbox_due ON push_outbox (state, next_attempt_at);
CREATE INDEX push_outbox_ref ON push_outbox (kind, ref, state);

-- Triggers. PostgreSQL fires a row's triggers in the order of their names (SQLite: the newest first), so one
-- write that both moves and re-rooms a session notes the two changes in the other order than SQLite does.

-- A write of a speaker or session below its floor is refused.
CREATE FUNCTION entities_privacy_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF kumpul_privacy_level(NEW.kind, NEW.data)
            < coalesce((SELECT f.level FROM privacy_floors f WHERE f.kind = NEW.kind AND f.id = NEW.id), 0) THEN
        RAISE EXCEPTION 'privacy floor: a write may not loosen anonymity or a recording policy'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER entities_privacy_insert_guard BEFORE INSERT ON entities
FOR EACH ROW WHEN (NEW.kind IN ('speaker', 'session'))
EXECUTE FUNCTION entities_privacy_guard();

CREATE TRIGGER entities_privacy_update_guard BEFORE UPDATE OF data ON entities
FOR EACH ROW WHEN (NEW.kind IN ('speaker', 'session'))
EXECUTE FUNCTION entities_privacy_guard();

-- Every write of a speaker or session raises its floor to the level it stores.
CREATE FUNCTION entities_privacy_floor() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO privacy_floors AS f (kind, id, level)
    SELECT p.kind, p.id, p.level FROM entity_privacy_levels p
    WHERE p.kind = NEW.kind AND p.id = NEW.id AND p.level > 0
    ON CONFLICT (kind, id) DO UPDATE SET level = greatest(f.level, excluded.level);
    RETURN NULL;
END
$$;

CREATE TRIGGER entities_privacy_insert_floor AFTER INSERT ON entities
FOR EACH ROW WHEN (NEW.kind IN ('speaker', 'session'))
EXECUTE FUNCTION entities_privacy_floor();

CREATE TRIGGER entities_privacy_update_floor AFTER UPDATE OF data ON entities
FOR EACH ROW WHEN (NEW.kind IN ('speaker', 'session'))
EXECUTE FUNCTION entities_privacy_floor();

-- A speaker stored for the first time draws a number; one already taken leaves the speaker to the second
-- statement: the next free number up. A speaker that has a number keeps it. As SQLite's INSERT OR IGNORE, neither
-- statement fails: the second one skips a number past the range.
CREATE FUNCTION entities_speaker_number() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO speaker_numbers (number, id) VALUES (1000 + floor(random() * 2000000000)::bigint, NEW.id)
    ON CONFLICT DO NOTHING;
    INSERT INTO speaker_numbers (number, id)
    SELECT coalesce(max(s.number), 999) + 1, NEW.id FROM speaker_numbers s
    HAVING coalesce(max(s.number), 999) + 1 <= 2147483647
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER entities_speaker_number AFTER INSERT ON entities
FOR EACH ROW WHEN (NEW.kind = 'speaker')
EXECUTE FUNCTION entities_speaker_number();

-- The programme changes attendees care about.
CREATE FUNCTION programme_changes_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO programme_changes (at, session_id, change, title, new_start, new_end, new_room)
    VALUES (kumpul_now(), NEW.id, 'added', NEW.data::jsonb ->> 'title',
            NEW.data::jsonb ->> 'start', NEW.data::jsonb ->> 'end', NEW.data::jsonb ->> 'roomId');
    RETURN NULL;
END
$$;

-- A session's start, end or room changed: TG_ARGV[0] names the change ('moved' or 're-roomed').
CREATE FUNCTION programme_changes_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO programme_changes (at, session_id, change, title, old_start, old_end, old_room, new_start, new_end,
        new_room)
    VALUES (kumpul_now(), NEW.id, TG_ARGV[0], NEW.data::jsonb ->> 'title',
            OLD.data::jsonb ->> 'start', OLD.data::jsonb ->> 'end', OLD.data::jsonb ->> 'roomId',
            NEW.data::jsonb ->> 'start', NEW.data::jsonb ->> 'end', NEW.data::jsonb ->> 'roomId');
    RETURN NULL;
END
$$;

CREATE FUNCTION programme_changes_cancelled() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO programme_changes (at, session_id, change, title, old_start, old_end, old_room)
    VALUES (kumpul_now(), NEW.id, 'cancelled', NEW.data::jsonb ->> 'title',
            OLD.data::jsonb ->> 'start', OLD.data::jsonb ->> 'end', OLD.data::jsonb ->> 'roomId');
    RETURN NULL;
END
$$;

CREATE FUNCTION programme_changes_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO programme_changes (at, session_id, change, title, old_start, old_end, old_room)
    VALUES (kumpul_now(), OLD.id, 'removed', OLD.data::jsonb ->> 'title',
            OLD.data::jsonb ->> 'start', OLD.data::jsonb ->> 'end', OLD.data::jsonb ->> 'roomId');
    RETURN NULL;
END
$$;

CREATE TRIGGER programme_changes_added AFTER INSERT ON entities
FOR EACH ROW WHEN (NEW.kind = 'session')
EXECUTE FUNCTION programme_changes_added();

CREATE TRIGGER programme_changes_moved AFTER UPDATE OF data ON entities
FOR EACH ROW WHEN (NEW.kind = 'session'
    AND ((OLD.data::jsonb ->> 'start') IS DISTINCT FROM (NEW.data::jsonb ->> 'start')
        OR (OLD.data::jsonb ->> 'end') IS DISTINCT FROM (NEW.data::jsonb ->> 'end')))
EXECUTE FUNCTION programme_changes_updated('moved');

CREATE TRIGGER programme_changes_room AFTER UPDATE OF data ON entities
FOR EACH ROW WHEN (NEW.kind = 'session'
    AND (OLD.data::jsonb ->> 'roomId') IS DISTINCT FROM (NEW.data::jsonb ->> 'roomId'))
EXECUTE FUNCTION programme_changes_updated('re-roomed');

CREATE TRIGGER programme_changes_cancelled AFTER UPDATE OF data ON entities
FOR EACH ROW WHEN (NEW.kind = 'session' AND (NEW.data::jsonb ->> 'status') = 'cancelled'
    AND (OLD.data::jsonb ->> 'status') IS DISTINCT FROM 'cancelled')
EXECUTE FUNCTION programme_changes_cancelled();

CREATE TRIGGER programme_changes_removed AFTER DELETE ON entities
FOR EACH ROW WHEN (OLD.kind = 'session')
EXECUTE FUNCTION programme_changes_removed();

-- The rows every database starts with: the feed's random epoch (12 hex digits, 48 random bits: the leading
-- digits of a version 4 UUID) and the raters' key (32 bytes from two UUIDs: 244 random bits, from the server's
-- strong random source, without the pgcrypto extension).
INSERT INTO feed_state (id, epoch, seq, floor) VALUES (1, left(replace(gen_random_uuid()::text, '-', ''), 12), 0, 0);

INSERT INTO feedback_key (id, secret)
VALUES (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
