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
