"""Privacy floors: how anonymous a speaker and how unrecorded a session must stay, kept past deletion.

The floors are raised by the database on every write of an entity (migration 0005) and guard every
write: one below its entity's floor is refused by the database itself. Only :func:`lower_floor`, called by
the explicit admin actions, lowers one.
"""

from __future__ import annotations

from server.storage.db import Connection


async def floor(conn: Connection, kind: str, entity_id: str) -> int:
    """The floor of one speaker or session: 0 when none is kept."""
    async with conn.execute("SELECT level FROM privacy_floors WHERE kind = ? AND id = ?", (kind, entity_id)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def floors(conn: Connection) -> dict[tuple[str, str], int]:
    """Every kept floor by ``(kind, id)``, including those of deleted entities."""
    async with conn.execute("SELECT kind, id, level FROM privacy_floors") as cur:
        return {(row[0], row[1]): int(row[2]) for row in await cur.fetchall()}


async def lower_floor(conn: Connection, kind: str, entity_id: str, level: int) -> None:
    """Set a floor to ``level`` (0 removes it); the write that follows raises it again to what it stores."""
    if level <= 0:
        await conn.execute("DELETE FROM privacy_floors WHERE kind = ? AND id = ?", (kind, entity_id))
    else:
        await conn.execute("UPDATE privacy_floors SET level = ? WHERE kind = ? AND id = ?", (level, kind, entity_id))
