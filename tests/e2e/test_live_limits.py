"""The real server under a flood of live streams: past its caps it refuses more (429 per address, 503 in total, with
Retry-After) and keeps answering everything else, instead of running out of file descriptors."""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from server.services.live import MIN_HEADROOM
from tests.e2e.conftest import KUMPUL, RunningServer, ServerProcess, free_port, start_server, stop_server

#: The worker's descriptor limit in the first test: its default cap is this less the headroom.
NOFILE = 400


def _low_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


@pytest.fixture
def cramped_server(tmp_path: Path) -> Iterator[RunningServer]:
    """``kumpul serve --demo`` with a hard limit of 400 open files, which the server cannot raise."""
    db = tmp_path / "kumpul.db"
    port = free_port()
    with db.with_suffix(".log").open("ab") as log:
        process = ServerProcess(
            [*KUMPUL, "serve", "--port", str(port), "--db", str(db), "--workers", "1", "--demo"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
            preexec_fn=_low_descriptor_limit,  # sets the limit in the child, before exec
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, db.with_suffix(".log").read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    running = RunningServer(url, db, process)
    yield running
    stop_server(running)


@asynccontextmanager
async def streams(url: str, count: int, *, source: str = "127.0.0.1") -> AsyncIterator[list[httpx.Response]]:
    """Open ``count`` live streams from the address ``source`` (any of 127/8) at once, held until the block ends."""
    async with AsyncExitStack() as stack:
        transport = httpx.AsyncHTTPTransport(local_address=source, limits=httpx.Limits(max_connections=None))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(30, read=None))
        )

        async def one() -> httpx.Response:
            return await stack.enter_async_context(client.stream("GET", f"{url}/api/live"))

        yield list(await asyncio.gather(*(one() for _ in range(count))))


async def test_a_flood_from_one_address_is_capped_below_the_descriptor_limit(cramped_server: RunningServer) -> None:
    """More streams than the worker has descriptors: once it ran out, nothing else was answered."""
    cap = NOFILE - MIN_HEADROOM  # a quarter of 400 is less than the minimum headroom
    flood = NOFILE + 20
    async with streams(cramped_server.url, flood) as opened:
        statuses = [response.status_code for response in opened]
        assert statuses.count(200) == cap
        assert statuses.count(503) == flood - cap
        refused = next(response for response in opened if response.status_code == 503)
        assert int(refused.headers["retry-after"]) >= 1
        async with httpx.AsyncClient(timeout=10) as other:
            for path in ("/api/event", "/api/programme", "/api/sessions", "/healthz"):
                assert (await other.get(f"{cramped_server.url}{path}")).status_code == 200, path
    # The streams ended: their places are free again.
    async with streams(cramped_server.url, 5) as again:
        assert [response.status_code for response in again] == [200] * 5


async def test_one_address_past_its_cap_gets_429_while_another_gets_in(tmp_path: Path) -> None:
    server = start_server(
        tmp_path / "kumpul.db",
        "--demo",
        env={"KUMPUL_LIVE_MAX_PER_ADDRESS": "30", "KUMPUL_LIVE_MAX_TOTAL": "100"},
    )
    try:
        async with streams(server.url, 35, source="127.0.0.2") as crowd:
            statuses = [response.status_code for response in crowd]
            assert statuses.count(200) == 30
            assert statuses.count(429) == 5
            refused = next(response for response in crowd if response.status_code == 429)
            assert int(refused.headers["retry-after"]) >= 1
            async with streams(server.url, 3, source="127.0.0.3") as neighbours:
                assert [response.status_code for response in neighbours] == [200] * 3
    finally:
        stop_server(server)
