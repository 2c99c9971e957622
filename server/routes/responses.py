"""Response helpers: pre-encoded JSON, content negotiation and ETag matching."""

from __future__ import annotations

from litestar import Request, Response
from litestar.enums import MediaType

from server.errors import RangeNotSatisfiable
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
    encoding = body.encoding(accepted_encodings(request.headers.get("accept-encoding")))
    headers = {**headers, "Vary": "Accept-Encoding"}
    if encoding != "identity":
        headers["Content-Encoding"] = encoding
    return raw_json(body.body(encoding), headers=headers)


def negotiate_encoding(accept_encoding: str | None) -> str:
    """The best of ``br``, ``gzip`` and ``identity`` that an ``Accept-Encoding`` header allows."""
    return accepted_encodings(accept_encoding)[0]


def accepted_encodings(accept_encoding: str | None) -> tuple[str, ...]:
    """``br`` and ``gzip`` as far as an ``Accept-Encoding`` header allows them, best first, then ``identity``."""
    if not accept_encoding:
        return ("identity",)
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
    return (*(encoding for encoding in ("br", "gzip") if weights.get(encoding, wildcard) > 0), "identity")


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


#: Immutable bytes: a cursor's programme never changes, so any cache may keep it as long as it likes.
IMMUTABLE = "public, max-age=31536000, immutable"


def ranged(
    request: Request,  # type: ignore[type-arg]
    body: bytes,
    *,
    etag: str,
    media_type: str,
) -> Response[bytes]:
    """Immutable ``body`` in full (200) or the one byte range the request asks for (206).

    ``If-Range`` naming another ETag, a range that is not one plain ``bytes=`` range (several ranges, another
    unit), or a malformed one, get the whole body, as RFC 9110 allows. A range that starts past the end gets 416.
    """
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "Accept-Ranges": "bytes"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(content=b"", status_code=304, headers=headers)
    if_range = request.headers.get("if-range")
    wanted = (
        None
        if if_range is not None and if_range.strip() != etag
        else _single_range(request.headers.get("range"), len(body))
    )
    if wanted is None:
        return Response(content=body, media_type=media_type, headers=headers)
    start, end = wanted
    headers["Content-Range"] = f"bytes {start}-{end}/{len(body)}"
    return Response(content=body[start : end + 1], status_code=206, media_type=media_type, headers=headers)


def _single_range(header: str | None, length: int) -> tuple[int, int] | None:
    """``(first, last)`` byte of a single ``bytes=`` range, or None to send everything.

    Raises:
        RangeNotSatisfiable: The range starts past the end (or asks for the last 0 bytes).
    """
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash or not (first_text.isdigit() or first_text == "") or not (last_text.isdigit() or last_text == ""):
        return None
    if first_text == "":
        if last_text == "" or int(last_text) == 0:
            if last_text:
                raise RangeNotSatisfiable("a suffix range of 0 bytes is empty", length=length)
            return None
        return max(0, length - int(last_text)), length - 1
    first = int(first_text)
    last = int(last_text) if last_text else length - 1
    if first >= length:
        raise RangeNotSatisfiable(f"the range starts past the end of the {length} bytes", length=length)
    if last < first:
        return None
    return first, min(last, length - 1)
