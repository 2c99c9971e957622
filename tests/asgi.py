"""An HTTP client for the app, with the app's lifespan run on the test's own event loop.

Litestar's AsyncTestClient runs the lifespan in a separate thread and loop, so the app's
background workers (push outbox, scheduler, change watcher) would live on another loop than the
requests. This client keeps everything on one loop, as in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar


class AppClient(httpx.AsyncClient):
    """An httpx client bound to one running app; ``client.app`` reaches its state."""

    app: Litestar


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """Run the ASGI lifespan protocol: startup before the block, shutdown after it."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))  # type: ignore[arg-type]
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"app failed to start: {started.get('message')}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


@asynccontextmanager
async def app_client(app: Litestar) -> AsyncIterator[AppClient]:
    """A client of ``app`` while it runs."""
    async with running(app):
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with AppClient(transport=transport, base_url="http://testserver.local") as client:
            client.app = app
            yield client


def http_scope(method: str, target: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The ASGI scope of a plain HTTP/1.1 request to ``target`` (a path with an optional query), for driving an
    app by hand where a client cannot (a stream that never ends, a response read only up to its start)."""
    path, _, query = target.partition("?")
    raw = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver.local"), *raw],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver.local", 80),
        "state": {},
    }
