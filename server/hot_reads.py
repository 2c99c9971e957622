"""The two reads every phone makes on every start and reconnect, answered without the framework's per-request work.

``GET /api/programme`` and ``GET /api/changes`` are served from bytes the feed keeps encoded in memory, so what
remains of a request's cost is the web framework's own machinery: routing, parameter parsing, dependency
injection and building a response object. :class:`KumpulApp` answers the plain form of these two requests
straight from the ASGI scope. Anything else about them (a malformed or stale cursor, a limit out of range, a
repeated parameter) goes through the documented route handlers in :mod:`server.routes.programme`, which give the
same answers for the plain form and the error answers for the rest; ``tests/server/test_hot_reads.py`` holds the
two paths to the same bytes and headers.

It also holds each ``/api/live`` request's place among the open streams for exactly as long as the request runs:
the route takes the place (:meth:`server.services.live.LiveHub.connect`) and leaves it in the scope, and the place
is given back when the request ends, however it ends (the stream ended, the client left mid-event or before the
response started).

``HEAD`` is answered for every ``GET`` resource in one place, here: the request runs as a ``GET`` and only the
response's status and headers go out (``Content-Length`` stays that of the ``GET``), so the exports, feeds and
the programme answer ``HEAD`` alike, and a streaming response is stopped after its headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from litestar import Litestar
from litestar.enums import ScopeType

from server.errors import KumpulError
from server.request import nul_in_url
from server.routes.responses import accepted_encodings, etag_matches, etag_with_encoding
from server.services.feed import MAX_CHANGES_LIMIT
from server.services.live import LIVE_PATH, live_places
from server.storage.db import transient

if TYPE_CHECKING:
    from litestar.types import Message, Receive, Scope, Send

    from server.services.feed import Encoded, FeedService
    from server.services.live import LiveHub

Headers = list[tuple[bytes, bytes]]
#: Status, headers and body of a response.
_Answer = tuple[int, Headers, bytes]

_JSON = (b"content-type", b"application/json")
_NO_CACHE = (b"cache-control", b"no-cache")
_VARY = (b"vary", b"Accept-Encoding")
_DEFAULT_LIMIT = 500
_FAST_PATHS = frozenset({"/api/programme", "/api/changes"})
_INTERNAL_ERROR = b'{"status_code":500,"detail":"Internal Server Error"}'
log = logging.getLogger(__name__)


class KumpulApp(Litestar):
    """Litestar, with the programme and the change feed answered directly when the request is plain.

    Attributes:
        hot_reads: Whether to answer the plain reads directly; off, every request takes the route handlers.
    """

    hot_reads = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == ScopeType.HTTP and scope.get("method") == "HEAD":
            await self._head(scope, receive, send)
            return
        if scope["type"] == ScopeType.HTTP and scope["path"].rstrip("/") == LIVE_PATH:
            await self._live(scope, receive, send)
            return
        if self.hot_reads and scope["type"] == ScopeType.HTTP and scope.get("method") == "GET":
            path = scope["path"]
            if path in _FAST_PATHS and nul_in_url(scope) is None:  # the route refuses a NUL, saying where
                answer = await self._fast(scope, path)
                if answer is not None:
                    await self._send(scope, send, *answer)
                    return
        await super().__call__(scope, receive, send)

    async def _fast(self, scope: Scope, path: str) -> _Answer | None:
        """The fast path's answer, or None to leave the request to the route handler, for these reasons only.

        - The request is not the plain form (a repeated parameter, a limit out of range): the route handler
          validates it and says what is wrong.
        - The feed refused the request (:class:`KumpulError`: a malformed or stale cursor): the route handler meets
          the same error and answers it in the documented form.
        - A storage condition that passes (busy, full): the route handler answers 503 with ``Retry-After``.

        Anything else is a bug: logged with its trace and answered 500 here, not retried through the other path.
        """
        try:
            if path == "/api/programme":
                return await self._programme(scope)
            return await self._changes(scope)
        except KumpulError:
            return None
        except Exception as error:
            if transient(error):
                return None
            log.exception("the fast path for %s failed", path)
            return 500, [], _INTERNAL_ERROR

    async def _live(self, scope: Scope, receive: Receive, send: Send) -> None:
        held = live_places(scope)
        try:
            await super().__call__(scope, receive, send)
        finally:
            live: LiveHub = self.state.live
            for connection in held:
                live.disconnect(connection)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``HEAD`` as the ``GET`` of the same resource would, without its body."""
        streaming = asyncio.Event()
        answered = False

        async def headers_only(message: Message) -> None:
            nonlocal answered
            if answered:
                return
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body":
                answered = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                if message.get("more_body", False):
                    streaming.set()

        get = asyncio.ensure_future(self({**scope, "method": "GET"}, receive, headers_only))  # type: ignore[arg-type]
        stream = asyncio.ensure_future(streaming.wait())
        await asyncio.wait({get, stream}, return_when=asyncio.FIRST_COMPLETED)
        stream.cancel()
        if not get.done():  # a stream (the live events) would go on for ever: its headers are the answer
            get.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await get
            return
        get.result()

    async def _programme(self, scope: Scope) -> _Answer:
        feed: FeedService = self.state.feed
        encoded = await feed.programme(_header(scope, b"if-none-match"))
        encoding = encoded.body.encoding(accepted_encodings(_header(scope, b"accept-encoding")))
        headers: Headers = [_NO_CACHE, _VARY, (b"etag", etag_with_encoding(encoded.etag, encoding).encode())]
        if etag_matches(_header(scope, b"if-none-match"), encoded.etag):
            return 304, headers, b""
        return _encoded(headers, encoded.body, encoding)

    async def _changes(self, scope: Scope) -> _Answer | None:
        """The answer to a plain change request; None leaves the request to the route handler."""
        query = _plain_query(scope["query_string"])
        if query is None or "since" not in query:
            return None
        limit = _DEFAULT_LIMIT
        if "limit" in query:
            text: str = query["limit"]
            if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_CHANGES_LIMIT:
                return None
            limit = int(text)
        feed: FeedService = self.state.feed
        page = await feed.changes(query["since"], limit, query.get("atLeast"))
        encoding = page.encoding(accepted_encodings(_header(scope, b"accept-encoding")))
        return _encoded([_NO_CACHE, _VARY], page, encoding)

    async def _send(self, scope: Scope, send: Send, status: int, headers: Headers, body: bytes) -> None:
        if status != 304:
            headers += [_JSON, (b"content-length", str(len(body)).encode())]
        messages: list[Message] = [
            {"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": body, "more_body": False},
        ]
        for message in messages:
            for hook in self.before_send:  # the app's own hooks, as for every other response
                await hook(message, scope)
            await send(message)


def _encoded(headers: Headers, body: Encoded, encoding: str) -> _Answer:
    if encoding != "identity":
        headers.append((b"content-encoding", encoding.encode()))
    return 200, headers, body.body(encoding)


def _header(scope: Scope, name: bytes) -> str | None:
    """The value of header ``name`` (lower case), or None; repeated headers are joined as HTTP allows."""
    values = [value.decode("latin-1") for key, value in scope["headers"] if key == name]
    return ", ".join(values) if values else None


def _plain_query(query_string: bytes) -> dict[str, str] | None:
    """The query as a map, or None when a parameter is repeated or the string is not plain."""
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, strict_parsing=False)
    except ValueError:
        return None
    query = dict(pairs)
    return query if len(query) == len(pairs) else None
