"""``kumpul purge``: after the event every attendee's data goes, for good, and nothing else does; plaintext notes
from before notes were encrypted go too, once their devices had their chance to encrypt them."""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

from server.app import create_app
from server.demo import demo_programme
from server.services.auth import AuthService, Role
from server.settings import Settings
from server.storage.db import SqliteDatabase
from server.storage.purge import purge_attendees
from tests.asgi import AppClient, app_client
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
    raw = file_bytes(db)
    found = []
    for item in planted:
        found += [text for text in (item.note_text[:40], item.endpoint) if text.encode() in raw]
    return found


def table_counts(db: Path, tables: tuple[str, ...]) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}  # noqa: S608 -- fixed names
    finally:
        conn.close()


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


async def test_purge_removes_every_attendee_and_no_trace_stays_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "kumpul.db"
    async with app_client(create_app(Settings(db_path=db))) as client:
        admin, planted = await conference(client)
        programme = await client.get("/api/programme")
        history = (await client.get("/api/admin/history", params={"limit": "200"}, headers=admin)).json()
    kept = table_counts(db, KEPT_TABLES)
    assert traces(db, planted) == [item.endpoint for item in planted], "endpoints are stored; notes never in clear"

    result = run("purge", "--attendees", "--yes", "--db", str(db))
    assert result.returncode == 0, result.stderr
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

    assert table_counts(db, ATTENDEE_TABLES) == dict.fromkeys(ATTENDEE_TABLES, 0)
    assert table_counts(db, KEPT_TABLES) == kept
    assert traces(db, planted) == [], "VACUUM and the checkpoint leave no deleted page behind"
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0

    async with app_client(create_app(Settings(db_path=db))) as client:
        again = await client.get("/api/programme")
        assert (again.headers["etag"], again.content) == (programme.headers["etag"], programme.content)
        assert (await client.get("/api/admin/history", params={"limit": "200"}, headers=admin)).json() == history
        for item in planted:
            for device in item.devices:
                assert (await client.get("/api/attendees/me", headers=device.headers)).status_code == 401
            assert (await client.get(item.calendar_path)).status_code == 404
        assert (await client.post("/api/attendees")).status_code == 201, "new attendees can start afresh"


async def test_purge_asks_on_a_terminal_and_no_keeps_everything(tmp_path: Path) -> None:
    db = tmp_path / "kumpul.db"
    async with app_client(create_app(Settings(db_path=db))) as client:
        await conference(client)
    before = table_counts(db, ATTENDEE_TABLES)

    declined = run_on_terminal("purge", "--attendees", "--db", str(db), answer="n")
    assert declined.returncode == 1
    assert "attendees: 2" in declined.stderr
    assert "Remove it for good? [y/N]" in declined.stderr
    assert "nothing was removed" in declined.stderr
    assert declined.stdout == ""
    assert table_counts(db, ATTENDEE_TABLES) == before

    accepted = run_on_terminal("purge", "--attendees", "--db", str(db), answer="y")
    assert accepted.returncode == 0, accepted.stderr
    assert reported(accepted.stdout)["attendees"] == 2
    assert table_counts(db, ATTENDEE_TABLES) == dict.fromkeys(ATTENDEE_TABLES, 0)


async def test_purge_without_a_terminal_needs_yes(tmp_path: Path) -> None:
    db = tmp_path / "kumpul.db"
    async with app_client(create_app(Settings(db_path=db))) as client:
        await conference(client)
    before = table_counts(db, ATTENDEE_TABLES)
    refused = run("purge", "--attendees", "--db", str(db))
    assert refused.returncode == 1
    assert "pass --yes" in refused.stderr
    assert table_counts(db, ATTENDEE_TABLES) == before

    unsaid = run("purge", "--yes", "--db", str(db))
    assert unsaid.returncode == 2
    assert "--attendees" in unsaid.stderr
    missing = run("purge", "--attendees", "--yes", "--db", str(tmp_path / "nowhere.db"))
    assert missing.returncode == 1
    assert "there is no database" in missing.stderr
    assert not (tmp_path / "nowhere.db").exists()


async def test_purge_while_serving(client: AppClient) -> None:
    """The running server's connections stay open; its log is emptied all the same."""
    db: SqliteDatabase = client.app.state.db
    async with db.write() as conn:
        # As SQLite builds without SECURE_DELETE do: deleted rows stay readable in free pages until a VACUUM.
        await conn.execute("PRAGMA secure_delete = OFF")
    planted = [await plant_attendee(client, "asih")]
    assert traces(db.path, planted)
    removed, reclaimed = await purge_attendees(db)
    assert (removed.attendees, removed.documents, removed.encrypted_entries) == (1, 1, 1)
    assert reclaimed.wal_emptied
    assert traces(db.path, planted) == []
    assert (await client.get("/api/programme")).status_code == 200
    assert (await client.get("/api/attendees/me", headers=planted[0].devices[0].headers)).status_code == 401
    assert (await client.post("/api/attendees")).status_code == 201


async def test_purge_plaintext_notes_removes_only_unencrypted_notes_and_wipes_them(tmp_path: Path) -> None:
    db = tmp_path / "kumpul.db"
    async with app_client(create_app(Settings(db_path=db))) as client:
        planted = await plant_attendee(client, "asih")
        database: SqliteDatabase = client.app.state.db
        async with database.write() as conn:
            # A note synced before notes were encrypted, whose devices never came back.
            await conn.execute(
                "INSERT INTO documents (attendee_id, doc_id, state, seq, updated_at) VALUES (?, ?, ?, 99, 'x')",
                (planted.attendee_id, f"note:{uuid.UUID(int=7)}", OLD_NOTE.encode()),
            )
    assert OLD_NOTE.encode() in file_bytes(db)
    before = table_counts(db, ("doc_log", "attendees"))

    refused = run("purge", "--plaintext-notes", "--db", str(db))
    assert refused.returncode == 1
    assert "pass --yes" in refused.stderr
    result = run("purge", "--plaintext-notes", "--yes", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "plaintext notes: 1"
    assert OLD_NOTE.encode() not in file_bytes(db)
    assert table_counts(db, ("doc_log", "attendees")) == before, "encrypted notes and attendees stay"
    both = run("purge", "--plaintext-notes", "--attendees", "--yes", "--db", str(db))
    assert both.returncode == 2, "one kind at a time"
