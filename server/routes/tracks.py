"""Tracks (the conference's themes): public reads and organiser writes."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from server.routes.deps import ActorDep, FeedDep, ProgrammeDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.routes.responses import raw_json
from server.schemas.programme import Track, TrackUpdate
from server.services.auth import Permission


class TrackController(Controller):
    path = "/api/tracks"
    tags = ["programme"]

    @get("/", summary="Every track, in programme order")
    async def list_tracks(self, feed: FeedDep) -> Response[list[Track]]:
        return raw_json(await feed.collection("tracks"))  # type: ignore[return-value]

    @get("/{track_id:str}", summary="One track", responses=errors(404))
    async def get_track(self, track_id: FromPath[str], programme: ProgrammeDep) -> Response[Track]:
        return raw_json(await programme.get_raw("track", track_id))  # type: ignore[return-value]


class AdminTrackController(Controller):
    path = "/api/admin/tracks"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @post("/", summary="Create a track", responses=errors(*ORGANISER, 400, 409, 413))
    async def create_track(self, data: JSONBody[Track], programme: ProgrammeDep, actor: ActorDep) -> Track:
        created: Track = await programme.create("track", data, actor=actor)
        return created

    @patch("/{track_id:str}", summary="Change some fields of a track", responses=errors(*ORGANISER, 400, 404, 413))
    async def update_track(
        self, track_id: FromPath[str], data: JSONBody[TrackUpdate], programme: ProgrammeDep, actor: ActorDep
    ) -> Track:
        updated: Track = await programme.update("track", track_id, data, actor=actor)
        return updated

    @delete("/{track_id:str}", summary="Delete a track", responses=errors(*ORGANISER, 404, 409))
    async def delete_track(self, track_id: FromPath[str], programme: ProgrammeDep, actor: ActorDep) -> None:
        await programme.delete("track", track_id, actor=actor)
