"""``kumpul migrate-db``: an event moves from its SQLite file to an empty PostgreSQL database row for row, and what
apps and devices see does not change; what cannot be moved safely is refused with nothing written.

These tests need PostgreSQL whichever engine the suite runs on: they use the session's private cluster.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest

from bench.programme_gen import generate
from server.app import create_app
from server.cli import load_demo_if_empty, main
from server.push.vapid import PRIVATE_KEY_FILE, keys_of, load_or_create_keys
from server.schemas.programme import ProgrammeImport
from server.services.auth import AuthService, Role
from server.services.programme import ProgrammeService
from server.settings import Settings
from server.storage.db import SqliteDatabase
from server.storage.postgres import PostgresDatabase
from tests.asgi import AppClient, app_client
from tests.postgres import Cluster
from tests.server.attendee_data import SESSION, Planted, plant_attendee
from tests.sync_devices import Device

#: A session nobody in these tests asks alerts for: moved to another room before the move and after it.
MOVED_SESSION = "plenary-aml"
#: Tables whose rows PostgreSQL's baseline seeds, and tables that are not part of an event.
SEEDED = {"feed_state", "feedback_key"}
NOT_EVENT = {"schema_migrations", "secrets"}
#: The programme uncompressed, so that its ETag does not depend on which compressed forms are ready yet.
IDENTITY = {"Accept-Encoding": "identity"}


@dataclass
class Event:
    """An event built on SQLite through the real app, and what its apps served before the move."""

    db: Path
    programme: dict[str, Any]
    etag: str
    push_key: str
    attendees: list[Planted]
    #: Per attendee, the first sync of a new device of theirs (no cursor): everything they keep on the server.
    first_syncs: list[dict[str, Any]] = field(default_factory=list)


async def tokens_of(client: AppClient) -> dict[Role, dict[str, str]]:
    auth: AuthService = client.app.state.auth
    made = {role: (await auth.add_organiser(f"{role.value} organiser", role))[1] for role in Role}
    return {role: {"Authorization": f"Bearer {token}"} for role, token in made.items()}


async def first_sync(client: AppClient, planted: Planted) -> dict[str, Any]:
    """What a new device of this attendee (their phone's token and notebook, holding nothing yet) is sent."""
    phone = planted.devices[0]
    device = Device(phone.token, phone.notebook)
    response = await client.post("/api/me/sync", json=device.request_body(), headers=device.headers)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


async def build_event(db: Path) -> Event:
    """The demo conference with its pages and floor plans, organisers, a speaker made anonymous, a moved session,
    releases, a room status, announcements, and two attendees with notes, bookmarks, linked devices, calendar
    feeds, push subscriptions (with messages queued) and feedback: all made through the app, on the file ``db``."""
    settings = Settings(db_path=db, change_poll_seconds=0.05)
    assert await load_demo_if_empty(settings)
    async with app_client(create_app(settings)) as client:
        tokens = await tokens_of(client)
        editor = tokens[Role.EDITOR]
        public = {"name": "Siti Quenzaleth", "organisation": "Vorthall Shelter Foundation"}
        speaker = await client.post("/api/admin/speakers", json=public, headers=editor)
        assert speaker.status_code == 201, speaker.text
        anonymous = {"anonymous": True, "name": "Kenanga Lumisari", "pronouns": "they/them", "bio": "Lumibio."}
        made = await client.patch(f"/api/admin/speakers/{speaker.json()['id']}", json=anonymous, headers=editor)
        assert made.status_code == 200, made.text
        moved = await client.patch(
            f"/api/admin/sessions/{MOVED_SESSION}", json={"roomId": "room-kintamani"}, headers=editor
        )
        assert moved.status_code == 200, moved.text
        for name in ("Zeta", "alpha"):  # in this order byte by byte, in the other by most collations
            assert (await client.post("/api/admin/releases", json={"name": name}, headers=editor)).status_code == 201
        status = {"state": "filling", "message": "Standing room only"}
        put = await client.put("/api/admin/room-status/room-hall-a", json=status, headers=tokens[Role.VOLUNTEER])
        assert put.status_code == 200, put.text
        # Announcements before any subscription, so that nothing is queued for a push service now.
        for body in (
            {"title": "Welcome", "body": "Registration opens at 08:00.", "priority": "urgent"},
            {"title": "Dinner", "body": "On the terrace.", "sendAt": "2999-01-01T18:00:00Z"},
        ):
            posted = await client.post("/api/admin/announcements", json=body, headers=tokens[Role.ANNOUNCER])
            assert posted.status_code == 201, posted.text
        planted = [await plant_attendee(client, name) for name in ("amara", "bayu")]
        programme = await client.get("/api/programme", headers=IDENTITY)
        key = (await client.get("/api/push/key")).json()["publicKey"]
        event = Event(db, programme.json(), programme.headers["etag"], key, planted)
        event.first_syncs = [await first_sync(client, attendee) for attendee in planted]
    return event


@pytest.fixture(scope="module")
def built_event(tmp_path_factory: pytest.TempPathFactory) -> Event:
    """One event for the module's tests (each takes a copy of its folder)."""
    return asyncio.run(build_event(tmp_path_factory.mktemp("event") / "kumpul.db"))


@pytest.fixture
def event(built_event: Event, tmp_path: Path) -> Event:
    """A copy of the event's folder (the database, its VAPID key), this test's to move."""
    folder = shutil.copytree(built_event.db.parent, tmp_path / "sqlite")
    return replace(built_event, db=folder / built_event.db.name)


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "kumpul.db"
    assert asyncio.run(load_demo_if_empty(Settings(db_path=db)))
    return db


@pytest.fixture
def demo(built_demo: Path, tmp_path: Path) -> Path:
    """A copy of a database holding the demo conference with its pages and floor plans, without a VAPID key."""
    return shutil.copytree(built_demo.parent, tmp_path / "demo") / built_demo.name


@pytest.fixture
def target(pg_cluster: Cluster) -> Iterator[str]:
    """An empty PostgreSQL database holding Kumpul's schema."""
    url = pg_cluster.new_database()
    yield url
    pg_cluster.drop(url)


def migrate(source: Path, url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``kumpul migrate-db`` as typed: its exit status, stdout and stderr."""
    capsys.readouterr()
    status = main(["migrate-db", "--from", str(source), "--to", url])
    out, err = capsys.readouterr()
    return status, out, err


def sqlite_tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the file but the migrations, sorted."""
    with closing(sqlite3.connect(db)) as conn:
        names = [
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if row[0] != "schema_migrations" and not row[0].startswith("sqlite_")
        ]
        select = 'SELECT * FROM "{}"'
        return {name: sorted(conn.execute(select.format(name)).fetchall(), key=repr) for name in names}


def pg_tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a PostgreSQL database but the migrations, sorted."""
    with psycopg.connect(url) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
            if row[0] != "schema_migrations"
        ]
        select = 'SELECT * FROM "{}"'
        return {name: sorted(conn.execute(select.format(name).encode()).fetchall(), key=repr) for name in names}


def holds_no_event(url: str) -> bool:
    """Whether a database is as its baseline left it: no rows but the seeded ones, the feed at 0."""
    tables = pg_tables(url)
    empty = all(not rows for name, rows in tables.items() if name not in SEEDED | NOT_EVENT)
    return empty and [row[2:] for row in tables["feed_state"]] == [(0, 0)]


def pg_value(url: str, query: bytes, *parameters: Any) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(query, parameters or None).fetchone()
    assert row is not None
    return row[0]


def highest_ids(db: Path) -> dict[str, int]:
    """The highest id of each table whose ids PostgreSQL numbers."""
    tables = ("organisers", "history", "push_subscriptions", "programme_changes")
    with closing(sqlite3.connect(db)) as conn:
        return {table: conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] for table in tables}  # noqa: S608 -- fixed names


async def test_an_event_moves_to_postgresql_and_apps_and_devices_see_no_difference(
    event: Event, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = await asyncio.to_thread(migrate, event.db, target, capsys)
    assert status == 0, err
    assert "verified: every table's rows, the programme and its ETag, the private documents of 2 attendees" in out
    assert "2 push subscriptions, the VAPID public key" in out
    assert f"{event.db.parent / PRIVATE_KEY_FILE} is now the database's VAPID key" in out

    # Row for row as they were: no trigger fired (no change log, floor or speaker number rows of the copy's own).
    copied = pg_tables(target)
    for table, rows in sqlite_tables(event.db).items():
        assert copied[table] == rows, table
    enabled = b"SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O'"
    assert pg_value(target, enabled) == 0

    node = Settings(db_path=tmp_path / "node" / "kumpul.db", database_url=target, change_poll_seconds=0.05)
    async with app_client(create_app(node)) as client:
        programme = await client.get("/api/programme", headers=IDENTITY)
        assert programme.json() == event.programme
        assert programme.headers["etag"] == event.etag
        assert (await client.get("/api/push/key")).json()["publicKey"] == event.push_key

        for planted, before in zip(event.attendees, event.first_syncs, strict=True):
            assert await first_sync(client, planted) == before
            device = Device(planted.devices[0].token, planted.devices[0].notebook)
            device.receive(before)
            notes = [doc_id for doc_id in device.docs if doc_id.startswith("note:")]
            assert [str(device.text(note)) for note in notes] == [planted.note_text]
            assert dict(device.bookmarks()) == {SESSION: True}
            # The phone goes on from its own cursor: nothing to fetch again, nothing to resend.
            phone = planted.devices[0]
            reply = (await client.post("/api/me/sync", json=phone.request_body(), headers=phone.headers)).json()
            assert (reply["cursor"], reply["resend"], reply["docs"]) == (phone.cursor, False, [])
            assert all(not log["entries"] for log in reply["logs"])
            assert (await client.get(planted.calendar_path)).status_code == 200

        # New rows are numbered after the copied ones, and the triggers work again.
        highest = highest_ids(event.db)
        auth: AuthService = client.app.state.auth
        organiser, token = await auth.add_organiser("late editor", Role.EDITOR)
        assert organiser.id == highest["organisers"] + 1
        editor = {"Authorization": f"Bearer {token}"}
        path = f"/api/admin/sessions/{MOVED_SESSION}"
        assert (await client.patch(path, json={"roomId": "room-hall-b"}, headers=editor)).status_code == 200
        speaker = await client.post("/api/admin/speakers", json={"name": "Late Speaker"}, headers=editor)
        assert speaker.status_code == 201, speaker.text
        keys = {"p256dh": "B" * 87, "auth": "a" * 22}
        browser = {"endpoint": f"https://8.8.8.8/wpush/v2/{uuid.uuid4().hex}", "keys": keys}
        assert (await client.post("/api/push/subscriptions", json=browser)).status_code == 201
    history = b"SELECT min(id) FROM history WHERE id > %s"
    assert pg_value(target, history, highest["history"]) == highest["history"] + 1
    assert pg_value(target, b"SELECT max(id) FROM push_subscriptions") == highest["push_subscriptions"] + 1
    with psycopg.connect(target) as conn:
        later = conn.execute(b"SELECT id, change FROM programme_changes WHERE id > %s", (highest["programme_changes"],))
        assert later.fetchall() == [(highest["programme_changes"] + 1, "re-roomed")]
        numbered = conn.execute(b"SELECT count(*) FROM speaker_numbers WHERE id = %s", (speaker.json()["id"],))
        assert numbered.fetchone() == (1,)


def test_a_second_run_is_refused_and_changes_nothing(
    event: Event, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate(event.db, target, capsys)[0] == 0
    before = pg_tables(target)
    status, out, err = migrate(event.db, target, capsys)
    assert status == 1
    assert "the PostgreSQL database already holds an event (rows in announcements, attendee_tokens" in err
    assert "nothing was written" in err
    assert out == ""
    assert pg_tables(target) == before


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "there is no SQLite database at"),
        (b"schedule, not a database" * 100, "is not an SQLite database"),
        (b"", "is not a Kumpul database"),
    ],
    ids=["missing", "not-sqlite", "not-kumpul"],
)
def test_a_source_that_is_no_kumpul_database_is_refused_and_left_alone(
    content: bytes | None, words: str, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "kumpul.db"
    if content is not None:
        source.write_bytes(content)
    status, out, err = migrate(source, target, capsys)
    assert status == 1
    assert words in err
    assert out == ""
    assert (source.read_bytes() if source.exists() else None) == content
    assert sorted(path.name for path in tmp_path.iterdir()) == ([] if content is None else ["kumpul.db"])
    assert holds_no_event(target)


def test_a_file_with_a_newer_schema_is_refused(demo: Path, target: str, capsys: pytest.CaptureFixture[str]) -> None:
    with closing(sqlite3.connect(demo)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_from_the_future.sql', '2030-01-01 00:00:00')")
    status, _, err = migrate(demo, target, capsys)
    assert status == 1
    assert "the SQLite file's schema (version 9999) is newer than this Kumpul's PostgreSQL schema" in err
    assert holds_no_event(target)


async def test_a_database_with_another_vapid_key_is_refused(
    demo: Path, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_or_create_keys(demo.parent)
    async with PostgresDatabase(target, local=tmp_path / "node" / "kumpul.db") as database:
        theirs = await keys_of(database, tmp_path / "node")  # as a server started on the new database makes it
    status, _, err = await asyncio.to_thread(migrate, demo, target, capsys)
    assert status == 1
    assert "already has another VAPID key" in err
    assert holds_no_event(target)
    assert pg_value(target, b"SELECT value FROM secrets") == theirs.private_pem


def test_a_copy_that_reads_back_otherwise_is_not_committed(
    demo: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(target) as conn:  # a hand-made schema whose slugs come back padded with spaces
        conn.execute(b"ALTER TABLE info_pages ALTER COLUMN slug TYPE char(80)")
    status, _, err = migrate(demo, target, capsys)
    assert status == 1
    assert "the copy differs from the file, so nothing was committed: info_pages: the row id=" in err
    assert "differs in slug" in err
    assert holds_no_event(target)


def test_an_owner_who_is_not_a_superuser_migrates_into_a_database_with_its_own_collation(
    event: Event, pg_cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = f"owner_{uuid.uuid4().hex[:12]}"
    pg_cluster.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
    name = f"owned_{uuid.uuid4().hex[:12]}"
    # ICU's English order puts "alpha" before "Zeta", bytes the other way round; the digests must not care.
    pg_cluster.execute(
        f"CREATE DATABASE {name} OWNER {owner} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C.UTF-8'"
    )
    url = f"postgresql://{owner}@127.0.0.1:{pg_cluster.port}/{name}"
    try:
        status, out, err = migrate(event.db, url, capsys)
        assert status == 0, err
        assert "verified" in out
        assert pg_value(url, b"SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is False
        copied = pg_tables(url)
        for table, rows in sqlite_tables(event.db).items():
            assert copied[table] == rows, table
    finally:
        pg_cluster.drop(url)
        pg_cluster.execute(f"DROP ROLE {owner}")


async def test_the_thousand_session_programme_moves(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "kumpul.db"

    async def nothing(_: int) -> None:
        """No app listens while the programme is imported."""

    async with SqliteDatabase(db) as database:
        programme = msgspec.convert(generate(1, 1000), type=ProgrammeImport)
        await ProgrammeService(database, on_write=nothing).import_programme(programme)
    started = time.monotonic()
    status, out, err = await asyncio.to_thread(migrate, db, target, capsys)
    took = time.monotonic() - started
    assert status == 0, err
    assert "verified" in out
    with capsys.disabled():
        print(f"\nmigrate-db moved the 1,000-session programme in {took:.2f} s: {out.splitlines()[-3]}")
