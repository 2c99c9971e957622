-- The venue: information pages organisers write, and floor plans with the rooms pinned on them.

-- Info pages (code of conduct, safeguarding contact, emergency numbers, wifi, ...). `translations` has the
-- shape the programme entities use: {"id": {"title": "...", "body": "..."}}.
CREATE TABLE info_pages (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    translations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(translations)),
    updated_at TEXT NOT NULL
) STRICT;

-- One floor plan per floor (`floor` is the name rooms carry in their `floor` field). The image as uploaded
-- (checked to be PNG, JPEG or WebP) and a smaller copy for phones made at upload. `version` grows with every
-- upload and is part of the images' addresses, so devices may cache an address for good.
CREATE TABLE floor_plans (
    id TEXT PRIMARY KEY,
    floor TEXT NOT NULL UNIQUE,
    position INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    media_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    image BLOB NOT NULL,
    small_media_type TEXT NOT NULL,
    small_width INTEGER NOT NULL,
    small_height INTEGER NOT NULL,
    small_image BLOB NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- Where a room is on its floor's plan, as fractions of the plan's width and height from its top left corner.
CREATE TABLE room_pins (
    room_id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES floor_plans (id) ON DELETE CASCADE,
    x REAL NOT NULL CHECK (x >= 0 AND x <= 1),
    y REAL NOT NULL CHECK (y >= 0 AND y <= 1)
) STRICT;
