"""Programme storage: versioned entities, tombstones and the global change sequence.

Every function takes a connection: reads take one from ``Database.read()``, writes the one from
``Database.write()``, so a caller groups several calls into one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection, json_field, json_items


@dataclass(frozen=True, slots=True)
class FeedState:
    """Where the change sequence stands."""

    epoch: str
    seq: int
    floor: int


@dataclass(frozen=True, slots=True)
class StoredChange:
    """A row of the change feed; ``data`` is the entity's JSON, or None for a tombstone."""

    kind: str
    id: str
    seq: int
    data: bytes | None


async def feed_state(conn: Connection) -> FeedState:
    """The epoch, newest sequence and tombstone floor."""
    async with conn.execute("SELECT epoch, seq, floor FROM feed_state WHERE id = 1") as cur:
        row = await cur.fetchone()
    if row is None:
        raise RuntimeError("feed_state row is missing: the database was not migrated")
    return FeedState(epoch=row[0], seq=row[1], floor=row[2])


async def _next_seq(conn: Connection) -> int:
    async with conn.execute("UPDATE feed_state SET seq = seq + 1 WHERE id = 1 RETURNING seq") as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def get_entity(conn: Connection, kind: str, entity_id: str) -> bytes | None:
    """The stored JSON of one entity, or None."""
    async with conn.execute("SELECT data FROM entities WHERE kind = ? AND id = ?", (kind, entity_id)) as cur:
        row = await cur.fetchone()
    return row[0].encode() if row else None


@dataclass(frozen=True, slots=True)
class Revision:
    """How often an entity changed (``revision``, from 0) and when it last did (ISO 8601 UTC)."""

    revision: int
    updated_at: str


async def revisions(conn: Connection, kind: str) -> dict[str, Revision]:
    """The revision and last change of every entity of a kind, by id."""
    async with conn.execute("SELECT id, revision, updated_at FROM entities WHERE kind = ?", (kind,)) as cur:
        return {row[0]: Revision(row[1], row[2]) for row in await cur.fetchall()}


async def list_entities(conn: Connection, kind: str) -> list[bytes]:
    """The stored JSON of every entity of a kind, in no particular order."""
    async with conn.execute("SELECT data FROM entities WHERE kind = ?", (kind,)) as cur:
        return [row[0].encode() for row in await cur.fetchall()]


async def all_entities(conn: Connection) -> list[tuple[str, bytes]]:
    """``(kind, json)`` for every live entity."""
    async with conn.execute("SELECT kind, data FROM entities") as cur:
        return [(row[0], row[1].encode()) for row in await cur.fetchall()]


async def put_entity(conn: Connection, kind: str, entity_id: str, data: bytes) -> int:
    """Insert or replace an entity under a new change sequence; a tombstone of the same id goes away.

    Returns:
        The change sequence of this write.
    """
    seq = await _next_seq(conn)
    await conn.execute(
        "INSERT INTO entities (kind, id, seq, data, updated_at) VALUES (?, ?, ?, ?, kumpul_now())"
        " ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, data = excluded.data,"
        " updated_at = excluded.updated_at, revision = entities.revision + 1",
        (kind, entity_id, seq, data.decode()),
    )
    await conn.execute("DELETE FROM tombstones WHERE kind = ? AND id = ?", (kind, entity_id))
    return seq


async def delete_entity(conn: Connection, kind: str, entity_id: str) -> int | None:
    """Delete an entity and leave a tombstone.

    Returns:
        The change sequence of the deletion, or None when there was no such entity.
    """
    async with conn.execute("DELETE FROM entities WHERE kind = ? AND id = ? RETURNING id", (kind, entity_id)) as cur:
        if await cur.fetchone() is None:
            return None
    seq = await _next_seq(conn)
    await conn.execute(
        "INSERT INTO tombstones (kind, id, seq, deleted_at) VALUES (?, ?, ?, kumpul_now())"
        " ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, deleted_at = excluded.deleted_at",
        (kind, entity_id, seq),
    )
    return seq


async def changes_since(conn: Connection, seq: int, limit: int) -> list[StoredChange]:
    """Upserts and tombstones after ``seq``, in sequence order, at most ``limit``."""
    async with conn.execute(
        "SELECT kind, id, seq, data FROM entities WHERE seq > :seq"
        " UNION ALL SELECT kind, id, seq, NULL FROM tombstones WHERE seq > :seq"
        " ORDER BY seq LIMIT :limit",
        {"seq": seq, "limit": limit},
    ) as cur:
        rows = await cur.fetchall()
    return [StoredChange(row[0], row[1], row[2], row[3].encode() if row[3] is not None else None) for row in rows]


async def changes_of_kind_since(conn: Connection, kind: str, seq: int, limit: int) -> list[StoredChange]:
    """Upserts and tombstones of one ``kind`` after ``seq``, in sequence order, at most ``limit``.

    Both tables' primary keys start with ``kind``, so this reads only that kind's rows, however many changes of
    other kinds (a whole import) lie after ``seq``.
    """
    async with conn.execute(
        "SELECT kind, id, seq, data FROM entities WHERE kind = :kind AND seq > :seq"
        " UNION ALL SELECT kind, id, seq, NULL FROM tombstones WHERE kind = :kind AND seq > :seq"
        " ORDER BY seq LIMIT :limit",
        {"kind": kind, "seq": seq, "limit": limit},
    ) as cur:
        rows = await cur.fetchall()
    return [StoredChange(row[0], row[1], row[2], row[3].encode() if row[3] is not None else None) for row in rows]


