"""Failures that are no Exception, met while serving a request, turned into one so they get the logged 500.

pyo3 raises ``PanicException`` when Rust code under a native extension (pycrdt's CRDT core) panics, and it derives
from ``BaseException``: litestar's exception handling, which catches ``Exception``, would let it out of the app and
the ASGI server might take the worker down with it. Cancellation and the interpreter's own exits pass untouched.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

#: BaseExceptions that mean "stop", not "failed": they keep going up.
_STOPS = (asyncio.CancelledError, KeyboardInterrupt, SystemExit, GeneratorExit)


class Panicked(Exception):
    """A BaseException that is no Exception (a panic), raised while serving a request; ``__cause__`` holds it."""


def contain_panics(app: ASGIApp) -> ASGIApp:
    """Litestar middleware: a panic under ``app`` is re-raised as :class:`Panicked`, for the app's handlers."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except (Exception, *_STOPS):
            raise
        except BaseException as panic:
            raise Panicked(f"{type(panic).__name__}: {panic}") from panic

    return middleware
