"""Room status as door staff set it: one row per room, the newest status, with when it lapses."""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection, Row


@dataclass(frozen=True, slots=True)
class RoomStatusRow:
    room_id: str
    state: str
    message: str
    set_at: str
    until: str
    set_by: str
    rev: int


def _row(row: Row) -> RoomStatusRow:
    return RoomStatusRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6])


async def put(
    conn: Connection, room_id: str, state: str, message: str, set_at: str, until: str, set_by: str
) -> RoomStatusRow:
    """Replace the room's status; the new row gets the next revision (call it on the write connection)."""
    async with conn.execute("SELECT coalesce(max(rev), 0) + 1 FROM room_status") as cur:
        found = await cur.fetchone()
    rev = int(found[0]) if found else 1
    await conn.execute(
        "INSERT INTO room_status (room_id, state, message, set_at, until, set_by, rev) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (room_id) DO UPDATE SET state = excluded.state, message = excluded.message,"
        " set_at = excluded.set_at, until = excluded.until, set_by = excluded.set_by, rev = excluded.rev",
        (room_id, state, message, set_at, until, set_by, rev),
    )
    return RoomStatusRow(room_id, state, message, set_at, until, set_by, rev)


async def current(conn: Connection, now: str) -> list[RoomStatusRow]:
    """Every status that has not lapsed at ``now`` (ISO 8601 UTC, compared as text)."""
    async with conn.execute(
        "SELECT room_id, state, message, set_at, until, set_by, rev FROM room_status WHERE until > ? ORDER BY room_id",
        (now,),
    ) as cur:
        return [_row(row) for row in await cur.fetchall()]


async def revision(conn: Connection) -> int:
    """The newest revision: it moves whenever any process sets a status."""
    async with conn.execute("SELECT coalesce(max(rev), 0) FROM room_status") as cur:
        found = await cur.fetchone()
    return int(found[0]) if found else 0


async def forget_room(conn: Connection, room_id: str) -> None:
    """Drop a deleted room's status."""
    await conn.execute("DELETE FROM room_status WHERE room_id = ?", (room_id,))
