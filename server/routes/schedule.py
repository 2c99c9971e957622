"""The schedule for other tools (iCalendar, frab XML, C3VOC JSON) and an attendee's agenda as a calendar feed."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from server.errors import NotFound
from server.routes.deps import AttendeesDep
from server.routes.openapi import errors, json_document, not_modified
from server.routes.responses import etag_matches, etag_with_encoding, negotiate_encoding
from server.services.exports import Export, ExportService, Format

ExportsDep = NamedDependency[ExportService]

#: Anyone may cache the public exports, but must ask again (a cheap 304) before reusing them.
PUBLIC_CACHE = "no-cache"
#: An agenda feed's address is a secret: nothing in between may keep a copy (server.headers enforces the same
#: value on every private path; saying it here too keeps the route right on its own).
PRIVATE_CACHE = "no-store"
_FEED_SUFFIX = ".ics"


def _provide_exports(request: Request) -> ExportService:  # type: ignore[type-arg]
    exports: ExportService = request.app.state.exports
    return exports


def _base_url(request: Request) -> str:  # type: ignore[type-arg]
    """Where the app is served, as the client reached it: session links in the exports point there."""
    return str(request.base_url).rstrip("/")


def _serve(request: Request, export: Export, cache_control: str) -> Response[bytes]:  # type: ignore[type-arg]
    """The export in the best encoding the client accepts; 304 when the client's copy is current."""
    encoding = negotiate_encoding(request.headers.get("accept-encoding"))
    headers = {
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
        "ETag": etag_with_encoding(export.etag, encoding),
        "Content-Disposition": f'inline; filename="{export.filename}"',
    }
    if etag_matches(request.headers.get("if-none-match"), export.etag):
        return Response(content=b"", status_code=304, headers=headers)
    if encoding != "identity":
        headers["Content-Encoding"] = encoding
    return Response(content=export.body.body(encoding), media_type=export.media_type, headers=headers)


async def _schedule(request: Request, exports: ExportService, fmt: Format) -> Response[bytes]:  # type: ignore[type-arg]
    return _serve(request, await exports.schedule(fmt, _base_url(request)), PUBLIC_CACHE)


class ScheduleController(Controller):
    path = "/api"
    tags = ["schedule"]
    dependencies = {"exports": Provide(_provide_exports, sync_to_thread=False)}

    @get(
        "/schedule.ics",
        summary="The whole programme as an iCalendar (RFC 5545)",
        description=(
            "One event per session with a stable UID; SEQUENCE rises and STATUS becomes CANCELLED when a "
            "session moves or is cancelled, so subscribed calendars follow. Strong ETag; 304 on revalidation."
        ),
        media_type="text/calendar",
        opt={"skip_compression": True},
        responses=not_modified(),
    )
    async def get_ics(self, request: Request, exports: ExportsDep) -> Response[bytes]:  # type: ignore[type-arg]
        return await _schedule(request, exports, "ics")

    @get(
        "/schedule.xml",
        summary="The programme as frab / Pentabarf schedule.xml",
        description="Valid against the C3VOC XML schema; cancelled sessions are left out. Strong ETag; 304.",
        media_type="application/xml",
        opt={"skip_compression": True},
        responses=not_modified(),
    )
    async def get_xml(self, request: Request, exports: ExportsDep) -> Response[bytes]:  # type: ignore[type-arg]
        return await _schedule(request, exports, "xml")

    @get(
        "/schedule.json",
        summary="The programme as C3VOC schedule.json",
        description="Valid against the C3VOC JSON schema; cancelled sessions are left out. Strong ETag; 304.",
        opt={"skip_compression": True},
        responses={**json_document(dict[str, object], "The C3VOC schedule.json document"), **not_modified()},
    )
    async def get_json(self, request: Request, exports: ExportsDep) -> Response[bytes]:  # type: ignore[type-arg]
        return await _schedule(request, exports, "json")

    @get(
        "/calendar/{filename:str}",
        summary="An attendee's agenda as a calendar feed at its secret address `KEY.ics`",
        description=(
            "The sessions the attendee bookmarked, on every device they linked; the address comes from "
            "POST /api/attendees/me/calendar. 404 for an unknown, replaced or turned-off key."
        ),
        media_type="text/calendar",
        opt={"skip_compression": True},
        responses={**not_modified(), **errors(404)},
    )
    async def get_agenda_feed(
        self,
        request: Request,  # type: ignore[type-arg]
        filename: FromPath[str],
        attendees: AttendeesDep,
        exports: ExportsDep,
    ) -> Response[bytes]:
        if not filename.endswith(_FEED_SUFFIX):
            raise NotFound("a calendar feed address ends in .ics")
        sessions = await attendees.calendar_bookmarks(filename.removesuffix(_FEED_SUFFIX))
        response = _serve(request, await exports.agenda(sessions, _base_url(request)), PRIVATE_CACHE)
        response.headers["X-Robots-Tag"] = "noindex"
        return response
