"""Keyed writes: a write that touches only one attendee's private documents is serialised with the writes of the
same attendee and with every write without a key; on PostgreSQL the writes of different attendees commit at once,
on SQLite (one writer) one after another."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from server.storage.db import Database, SqliteDatabase


@pytest.fixture
async def db(make_database: Callable[..., Database]) -> AsyncIterator[Database]:
    async with make_database() as opened:
        yield opened


class Writes:
    """Writes held open until let go, recording which are inside their transaction at once."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.inside: set[str] = set()
        self.together: set[frozenset[str]] = set()
        self._go: dict[str, asyncio.Event] = {}
        self._entered: dict[str, asyncio.Event] = {}

    def start(self, name: str, key: str | None) -> asyncio.Task[None]:
        self._go[name] = asyncio.Event()
        self._entered[name] = asyncio.Event()
        return asyncio.create_task(self._write(name, key))

    async def _write(self, name: str, key: str | None) -> None:
        async with self.db.write(key=key) as conn:
            await conn.execute("SELECT 1")  # inside the transaction, its locks taken
            self.inside.add(name)
            self.together.add(frozenset(self.inside))
            self._entered[name].set()
            await self._go[name].wait()
            self.inside.discard(name)

    async def entered(self, name: str, seconds: float = 3.0) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await self._entered[name].wait()
        except TimeoutError:
            return False
        return True

    def let_go(self, name: str) -> None:
        self._go[name].set()


async def test_writes_of_different_attendees_go_at_once_only_where_the_engine_allows_it(db: Database) -> None:
    writes = Writes(db)
    first = writes.start("amira", key="attendee-amira")
    assert await writes.entered("amira")
    second = writes.start("bo", key="attendee-bo")
    at_once = await writes.entered("bo", seconds=1.0)
    assert at_once is not isinstance(db, SqliteDatabase), "PostgreSQL runs them at once; SQLite has one writer"
    writes.let_go("amira")
    writes.let_go("bo")
    await asyncio.gather(first, second)


async def test_writes_of_one_attendee_go_one_after_the_other(db: Database) -> None:
    writes = Writes(db)
    first = writes.start("phone", key="attendee-amira")
    assert await writes.entered("phone")
    second = writes.start("laptop", key="attendee-amira")
    assert not await writes.entered("laptop", seconds=0.5), "the second waits for the first"
    writes.let_go("phone")
    assert await writes.entered("laptop")
    writes.let_go("laptop")
    await asyncio.gather(first, second)
    assert frozenset({"phone", "laptop"}) not in writes.together


async def test_a_write_without_a_key_waits_for_keyed_ones_and_they_for_it(db: Database) -> None:
    writes = Writes(db)
    keyed = writes.start("amira", key="attendee-amira")
    assert await writes.entered("amira")
    erasure = writes.start("erasure", key=None)
    assert not await writes.entered("erasure", seconds=0.5), "a write without a key waits for every keyed one"
    writes.let_go("amira")
    assert await writes.entered("erasure")
    later = writes.start("bo", key="attendee-bo")
    assert not await writes.entered("bo", seconds=0.5), "and a keyed write waits for it"
    writes.let_go("erasure")
    assert await writes.entered("bo")
    writes.let_go("bo")
    await asyncio.gather(keyed, erasure, later)
    assert all(len(group) == 1 for group in writes.together if "erasure" in group)
