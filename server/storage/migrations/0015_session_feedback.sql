-- Attendees' feedback on sessions: a rating 1-5 and an optional comment, one per attendee per session.
-- The rater is a keyed hash (HMAC-SHA256 under feedback_key) of the attendee id: the upsert key, and what
-- "erase my data" finds again. Nothing here names an attendee, and no foreign key leads to one.
CREATE TABLE session_feedback (
    session_id TEXT NOT NULL,
    rater BLOB NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (session_id, rater)
) STRICT;

CREATE INDEX session_feedback_rater ON session_feedback (rater);

-- The key of the raters' hashes (one row). SQLite-specific: randomblob; PostgreSQL has gen_random_bytes.
CREATE TABLE feedback_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL
) STRICT;

INSERT INTO feedback_key (id, secret) VALUES (1, randomblob(32));
