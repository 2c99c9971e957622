"""A full disk: writes that need room answer a retryable 507 and change nothing, reads go on, and once there is room
again everything works without a restart, background work included.

On SQLite the server's own write connection is limited to the pages its file already has (``PRAGMA
max_page_count``, set through the server's writer, so SQLite itself answers ``SQLITE_FULL`` "database or disk is full"
exactly where a full disk would). On PostgreSQL every table gets a trigger that raises PostgreSQL's ``disk_full``
(SQLSTATE 53100, what the server raises when it cannot extend a file) on any row written, so the server rolls the
transaction back with the error a full disk gives. ``tests/e2e/test_disk_full.py`` fills a real filesystem under the
real server.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import logging
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from pycrdt import Doc, Text

from server.storage.db import FULL_RETRY_AFTER, Database, SqliteDatabase, postgres, storage_full
from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.sync_devices import Device, Notebook, b64, seal
from tests.tables import table_names

SUBSCRIPTIONS = 3000


_PG_FULL = """CREATE FUNCTION kumpul_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
END $body$"""


async def limit_to_current_size(db: Database) -> int:
    """Let the server write nothing that needs more room than the database has now; returns what to restore later."""
    async with db.write() as conn:
        if postgres(conn):
            await conn.execute(_PG_FULL)
            for table in await table_names(conn):
                await conn.execute(
                    f'CREATE TRIGGER kumpul_test_disk_full BEFORE INSERT OR UPDATE ON "{table}" '
                    "FOR EACH ROW EXECUTE FUNCTION kumpul_test_disk_full()"
                )
            return 0
        async with conn.execute("PRAGMA max_page_count") as cur:
            before = int((await cur.fetchone())[0])  # type: ignore[index]
        async with conn.execute("PRAGMA page_count") as cur:
            pages = int((await cur.fetchone())[0])  # type: ignore[index]
        await conn.execute(f"PRAGMA max_page_count = {pages}")
    return before


async def give_room(db: Database, limit: int) -> None:
    async with db.write() as conn:
        if postgres(conn):
            await conn.execute("DROP FUNCTION kumpul_test_disk_full() CASCADE")
        else:
            await conn.execute(f"PRAGMA max_page_count = {limit}")


def assert_storage_full(response: httpx.Response) -> None:
    assert response.status_code == 507, response.text
    assert response.headers["Retry-After"] == str(FULL_RETRY_AFTER)
    detail = response.json()["detail"]
    assert "storage is full" in detail
    assert "nothing was changed" in detail


async def subscribe_many(db: Database, count: int) -> None:
    """Push subscriptions to endpoints the sender refuses at once (plain http), so nothing leaves the machine."""
    now = datetime.now(UTC).isoformat()
    async with db.write() as conn:
        await conn.executemany(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            [(f"http://127.0.0.1:9/push/{i}", "B" + "A" * 86, "A" * 22, now, now) for i in range(count)],
        )


def bigger_programme(programme: dict[str, Any], extra: int) -> bytes:
    """The programme as served, every title changed and ``extra`` sessions added: an import that writes many rows."""
    changed = copy.deepcopy(programme)
    for session in changed["sessions"]:
        session["title"] = f"{session['title']} (revised)"
    model = changed["sessions"][0]
    for number in range(extra):
        session = copy.deepcopy(model)
        session.update(id=f"extra-{number}", guid=str(uuid.uuid4()), title=f"Extra session {number}")
        session["abstract"] = f"Extra session {number}: " + "a long abstract. " * 40
        changed["sessions"].append(session)
    return msgspec.json.encode(changed)


def note(notebook: Notebook, text: str) -> tuple[str, dict[str, object]]:
    """An encrypted note's first log entry."""
    doc_id = f"note:{uuid.uuid4()}"
    doc: Doc[Text] = Doc()
    doc["body"] = Text(text)
    return doc_id, {"id": doc_id, "append": [b64(seal(notebook, doc_id, "update", doc.get_update()))]}


