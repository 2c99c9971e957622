-- End-to-end encrypted notes: the server keeps, per document, an ordered log of encrypted frames it cannot read,
-- and each device of an attendee has a public id, a name, a public key and when it was last seen.

-- Each token row is one device. `device_id` is public (shown in the list of linked devices, named when revoking),
-- unlike the token. `public_key` (a P-256 point) receives a rotated notebook key; `proof` ties it to a notebook key
-- the server never sees (checked by the other devices, not by the server).
ALTER TABLE attendee_tokens ADD COLUMN device_id TEXT;
ALTER TABLE attendee_tokens ADD COLUMN name TEXT;
ALTER TABLE attendee_tokens ADD COLUMN public_key BLOB;
ALTER TABLE attendee_tokens ADD COLUMN proof BLOB;
ALTER TABLE attendee_tokens ADD COLUMN last_seen_at TEXT;
UPDATE attendee_tokens SET device_id = 'dev_' || lower(hex(randomblob(12))), last_seen_at = created_at;
CREATE UNIQUE INDEX attendee_tokens_device ON attendee_tokens (device_id);

-- The attendee's current notebook key id (0: none yet) and the keyring: the older keys, encrypted under the
-- current one by a device.
ALTER TABLE attendees ADD COLUMN key_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attendees ADD COLUMN keyring BLOB;

-- The current notebook key, wrapped by one device for another device's public key.
CREATE TABLE wrapped_keys (
    device_id TEXT PRIMARY KEY REFERENCES attendee_tokens (device_id) ON DELETE CASCADE,
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    key_id INTEGER NOT NULL,
    wrapped BLOB NOT NULL
) STRICT;

CREATE INDEX wrapped_keys_attendee ON wrapped_keys (attendee_id);

-- Encrypted documents: an ordered log of frames per document. A snapshot at version v stands for every entry up
-- to v (the entries it replaced are deleted). `seq` is the attendee's document sequence, shared with `documents`,
-- so one cursor names what a device has seen of both.
CREATE TABLE doc_log (
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    snapshot INTEGER NOT NULL CHECK (snapshot IN (0, 1)),
    frame BLOB NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (attendee_id, doc_id, version)
) STRICT;

CREATE INDEX doc_log_changed ON doc_log (attendee_id, seq);
