"""Programme changes attendees care about (added, moved, re-roomed, cancelled, removed sessions).

The rows are written by triggers (migration 0012) on every write of a session, whatever made it.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection


@dataclass(frozen=True, slots=True)
class ChangeRow:
    id: int
    at: str
    session_id: str
    change: str
    title: str
    old_start: str | None
    old_end: str | None
    old_room: str | None
    new_start: str | None
    new_end: str | None
    new_room: str | None


async def latest(conn: Connection, limit: int) -> list[ChangeRow]:
    """The newest changes first, at most ``limit``."""
    async with conn.execute(
        "SELECT id, at, session_id, change, title, old_start, old_end, old_room, new_start, new_end, new_room"
        " FROM programme_changes ORDER BY id DESC LIMIT ?",
        (limit,),
    ) as cur:
        return [ChangeRow(*row) for row in await cur.fetchall()]
