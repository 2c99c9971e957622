-- frab clients (ConfClerk, schedule-convert) key people on an integer id. Each speaker gets one, drawn at
-- random when the speaker is first stored: never derived from a name (an anonymous speaker's id may have
-- been made from the name they no longer use), never the order in which speakers were added, and kept when
-- the speaker is deleted so a speaker stored again under the same id keeps their number.
CREATE TABLE speaker_numbers (
    number INTEGER PRIMARY KEY CHECK (number BETWEEN 1000 AND 2147483647),
    id TEXT NOT NULL UNIQUE
) STRICT;

-- A drawn number already taken leaves the speaker to the second statement: the next free number up.
CREATE TRIGGER entities_speaker_number AFTER INSERT ON entities
WHEN NEW.kind = 'speaker'
BEGIN
    INSERT OR IGNORE INTO speaker_numbers (number, id) VALUES (1000 + abs(random() % 2000000000), NEW.id);
    INSERT OR IGNORE INTO speaker_numbers (number, id)
    SELECT coalesce(max(number), 999) + 1, NEW.id FROM speaker_numbers;
END;

INSERT INTO speaker_numbers (number, id)
SELECT 1000 + abs(random() % 2000000000), id FROM entities WHERE kind = 'speaker'
ON CONFLICT DO NOTHING;

INSERT OR IGNORE INTO speaker_numbers (number, id)
SELECT (SELECT coalesce(max(number), 999) FROM speaker_numbers) + row_number() OVER (ORDER BY random()), id
FROM entities WHERE kind = 'speaker' AND id NOT IN (SELECT id FROM speaker_numbers);
