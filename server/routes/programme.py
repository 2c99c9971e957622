"""The programme as one document, the change feed after a cursor, and the event."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from litestar import Controller, Request, Response, get, put
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.response import Redirect

from server.errors import Gone, Invalid
from server.routes.deps import ActorDep, FeedDep, ProgrammeDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors, not_modified
from server.routes.responses import accepted_encodings, encoded_json, etag_matches, etag_with_encoding, ranged
from server.schemas.programme import Event, Programme
from server.services.auth import Permission
from server.services.feed import MAX_CHANGES_LIMIT, REPRESENTATION_VERSION
from sync import ChangesPage

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
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
        "/programme/at/{cursor:str}/today",
        summary="Today's part of the programme at one cursor, as gzip bytes",
        description=(
            "The bytes of `/api/programme/at/{cursor}/day/{date}` for today in the event's time zone, answered at "
            "once (a redirect would cost a round trip on the slow link this is for): `Content-Location` names that "
            "day's immutable address, and `Cache-Control: no-store` because today moves. `current` is the current "
            "cursor. 404 when today is not one of the event's days (or there is no event): download the whole "
            "programme instead. 410 when that cursor's bytes are no longer kept."
        ),
        opt={"skip_compression": True},
        responses=errors(400, 404, 410, 416),
    )
    async def get_programme_today(
        self,
        request: Request,  # type: ignore[type-arg]
        feed: FeedDep,
        cursor: Annotated[str, Parameter(description="A programme `cursor`, or `current`")],
    ) -> Response[bytes]:
        today = await feed.today()
        if cursor == "current":
            cursor = (await feed.programme()).cursor
        response = _day_response(request, cursor, today, await feed.day_part(cursor, today))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Location"] = _day_address(cursor, today)
        return response

    @get(
        "/programme/at/{cursor:str}/day/{day:str}",
        summary="One day's part of the programme at one cursor, as resumable gzip bytes",
        description=(
            "The app's form of the programme at `cursor` (as `/api/programme/at/{cursor}`) cut down to one day: "
            "the event, every room, track and format, the sessions that start on `day` in the event's time zone, "
            "and only the speakers they name. A first visit shows it while the whole downloads; it is never a "
            "starting point for `/api/changes`. Immutable gzip bytes, resumable with `Range` like the whole. "
            "404 when `day` is not one of the event's days; 410 when that cursor's bytes are no longer kept."
        ),
        opt={"skip_compression": True},
        responses=errors(400, 404, 410, 416),
    )
    async def get_programme_day(
        self,
        request: Request,  # type: ignore[type-arg]
        feed: FeedDep,
        cursor: Annotated[str, Parameter(description="A programme `cursor`")],
        day: Annotated[str, Parameter(description="A day of the event, `YYYY-MM-DD`")],
    ) -> Response[bytes]:
        try:
            if not _DAY.fullmatch(day):
                raise ValueError(day)
            wanted = date.fromisoformat(day)
        except ValueError:
            raise Invalid(f"day must be a date like 2026-03-14, got {day!r}", field="day") from None
        return _day_response(request, cursor, wanted, await feed.day_part(cursor, wanted))

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


def _day_address(cursor: str, day: date) -> str:
    return f"/api/programme/at/{cursor}/day/{day.isoformat()}"


def _day_response(
    request: Request,  # type: ignore[type-arg]
    cursor: str,
    day: date,
    part: bytes | None,
) -> Response[bytes]:
    if part is None:
        raise Gone(
            f"the programme at {cursor} is no longer kept; start again at /api/programme/at/current/today",
            field="cursor",
        )
    return ranged(
        request, part, etag=f'"p{REPRESENTATION_VERSION}-{cursor}-app-{day.isoformat()}"', media_type="application/gzip"
    )


class AdminEventController(Controller):
    path = "/api/admin/event"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @put("/", summary="Create or replace the event", responses=errors(*ORGANISER, 400, 413))
    async def put_event(self, data: JSONBody[Event], programme: ProgrammeDep, actor: ActorDep) -> Event:
        return await programme.put_event(data, actor=actor)
