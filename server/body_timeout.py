"""A time limit on request bodies: a client that stops sending its body is answered 408 and dropped."""

from __future__ import annotations

import asyncio

from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send


class BodyTimeout:
    """Ends a request whose body stops arriving: no byte for ``seconds`` answers 408 and closes the connection.

    The ASGI servers bound the time to read a request's headers but wait for a body as long as the client
    keeps the connection open. Only the body is timed: once it is complete (or a request has none), the app's
    further reads (waiting for a live stream's client to leave) wait as long as they like.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        reading = True

        async def timed_receive() -> ReceiveMessage:
            nonlocal reading
            if not reading:
                return await receive()
            try:
                async with asyncio.timeout(self.seconds):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(
                    status_code=408,
                    detail=f"The request body stopped arriving for {self.seconds:g} s; nothing was changed.",
                    headers={"Connection": "close"},
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                reading = False
            return message

        await self.app(scope, timed_receive, send)