async def eventually(check: Callable[[], Awaitable[bool] | bool], what: str, seconds: float = 15.0) -> None:
    """Wait until ``check()`` holds, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await _holds(check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.05)


async def test_multi_row_writes_are_refused_whole_while_reads_go_on(client: AppClient, tokens: Tokens) -> None:
    db: Database = client.app.state.db
    await subscribe_many(db, SUBSCRIPTIONS)
    attendee = (await client.post("/api/attendees")).json()
    device = Device(attendee["token"])
    key = {"keyId": 1, "previous": 0, "wrapped": []}
    assert (await client.post("/api/attendees/me/keys", json=key, headers=device.headers)).status_code == 200
    before = (await client.get("/api/programme")).json()
    history = (await client.get("/api/admin/history", headers=tokens.header("admin"))).json()
    upload = bigger_programme(before, extra=300)
    notes = [note(device.notebook, f"note {n}: " + "every word matters. " * 250) for n in range(20)]
    limit = await limit_to_current_size(db)

    imported = await client.post("/api/admin/import", content=upload, headers=tokens.header("editor"))
    assert_storage_full(imported)
    synced = await client.post(
        "/api/me/sync", json={"cursor": None, "keyId": 1, "logs": [body for _, body in notes]}, headers=device.headers
    )
    assert_storage_full(synced)
    announced = await client.post(
        "/api/admin/announcements",
        json={"title": "Shuttle buses leave at 17:30", "body": "From the east gate."},
        headers=tokens.header("announcer"),
    )
    assert_storage_full(announced)

    # Nothing of any of them was written, and every read still answers.
    assert (await client.get("/api/programme")).json() == before
    changes = (await client.get("/api/changes", params={"since": before["cursor"]})).json()
    assert changes["changes"] == []
    assert (await client.get(f"/api/sessions/{before['sessions'][0]['id']}")).json() == before["sessions"][0]
    assert (await client.get("/api/admin/history", headers=tokens.header("admin"))).json() == history
    assert (await client.get("/api/admin/announcements", headers=tokens.header("announcer"))).json() == []
    assert (await client.get("/healthz")).status_code == 200
    async with db.read() as conn:
        assert (
            await conn.execute_fetchall("SELECT * FROM doc_log WHERE attendee_id = ?", (attendee["attendeeId"],)) == []
        )
        assert await conn.execute_fetchall("SELECT * FROM push_outbox") == []

    # Room again: the same requests succeed, without a restart.
    await give_room(db, limit)
    imported = await client.post("/api/admin/import", content=upload, headers=tokens.header("editor"))
    assert imported.status_code == 200, imported.text
    after = (await client.get("/api/programme")).json()
    assert len(after["sessions"]) == len(before["sessions"]) + 300
    assert all(s["title"].endswith("(revised)") for s in after["sessions"] if not s["id"].startswith("extra-"))
    synced = await client.post(
        "/api/me/sync", json={"cursor": None, "keyId": 1, "logs": [body for _, body in notes]}, headers=device.headers
    )
    assert synced.status_code == 200, synced.text
    elsewhere = device.linked(attendee["token"])
    response = await client.post("/api/me/sync", json=elsewhere.request_body(), headers=elsewhere.headers)
    elsewhere.receive(response.json())
    assert {doc_id for doc_id, _ in notes} <= set(elsewhere.docs)
    announced = await client.post(
        "/api/admin/announcements",
        json={"title": "Shuttle buses leave at 17:30", "body": "From the east gate."},
        headers=tokens.header("announcer"),
    )
    assert announced.status_code == 201, announced.text
    report = await client.get(
        f"/api/admin/announcements/{announced.json()['id']}/delivery", headers=tokens.header("announcer")
    )
    assert report.json()["targeted"] == SUBSCRIPTIONS


@pytest.mark.sqlite_only  # SQLite's own rollback on SQLITE_FULL; PostgreSQL never ends a transaction by itself
async def test_a_transaction_sqlite_rolled_back_by_itself_leaves_the_writer_usable(client: AppClient) -> None:
    """On SQLITE_FULL SQLite may roll the whole transaction back by itself: the error must surface as it is (a second
    ROLLBACK used to replace it with "no transaction is active", a 500), and the next write must start cleanly."""
    db: SqliteDatabase = client.app.state.db
    async with db.write() as conn:
        await conn.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY, data BLOB)")
    limit = await limit_to_current_size(db)

    async def too_big(conn: Any) -> None:
        await conn.execute("INSERT INTO scratch (data) VALUES ('a small row first')")
        await conn.execute("INSERT INTO scratch (data) VALUES (zeroblob(1000000))")

    async def refused() -> None:
        async with db.write() as conn:
            await too_big(conn)

    async def refused_and_ignored() -> None:
        async with db.write() as conn:
            with contextlib.suppress(sqlite3.OperationalError):
                await too_big(conn)

    with pytest.raises(sqlite3.OperationalError) as raised:
        await refused()
    assert storage_full(raised.value), raised.value
    with pytest.raises(sqlite3.OperationalError, match="rolled back"):
        await refused_and_ignored()  # never reported as committed
    await give_room(db, limit)
    async with db.read() as conn:
        assert await conn.execute_fetchall("SELECT * FROM scratch") == []
    async with db.write() as conn:
        await conn.execute("INSERT INTO scratch (data) VALUES ('written')")
    async with db.read() as conn:
        assert len(await conn.execute_fetchall("SELECT * FROM scratch")) == 1


async def test_background_work_survives_a_full_disk_and_catches_up_without_a_restart(
    client: AppClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    db: Database = client.app.state.db
    await subscribe_many(db, SUBSCRIPTIONS)
    send_at = datetime.now(UTC) + timedelta(seconds=1)
    scheduled = await client.post(
        "/api/admin/announcements",
        json={"title": "Closing plenary in Hall A", "body": "At 16:00.", "sendAt": send_at.isoformat()},
        headers=tokens.header("announcer"),
    )
    assert scheduled.status_code == 201, scheduled.text
    announcement_id = scheduled.json()["id"]
    cursor = (await client.get("/api/programme")).json()["cursor"]
    limit = await limit_to_current_size(db)

    async def state() -> str:
        response = await client.get(f"/api/admin/announcements/{announcement_id}", headers=tokens.header("announcer"))
        return str(response.json()["state"])

    with caplog.at_level(logging.WARNING, logger="server"):
        # Its time comes while the disk is full: publishing (and queueing 3,000 pushes) is refused, and retried.
        await eventually(lambda: "could not write" in caplog.text, "the scheduler meets the full disk")
    assert await state() == "scheduled"
    assert (await client.get("/api/programme")).json()["cursor"] == cursor
    services = client.app.state
    assert not services.announcements._task.done(), "the scheduler is still running"
    assert not services.outbox._task.done(), "the push outbox is still running"
    assert not services.feed._watcher.done(), "the change-feed watcher is still running"

    await give_room(db, limit)
    await eventually(lambda: _is(state(), "published"), "the announcement is published once there is room")
    live = await client.get("/api/changes", params={"since": cursor})
    assert [c["id"] for c in live.json()["changes"]] == [announcement_id]
    report = await client.get(
        f"/api/admin/announcements/{announcement_id}/delivery", headers=tokens.header("announcer")
    )
    assert report.json()["targeted"] == SUBSCRIPTIONS


async def _holds(value: Awaitable[bool] | bool) -> bool:
    return await value if inspect.isawaitable(value) else value


async def _is(value: Awaitable[str], expected: str) -> bool:
    return await value == expected
