"""Open live streams are capped per address and in total; past the caps a client is refused and told when to retry,
and the server keeps answering everything else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.exceptions import LitestarException

from server.app import create_app
from server.services.live import MIN_HEADROOM, LiveHub, default_max_total
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


@asynccontextmanager
async def capped(tmp_path: Path, *, per_address: int, total: int) -> AsyncIterator[AppClient]:
    settings = Settings(db_path=tmp_path / "kumpul.db", live_max_per_address=per_address, live_max_total=total)
    async with app_client(create_app(settings)) as client:
        yield client


async def open_streams(client: AppClient, address: str, count: int) -> list[Stream]:
    streams = [Stream(client.app, address) for _ in range(count)]
    await asyncio.gather(*(stream.started.wait() for stream in streams))
    return streams


async def test_one_address_past_its_cap_gets_429_and_others_go_on(tmp_path: Path) -> None:
    async with capped(tmp_path, per_address=5, total=100) as client:
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


async def test_past_the_total_cap_everyone_gets_503_and_the_rest_of_the_api_answers(tmp_path: Path) -> None:
    async with capped(tmp_path, per_address=1000, total=8) as client:
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


async def test_a_client_that_leaves_before_its_stream_starts_gives_its_place_back(tmp_path: Path) -> None:
    """The handler takes the place; the response is abandoned before its body is iterated (the client is gone), so
    the stream's own ``finally`` never runs."""
    async with capped(tmp_path, per_address=2, total=100) as client:
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
