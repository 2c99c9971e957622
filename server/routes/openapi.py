"""What the OpenAPI document says an operation may answer besides success: the error body and its statuses.

Every refusal has one JSON shape (see ``server/app.py``); ``responses=errors(401, 404)`` on a handler documents
which statuses it can give, so clients and the schema-driven tests know what to expect.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec


class ErrorBody(msgspec.Struct, kw_only=True):
    """A refusal: its status, a sentence saying what is wrong and what to do, and the problems per field.

    ``extra`` lists ``{"key": field, "message": …}`` objects (validation problems also name their ``source``).
    """

    status_code: int
    detail: str
    extra: list[dict[str, Any]] | None = None


#: What each status means for this API; the ``detail`` of a response says more.
MEANINGS: dict[int, str] = {
    400: "Invalid request: `detail` says what to fix and `extra` names the fields",
    401: "No valid credentials for this operation (`WWW-Authenticate: Bearer`)",
    403: "Valid credentials without the right to do this, or a console request without its `X-CSRF-Token`",
    404: "No such resource",
    409: "Clashes with what is stored",
    410: "The cursor is older than what the server keeps (deletions, or a cursor's bytes): start again",
    413: "The request body, or a document in it, is over its size limit, named in `detail`",
    415: "The body is not of a kind the operation takes (an image that is not PNG, JPEG or WebP; SVG)",
    416: "The `Range` starts past the end of the bytes; `Content-Range: bytes */LENGTH` gives their size",
    429: "Over the rate limit named in `detail`; `Retry-After` says in how many seconds to try again",
    503: "The server is at a capacity named in `detail`; `Retry-After` says in how many seconds to try again",
}

#: Both ways an organiser may authenticate: a bearer token, or the console's cookie (with ``X-CSRF-Token`` to change).
ORGANISER_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"console": []}]
#: Who may not call an organiser operation: no or unknown credentials (401), or a role without the permission (403).
ORGANISER = (401, 403)
#: Operations that need the attendee's bearer token.
ATTENDEE = (401,)


def errors(*status_codes: int) -> dict[int, ResponseSpec]:
    """The OpenAPI responses for refusals with ``status_codes``, each with the error body."""
    return {
        code: ResponseSpec(data_container=ErrorBody, description=MEANINGS[code], generate_examples=False)
        for code in sorted(set(status_codes))
    }


def not_modified() -> dict[int, ResponseSpec]:
    """The OpenAPI response for a revalidation whose ``If-None-Match`` names the current representation."""
    return {304: ResponseSpec(data_container=None, description="Not modified: the copy you hold is current")}


def no_content(description: str) -> dict[int, ResponseSpec]:
    """A 204 documented without a body (a handler that returns a ``Response`` to set a cookie would claim JSON)."""
    return {204: ResponseSpec(data_container=None, description=description)}


def json_document(data_container: Any, description: str) -> dict[int, ResponseSpec]:
    """A 200 whose JSON body has the shape of ``data_container``, for handlers that return bytes encoded elsewhere."""
    return {200: ResponseSpec(data_container=data_container, description=description, generate_examples=False)}
