"""Processes that share one SQLite file take turns to write (``WriterTurn``): a writer waiting for another process's
write gets in as soon as that write ends, instead of sleeping in SQLite's busy handler while the other process
writes on and on. Two ``SqliteDatabase`` objects on one file stand for two workers: each has its own connections and
its own turn file descriptors, as separate processes would."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

import server.storage.db as storage
from server.storage.db import SqliteDatabase, database_busy


async def _hold_a_write(db: SqliteDatabase, holding: asyncio.Event, release: asyncio.Event) -> None:
    async with db.write() as conn:
        await conn.execute("UPDATE feed_state SET seq = seq + 1")
        holding.set()
        await release.wait()


async def test_a_writer_of_another_process_gets_in_while_one_process_writes_on_and_on(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    async with SqliteDatabase(path) as busy, SqliteDatabase(path) as other:
        async with busy.write() as conn:
            await conn.execute("CREATE TABLE marks (id INTEGER PRIMARY KEY, who TEXT NOT NULL)")
        stop = asyncio.Event()

        async def write_on_and_on() -> None:
            while not stop.is_set():
                async with busy.write() as conn:
                    await conn.execute("INSERT INTO marks (who) VALUES ('busy')")
                    await asyncio.sleep(0.005)  # the work of a request between its statements

        # Several requests of the busy process write at once, so that one begins as soon as another commits.
        writing = asyncio.gather(*(write_on_and_on() for _ in range(8)))
        try:
            while True:  # until the busy process has written a few times, so that it is in its stride
                async with busy.read() as conn:
                    if len(await conn.execute_fetchall("SELECT id FROM marks")) >= 5:
                        break
            async with other.write() as conn:
                await conn.execute("INSERT INTO marks (who) VALUES ('other')")
        finally:
            stop.set()
            await writing
        async with busy.read() as conn:
            rows = await conn.execute_fetchall("SELECT id, who FROM marks ORDER BY id")
    other_at = next(number for number, (_, who) in enumerate(rows) if who == "other")
    # The busy process wrote at least 5 times before the other one asked. Left to SQLite's busy handler, the other
    # one slept up to 100 ms at a time and mostly woke while the busy one held the lock again: it waited out
    # hundreds of the busy one's writes (14, 234 and 411 in three runs); with turns, one or two.
    assert other_at < 5 + 10, f"the other process waited while the busy one wrote {other_at - 5} times"


async def test_a_writer_cancelled_while_it_waits_for_its_turn_leaves_the_turn_free(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    async with SqliteDatabase(path) as first, SqliteDatabase(path) as second:
        holding, release = asyncio.Event(), asyncio.Event()
        held = asyncio.create_task(_hold_a_write(first, holding, release))
        await holding.wait()

        async def write_second() -> None:
            async with second.write() as conn:
                await conn.execute("UPDATE feed_state SET seq = seq + 10")

        waiting = asyncio.create_task(write_second())
        await asyncio.sleep(0)  # it is now waiting for its turn in its thread
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        await held

        # The cancelled writer's thread got the turn after it was gone, and gave it back: both write again.
        for db in (first, second, first):
            async with asyncio.timeout(storage.BUSY_TIMEOUT_MS / 2000), db.write() as conn:
                await conn.execute("UPDATE feed_state SET seq = seq + 100")
        async with first.read() as conn:
            assert (await conn.execute_fetchall("SELECT seq FROM feed_state"))[0][0] == 301


async def test_a_turn_held_past_the_busy_timeout_refuses_the_write_as_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "BUSY_TIMEOUT_MS", 300)
    path = tmp_path / "k.db"
    async with SqliteDatabase(path) as first, SqliteDatabase(path) as second:
        holding, release = asyncio.Event(), asyncio.Event()
        held = asyncio.create_task(_hold_a_write(first, holding, release))
        await holding.wait()
        try:
            with pytest.raises(sqlite3.OperationalError) as refused:
                async with second.write() as conn:
                    await conn.execute("UPDATE feed_state SET seq = seq + 10")
            assert database_busy(refused.value), refused.value  # a retryable 503 for a request
        finally:
            release.set()
            await held
        async with second.write() as conn:  # and once the other write ends, the turn comes round
            await conn.execute("UPDATE feed_state SET seq = seq + 10")
        async with second.read() as conn:
            assert (await conn.execute_fetchall("SELECT seq FROM feed_state"))[0][0] == 11


async def test_writes_go_on_without_turns_when_the_turn_file_cannot_be_made(tmp_path: Path) -> None:
    """On a full disk (or a read-only folder) the file cannot be made: SQLite's own lock still keeps writes apart, and
    the write meets the full disk, if any, where it writes (a 507), not in its turn (a 500)."""
    path = tmp_path / "k.db"
    (tmp_path / "k.db-writer").mkdir()  # what stands in the way of opening the file
    async with SqliteDatabase(path) as first, SqliteDatabase(path) as second:
        for db in (first, second):
            async with db.write() as conn:
                await conn.execute("UPDATE feed_state SET seq = seq + 1")
        async with first.read() as conn:
            assert (await conn.execute_fetchall("SELECT seq FROM feed_state"))[0][0] == 2
