-- Credentials that can be taken back: organisers' API tokens are reissued or revoked, and the console shows
-- when each was last used; console sign-in remembers the devices an organiser signed in from.

-- When the organiser's current API token was issued; NULL once it is revoked (the stored hash is then of a
-- token nobody was ever shown). Existing tokens date from their organiser.
ALTER TABLE organisers ADD COLUMN token_issued_at TEXT;
UPDATE organisers SET token_issued_at = created_at;
-- When the token last authenticated a request: written at most once a minute per token.
ALTER TABLE organisers ADD COLUMN token_last_used_at TEXT;

-- A browser that signed in to the console: the random token of its long-lived device cookie, stored hashed.
-- Its sign-in attempts are counted apart from strangers' guesses at the name. No IP address is stored.
CREATE TABLE console_devices (
    token_hash BLOB PRIMARY KEY,
    organiser_id INTEGER NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL
) STRICT;

CREATE INDEX console_devices_organiser ON console_devices (organiser_id, last_used_at);
