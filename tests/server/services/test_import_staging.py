"""A big import is worked out without holding the write lock and published in one short transaction.

Other writers (announcements, private syncs) go on while it is worked out and none is refused; a phone reading the
programme meanwhile sees the old programme or the new one, never a mix; an organiser's edit made meanwhile is
kept; a change the import depends on makes it start over; a refused file leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bench.programme_gen import generate
from server.services.importer import ImportService
from server.services.programme import ProgrammeService
from server.storage import history
from server.storage.db import Connection, Database
from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.sync_devices import Device

Client = AppClient
DATA = Path(__file__).parents[1] / "interchange" / "data"
SESSIONS = 400


def retitled(document: dict[str, Any], suffix: str) -> dict[str, Any]:
    return {**document, "sessions": [{**s, "title": s["title"] + suffix} for s in document["sessions"]]}


async def upload(client: Client, tokens: Tokens, data: bytes, **params: str) -> dict[str, Any]:
    response = await client.post("/api/admin/import", content=data, params=params, headers=tokens.header("editor"))
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def last_history_line(conn: Connection) -> int:
    async with conn.execute("SELECT coalesce(max(id), 0) FROM history") as cur:
        row = await cur.fetchone()
    return int(row[0])


@asynccontextmanager
async def write_holds(db: Database) -> AsyncIterator[list[tuple[float, int]]]:
    """Every write transaction of ``db`` while the block runs: how long it held the lock, and how many history
    lines it wrote (an import's publication writes one per entity)."""
    holds: list[tuple[float, int]] = []
    original = db.write

    @asynccontextmanager
    async def timed(key: str | None = None) -> AsyncIterator[Any]:
        async with original(key=key) as conn:
            before = await last_history_line(conn)
            started = time.perf_counter()
            yield conn
            held = time.perf_counter() - started
            holds.append((held, await last_history_line(conn) - before))

    db.write = timed  # type: ignore[method-assign]
    try:
        yield holds
    finally:
        db.write = original  # type: ignore[method-assign]


async def test_writers_go_on_and_readers_see_one_programme_during_a_big_import(
    empty_client: Client, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = empty_client
    document = generate(1, SESSIONS)
    await upload(client, tokens, json.dumps(retitled(document, " [old]")).encode())
    new = json.dumps(retitled(document, " [new]")).encode()
    db: Database = client.app.state.programme.db

    statuses: dict[int, int] = {}
    seen: list[str] = []
    device = Device((await client.post("/api/attendees")).json()["token"])
    await device.ready(client)
    importing = asyncio.Event()
    done = asyncio.Event()

    async def announcer() -> None:
        n = 0
        await importing.wait()
        while not done.is_set():
            response = await client.post(
                "/api/admin/announcements",
                json={"title": f"Update {n}", "body": "Coffee in the hall."},
                headers=tokens.header("announcer"),
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            n += 1

    async def syncer() -> None:
        await importing.wait()
        for _ in range(20):  # within the per-attendee burst of sync requests
            if done.is_set():
                break
            device.text(f"note:{uuid.uuid4()}").insert(0, "Ask about the fishing panel.")
            response = await client.post("/api/me/sync", json=device.request_body(), headers=device.headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 200:
                device.receive(response.json())

    async def reader() -> None:
        await importing.wait()
        while not done.is_set():
            sessions = (await client.get("/api/programme")).json()["sessions"]
            marks = {s["title"].rsplit(" ", 1)[-1] for s in sessions}
            assert len(marks) == 1, f"a phone saw half an import: {sorted(marks)}"
            seen.append(marks.pop())
            await asyncio.sleep(0)

    async def importer() -> dict[str, Any]:
        importing.set()
        try:
            return await upload(client, tokens, new)
        finally:
            done.set()

    between: list[int] = []
    plan = ImportService._plan

    async def plan_then_announce(self: ImportService, *args: Any, **kwargs: Any) -> Any:
        writer = await plan(self, *args, **kwargs)
        # Worked out, not yet published: the import holds no lock, so another writer commits now.
        response = await client.post(
            "/api/admin/announcements",
            json={"title": "Between plan and publication", "body": "Lunch is served."},
            headers=tokens.header("announcer"),
        )
        between.append(response.status_code)
        return writer

    monkeypatch.setattr(ImportService, "_plan", plan_then_announce)
    async with write_holds(db) as holds:
        others = [asyncio.create_task(job()) for job in (announcer, syncer, reader)]
        report = await importer()
        await asyncio.gather(*others)

    assert len(next(k for k in report["kinds"] if k["kind"] == "session")["changed"]) == SESSIONS
    assert set(statuses) <= {200, 201}, f"no writer was refused (503) or failed: {statuses}"
    assert between == [201], "another writer committed after the import was worked out, before it was published"
    assert seen, "a phone read the programme while the import ran"
    assert set(seen) <= {"[old]", "[new]"}
    # One transaction wrote the import (an entity, a history line and the privacy and change rows each).
    big = [hold for hold, changes in holds if changes >= SESSIONS]
    assert len(big) == 1, holds
    titles = {s["title"].rsplit(" ", 1)[-1] for s in (await client.get("/api/programme")).json()["sessions"]}
    assert titles == {"[new]"}


async def interleaved(
    monkeypatch: pytest.MonkeyPatch, edit: Callable[[], Awaitable[None]], times: int = 1
) -> list[bool]:
    """Run ``edit`` between an import's snapshot and its publication (the first ``times`` times); the outcomes of
    each publication attempt are returned."""
    original = ImportService._publish
    outcomes: list[bool] = []

    async def publish(self: ImportService, writer: Any) -> bool:
        if len(outcomes) < times:
            await edit()
        published = await original(self, writer)
        outcomes.append(published)
        return published

    monkeypatch.setattr(ImportService, "_publish", publish)
    return outcomes


async def test_an_edit_made_while_an_import_is_worked_out_is_kept(
    empty_client: Client, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = empty_client
    xml = (DATA / "schedule.xml").read_bytes()
    await upload(client, tokens, xml)
    sessions = (await client.get("/api/sessions")).json()
    panel = next(s for s in sessions if s["title"] == "Recruitment fees: who pays, who profits")
    programme: ProgrammeService = client.app.state.programme

    async def edit() -> None:
        # frab carries no capacity: the organiser's capacity must stay, the file's new title must come in.
        response = await client.patch(
            f"/api/admin/sessions/{panel['id']}", json={"capacity": 321}, headers=tokens.header("editor")
        )
        assert response.status_code == 200, response.text

    outcomes = await interleaved(monkeypatch, edit)
    changed = xml.replace(b"Recruitment fees: who pays, who profits", b"Recruitment fees: who pays?")
    report = await upload(client, tokens, changed)

    assert outcomes == [True], "an edit of other fields is merged, not a reason to start over"
    after = (await client.get(f"/api/sessions/{panel['id']}")).json()
    assert after["title"] == "Recruitment fees: who pays?"
    assert after["capacity"] == 321
    assert [item["id"] for item in next(k for k in report["kinds"] if k["kind"] == "session")["changed"]] == [
        panel["id"]
    ]
    async with programme.db.read() as conn:
        lines = await history.entries_about(conn, "session", panel["id"])
    assert [line.summary.rsplit(": ", 1)[-1] for line in lines[-2:]] == ["capacity", "title"]


async def test_a_session_added_while_an_import_is_worked_out_makes_it_start_over(
    empty_client: Client, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = empty_client
    xml = (DATA / "schedule.xml").read_bytes()
    await upload(client, tokens, xml)
    template = (await client.get("/api/sessions")).json()[0]

    async def edit() -> None:
        body = {k: template[k] for k in ("start", "end", "roomId", "format")} | {"title": "Late addition"}
        response = await client.post("/api/admin/sessions", json=body, headers=tokens.header("editor"))
        assert response.status_code == 201, response.text

    outcomes = await interleaved(monkeypatch, edit)
    report = await upload(client, tokens, xml.replace(b"who pays, who profits", b"who pays?"))

    assert outcomes == [False, True]
    # As if the import came after the addition: a session the file lacks is cancelled.
    late = next(s for s in (await client.get("/api/sessions")).json() if s["title"] == "Late addition")
    assert late["status"] == "cancelled"
    assert "Late addition" in [
        i["label"] for i in next(k for k in report["kinds"] if k["kind"] == "session")["removed"]
    ]


async def test_an_import_that_keeps_being_overtaken_is_worked_out_under_the_lock(
    empty_client: Client, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = empty_client
    xml = (DATA / "schedule.xml").read_bytes()
    await upload(client, tokens, xml)
    template = (await client.get("/api/sessions")).json()[0]
    n = 0

    async def edit() -> None:
        nonlocal n
        n += 1
        body = {k: template[k] for k in ("start", "end", "roomId", "format")} | {"title": f"Addition {n}"}
        assert (await client.post("/api/admin/sessions", json=body, headers=tokens.header("editor"))).is_success

    outcomes = await interleaved(monkeypatch, edit, times=10)
    await upload(client, tokens, xml.replace(b"who pays, who profits", b"who pays?"))
    assert outcomes == [False, False, False]
    titles = {s["title"]: s["status"] for s in (await client.get("/api/sessions")).json()}
    assert titles["Recruitment fees: who pays?"] == "scheduled"
    assert {titles[f"Addition {i}"] for i in (1, 2, 3)} == {"cancelled"}


async def test_a_refused_big_import_leaves_nothing(empty_client: Client, tokens: Tokens) -> None:
    client = empty_client
    document = generate(1, SESSIONS)
    await upload(client, tokens, json.dumps(document).encode())
    before = (await client.get("/api/programme")).json()
    async with client.app.state.programme.db.read() as conn:
        lines = len(await history.latest(conn, 100_000))
    broken = retitled(document, " [new]")
    broken["sessions"][-1]["id"] = broken["sessions"][0]["id"]  # the last entry repeats the first's id
    response = await client.post(
        "/api/admin/import", content=json.dumps(broken).encode(), headers=tokens.header("editor")
    )
    assert response.status_code == 400
    assert "appears twice" in response.json()["detail"]
    assert (await client.get("/api/programme")).json()["cursor"] == before["cursor"]
    async with client.app.state.programme.db.read() as conn:
        assert len(await history.latest(conn, 100_000)) == lines
