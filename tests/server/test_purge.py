"""``kumpul purge``: after the event every attendee's data goes, for good, and nothing else does; plaintext notes
from before notes were encrypted go too, once their devices had their chance to encrypt them."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from server.app import create_app
from server.demo import demo_programme
from server.services.auth import AuthService, Role
from server.settings import Settings
from server.storage.db import Database, SqliteDatabase, open_database
from server.storage.purge import purge_attendees
from tests.asgi import AppClient, app_client
from tests.postgres import Cluster
from tests.server.attendee_data import Planted, plant_attendee

KUMPUL = [sys.executable, "-m", "server.cli"]
OLD_NOTE = "Shelter address from before encryption: Jalan Melati 12"
ATTENDEE_TABLES = (
    "attendees",
    "attendee_tokens",
    "link_codes",
    "documents",
    "doc_log",
    "wrapped_keys",
    "push_subscriptions",
    "push_outbox",
)
KEPT_TABLES = ("entities", "feed_state", "announcements", "organisers", "history")


def run(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KUMPUL, *args], stdin=stdin, capture_output=True, text=True, check=False, timeout=120)


def run_on_terminal(*args: str, answer: str) -> subprocess.CompletedProcess[str]:
    """Run a command whose standard input is a terminal on which ``answer`` is typed."""
    main, terminal = pty.openpty()
    try:
        os.write(main, answer.encode() + b"\n")
        return run(*args, stdin=terminal)
    finally:
        os.close(main)
        os.close(terminal)


def file_bytes(db: Path) -> bytes:
    """The database file and its write-ahead log, as they are on disk."""
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def traces(db: Path, planted: list[Planted]) -> list[str]:
    """Which of the planted notes and push endpoints can still be found in the file's bytes."""
    return found_in(file_bytes(db), planted)


def found_in(raw: bytes, planted: list[Planted]) -> list[str]:
    found = []
    for item in planted:
        found += [text for text in (item.note_text[:40], item.endpoint) if text.encode() in raw]
    return found


def storage(settings: Settings) -> list[str]:
    """The options that point ``kumpul`` at the test's database: the SQLite file, or the PostgreSQL database."""
    where = ["--db", str(settings.db_path)]
    return [*where, "--database-url", settings.database_url] if settings.database_url else where


async def table_counts(settings: Settings, tables: tuple[str, ...]) -> dict[str, int]:
    """How many rows each table holds, read through a database of its own (as another process would)."""
    async with open_database(settings.db_path, settings.database_url) as db, db.read() as conn:
        counts = {}
        for table in tables:
            async with conn.execute(f"SELECT count(*) FROM {table}") as cur:  # noqa: S608 -- fixed names
                row = await cur.fetchone()
            counts[table] = int(row[0])
        return counts


def reported(stdout: str) -> dict[str, int]:
    return {kind: int(count) for kind, _, count in (line.rpartition(": ") for line in stdout.splitlines())}


async def conference(client: AppClient) -> tuple[dict[str, str], list[Planted]]:
    """The demo programme, an admin, an announcement, two attendees and a device subscribed without an account."""
    await client.app.state.programme.import_programme(demo_programme())
    _, token = await AuthService(client.app.state.db).add_organiser("Dewi", Role.ADMIN)
    admin = {"Authorization": f"Bearer {token}"}
    # Posted before anyone subscribes to push, so nothing is sent anywhere.
    posted = await client.post("/api/admin/announcements", json={"title": "Welcome to Bali"}, headers=admin)
    assert posted.status_code == 201, posted.text
    planted = [await plant_attendee(client, "asih"), await plant_attendee(client, "bayu")]
    keys = {"p256dh": "C" * 87, "auth": "c" * 22}
    anonymous = await client.post(
        "/api/push/subscriptions", json={"endpoint": "https://8.8.8.8/wpush/v2/x", "keys": keys}
    )
    assert anonymous.status_code == 201
    return admin, planted


