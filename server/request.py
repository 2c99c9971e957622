"""The app's request class and its input checks: what the server cannot read or store is refused with a 400.

A JSON body the decoder cannot follow (nested too deeply) is the client's mistake; so is a NUL character in any text
of a request, in its path, its query or its JSON body. No text Kumpul keeps holds one, PostgreSQL cannot store one in
a text column, and SQLite would keep it where other programs cut the text short: refused here, for every route and
both storage engines, naming where it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from litestar import Request

from server.errors import Invalid
from server.nesting import NUL, refuse_nul, too_deep

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send


def nul_in_url(scope: Scope) -> Invalid | None:
    """The error for a request whose path or query holds a NUL character (``%00``); None when neither does."""
    if NUL in scope["path"]:
        return Invalid("the path holds a NUL character (%00), which no address may contain", field="path")
    if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
        return Invalid("the query holds a NUL character (%00), which no parameter may contain", field="query")
    return None


def refuse_nul_in_url(app: ASGIApp) -> ASGIApp:
    """Litestar middleware: a request whose path or query holds a NUL character is refused with a 400."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        error = nul_in_url(scope)
        if error is not None:
            raise error
        await app(scope, receive, send)

    return middleware


class KumpulRequest(Request[Any, Any, Any]):
    """Litestar's request, with a JSON body nested too deeply or holding a NUL character refused as
    :class:`~server.errors.Invalid`.

    Litestar decodes the body as untyped JSON before converting it to the handler's type; that decoding is where
    deep nesting fails (the conversion stops at the first value of the wrong type), so it is caught here, once,
    for every route, and the decoded value checked for NUL characters before any handler sees it.
    """

    async def json(self) -> Any:
        """The JSON body, decoded.

        Raises:
            Invalid: The body nests arrays and objects too deeply to decode, or a string in it holds a NUL
                character; the message says where.
        """
        try:
            value = await super().json()
        except RecursionError:
            raise too_deep(await self.body(), "the JSON body") from None
        refuse_nul(value, "the JSON body")
        return value
