"""Rooms: public reads and organiser writes."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from server.routes.deps import ActorDep, FeedDep, ProgrammeDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.routes.responses import raw_json
from server.schemas.programme import Room, RoomUpdate
from server.services.auth import Permission


class RoomController(Controller):
    path = "/api/rooms"
    tags = ["programme"]

    @get("/", summary="Every room, in programme order")
    async def list_rooms(self, feed: FeedDep) -> Response[list[Room]]:
        return raw_json(await feed.collection("rooms"))  # type: ignore[return-value]

    @get("/{room_id:str}", summary="One room", responses=errors(404))
    async def get_room(self, room_id: FromPath[str], programme: ProgrammeDep) -> Response[Room]:
        return raw_json(await programme.get_raw("room", room_id))  # type: ignore[return-value]


class AdminRoomController(Controller):
    path = "/api/admin/rooms"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @post("/", summary="Create a room", responses=errors(*ORGANISER, 400, 409, 413))
    async def create_room(self, data: JSONBody[Room], programme: ProgrammeDep, actor: ActorDep) -> Room:
        created: Room = await programme.create("room", data, actor=actor)
        return created

    @patch("/{room_id:str}", summary="Change some fields of a room", responses=errors(*ORGANISER, 400, 404, 413))
    async def update_room(
        self, room_id: FromPath[str], data: JSONBody[RoomUpdate], programme: ProgrammeDep, actor: ActorDep
    ) -> Room:
        updated: Room = await programme.update("room", room_id, data, actor=actor)
        return updated

    @delete("/{room_id:str}", summary="Delete a room", responses=errors(*ORGANISER, 404, 409))
    async def delete_room(self, room_id: FromPath[str], programme: ProgrammeDep, actor: ActorDep) -> None:
        await programme.delete("room", room_id, actor=actor)