async def test_purge_removes_every_attendee_and_nothing_else(settings: Settings) -> None:
    async with app_client(create_app(settings)) as client:
        admin, planted = await conference(client)
        programme = await client.get("/api/programme")
        history = (await client.get("/api/admin/history", params={"limit": "200"}, headers=admin)).json()
    kept = await table_counts(settings, KEPT_TABLES)

    result = run("purge", "--attendees", "--yes", *storage(settings))
    assert result.returncode == 0, result.stderr
    assert f"removed the attendee data from {settings.database_url or settings.db_path}" in result.stderr
    assert reported(result.stdout) == {
        "attendees": 2,
        "device tokens": 4,
        "link codes": 2,
        "documents": 2,
        "encrypted entries": 2,
        "wrapped keys": 2,
        "calendar feeds": 2,
        "push subscriptions": 3,
        "push messages": 4,
    }
    assert "backups made before now still hold the removed data" in result.stderr

    assert await table_counts(settings, ATTENDEE_TABLES) == dict.fromkeys(ATTENDEE_TABLES, 0)
    assert await table_counts(settings, KEPT_TABLES) == kept

    async with app_client(create_app(settings)) as client:
        again = await client.get("/api/programme")
        assert (again.headers["etag"], again.content) == (programme.headers["etag"], programme.content)
        assert (await client.get("/api/admin/history", params={"limit": "200"}, headers=admin)).json() == history
        for item in planted:
            for device in item.devices:
                assert (await client.get("/api/attendees/me", headers=device.headers)).status_code == 401
            assert (await client.get(item.calendar_path)).status_code == 404
        assert (await client.post("/api/attendees")).status_code == 201, "new attendees can start afresh"


