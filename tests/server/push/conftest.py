"""Fixtures of the push tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from server.storage.db import Database


@pytest.fixture
async def db(make_database: Callable[..., Database]) -> AsyncIterator[Database]:
    """A migrated database: a real SQLite file, or the test's own PostgreSQL database."""
    async with make_database() as database:
        yield database


@pytest.fixture
async def other_db(db: Database, make_database: Callable[..., Database]) -> AsyncIterator[Database]:
    """The same database opened again, as another server (or another worker process) opens it."""
    async with make_database() as database:
        yield database
