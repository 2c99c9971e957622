"""Session formats (plenary, panel, working group, …): public reads and organiser writes."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from server.routes.deps import ActorDep, FeedDep, ProgrammeDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.routes.responses import raw_json
from server.schemas.programme import Format, FormatUpdate
from server.services.auth import Permission


class FormatController(Controller):
    path = "/api/formats"
    tags = ["programme"]

    @get("/", summary="Every format, in programme order")
    async def list_formats(self, feed: FeedDep) -> Response[list[Format]]:
        return raw_json(await feed.collection("formats"))  # type: ignore[return-value]

    @get("/{format_id:str}", summary="One format", responses=errors(404))
    async def get_format(self, format_id: FromPath[str], programme: ProgrammeDep) -> Response[Format]:
        return raw_json(await programme.get_raw("format", format_id))  # type: ignore[return-value]


class AdminFormatController(Controller):
    path = "/api/admin/formats"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @post("/", summary="Create a format", responses=errors(*ORGANISER, 400, 409, 413))
    async def create_format(self, data: JSONBody[Format], programme: ProgrammeDep, actor: ActorDep) -> Format:
        created: Format = await programme.create("format", data, actor=actor)
        return created

    @patch("/{format_id:str}", summary="Change some fields of a format", responses=errors(*ORGANISER, 400, 404, 413))
    async def update_format(
        self, format_id: FromPath[str], data: JSONBody[FormatUpdate], programme: ProgrammeDep, actor: ActorDep
    ) -> Format:
        updated: Format = await programme.update("format", format_id, data, actor=actor)
        return updated

    @delete("/{format_id:str}", summary="Delete a format", responses=errors(*ORGANISER, 404, 409))
    async def delete_format(self, format_id: FromPath[str], programme: ProgrammeDep, actor: ActorDep) -> None:
        await programme.delete("format", format_id, actor=actor)