@pytest.mark.sqlite_only
async def test_purge_leaves_no_trace_in_the_file(settings: Settings) -> None:
    db = settings.db_path
    async with app_client(create_app(settings)) as client:
        _, planted = await conference(client)
    assert traces(db, planted) == [item.endpoint for item in planted], "endpoints are stored; notes never in clear"

    result = run("purge", "--attendees", "--yes", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "rewrote the file without it" in result.stderr
    assert traces(db, planted) == [], "VACUUM and the checkpoint leave no deleted page behind"
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


async def table_files(settings: Settings, cluster: Cluster) -> bytes:
    """The files of every table and index of the test's PostgreSQL database, once a checkpoint wrote them."""
    async with open_database(settings.db_path, settings.database_url) as db, db.read() as conn:
        await conn.execute("CHECKPOINT")
        async with conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()") as cur:
            row = await cur.fetchone()
    folder = cluster.data / "base" / str(row[0])
    return b"".join(path.read_bytes() for path in folder.iterdir() if path.is_file())


@pytest.mark.skipif(os.environ.get("KUMPUL_TEST_DATABASE") != "postgresql", reason="about PostgreSQL's own files")
async def test_purge_rewrites_the_tables_of_postgresql_without_the_removed_rows(
    settings: Settings, pg_cluster: Cluster
) -> None:
    """``VACUUM (FULL)`` rewrites each table from the rows that remain, so the removed rows' old versions leave the
    database's files (PostgreSQL's write-ahead log keeps them until it is recycled, as backups keep them)."""
    async with app_client(create_app(settings)) as client:
        _, planted = await conference(client)
    assert found_in(await table_files(settings, pg_cluster), planted) == [item.endpoint for item in planted]

    result = run("purge", "--attendees", "--yes", *storage(settings))
    assert result.returncode == 0, result.stderr
    assert found_in(await table_files(settings, pg_cluster), planted) == []


async def test_purge_asks_on_a_terminal_and_no_keeps_everything(settings: Settings) -> None:
    async with app_client(create_app(settings)) as client:
        await conference(client)
    before = await table_counts(settings, ATTENDEE_TABLES)

    declined = run_on_terminal("purge", "--attendees", *storage(settings), answer="n")
    assert declined.returncode == 1
    assert "attendees: 2" in declined.stderr
    assert "Remove it for good? [y/N]" in declined.stderr
    assert "nothing was removed" in declined.stderr
    assert declined.stdout == ""
    assert await table_counts(settings, ATTENDEE_TABLES) == before

    accepted = run_on_terminal("purge", "--attendees", *storage(settings), answer="y")
    assert accepted.returncode == 0, accepted.stderr
    assert reported(accepted.stdout)["attendees"] == 2
    assert await table_counts(settings, ATTENDEE_TABLES) == dict.fromkeys(ATTENDEE_TABLES, 0)


async def test_purge_without_a_terminal_needs_yes(settings: Settings) -> None:
    async with app_client(create_app(settings)) as client:
        await conference(client)
    before = await table_counts(settings, ATTENDEE_TABLES)
    refused = run("purge", "--attendees", *storage(settings))
    assert refused.returncode == 1
    assert "pass --yes" in refused.stderr
    assert await table_counts(settings, ATTENDEE_TABLES) == before

    unsaid = run("purge", "--yes", *storage(settings))
    assert unsaid.returncode == 2
    assert "--attendees" in unsaid.stderr


@pytest.mark.sqlite_only
def test_purging_a_file_that_is_not_there_makes_none(tmp_path: Path) -> None:
    missing = run("purge", "--attendees", "--yes", "--db", str(tmp_path / "nowhere.db"))
    assert missing.returncode == 1
    assert "there is no database" in missing.stderr
    assert not (tmp_path / "nowhere.db").exists()


async def test_purge_while_serving(client: AppClient) -> None:
    """The running server's connections stay open while the storage is rewritten, and it serves on."""
    planted = await plant_attendee(client, "asih")
    removed, reclaimed = await purge_attendees(client.app.state.db)
    assert (removed.attendees, removed.documents, removed.encrypted_entries) == (1, 1, 1)
    assert reclaimed.wal_emptied
    assert (await client.get("/api/programme")).status_code == 200
    assert (await client.get("/api/attendees/me", headers=planted.devices[0].headers)).status_code == 401
    assert (await client.post("/api/attendees")).status_code == 201


@pytest.mark.sqlite_only
async def test_purge_while_serving_empties_the_log_of_the_running_server(client: AppClient) -> None:
    db: SqliteDatabase = client.app.state.db
    async with db.write() as conn:
        # As SQLite builds without SECURE_DELETE do: deleted rows stay readable in free pages until a VACUUM.
        await conn.execute("PRAGMA secure_delete = OFF")
    planted = [await plant_attendee(client, "asih")]
    assert traces(db.path, planted)
    _, reclaimed = await purge_attendees(db)
    assert reclaimed.wal_emptied
    assert traces(db.path, planted) == []


async def plant_old_note(db: Database, attendee_id: str) -> None:
    """A note synced before notes were encrypted, whose devices never came back."""
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO documents (attendee_id, doc_id, state, seq, updated_at) VALUES (?, ?, ?, 99, 'x')",
            (attendee_id, f"note:{uuid.UUID(int=7)}", OLD_NOTE.encode()),
        )


async def test_purge_plaintext_notes_removes_only_unencrypted_notes(settings: Settings) -> None:
    async with app_client(create_app(settings)) as client:
        planted = await plant_attendee(client, "asih")
        await plant_old_note(client.app.state.db, planted.attendee_id)
    before = await table_counts(settings, ("doc_log", "attendees"))

    refused = run("purge", "--plaintext-notes", *storage(settings))
    assert refused.returncode == 1
    assert "pass --yes" in refused.stderr
    result = run("purge", "--plaintext-notes", "--yes", *storage(settings))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "plaintext notes: 1"
    assert await table_counts(settings, ("documents",)) == {"documents": 1}, "the profile stays"
    assert await table_counts(settings, ("doc_log", "attendees")) == before, "encrypted notes and attendees stay"
    both = run("purge", "--plaintext-notes", "--attendees", "--yes", *storage(settings))
    assert both.returncode == 2, "one kind at a time"


@pytest.mark.sqlite_only
async def test_purge_plaintext_notes_wipes_them_from_the_file(settings: Settings) -> None:
    db = settings.db_path
    async with app_client(create_app(settings)) as client:
        planted = await plant_attendee(client, "asih")
        await plant_old_note(client.app.state.db, planted.attendee_id)
    assert OLD_NOTE.encode() in file_bytes(db)
    result = run("purge", "--plaintext-notes", "--yes", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert OLD_NOTE.encode() not in file_bytes(db)
