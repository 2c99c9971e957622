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
    level INTEGER NOT NULL CHECK (level > 0),
    PRIMARY KEY (kind, id)
) STRICT;

INSERT INTO privacy_floors (kind, id, level)
SELECT kind, id, 1 FROM entities WHERE kind = 'speaker' AND data ->> '$.anonymous' = 1;

INSERT INTO privacy_floors (kind, id, level)
SELECT kind, id, CASE data ->> '$.recording' WHEN 'off-the-record' THEN 2 ELSE 1 END FROM entities
WHERE kind = 'session' AND data ->> '$.recording' IN ('no-recording', 'off-the-record');

CREATE VIEW entity_privacy_levels AS
SELECT kind, id, CASE
    WHEN kind = 'speaker' AND data ->> '$.anonymous' = 1 THEN 1
    WHEN kind = 'session' AND data ->> '$.recording' = 'off-the-record' THEN 2
    WHEN kind = 'session' AND data ->> '$.recording' = 'no-recording' THEN 1
    ELSE 0 END AS level
FROM entities;

CREATE TRIGGER entities_privacy_insert_guard BEFORE INSERT ON entities
WHEN NEW.kind IN ('speaker', 'session') AND (CASE
    WHEN NEW.kind = 'speaker' AND NEW.data ->> '$.anonymous' = 1 THEN 1
    WHEN NEW.kind = 'session' AND NEW.data ->> '$.recording' = 'off-the-record' THEN 2
    WHEN NEW.kind = 'session' AND NEW.data ->> '$.recording' = 'no-recording' THEN 1
    ELSE 0 END) < coalesce((SELECT level FROM privacy_floors WHERE kind = NEW.kind AND id = NEW.id), 0)
BEGIN
    SELECT RAISE(ABORT, 'privacy floor: a write may not loosen anonymity or a recording policy');
END;

CREATE TRIGGER entities_privacy_update_guard BEFORE UPDATE OF data ON entities
WHEN NEW.kind IN ('speaker', 'session') AND (CASE
    WHEN NEW.kind = 'speaker' AND NEW.data ->> '$.anonymous' = 1 THEN 1
    WHEN NEW.kind = 'session' AND NEW.data ->> '$.recording' = 'off-the-record' THEN 2
    WHEN NEW.kind = 'session' AND NEW.data ->> '$.recording' = 'no-recording' THEN 1
    ELSE 0 END) < coalesce((SELECT level FROM privacy_floors WHERE kind = NEW.kind AND id = NEW.id), 0)
BEGIN
    SELECT RAISE(ABORT, 'privacy floor: a write may not loosen anonymity or a recording policy');
END;

CREATE TRIGGER entities_privacy_insert_floor AFTER INSERT ON entities
WHEN NEW.kind IN ('speaker', 'session')
BEGIN
    INSERT INTO privacy_floors (kind, id, level)
    SELECT kind, id, level FROM entity_privacy_levels WHERE kind = NEW.kind AND id = NEW.id AND level > 0
    ON CONFLICT (kind, id) DO UPDATE SET level = max(level, excluded.level);
END;

CREATE TRIGGER entities_privacy_update_floor AFTER UPDATE OF data ON entities
WHEN NEW.kind IN ('speaker', 'session')
BEGIN
    INSERT INTO privacy_floors (kind, id, level)
    SELECT kind, id, level FROM entity_privacy_levels WHERE kind = NEW.kind AND id = NEW.id AND level > 0
    ON CONFLICT (kind, id) DO UPDATE SET level = max(level, excluded.level);
END;
