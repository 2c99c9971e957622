"""The SQLite layer: pragmas, migrations, one serialised writer, rollback on error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.storage.db import SqliteDatabase, migration_files


async def test_pragmas_and_migrations(tmp_path: Path) -> None:
    async with SqliteDatabase(tmp_path / "k.db", readers=2) as db, db.write() as conn:
        async with conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
        async with conn.execute("PRAGMA busy_timeout") as cur:
            assert (await cur.fetchone())[0] >= 1000
        async with conn.execute("SELECT version, name FROM schema_migrations ORDER BY version") as cur:
            applied = [tuple(row) for row in await cur.fetchall()]
    assert applied == [(version, name) for version, name, _ in migration_files()]


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    async with SqliteDatabase(path) as db, db.read() as conn, conn.execute("SELECT epoch FROM feed_state") as cur:
        epoch = (await cur.fetchone())[0]
    async with SqliteDatabase(path) as db, db.read() as conn, conn.execute("SELECT epoch FROM feed_state") as cur:
        assert (await cur.fetchone())[0] == epoch


async def test_readers_cannot_write(tmp_path: Path) -> None:
    async with SqliteDatabase(tmp_path / "k.db") as db, db.read() as conn:
        with pytest.raises(Exception, match=r"readonly|query_only|attempt to write"):
            await conn.execute("UPDATE feed_state SET seq = 99")


async def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    async with SqliteDatabase(tmp_path / "k.db") as db:

        async def fail_half_way() -> None:
            async with db.write() as conn:
                await conn.execute("UPDATE feed_state SET seq = 99")
                raise RuntimeError("half-way")

        with pytest.raises(RuntimeError):
            await fail_half_way()
        async with db.read() as conn, conn.execute("SELECT seq FROM feed_state") as cur:
            assert (await cur.fetchone())[0] == 0


async def test_writes_are_serialised(tmp_path: Path) -> None:
    async with SqliteDatabase(tmp_path / "k.db") as db:

        async def bump() -> None:
            async with db.write() as conn:
                async with conn.execute("SELECT seq FROM feed_state") as cur:
                    seq = (await cur.fetchone())[0]
                await asyncio.sleep(0)
                await conn.execute("UPDATE feed_state SET seq = ?", (seq + 1,))

        await asyncio.gather(*(bump() for _ in range(50)))
        async with db.read() as conn, conn.execute("SELECT seq FROM feed_state") as cur:
            assert (await cur.fetchone())[0] == 50


async def test_two_processes_worth_of_writers_wait_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    async with SqliteDatabase(path) as first, SqliteDatabase(path) as second:

        async def bump(db: SqliteDatabase) -> None:
            for _ in range(20):
                async with db.write() as conn:
                    await conn.execute("UPDATE feed_state SET seq = seq + 1")

        await asyncio.gather(bump(first), bump(second))
        async with first.read() as conn, conn.execute("SELECT seq FROM feed_state") as cur:
            assert (await cur.fetchone())[0] == 40


async def test_a_write_cancelled_while_it_waits_for_the_lock_leaves_no_transaction_open(tmp_path: Path) -> None:
    """A write that waits out another process's lock and is cancelled meanwhile (a stopping scheduler, a client gone)
    leaves the connection free: the BEGIN that ran after the cancellation is rolled back."""
    import sqlite3

    async with SqliteDatabase(tmp_path / "k.db") as db:
        other = sqlite3.connect(tmp_path / "k.db", isolation_level=None, check_same_thread=False)
        await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")

        async def write() -> None:
            async with db.write() as conn:
                await conn.execute("UPDATE feed_state SET seq = seq + 1")

        waiting = asyncio.create_task(write())
        await asyncio.sleep(0.3)  # its BEGIN IMMEDIATE waits in SQLite's busy handler
        waiting.cancel()
        await asyncio.sleep(0.1)
        other.rollback()  # the BEGIN now goes through, after its caller was cancelled
        with pytest.raises(asyncio.CancelledError):
            await waiting
        other.close()
        async with db.write() as conn:  # the next write begins as usual
            await conn.execute("UPDATE feed_state SET seq = seq + 1")
