-- Which revision of its source each translated text was made from: a short hash of the source text, per
-- entity, field and language. A translation is stale when the hash of the current source differs. Entities
-- stored before this table existed have no rows: their translations count as made from the source they
-- stand beside, and get a row on the entity's next write.
CREATE TABLE translation_sources (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    lang TEXT NOT NULL,
    field TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    PRIMARY KEY (kind, id, lang, field)
) STRICT;

-- The language an attendee's agenda feed is written in (the app's language when the feed was made or last
-- updated); NULL: the event's main language.
ALTER TABLE attendees ADD COLUMN calendar_lang TEXT;
