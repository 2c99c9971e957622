"""Announcements as organisers wrote them: scheduled, published, retracted or expired."""

from __future__ import annotations

from dataclasses import dataclass

from server.storage.db import Connection, Row


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    id: str
    data: bytes
    state: str
    send_at: str
    expires_at: str | None
    version: int
    created_by: str


def _row(row: Row) -> AnnouncementRow:
    return AnnouncementRow(row[0], row[1].encode(), row[2], row[3], row[4], row[5], row[6])


async def insert(conn: Connection, row: AnnouncementRow) -> None:
    await conn.execute(
        "INSERT INTO announcements (id, data, state, send_at, expires_at, version, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, kumpul_now())",
        (row.id, row.data.decode(), row.state, row.send_at, row.expires_at, row.version, row.created_by),
    )


async def update(conn: Connection, row: AnnouncementRow) -> None:
    await conn.execute(
        "UPDATE announcements SET data = ?, state = ?, send_at = ?, expires_at = ?, version = ? WHERE id = ?",
        (row.data.decode(), row.state, row.send_at, row.expires_at, row.version, row.id),
    )


async def publish(conn: Connection, row: AnnouncementRow) -> bool:
    """Store ``row`` as published if the announcement is still scheduled; False if it is not (it was published,
    retracted or expired first).

    The check and the write are one statement, so an announcement is published once however many nodes run their
    scheduler against one database.
    """
    cur = await conn.execute(
        "UPDATE announcements SET data = ?, state = 'published', send_at = ?, expires_at = ?, version = ?"
        " WHERE id = ? AND state = 'scheduled'",
        (row.data.decode(), row.send_at, row.expires_at, row.version, row.id),
    )
    return cur.rowcount == 1


async def get(conn: Connection, announcement_id: str) -> AnnouncementRow | None:
    async with conn.execute(
        "SELECT id, data, state, send_at, expires_at, version, created_by FROM announcements WHERE id = ?",
        (announcement_id,),
    ) as cur:
        row = await cur.fetchone()
    return _row(row) if row else None


async def list_all(conn: Connection) -> list[AnnouncementRow]:
    async with conn.execute(
        "SELECT id, data, state, send_at, expires_at, version, created_by FROM announcements ORDER BY send_at DESC"
    ) as cur:
        return [_row(row) for row in await cur.fetchall()]


async def due_to_publish(conn: Connection, now: str) -> list[AnnouncementRow]:
    async with conn.execute(
        "SELECT id, data, state, send_at, expires_at, version, created_by FROM announcements"
        " WHERE state = 'scheduled' AND send_at <= ? ORDER BY send_at",
        (now,),
    ) as cur:
        return [_row(row) for row in await cur.fetchall()]


async def due_to_expire(conn: Connection, now: str) -> list[AnnouncementRow]:
    async with conn.execute(
        "SELECT id, data, state, send_at, expires_at, version, created_by FROM announcements"
        " WHERE state = 'published' AND expires_at IS NOT NULL AND expires_at <= ?",
        (now,),
    ) as cur:
        return [_row(row) for row in await cur.fetchall()]


async def next_due(conn: Connection) -> str | None:
    """The earliest pending publication or expiry, to know how long the scheduler may sleep."""
    async with conn.execute(
        "SELECT min(t) FROM (SELECT min(send_at) AS t FROM announcements WHERE state = 'scheduled'"
        " UNION ALL SELECT min(expires_at) FROM announcements WHERE state = 'published') AS due"
    ) as cur:
        row = await cur.fetchone()
    return row[0] if row else None
