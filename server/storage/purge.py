"""After the event: every attendee's data removed in one transaction, and the space it used wiped.

What goes: attendees with their device tokens, link codes, private documents (notes, agenda,
read state) and calendar keys; every push subscription (with or without an attendee) and
every queued or sent push message. What stays: the programme, announcements, organisers, console
sign-ins, the history, and session feedback, whose raters' key is replaced so that no rating can be tied to
anyone afterwards.

SQLite leaves deleted rows in free pages and in the write-ahead log until they are overwritten, so
the purge is followed by ``VACUUM`` (which rewrites the file from the rows that remain) and a
``wal_checkpoint(TRUNCATE)`` (which empties the log). PostgreSQL keeps the old versions of deleted rows in its
tables' files until the space is reused; ``VACUUM (FULL)`` rewrites every table without them.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from dataclasses import dataclass, fields
from pathlib import Path

from server.storage import feedback, vault
from server.storage.db import BUSY_TIMEOUT_MS, Connection, Database, SqliteDatabase
from server.storage.postgres import PostgresDatabase

#: How each kind of attendee data is counted, in the order it is reported.
_COUNTS = {
    "attendees": "SELECT count(*) FROM attendees",
    "device_tokens": "SELECT count(*) FROM attendee_tokens",
    "link_codes": "SELECT count(*) FROM link_codes",
    "documents": "SELECT count(*) FROM documents",
    "encrypted_entries": "SELECT count(*) FROM doc_log",
    "wrapped_keys": "SELECT count(*) FROM wrapped_keys",
    "calendar_feeds": "SELECT count(*) FROM attendees WHERE calendar_key_hash IS NOT NULL",
    "push_subscriptions": "SELECT count(*) FROM push_subscriptions",
    "push_messages": "SELECT count(*) FROM push_outbox",
}
#: Children before parents, so nothing relies on ON DELETE CASCADE.
_DELETES = (
    "DELETE FROM push_outbox",
    "DELETE FROM push_subscriptions",
    "DELETE FROM documents",
    "DELETE FROM doc_log",
    "DELETE FROM wrapped_keys",
    "DELETE FROM link_codes",
    "DELETE FROM attendee_tokens",
    "DELETE FROM attendees",
)


@dataclass(frozen=True, slots=True)
class AttendeeData:
    """How much attendee data there is, or was removed, by kind."""

    attendees: int
    device_tokens: int
    link_codes: int
    documents: int
    encrypted_entries: int
    wrapped_keys: int
    calendar_feeds: int
    push_subscriptions: int
    push_messages: int

    def items(self) -> list[tuple[str, int]]:
        """``(kind, count)`` pairs, with kinds in words (``device tokens``)."""
        return [(field.name.replace("_", " "), getattr(self, field.name)) for field in fields(self)]

    def total(self) -> int:
        return sum(count for _, count in self.items())


@dataclass(frozen=True, slots=True)
class Reclaimed:
    """What reclaiming space achieved: ``wal_emptied`` is False when a reader held the log open."""

    wal_emptied: bool


async def count_attendee_data(conn: Connection) -> AttendeeData:
    """How much attendee data the database holds."""
    counts: dict[str, int] = {}
    for kind, query in _COUNTS.items():
        async with conn.execute(query) as cur:
            row = await cur.fetchone()
        counts[kind] = int(row[0]) if row else 0
    return AttendeeData(**counts)


async def delete_attendee_data(conn: Connection) -> AttendeeData:
    """Delete every attendee and everything attached; call it inside a write transaction.

    Returns:
        What was deleted.
    """
    removed = await count_attendee_data(conn)
    for statement in _DELETES:
        await conn.execute(statement)
    await feedback.new_rater_key(conn, secrets.token_bytes(32))
    return removed


def reclaim_space(path: Path) -> Reclaimed:
    """Rewrite the database without free pages and empty its write-ahead log (blocking; run in a thread).

    Raises:
        sqlite3.OperationalError: Another connection kept the database busy past the busy timeout.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("VACUUM")
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    return Reclaimed(wal_emptied=busy == 0)


async def _reclaim(db: Database) -> Reclaimed:
    """Rewrite the storage without the deleted rows' old versions: the SQLite file, or PostgreSQL's tables."""
    if isinstance(db, SqliteDatabase):
        return await asyncio.to_thread(reclaim_space, db.path)
    if isinstance(db, PostgresDatabase):
        await db.vacuum_full()
    return Reclaimed(wal_emptied=True)


async def purge_attendees(db: Database) -> tuple[AttendeeData, Reclaimed]:
    """Remove every attendee's data in one transaction, then reclaim the space it used.

    Returns:
        What was removed, and whether the write-ahead log could be emptied too.
    """
    async with db.write() as conn:
        removed = await delete_attendee_data(conn)
    return removed, await _reclaim(db)


async def purge_plaintext_notes(db: Database) -> tuple[int, Reclaimed]:
    """Remove the plaintext notes left from before notes were end-to-end encrypted, then wipe the space.

    A device that comes back encrypts and uploads its notes and the server deletes their plaintext at once; this
    removes the notes of attendees who never came back (their devices still hold them).

    Returns:
        How many notes were removed, and whether the write-ahead log could be emptied too.
    """
    async with db.write() as conn:
        removed = await vault.delete_plaintext_notes(conn)
    return removed, await _reclaim(db)


async def count_plaintext_notes(db: Database) -> int:
    async with db.read() as conn:
        return await vault.count_plaintext_notes(conn)
