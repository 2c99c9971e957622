"""The schedule for other tools (iCalendar, frab XML, C3VOC JSON) and an attendee's agenda as a calendar feed."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from server.errors import NotFound
from server.routes.deps import ActorDep, AttendeesDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors, json_document, not_modified
from server.routes.responses import etag_matches, etag_with_encoding, negotiate_encoding
from server.schemas.releases import Release, ReleaseCreate
from server.services.auth import Permission
from server.services.exports import Export, ExportService, Format
from server.services.releases import ReleaseService

ExportsDep = NamedDependency[ExportService]
ReleasesDep = NamedDependency[ReleaseService]
#: ``?version=NAME``: a named release instead of the current programme.
Version = Annotated[
    str | None,
    QueryParameter(
        name="version",
        description="A release's name (GET /api/releases): the programme exactly as that release published it; "
        "404 for an unknown one",
        max_length=64,
    ),
]
#: ``?lang=xx``: the content in one of the event's languages.
Lang = Annotated[
    str | None,
    QueryParameter(
        name="lang",
        description="A language the event offers (its `languages`): sessions, speakers, rooms, tracks and formats "
        "in that language where translated; the event's main language when left out; 400 for one it does not offer",
        max_length=35,
    ),
]

#: Anyone may cache the public exports, but must ask again (a cheap 304) before reusing them.
PUBLIC_CACHE = "no-cache"
#: An agenda feed's address is a secret: nothing in between may keep a copy (server.headers enforces the same
#: value on every private path; saying it here too keeps the route right on its own).
PRIVATE_CACHE = "no-store"
_FEED_SUFFIX = ".ics"


def _provide_exports(request: Request) -> ExportService:  # type: ignore[type-arg]
    exports: ExportService = request.app.state.exports
    return exports


def _provide_releases(request: Request) -> ReleaseService:  # type: ignore[type-arg]
    releases: ReleaseService = request.app.state.releases
    return releases


def _base_url(request: Request) -> str:  # type: ignore[type-arg]
    """Where the app is served, as the client reached it: session links in the exports point there."""
    return str(request.base_url).rstrip("/")


def _serve(
    request: Request,  # type: ignore[type-arg]
    export: Export,
    cache_control: str,
    *,
    encode: bool = True,
) -> Response[bytes]:
    """The export in the best encoding the client accepts; 304 when the client's copy is current.

    ``encode=False`` on routes the app's compression covers already, so the body is not compressed twice.
    """
    encoding = negotiate_encoding(request.headers.get("accept-encoding")) if encode else "identity"
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


async def _schedule(
    request: Request,  # type: ignore[type-arg]
    exports: ExportService,
    fmt: Format,
    version: str | None = None,
    lang: str | None = None,
) -> Response[bytes]:
    return _serve(request, await exports.schedule(fmt, _base_url(request), version, lang), PUBLIC_CACHE)


async def serve_session_ics(request: Request, exports: ExportService, session_id: str) -> Response[bytes]:  # type: ignore[type-arg]
    """``/api/sessions/{id}.ics``: one session as an iCalendar (the sessions route hands these requests over)."""
    return _serve(request, await exports.session(session_id, _base_url(request)), PUBLIC_CACHE, encode=False)


class ScheduleController(Controller):
    path = "/api"
    tags = ["schedule"]
    dependencies = {
        "exports": Provide(_provide_exports, sync_to_thread=False),
        "releases": Provide(_provide_releases, sync_to_thread=False),
    }

    @get(
        "/schedule.ics",
        summary="The whole programme as an iCalendar (RFC 5545)",
        description=(
            "One event per session with a stable UID; SEQUENCE rises and STATUS becomes CANCELLED when a "
            "session moves or is cancelled, so subscribed calendars follow. Strong ETag; 304 on revalidation."
        ),
        media_type="text/calendar",
        opt={"skip_compression": True},
        responses={**not_modified(), **errors(400, 404)},
    )
    async def get_ics(
        self,
        request: Request,  # type: ignore[type-arg]
        exports: ExportsDep,
        version: Version = None,
        lang: Lang = None,
    ) -> Response[bytes]:
        return await _schedule(request, exports, "ics", version, lang)

    @get(
        "/schedule.xml",
        summary="The programme as frab / Pentabarf schedule.xml",
        description="Valid against the C3VOC XML schema; cancelled sessions are left out. Strong ETag; 304.",
        media_type="application/xml",
        opt={"skip_compression": True},
        responses={**not_modified(), **errors(400, 404)},
    )
    async def get_xml(
        self,
        request: Request,  # type: ignore[type-arg]
        exports: ExportsDep,
        version: Version = None,
        lang: Lang = None,
    ) -> Response[bytes]:
        return await _schedule(request, exports, "xml", version, lang)

    @get(
        "/schedule.json",
        summary="The programme as C3VOC schedule.json",
        description="Valid against the C3VOC JSON schema; cancelled sessions are left out. Strong ETag; 304.",
        opt={"skip_compression": True},
        responses={
            **json_document(dict[str, object], "The C3VOC schedule.json document"),
            **not_modified(),
            **errors(400, 404),
        },
    )
    async def get_json(
        self,
        request: Request,  # type: ignore[type-arg]
        exports: ExportsDep,
        version: Version = None,
        lang: Lang = None,
    ) -> Response[bytes]:
        return await _schedule(request, exports, "json", version, lang)

    @get(
        "/changes.atom",
        summary="Programme changes as an Atom feed",
        description=(
            "Sessions added, moved, re-roomed, cancelled or removed, newest first (at most 200), each with what "
            "changed in plain words and a link to the session's page. Strong ETag; 304 on revalidation."
        ),
        media_type="application/atom+xml",
        opt={"skip_compression": True},
        responses=not_modified(),
    )
    async def get_changes_atom(self, request: Request, exports: ExportsDep) -> Response[bytes]:  # type: ignore[type-arg]
        return _serve(request, await exports.changes_atom(_base_url(request)), PUBLIC_CACHE)

    @get(
        "/releases",
        summary="The named schedule versions, newest first",
        description=(
            "Each name works as `?version=NAME` on /api/schedule.xml, /api/schedule.json and /api/schedule.ics."
        ),
    )
    async def list_releases(self, releases: ReleasesDep) -> list[Release]:
        return await releases.listing()

    @get(
        "/calendar/{filename:str}",
        summary="An attendee's agenda as a calendar feed at its secret address `KEY.ics`",
        description=(
            "The sessions the attendee bookmarked, on every device they linked, in the language the app last "
            "sent (when the event offers it); the address comes from POST /api/attendees/me/calendar. 404 for an "
            "unknown, replaced or turned-off key."
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
        sessions, lang = await attendees.calendar_bookmarks(filename.removesuffix(_FEED_SUFFIX))
        response = _serve(request, await exports.agenda(sessions, _base_url(request), lang), PRIVATE_CACHE)
        response.headers["X-Robots-Tag"] = "noindex"
        return response


class AdminReleaseController(Controller):
    path = "/api/admin/releases"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]
    dependencies = {"releases": Provide(_provide_releases, sync_to_thread=False)}

    @post(
        "/",
        summary="Publish the programme as it stands as a named schedule version",
        description=(
            'Body `{"name": "v1.2"}`, or `{}` for the next `vN`. The exports then serve exactly this '
            "programme at `?version=NAME`. 409 when the name is taken (a release is never replaced)."
        ),
        status_code=201,
        responses=errors(*ORGANISER, 400, 409),
    )
    async def publish(self, data: JSONBody[ReleaseCreate], releases: ReleasesDep, actor: ActorDep) -> Release:
        return await releases.publish(data.name, actor)