async def purge_tombstones(conn: Connection, older_than: str) -> int:
    """Drop tombstones deleted before ``older_than`` (ISO 8601 UTC) and raise the floor past them.

    Returns:
        How many tombstones were purged.
    """
    async with conn.execute("DELETE FROM tombstones WHERE deleted_at < ? RETURNING seq", (older_than,)) as cur:
        purged = [row[0] for row in await cur.fetchall()]
    if purged:
        await conn.execute(
            "UPDATE feed_state SET floor = CASE WHEN floor < :top THEN :top ELSE floor END WHERE id = 1",
            {"top": max(purged)},
        )
    return len(purged)


async def sessions_referencing(conn: Connection, field: str, entity_id: str) -> list[bytes]:
    """Sessions whose ``roomId``, ``trackId``, ``format`` or ``speakerIds`` name ``entity_id``."""
    if field == "speakerIds":
        condition = f"EXISTS (SELECT 1 FROM {json_items(conn, 'data', 'speakerIds')} WHERE value = ?)"
    elif field in ("roomId", "trackId", "format"):
        condition = f"{json_field(conn, 'data', field)} = ?"
    else:
        raise KeyError(field)
    async with conn.execute(f"SELECT data FROM entities WHERE kind = 'session' AND {condition}", (entity_id,)) as cur:
        return [row[0].encode() for row in await cur.fetchall()]


async def guid_owner(conn: Connection, guid: str) -> str | None:
    """The id of the session that holds ``guid``, if any."""
    async with conn.execute(
        f"SELECT id FROM entities WHERE kind = 'session' AND {json_field(conn, 'data', 'guid')} = ?",
        (guid,),
    ) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def speaker_numbers(conn: Connection) -> dict[str, int]:
    """The integer id of every speaker that was ever stored, by speaker id (frab's ``<person id>``)."""
    async with conn.execute("SELECT id, number FROM speaker_numbers") as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


@dataclass(frozen=True, slots=True)
class Write:
    """One entity written by :func:`put_many`: its JSON, or None to delete it (leaving a tombstone)."""

    kind: str
    id: str
    data: bytes | None


async def put_many(conn: Connection, writes: list[Write]) -> list[int]:
    """Store many entities at once, each under its own new change sequence, in the order given.

    Does what :func:`put_entity` and :func:`delete_entity` do for each write, with one statement per table rather
    than several per entity, so a whole import's writes take a short transaction. Every write must change the store:
    a deletion names an entity that exists.

    Returns:
        The change sequence of each write, in order.
    """
    if not writes:
        return []
    first = await _next_seq(conn)
    seqs = list(range(first, first + len(writes)))
    await conn.execute("UPDATE feed_state SET seq = ? WHERE id = 1", (seqs[-1],))
    puts = [(w.kind, w.id, seq, w.data.decode()) for w, seq in zip(writes, seqs, strict=True) if w.data is not None]
    deletes = [(w.kind, w.id, seq) for w, seq in zip(writes, seqs, strict=True) if w.data is None]
    if puts:
        await conn.executemany(
            "INSERT INTO entities (kind, id, seq, data, updated_at)"
            " VALUES (?, ?, ?, ?, kumpul_now())"
            " ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, data = excluded.data,"
            " updated_at = excluded.updated_at, revision = entities.revision + 1",
            puts,
        )
        await conn.executemany("DELETE FROM tombstones WHERE kind = ? AND id = ?", [put[:2] for put in puts])
    if deletes:
        await conn.executemany("DELETE FROM entities WHERE kind = ? AND id = ?", [d[:2] for d in deletes])
        await conn.executemany(
            "INSERT INTO tombstones (kind, id, seq, deleted_at) VALUES (?, ?, ?, kumpul_now())"
            " ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, deleted_at = excluded.deleted_at",
            deletes,
        )
    return seqs


async def changes_of_kinds_since(conn: Connection, kinds: tuple[str, ...], seq: int, limit: int) -> list[StoredChange]:
    """Upserts and tombstones of any of ``kinds`` after ``seq``, in sequence order, at most ``limit``."""
    marks = ", ".join("?" for _ in kinds)
    async with conn.execute(
        f"SELECT kind, id, seq, data FROM entities WHERE seq > ? AND kind IN ({marks})"
        f" UNION ALL SELECT kind, id, seq, NULL FROM tombstones WHERE seq > ? AND kind IN ({marks})"
        " ORDER BY seq LIMIT ?",
        (seq, *kinds, seq, *kinds, limit),
    ) as cur:
        rows = await cur.fetchall()
    return [StoredChange(row[0], row[1], row[2], row[3].encode() if row[3] is not None else None) for row in rows]
