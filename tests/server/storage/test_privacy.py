"""Privacy floors in the database: seeded from what an older database holds, kept, and enforced by the database
itself."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from server.storage import privacy
from server.storage import programme as store
from server.storage.db import Database, IntegrityError, SqliteDatabase, migration_files

SPEAKER = {"id": "spk-1", "name": "Mawar", "anonymous": True}
SESSION = {"id": "s-1", "title": "Shelters", "recording": "off-the-record"}


def database_before_floors(path: Path) -> None:
    """A database from before migration 0005 that holds an anonymous speaker and an off-the-record session."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for version, name, sql in migration_files():
        if version < 5:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))", (version, name))
    for seq, (kind, data) in enumerate((("speaker", SPEAKER), ("session", SESSION)), start=1):
        conn.execute(
            "INSERT INTO entities (kind, id, seq, data, updated_at) VALUES (?, ?, ?, ?, '2024-07-01T00:00:00.000Z')",
            (kind, data["id"], seq, json.dumps(data)),
        )
    conn.execute("UPDATE feed_state SET seq = 2")
    conn.commit()
    conn.close()


@pytest.mark.sqlite_only  # PostgreSQL's schema starts past migration 0005, with the floors in place
async def test_floors_are_seeded_from_what_an_older_database_holds(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    database_before_floors(path)
    async with SqliteDatabase(path) as db, db.read() as conn:
        assert await privacy.floors(conn) == {("speaker", "spk-1"): 1, ("session", "s-1"): 2}


async def test_floors_are_kept_after_deletion_and_enforced_by_the_database(
    make_database: Callable[..., Database],
) -> None:
    async with make_database() as db:
        async with db.write() as conn:
            for kind, data in (("speaker", SPEAKER), ("session", SESSION)):
                await store.put_entity(conn, kind, data["id"], json.dumps(data).encode())
        async with db.read() as conn:
            assert await privacy.floors(conn) == {("speaker", "spk-1"): 1, ("session", "s-1"): 2}

        # A write that skips the service's checks is still refused, and leaves nothing behind.
        for kind, data in (
            ("speaker", {**SPEAKER, "anonymous": False}),
            ("session", {**SESSION, "recording": "no-recording"}),
        ):
            with pytest.raises(IntegrityError, match="privacy floor"):
                async with db.write() as conn:
                    await store.put_entity(conn, kind, data["id"], json.dumps(data).encode())
        async with db.write() as conn:
            await store.delete_entity(conn, "speaker", "spk-1")
        with pytest.raises(IntegrityError, match="privacy floor"):
            async with db.write() as conn:
                await store.put_entity(conn, "speaker", "spk-1", json.dumps({**SPEAKER, "anonymous": False}).encode())

        # Stricter writes raise a floor; lowering one (the admin actions) lets the looser write through.
        async with db.write() as conn:
            await store.put_entity(
                conn, "session", "s-2", json.dumps({**SESSION, "id": "s-2", "recording": "no-recording"}).encode()
            )
            await privacy.lower_floor(conn, "session", "s-1", 1)
            await store.put_entity(
                conn, "session", "s-1", json.dumps({**SESSION, "recording": "no-recording"}).encode()
            )
        async with db.read() as conn:
            assert await store.get_entity(conn, "speaker", "spk-1") is None
            assert await privacy.floors(conn) == {("speaker", "spk-1"): 1, ("session", "s-1"): 1, ("session", "s-2"): 1}
