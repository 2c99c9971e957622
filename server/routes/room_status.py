"""Room status: read by anyone, set by door staff (and admins)."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import FromPath, JSONBody

from server.routes.deps import ActorDep, RoomStatusDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.schemas.room_status import RoomStatus, RoomStatusSet
from server.services.auth import Permission


class RoomStatusController(Controller):
    path = "/api/room-status"
    tags = ["live"]

    @get(
        "/",
        summary="Every room's current status (open, filling up, full, closed, emergency); lapsed ones are left out",
        description="The live stream carries the same list as a `room-status` event whenever it changes.",
    )
    async def list_room_status(self, room_status: RoomStatusDep) -> list[RoomStatus]:
        return room_status.current()


class AdminRoomStatusController(Controller):
    path = "/api/admin/room-status"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.ROOM_STATUS)]

    @put(
        "/{room_id:str}",
        summary="Set a room's status (volunteers and admins); it lapses when the session running there ends",
        responses=errors(*ORGANISER, 400, 404, 413, 429),
    )
    async def set_room_status(
        self, room_id: FromPath[str], data: JSONBody[RoomStatusSet], room_status: RoomStatusDep, actor: ActorDep
    ) -> RoomStatus:
        return await room_status.set(room_id, data, actor=actor)
