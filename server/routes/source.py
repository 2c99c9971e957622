"""The source of record (a pretalx or frab export the programme follows), for the console and the API."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from server.routes.deps import ActorDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.schemas.releases import Source, SourceUpdate
from server.services.auth import Permission
from server.services.follow import SourceService

SourceDep = NamedDependency[SourceService]


def _provide_source(request: Request) -> SourceService:  # type: ignore[type-arg]
    source: SourceService = request.app.state.source
    return source


class AdminSourceController(Controller):
    path = "/api/admin/source"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]
    dependencies = {"source": Provide(_provide_source, sync_to_thread=False)}

    @get(
        "/",
        summary="The source of record and how its last pull went",
        description="`null` when the programme follows no source.",
        responses=errors(*ORGANISER),
    )
    async def get_source(self, source: SourceDep) -> Source | None:
        return await source.status()

    @put(
        "/",
        summary="Follow a pretalx or frab export as the source of record",
        description=(
            'Body `{"url": "https://…/schedule.xml", "everySeconds": 300}`. The server pulls it at once (the answer '
            "says how that went) and "
            "then every `everySeconds`, asking with If-None-Match / If-Modified-Since, and imports what changed "
            "(sessions the file lacks are cancelled). Only https addresses of public hosts; 400 otherwise."
        ),
        responses=errors(*ORGANISER, 400),
    )
    async def put_source(self, data: JSONBody[SourceUpdate], source: SourceDep, actor: ActorDep) -> Source:
        return await source.configure(data.url, data.every_seconds, actor)

    @delete("/", summary="Stop following the source of record", responses=errors(*ORGANISER, 404))
    async def delete_source(self, source: SourceDep, actor: ActorDep) -> None:
        await source.remove(actor)

    @post(
        "/pull",
        summary="Pull the source of record now",
        description="Waits for the pull and answers how it went. 409 while another pull is under way.",
        status_code=200,
        responses=errors(*ORGANISER, 404, 409),
    )
    async def pull(self, source: SourceDep) -> Response[Source]:
        return Response(await source.pull_now())
