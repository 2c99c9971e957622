"""Domain errors: what services raise when a request cannot be served, with the HTTP status it maps to.

Services raise these without knowing about HTTP frameworks; the app turns them into JSON
``{"status_code", "detail", "extra"}`` responses. ``field`` names the offending JSON field.
"""

from __future__ import annotations


class KumpulError(Exception):
    """A request that cannot be served as asked."""

    status_code = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        #: Machine-readable facts added to the error body beside ``detail`` (``{"keyId": 2}``).
        self.facts: dict[str, object] = {}


class Invalid(KumpulError):
    """The input is well-formed but wrong: a missing reference, an end before a start."""

    status_code = 400


class Unauthorized(KumpulError):
    """No credentials, or credentials nobody holds."""

    status_code = 401


class Forbidden(KumpulError):
    """Valid credentials without the right to do this."""

    status_code = 403


class NotFound(KumpulError):
    """No such entity."""

    status_code = 404


class Conflict(KumpulError):
    """The write clashes with what is stored: a taken id, a room still in use."""

    status_code = 409


class Gone(KumpulError):
    """What the client holds can no longer be served; it must start again."""

    status_code = 410


class PayloadTooLarge(KumpulError):
    """A request, document or collection over its size limit."""

    status_code = 413


class UnsupportedMediaType(KumpulError):
    """A body of a kind the route does not take: an upload that is not one of the accepted image formats."""

    status_code = 415


class RangeNotSatisfiable(KumpulError):
    """A ``Range`` that starts past the end of the bytes; ``length`` is their size (``Content-Range: bytes */N``)."""

    status_code = 416

    def __init__(self, detail: str, *, length: int) -> None:
        super().__init__(detail, field="Range")
        self.length = length


class TooManyRequests(KumpulError):
    """Over a rate limit; ``retry_after`` says in how many seconds to try again."""

    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
