"""The app's request class: a JSON body the decoder cannot follow is the client's mistake, answered 400."""

from __future__ import annotations

from typing import Any

from litestar import Request

from server.nesting import too_deep


class KumpulRequest(Request[Any, Any, Any]):
    """Litestar's request, with a JSON body nested too deeply refused as :class:`~server.errors.Invalid`.

    Litestar decodes the body as untyped JSON before converting it to the handler's type; that decoding is where
    deep nesting fails (the conversion stops at the first value of the wrong type), so it is caught here, once,
    for every route.
    """

    async def json(self) -> Any:
        """The JSON body, decoded.

        Raises:
            Invalid: The body nests arrays and objects too deeply to decode; the message says where.
        """
        try:
            return await super().json()
        except RecursionError:
            raise too_deep(await self.body(), "the JSON body") from None
