"""The programme and change-feed reads answered straight from the ASGI scope equal the route handlers' answers."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from server.hot_reads import KumpulApp
from tests.asgi import AppClient
from tests.conftest import Tokens

Request = tuple[str, dict[str, str]]


async def _answers(client: AppClient, requests: list[Request], *, hot: bool) -> list[tuple[int, bytes, list[Any]]]:
    app = client.app
    assert isinstance(app, KumpulApp)
    app.hot_reads = hot
    try:
        answers = []
        for url, headers in requests:
            response = await client.get(url, headers=headers)
            raw = await response.aread()
            answers.append((response.status_code, raw, sorted(response.headers.raw)))
        return answers
    finally:
        app.hot_reads = True


async def _edit(client: AppClient, tokens: Tokens, capacity: int) -> None:
    rooms = (await client.get("/api/rooms")).json()
    response = await client.patch(
        f"/api/admin/rooms/{rooms[0]['id']}", json={"capacity": capacity}, headers=tokens.header("editor")
    )
    assert response.status_code == 200


@pytest.fixture
async def cursors(client: AppClient, tokens: Tokens) -> tuple[str, str]:
    """A cursor two edits behind, and the current one."""
    stale = (await client.get("/api/programme")).json()["cursor"]
    await _edit(client, tokens, 41)
    await _edit(client, tokens, 42)
    current = (await client.get("/api/programme")).json()["cursor"]
    return stale, current


async def test_both_paths_answer_every_form_of_the_two_reads_alike(client: AppClient, cursors: tuple[str, str]) -> None:
    stale, current = cursors
    etag = (await client.get("/api/programme", headers={"Accept-Encoding": "gzip"})).headers["etag"]
    epoch = current.split(".")[0]
    requests: list[Request] = [
        ("/api/programme", {}),
        ("/api/programme", {"Accept-Encoding": "gzip"}),
        ("/api/programme", {"Accept-Encoding": "gzip, br"}),
        ("/api/programme", {"Accept-Encoding": "br;q=0, gzip;q=0.5"}),
        ("/api/programme", {"Accept-Encoding": "*"}),
        ("/api/programme", {"Accept-Encoding": "gzip", "If-None-Match": etag}),
        ("/api/programme", {"If-None-Match": '"p1-another.1"'}),
        ("/api/programme", {"If-None-Match": "*"}),
        (f"/api/changes?since={quote(stale)}", {}),
        (f"/api/changes?since={quote(stale)}", {"Accept-Encoding": "br"}),
        (f"/api/changes?since={quote(stale)}&limit=1", {"Accept-Encoding": "gzip"}),
        (f"/api/changes?since={quote(current)}", {"Accept-Encoding": "gzip"}),
        (f"/api/changes?since={quote(stale)}&limit=0", {}),
        (f"/api/changes?since={quote(stale)}&limit=1001", {}),
        (f"/api/changes?since={quote(stale)}&limit=ten", {}),
        (f"/api/changes?since={quote(stale)}&since={quote(current)}", {}),
        ("/api/changes", {}),
        ("/api/changes?since=", {}),
        ("/api/changes?since=not-a-cursor", {}),
        (f"/api/changes?since={epoch}.999999", {}),
        ("/api/changes?since=0123456789ab.1", {}),
        (f"/api/changes?since={quote(current)}&atLeast={quote(current)}", {}),
        (f"/api/changes?since={quote(stale)}&atLeast={quote(current)}", {"Accept-Encoding": "gzip"}),
        (f"/api/changes?since={quote(current)}&atLeast={epoch}.999999", {}),
        (f"/api/changes?since={quote(current)}&atLeast=soon", {}),
    ]
    await client.get("/api/programme")
    await client.app.state.feed.settled()  # the brotli form, made after the first answers, is there for both
    handled = await _answers(client, requests, hot=False)
    direct = await _answers(client, requests, hot=True)
    for (url, headers), by_handler, by_hot_path in zip(requests, handled, direct, strict=True):
        assert by_hot_path == by_handler, f"GET {url} with {headers}"
    statuses = {status for status, _, _ in direct}
    assert statuses >= {200, 304, 400}, "the comparison covered answers, revalidations and refusals"


async def test_the_plain_reads_skip_the_route_handlers(client: AppClient, cursors: tuple[str, str]) -> None:
    stale, _ = cursors
    app = client.app
    routed: list[str] = []
    handler = app.asgi_handler

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        routed.append(scope["path"])
        await handler(scope, receive, send)

    app.asgi_handler = counting
    try:
        assert (await client.get("/api/programme", headers={"Accept-Encoding": "gzip"})).status_code == 200
        assert (await client.get(f"/api/changes?since={quote(stale)}")).json()["changes"]
        assert routed == []
        assert (await client.get("/api/changes?since=bad")).status_code == 400
        assert routed == ["/api/changes"], "a request the direct path does not answer reaches the route handler"
    finally:
        app.asgi_handler = handler


async def test_an_edit_is_in_the_next_direct_read(client: AppClient, tokens: Tokens) -> None:
    before = await client.get("/api/programme")
    await _edit(client, tokens, 7)
    after = await client.get("/api/programme", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    changes = (await client.get("/api/changes", params={"since": before.json()["cursor"]})).json()["changes"]
    assert [change["data"]["capacity"] for change in changes] == [7]


async def test_a_malformed_poke_cursor_is_refused_naming_it(client: AppClient, cursors: tuple[str, str]) -> None:
    _, current = cursors
    answer = await client.get(f"/api/changes?since={quote(current)}&atLeast=soon")
    assert answer.status_code == 400
    assert "atLeast" in answer.text


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database is locked"),
        psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
    ],
    ids=["sqlite", "postgresql"],
)
async def test_a_busy_database_on_the_fast_path_gets_the_route_handlers_503(
    client: AppClient, cursors: tuple[str, str], monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    stale, _ = cursors
    feed = client.app.state.feed

    async def busy(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(feed, "changes", busy)
    answer = await client.get(f"/api/changes?since={quote(stale)}")
    assert answer.status_code == 503, "a storage condition that passes is the route handler's documented 503"
    assert "retry-after" in answer.headers


async def test_a_bug_on_the_fast_path_is_a_logged_500_not_a_silent_second_try(
    client: AppClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    feed = client.app.state.feed
    app = client.app
    routed: list[str] = []
    handler = app.asgi_handler

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        routed.append(scope["path"])
        await handler(scope, receive, send)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the feed")

    monkeypatch.setattr(feed, "programme", broken)
    app.asgi_handler = counting
    try:
        answer = await client.get("/api/programme")
    finally:
        app.asgi_handler = handler
    assert answer.status_code == 500
    assert answer.json()["detail"] == "Internal Server Error"
    assert routed == [], "the route handler is not tried a second time behind the bug"
    assert any("fast path for /api/programme failed" in record.getMessage() for record in caplog.records)
    assert answer.headers.get("x-content-type-options") == "nosniff", "the app's own headers are on the 500 too"
