"""The PWA's built files (``pwa/dist``): the attendee app at ``/`` (deep links fall back to its shell) and the
organisers' console at ``/admin``."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

#: Paths the PWA never owns: an unknown one is a real 404, not the app shell.
_SERVER_PREFIXES = ("api/", "schema", "healthz")
#: Files whose name holds a content hash may be cached for a year.
_IMMUTABLE_PREFIX = "assets/"

mimetypes.add_type("application/manifest+json", ".webmanifest")


def _resolve(root: Path, path: str) -> Path | None:
    """The file under ``root`` that ``path`` names, refusing anything that escapes it."""
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root.resolve()) or not candidate.is_file():
        return None
    return candidate


def _file(path: Path, cache_control: str) -> File:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return File(
        path, media_type=media_type, headers={"Cache-Control": cache_control}, content_disposition_type="inline"
    )


def _not_built() -> Response[str]:
    return Response(
        "Kumpul's API is running, but the app is not built yet: run `make run` (or `npm run build` in pwa/).",
        media_type="text/plain",
        status_code=503,
        headers={"Cache-Control": "no-cache"},
    )


def _console_page(root: Path) -> File | Response[str]:
    page = _resolve(root, "admin.html")
    if page is None:
        return _not_built()
    # Never stored by a browser or proxy: it is the door to the organisers' session. Like every page it is never
    # framed and loads nothing but the server's own scripts and styles (server/headers.py).
    return _file(page, "no-store")


@get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
def pwa(request: Request, path: FromPath[str] = "") -> File | Response[str]:  # type: ignore[type-arg]
    """A built file of the PWA, or its shell (``index.html``) for an app route such as ``/sessions/x``.

    ``/admin``, every path under it and ``/admin.html`` are the organisers' console (``admin.html``, which routes in
    the browser), never the attendee app's shell.
    """
    root: Path = request.app.state.pwa_dir
    path = path.lstrip("/")
    if path.startswith(_SERVER_PREFIXES):
        raise NotFoundException(f"no such resource: /{path}")
    if path == "admin.html" or path == "admin" or path.startswith("admin/"):
        return _console_page(root)
    found = _resolve(root, path) if path else None
    if found is not None:
        immutable = path.startswith(_IMMUTABLE_PREFIX)
        return _file(found, "public, max-age=31536000, immutable" if immutable else "no-cache")
    if "." in path.rsplit("/", 1)[-1]:
        raise NotFoundException(f"no such file: /{path}")
    shell = _resolve(root, "index.html")
    if shell is None:
        return _not_built()
    return _file(shell, "no-cache")
