"""The programme as one document, the change feed after a cursor, and the event."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, put
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.response import Redirect

from server.errors import Gone
from server.routes.deps import ActorDep, FeedDep, ProgrammeDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors, not_modified
from server.routes.responses import accepted_encodings, encoded_json, etag_matches, etag_with_encoding, ranged
from server.schemas.programme import Event, Programme
from server.services.auth import Permission
from server.services.feed import MAX_CHANGES_LIMIT, REPRESENTATION_VERSION
from sync import ChangesPage

CACHE_HEADERS = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}


class ProgrammeController(Controller):
    path = "/api"
    tags = ["programme"]

    @get(
        "/event",
        summary="The event",
        description="Name, dates, time zone, venue and languages.",
        responses=errors(404),
    )
    async def get_event(self, programme: ProgrammeDep) -> Event:
        return await programme.get_event()

    @get(
        "/programme",
        summary="The whole programme",
        description=(
            "Event, rooms, tracks, formats, speakers and sessions with the `cursor` they are current at. "
            "Strong ETag per cursor; send `If-None-Match` to get 304 when nothing changed. "
            "Compressed with brotli or gzip by `Accept-Encoding`."
        ),
        opt={"skip_compression": True},
        response_headers=None,
        responses=not_modified(),
    )
    async def get_programme(self, request: Request, feed: FeedDep) -> Response[Programme]:  # type: ignore[type-arg]
        encoded = await feed.programme(request.headers.get("if-none-match"))
        encoding = encoded.body.encoding(accepted_encodings(request.headers.get("accept-encoding")))
        headers = {**CACHE_HEADERS, "ETag": etag_with_encoding(encoded.etag, encoding)}
        if etag_matches(request.headers.get("if-none-match"), encoded.etag):
            return Response(content=b"", status_code=304, headers=headers)  # type: ignore[arg-type]
        return encoded_json(request, encoded.body, headers)  # type: ignore[return-value]

    @get(
        "/programme/at/{cursor:str}",
        summary="The whole programme at one cursor, as resumable gzip bytes",
        description=(
            "The `/api/programme` document at `cursor` as a gzip file (`application/gzip`, decompress it yourself): "
            "the bytes never change, so an interrupted download resumes with `Range` (206, with `If-Range` "
            "naming the ETag; 416 past the end). `current` redirects to the current cursor's address. "
            "410 when that cursor's bytes are no longer kept: start again at `current`."
        ),
        opt={"skip_compression": True},
        responses=errors(400, 410, 416),
    )
    async def get_programme_at(
        self,
        request: Request,  # type: ignore[type-arg]
        feed: FeedDep,
        cursor: Annotated[str, Parameter(description="A programme `cursor`, or `current`")],
    ) -> Response[bytes]:
        if cursor == "current":
            encoded = await feed.programme()
            return Redirect(
                f"/api/programme/at/{encoded.cursor}", status_code=307, headers={"Cache-Control": "no-store"}
            )
        forms = await feed.at(cursor)
        if forms is None:
            raise Gone(
                f"the programme at {cursor} is no longer kept; start again at /api/programme/at/current",
                field="cursor",
            )
        return ranged(
            request, forms.app, etag=f'"p{REPRESENTATION_VERSION}-{cursor}-app"', media_type="application/gzip"
        )

    @get(
        "/changes",
        summary="Changes after a cursor",
        description=(
            "Upserts (the whole entity in `data`) and tombstones (`deleted: true`) after `since`, in change "
            "order. Send the returned `cursor` next time; `more` says another page follows at once. "
            "410 when the cursor is older than the kept deletions: fetch /api/programme again. "
            "After a live `programme` event, send its `cursor` as `atLeast`: whichever server answers then "
            "includes the change that caused the event."
        ),
        opt={"skip_compression": True},
        responses=errors(400, 410),
    )
    async def get_changes(
        self,
        request: Request,  # type: ignore[type-arg]
        feed: FeedDep,
        since: Annotated[str, Parameter(description="The `cursor` of a previous programme or changes response")],
        limit: Annotated[int, Parameter(ge=1, le=MAX_CHANGES_LIMIT, description="Most records in one page")] = 500,
        at_least: Annotated[
            str | None,
            QueryParameter(name="atLeast", description="The `cursor` of a live `programme` event the client heard"),
        ] = None,
    ) -> Response[ChangesPage]:
        page = await feed.changes(since, limit, at_least)
        return encoded_json(request, page, {"Cache-Control": "no-cache"})  # type: ignore[return-value]


class AdminEventController(Controller):
    path = "/api/admin/event"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @put("/", summary="Create or replace the event", responses=errors(*ORGANISER, 400, 413))
    async def put_event(self, data: JSONBody[Event], programme: ProgrammeDep, actor: ActorDep) -> Event:
        return await programme.put_event(data, actor=actor)
