"""Following the source of record against a real local HTTP server: a changing export, a hanging one, a broken one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.services.follow import SourceService
from server.settings import Settings
from server.storage import history
from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.schedule_source import ScheduleSource, schedule_source

DATA = Path(__file__).resolve().parents[1] / "interchange" / "data"
FIRST = (DATA / "schedule.xml").read_bytes()
UPDATED = (DATA / "schedule-updated.xml").read_bytes()
MALFORMED = (DATA / "malformed-syntax.xml").read_bytes()
#: The session the updated export moves to another room and time.
MOVED_GUID = "3ce7b82f-7036-5d11-b5eb-e25f59545ee0"


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    # The follow loop looks often, a hanging source fails fast, a failed pull is retried after a second.
    return Settings(
        db_path=tmp_path / "kumpul.db",
        database_url=database_url,
        change_poll_seconds=0.05,
        allow_insecure_source=True,
        source_timeout_seconds=3.0,
        source_retry_seconds=1.0,
        source_poll_seconds=0.1,
    )


@pytest.fixture
def source() -> ScheduleSource:
    with schedule_source() as served:
        served.state.body = FIRST
        yield served


def follow(client: AppClient) -> SourceService:
    service: SourceService = client.app.state.source
    return service


async def sessions(client: AppClient) -> dict[str, dict[str, object]]:
    answer = await client.get("/api/sessions")
    return {item["guid"]: item for item in answer.json()}


async def configure(client: AppClient, tokens: Tokens, url: str, every: int = 3600) -> dict[str, object]:
    answer = await client.put(
        "/api/admin/source", json={"url": url, "everySeconds": every}, headers=tokens.header("editor")
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


async def pull(client: AppClient, tokens: Tokens) -> dict[str, object]:
    answer = await client.post("/api/admin/source/pull", headers=tokens.header("editor"))
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


async def test_the_loop_pulls_a_configured_source_and_imports_it(
    empty_client: AppClient, tokens: Tokens, source: ScheduleSource
) -> None:
    await follow(empty_client).configure(source.url, 3600, "test", pull=False)
    # The loop runs inside the app; its outcome shows only through the API, so the test asks until it does.
    async with asyncio.timeout(10):
        while True:
            status = (await empty_client.get("/api/admin/source", headers=tokens.header("editor"))).json()
            if status["lastResult"] is not None:
                break
            await asyncio.sleep(0.05)
    assert status["lastResult"] == "imported", status
    assert len(await sessions(empty_client)) == 35
    assert status["failures"] == 0


async def test_a_changing_source_is_pulled_conditionally_and_gives_phones_a_small_delta(
    empty_client: AppClient, tokens: Tokens, source: ScheduleSource
) -> None:
    await follow(empty_client).stop()  # pulls by hand only, to see each one
    first = await configure(empty_client, tokens, source.url)
    assert first["lastResult"] == "imported", first
    cursor = (await empty_client.get("/api/programme")).json()["cursor"]

    unchanged = await pull(empty_client, tokens)
    assert unchanged["lastResult"] == "unchanged"
    assert source.state.requests[-1]["if-none-match"] == source.state.etag

    source.state.body = UPDATED
    before = (await sessions(empty_client))[MOVED_GUID]
    changed = await pull(empty_client, tokens)
    assert changed["lastResult"] == "imported", changed
    after = (await sessions(empty_client))[MOVED_GUID]
    assert (after["start"], after["roomId"]) != (before["start"], before["roomId"])
    delta = (await empty_client.get("/api/changes", params={"since": cursor})).json()["changes"]
    # One moved, one retitled, one dropped (cancelled), one added session, one renamed speaker, a new room.
    assert 0 < len(delta) <= 8, [(item["type"], item["id"]) for item in delta]

    async with empty_client.app.state.db.read() as conn:
        pulls = [row for row in await history.latest(conn, 50) if row.action == "pulled"]
    assert [row.summary.split(":")[0] for row in pulls] == ["imported", "unchanged", "imported"]


async def test_a_hanging_source_changes_nothing_and_is_retried_with_backoff(
    empty_client: AppClient, tokens: Tokens, source: ScheduleSource
) -> None:
    await follow(empty_client).stop()
    assert (await configure(empty_client, tokens, source.url))["lastResult"] == "imported"
    before = await sessions(empty_client)
    source.state.body = UPDATED
    source.state.mode = "hang"
    failed = await pull(empty_client, tokens)
    assert failed["lastResult"] == "failed"
    assert "did not answer in full within 3 seconds" in str(failed["lastDetail"])
    assert failed["failures"] == 1
    assert await sessions(empty_client) == before
    again = await pull(empty_client, tokens)
    assert again["failures"] == 2
    assert str(again["nextPullAt"]) > str(failed["nextPullAt"])

    source.state.mode = "serve"
    recovered = await pull(empty_client, tokens)
    assert recovered["lastResult"] == "imported"
    assert recovered["failures"] == 0


async def test_a_malformed_file_changes_nothing_and_says_where(
    empty_client: AppClient, tokens: Tokens, source: ScheduleSource
) -> None:
    await follow(empty_client).stop()
    assert (await configure(empty_client, tokens, source.url))["lastResult"] == "imported"
    before = await sessions(empty_client)
    source.state.body = MALFORMED
    failed = await pull(empty_client, tokens)
    assert failed["lastResult"] == "failed"
    assert "line 20" in str(failed["lastDetail"]), failed
    assert await sessions(empty_client) == before
    # The broken file's validators were not kept: the next pull gets the file again and fails again, rather
    # than taking a 304 for "unchanged".
    again = await pull(empty_client, tokens)
    assert source.state.requests[-1].get("if-none-match") != source.state.etag
    assert again["lastResult"] == "failed"
    assert again["failures"] == 2


async def test_an_error_status_and_an_empty_schedule_change_nothing(
    empty_client: AppClient, tokens: Tokens, source: ScheduleSource
) -> None:
    await follow(empty_client).stop()
    assert (await configure(empty_client, tokens, source.url))["lastResult"] == "imported"
    before = await sessions(empty_client)
    source.state.mode = "status"
    failed = await pull(empty_client, tokens)
    assert failed["lastDetail"] == "the source answered HTTP 500"
    source.state.mode = "serve"
    source.state.body = FIRST.split(b"<day ")[0] + b"</schedule>\n"
    empty = await pull(empty_client, tokens)
    assert empty["lastResult"] == "failed"
    assert "lists no sessions" in str(empty["lastDetail"]), empty
    assert await sessions(empty_client) == before


async def test_two_workers_never_pull_at_once(empty_client: AppClient, tokens: Tokens, source: ScheduleSource) -> None:
    await follow(empty_client).stop()
    await follow(empty_client).configure(source.url, 3600, "test", pull=False)
    app = empty_client.app
    other = SourceService(app.state.db, app.state.programme, allow_insecure_loopback=True, timeout=3.0)
    source.state.mode = "hang"
    results = await asyncio.gather(follow(empty_client).pull(force=True), other.pull(force=True))
    assert sorted(result is None for result in results) == [False, True]
    busy = await empty_client.post("/api/admin/source/pull", headers=tokens.header("editor"))
    assert busy.status_code in (200, 409)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/schedule.xml",
        "https://10.1.2.3/schedule.xml",
        "https://localhost/x",
        "ftp://example.org/",
    ],
)
async def test_only_https_on_public_hosts_without_the_development_switch(
    tmp_path: Path, tokens: Tokens, empty_client: AppClient, url: str
) -> None:
    strict = SourceService(empty_client.app.state.db, empty_client.app.state.programme)
    with pytest.raises(Exception, match="url") as caught:
        await strict.configure(url, 300, "test")
    assert getattr(caught.value, "status_code", None) == 400


async def test_the_api_refuses_an_address_it_must_not_fetch(empty_client: AppClient, tokens: Tokens) -> None:
    answer = await empty_client.put(
        "/api/admin/source", json={"url": "https://192.168.1.1/schedule.xml"}, headers=tokens.header("editor")
    )
    assert answer.status_code == 400
    assert answer.json()["extra"][0]["key"] == "url"
    assert (await empty_client.get("/api/admin/source", headers=tokens.header("editor"))).json() is None
    assert (await empty_client.get("/api/admin/source", headers=tokens.header("announcer"))).status_code == 403


def test_kumpul_follow_pulls_now_and_stops(tmp_path: Path, database_url: str | None, source: ScheduleSource) -> None:
    env = {**os.environ, "KUMPUL_ALLOW_INSECURE_SOURCE": "1", "KUMPUL_DB": str(tmp_path / "k.db")}
    if database_url:
        env["KUMPUL_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "server.cli", "follow"]
    done = subprocess.run([*command, source.url, "--every", "5m"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"following {source.url} every 300s" in done.stdout
    assert "imported" in done.stdout
    strict = {name: value for name, value in env.items() if name != "KUMPUL_ALLOW_INSECURE_SOURCE"}
    refused = subprocess.run([*command, source.url], capture_output=True, text=True, timeout=60, env=strict)
    assert refused.returncode == 1
    assert "url must use https" in refused.stderr or "loopback" in refused.stderr, refused.stderr
    stopped = subprocess.run([*command, "--stop"], capture_output=True, text=True, env=env, timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    shown = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode == 1
    assert "no source of record is configured" in shown.stderr


async def test_a_pull_stopped_by_a_shutdown_gives_its_lease_back(
    empty_client: AppClient, tokens: Tokens, source: ScheduleSource
) -> None:
    await follow(empty_client).stop()
    await follow(empty_client).configure(source.url, 3600, "test", pull=False)
    app = empty_client.app
    stopping = SourceService(app.state.db, app.state.programme, allow_insecure_loopback=True, timeout=30.0)
    source.state.mode = "hang"
    source.state.arrived.clear()
    pulling = asyncio.create_task(stopping.pull(force=True))
    assert await asyncio.to_thread(source.state.arrived.wait, 10)
    pulling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pulling
    source.state.mode = "serve"
    result = await follow(empty_client).pull(force=True)
    assert result is not None
    assert result.result == "imported"
