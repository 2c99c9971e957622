"""Secrets every node must share, kept in the database (PostgreSQL): the VAPID key pair.

On SQLite the VAPID key stays a file beside the database, where ``kumpul backup`` takes it from.
"""

from __future__ import annotations

from server.storage.db import Connection


async def get_or_put(conn: Connection, name: str, value: bytes) -> bytes:
    """The secret ``name``; ``value`` is stored first when there is none yet (within the caller's write, so two
    nodes starting at once agree on one)."""
    await conn.execute(
        "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, kumpul_now()) ON CONFLICT DO NOTHING",
        (name, value),
    )
    async with conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)) as cur:
        row = await cur.fetchone()
    return bytes(row[0])
