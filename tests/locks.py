"""Another process holding the database's write lock, for tests of what the server does meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable

import psycopg

from server.storage.db import Database, SqliteDatabase
from server.storage.postgres import WRITE_LOCK, PostgresDatabase

Lock = Callable[[], Awaitable[None]]


@contextlib.asynccontextmanager
async def another_writer(db: Database) -> AsyncIterator[tuple[Lock, Lock]]:
    """Another process that can hold the database's write lock, and let it go: an SQLite write transaction, or on
    PostgreSQL the advisory lock every write transaction takes."""
    if isinstance(db, PostgresDatabase):
        async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as pg:
            held = False

            async def hold() -> None:
                nonlocal held
                await pg.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
                held = True

            async def release() -> None:
                nonlocal held
                if held:
                    await pg.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
                    held = False

            yield hold, release
        return
    assert isinstance(db, SqliteDatabase)
    # Off the event loop: while this waits for the lock, the server's own write transaction (begun, its COMMIT not
    # yet sent) must go on, or both would wait on each other until SQLite gives up.
    other = sqlite3.connect(db.path, isolation_level=None, timeout=30, check_same_thread=False)

    async def begin() -> None:
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")

    async def rollback() -> None:
        if other.in_transaction:
            await asyncio.to_thread(other.rollback)

    try:
        yield begin, rollback
    finally:
        await rollback()
        other.close()
