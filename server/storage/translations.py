"""Where each translation came from: the hash of the source text it was made from, per entity, field and language.

Every function takes a connection from ``Database.read()`` or ``Database.write()``.
"""

from __future__ import annotations

from server.storage.db import Connection

#: ``(lang, field) -> source hash`` for one entity.
Sources = dict[tuple[str, str], str]


async def sources(conn: Connection, kind: str, entity_id: str) -> Sources:
    """The recorded source hash of every translated field of one entity."""
    async with conn.execute(
        "SELECT lang, field, source_hash FROM translation_sources WHERE kind = ? AND id = ?", (kind, entity_id)
    ) as cur:
        return {(row[0], row[1]): row[2] for row in await cur.fetchall()}


async def replace(conn: Connection, kind: str, entity_id: str, rows: Sources) -> None:
    """Make ``rows`` the entity's recorded sources: rows it lacks are dropped."""
    await forget(conn, kind, entity_id)
    if rows:
        await conn.executemany(
            "INSERT INTO translation_sources (kind, id, lang, field, source_hash) VALUES (?, ?, ?, ?, ?)",
            [(kind, entity_id, lang, field, digest) for (lang, field), digest in rows.items()],
        )


async def forget(conn: Connection, kind: str, entity_id: str) -> None:
    """Drop every recorded source of one entity (it was deleted, or has no translations left)."""
    await conn.execute("DELETE FROM translation_sources WHERE kind = ? AND id = ?", (kind, entity_id))


async def all_sources(conn: Connection) -> dict[tuple[str, str], Sources]:
    """Every recorded source, by ``(kind, id)``."""
    result: dict[tuple[str, str], Sources] = {}
    async with conn.execute("SELECT kind, id, lang, field, source_hash FROM translation_sources") as cur:
        for kind, entity_id, lang, field, digest in await cur.fetchall():
            result.setdefault((kind, entity_id), {})[(lang, field)] = digest
    return result
