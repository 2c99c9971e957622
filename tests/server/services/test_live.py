"""Open live streams are capped per address and in total; past the caps a client is refused and told when to retry,
and the server keeps answering everything else. What one node writes reaches the streams of every node."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.exceptions import LitestarException

from server.app import create_app
from server.services.auth import Role
from server.services.live import MIN_HEADROOM, LiveHub, default_max_total, raise_if_cancelled
from server.settings import Settings
from tests.asgi import AppClient, app_client, http_scope

VENUE = "203.0.113.50"
ELSEWHERE = "198.51.100.9"


class Stream:
    """One ``GET /api/live`` driven by hand from ``address``: the app holds it open until :meth:`leave`."""

    def __init__(self, app: Any, address: str) -> None:
        self.started = asyncio.Event()
        self.status = 0
        self.headers: httpx.Headers = httpx.Headers()
        self.body = b""
        self._left = asyncio.Event()
        scope = http_scope("GET", "/api/live")
        scope["client"] = (address, 40000)
        self.task = asyncio.create_task(app(scope, self._receive, self._send))

    async def _receive(self) -> dict[str, Any]:
        await self._left.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = httpx.Headers([(k.decode(), v.decode()) for k, v in message["headers"]])
            self.started.set()
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    async def leave(self) -> None:
        self._left.set()
        await self.task


def another_node(settings: Settings, tmp_path: Path) -> Settings:
    """The settings of a second server on the same database: on SQLite a second worker on the same file, on
    PostgreSQL another node, with a folder of its own for what it keeps locally."""
    if settings.database_url is None:
        return settings
    return msgspec.structs.replace(settings, db_path=tmp_path / "another node" / "kumpul.db")


@asynccontextmanager
async def capped(settings: Settings, *, per_address: int, total: int) -> AsyncIterator[AppClient]:
    limited = msgspec.structs.replace(settings, live_max_per_address=per_address, live_max_total=total)
    async with app_client(create_app(limited)) as client:
        yield client


async def open_streams(client: AppClient, address: str, count: int) -> list[Stream]:
    streams = [Stream(client.app, address) for _ in range(count)]
    await asyncio.gather(*(stream.started.wait() for stream in streams))
    return streams


async def test_one_address_past_its_cap_gets_429_and_others_go_on(settings: Settings) -> None:
    async with capped(settings, per_address=5, total=100) as client:
        held = await open_streams(client, VENUE, 5)
        assert [stream.status for stream in held] == [200] * 5
        [refused] = await open_streams(client, VENUE, 1)
        assert refused.status == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert b"too many live streams from one address" in refused.body
        [neighbour] = await open_streams(client, ELSEWHERE, 1)
        assert neighbour.status == 200, "another address is not held back"
        assert (await client.get("/api/sessions")).status_code == 200
        await held[0].leave()
        [again] = await open_streams(client, VENUE, 1)
        assert again.status == 200, "a stream that ended gives its place back"
        for stream in [*held[1:], neighbour, again, refused]:
            await stream.leave()
        live: LiveHub = client.app.state.live
        assert live.connections == 0


async def test_past_the_total_cap_everyone_gets_503_and_the_rest_of_the_api_answers(settings: Settings) -> None:
    async with capped(settings, per_address=1000, total=8) as client:
        held = [*await open_streams(client, VENUE, 5), *await open_streams(client, ELSEWHERE, 3)]
        assert {stream.status for stream in held} == {200}
        refused = await open_streams(client, "192.0.2.77", 3)
        assert [stream.status for stream in refused] == [503] * 3
        assert all(int(stream.headers["retry-after"]) >= 1 for stream in refused)
        for path in ("/api/programme", "/api/schedule.ics", "/healthz", "/api/sessions"):
            assert (await client.get(path)).status_code == 200, path
        for stream in held + refused:
            await stream.leave()
        [afterwards] = await open_streams(client, "192.0.2.77", 1)
        assert afterwards.status == 200
        await afterwards.leave()


async def test_a_client_that_leaves_before_its_stream_starts_gives_its_place_back(settings: Settings) -> None:
    """The handler takes the place; the response is abandoned before its body is iterated (the client is gone), so
    the stream's own ``finally`` never runs."""
    async with capped(settings, per_address=2, total=100) as client:
        live: LiveHub = client.app.state.live
        for _ in range(5):
            scope = http_scope("GET", "/api/live")

            async def receive() -> dict[str, Any]:
                return {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                raise OSError("the client is gone")

            with pytest.raises((OSError, LitestarException)):
                await client.app(scope, receive, send)  # type: ignore[arg-type]
        assert live.connections == 0
        [stream] = await open_streams(client, "127.0.0.1", 1)
        assert stream.status == 200
        await stream.leave()


def test_the_default_total_leaves_descriptors_for_everything_else() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    total = default_max_total()
    assert 1 <= total <= soft - MIN_HEADROOM


async def test_an_announcement_posted_on_one_node_reaches_the_streams_of_another_within_a_second(
    settings: Settings, tmp_path: Path
) -> None:
    """Two servers on one database (two nodes on PostgreSQL, told of each other's commits by notifications; two
    workers on one SQLite file): an app listening to the second hears what an announcer posts to the first."""
    async with (
        app_client(create_app(settings)) as first,
        app_client(create_app(another_node(settings, tmp_path))) as second,
    ):
        _, token = await first.app.state.auth.add_organiser("Ratna", Role.ANNOUNCER)
        stream = Stream(second.app, VENUE)
        await stream.started.wait()
        async with asyncio.timeout(5):
            while b"event: room-status" not in stream.body:  # noqa: ASYNC110 -- the app writes the body as it goes
                await asyncio.sleep(0.01)
        posted_at = asyncio.get_running_loop().time()
        response = await first.post(
            "/api/admin/announcements",
            json={"title": "Tea in the foyer", "body": "Until 15:30."},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        async with asyncio.timeout(5):  # a guard against a hang; the time is measured below
            while b"Tea in the foyer" not in stream.body:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        took = asyncio.get_running_loop().time() - posted_at
        await stream.leave()
    text = stream.body.decode().replace("\r\n", "\n")
    assert "event: announcement\n" in text
    assert response.json()["id"] in text
    assert took < 1.0, f"the announcement took {took:.2f} s to reach the other node's stream"


async def test_a_background_loop_stops_even_when_a_library_lost_its_cancellation() -> None:
    """Python 3.11's ``wait_for`` (psycopg's pool waits with it) can return a connection and drop the cancellation
    that came with it; the loops of the live services still stop."""
    rounds = 0

    async def losing_the_cancellation() -> None:
        with contextlib.suppress(asyncio.CancelledError):  # as wait_for does when its result comes at the same moment
            await asyncio.sleep(10)

    async def loop() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            await losing_the_cancellation()
            raise_if_cancelled()
            await asyncio.sleep(0.01)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert rounds == 1
