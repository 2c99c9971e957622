"""Fixtures of the push tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.storage.db import SqliteDatabase


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    """A migrated database in a real SQLite file."""
    async with SqliteDatabase(tmp_path / "kumpul.db") as database:
        yield database
