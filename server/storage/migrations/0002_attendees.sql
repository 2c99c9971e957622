-- Anonymous attendees and their private CRDT documents (notes, bookmarks, read state).
-- Nothing here identifies a person: an attendee is a random id with device tokens.
CREATE TABLE attendees (
    id TEXT PRIMARY KEY,
    participation TEXT CHECK (participation IN ('onsite', 'online')),
    language TEXT,
    doc_seq INTEGER NOT NULL DEFAULT 0,   -- last change sequence of this attendee's documents
    created_at TEXT NOT NULL
) STRICT;

-- One token per linked device, stored as a SHA-256 hash.
CREATE TABLE attendee_tokens (
    token_hash BLOB PRIMARY KEY,
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX attendee_tokens_attendee ON attendee_tokens (attendee_id);

-- Codes that link a new device to an attendee: single use, short-lived, stored hashed.
CREATE TABLE link_codes (
    code_hash BLOB PRIMARY KEY,
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at TEXT
) STRICT;

CREATE INDEX link_codes_attendee ON link_codes (attendee_id);

-- Each document's merged state as one Yjs update (which is also its compacted history).
CREATE TABLE documents (
    attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    state BLOB NOT NULL,
    seq INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (attendee_id, doc_id)
) STRICT;

CREATE INDEX documents_changed ON documents (attendee_id, seq);
