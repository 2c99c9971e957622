"""Response helpers: pre-encoded JSON, content negotiation and ETag matching."""

from __future__ import annotations

from litestar import Request, Response
from litestar.enums import MediaType

from server.services.feed import Encoded

JSON = MediaType.JSON


def raw_json(body: bytes, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    """A response whose body is JSON already encoded by a service."""
    return Response(content=body, status_code=status_code, media_type=JSON, headers=headers)


def encoded_json(
    request: Request,  # type: ignore[type-arg]
    body: Encoded,
    headers: dict[str, str],
) -> Response[bytes]:
    """A JSON response in the best encoding the client accepts, from bodies compressed once."""
    encoding = body.encoding(negotiate_encoding(request.headers.get("accept-encoding")))
    headers = {**headers, "Vary": "Accept-Encoding"}
    if encoding != "identity":
        headers["Content-Encoding"] = encoding
    return raw_json(body.body(encoding), headers=headers)


def negotiate_encoding(accept_encoding: str | None) -> str:
    """The best of ``br``, ``gzip`` and ``identity`` that an ``Accept-Encoding`` header allows."""
    if not accept_encoding:
        return "identity"
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        weights[name.strip().lower()] = quality
    wildcard = weights.get("*", 0.0)
    for encoding in ("br", "gzip"):
        if weights.get(encoding, wildcard) > 0:
            return encoding
    return "identity"


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` in any of its encodings (or is ``*``).

    Representations carry the encoding as a suffix (``"…-gzip"``); revalidation succeeds for any
    of them, as the content is the same.
    """
    if not if_none_match:
        return False
    base = etag.strip('"')
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        candidate = candidate.removeprefix("W/").strip('"')
        for suffix in ("-gzip", "-br"):
            candidate = candidate.removesuffix(suffix)
        if candidate == base:
            return True
    return False


def etag_with_encoding(etag: str, encoding: str) -> str:
    """The strong ETag of one encoded representation."""
    return etag if encoding == "identity" else f'{etag[:-1]}-{encoding}"'
