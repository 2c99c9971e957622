"""The venue: information pages, floor plans and room pins, read by anyone and written by organisers."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, Parameter

from server.routes.deps import ActorDep, VenueDep, requires
from server.routes.openapi import ORGANISER, ORGANISER_SECURITY, errors
from server.schemas.base import MAX_ID
from server.schemas.venue import FloorPlan, FloorPlanUpdate, InfoPage, InfoPageUpdate, Pin, RoomPin, Venue
from server.services.auth import Permission
from server.services.venue import MAX_PLAN_BYTES

REVALIDATE = {"Cache-Control": "no-cache"}


class VenueController(Controller):
    path = "/api"
    tags = ["venue"]

    @get(
        "/info-pages",
        summary="The Info section's pages, in order",
        description="Plain text bodies (blank lines part paragraphs); `translations` as the programme's entities.",
    )
    async def list_info_pages(self, venue: VenueDep) -> Response[list[InfoPage]]:
        return Response(await venue.pages(), headers=REVALIDATE)

    @get(
        "/venue",
        summary="Floor plans and where each room is on them",
        description=(
            "Each plan's image as uploaded (`url`) and a copy at most 1200 pixels on its longer side (`smallUrl`); "
            "both addresses change with every upload, so they may be cached for good. Pins are fractions of the "
            "plan's width and height from its top left corner."
        ),
    )
    async def get_venue(self, venue: VenueDep) -> Response[Venue]:
        return Response(await venue.venue(), headers=REVALIDATE)

    @get(
        "/floor-plans/{plan_id:str}/image",
        summary="A floor plan's image",
        description="`v` is the plan's `version`: the current one is cached for a year.",
        responses=errors(400, 404),
    )
    async def get_floor_plan_image(
        self,
        plan_id: FromPath[str],
        venue: VenueDep,
        v: Annotated[int, Parameter(ge=0, le=MAX_ID, description="The plan's version")],
        size: Annotated[
            Literal["full", "small"], Parameter(description="As uploaded, or the copy for phones")
        ] = "full",
    ) -> Response[bytes]:
        version, image = await venue.image(plan_id, size == "small")
        caching = "public, max-age=31536000, immutable" if v == version else "no-cache"
        return Response(
            image.data,
            media_type=image.media_type,
            headers={"Cache-Control": caching, "X-Content-Type-Options": "nosniff"},
        )


class AdminInfoPageController(Controller):
    path = "/api/admin/info-pages"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @post("/", summary="Add an info page", responses=errors(*ORGANISER, 400, 409, 413))
    async def create_info_page(self, data: JSONBody[InfoPage], venue: VenueDep, actor: ActorDep) -> InfoPage:
        return await venue.create_page(data, actor=actor)

    @patch("/{page_id:str}", summary="Change an info page", responses=errors(*ORGANISER, 400, 404, 409, 413))
    async def update_info_page(
        self, page_id: FromPath[str], data: JSONBody[InfoPageUpdate], venue: VenueDep, actor: ActorDep
    ) -> InfoPage:
        return await venue.update_page(page_id, data, actor=actor)

    @delete("/{page_id:str}", summary="Delete an info page", responses=errors(*ORGANISER, 404))
    async def delete_info_page(self, page_id: FromPath[str], venue: VenueDep, actor: ActorDep) -> None:
        await venue.delete_page(page_id, actor=actor)


class AdminFloorPlanController(Controller):
    path = "/api/admin/floor-plans"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @post(
        "/",
        summary="Upload a floor's plan (replaces that floor's plan; its pins stay)",
        description=(
            "The body is the image file itself: PNG, JPEG or WebP, checked by its content, at most 5 MB and "
            "40 million pixels. SVG is refused (415). `floor` names the floor as rooms name it."
        ),
        request_max_body_size=MAX_PLAN_BYTES,
        responses=errors(*ORGANISER, 400, 413, 415),
    )
    async def upload_floor_plan(
        self,
        request: Request,  # type: ignore[type-arg]
        venue: VenueDep,
        actor: ActorDep,
        floor: Annotated[str, Parameter(min_length=1, max_length=300, description="The floor, as rooms name it")],
    ) -> FloorPlan:
        return await venue.upload_plan(floor, await request.body(), actor=actor)

    @patch("/{plan_id:str}", summary="Move a floor plan in the order", responses=errors(*ORGANISER, 400, 404))
    async def update_floor_plan(
        self, plan_id: FromPath[str], data: JSONBody[FloorPlanUpdate], venue: VenueDep
    ) -> FloorPlan:
        return await venue.update_plan(plan_id, data)

    @delete("/{plan_id:str}", summary="Delete a floor plan and its pins", responses=errors(*ORGANISER, 404))
    async def delete_floor_plan(self, plan_id: FromPath[str], venue: VenueDep, actor: ActorDep) -> None:
        await venue.delete_plan(plan_id, actor=actor)

    @put(
        "/{plan_id:str}/pins/{room_id:str}",
        summary="Pin a room on a floor plan (moves it from any other plan)",
        responses=errors(*ORGANISER, 400, 404),
    )
    async def pin_room(
        self, plan_id: FromPath[str], room_id: FromPath[str], data: JSONBody[Pin], venue: VenueDep
    ) -> RoomPin:
        return await venue.pin(plan_id, room_id, data)


class AdminPinController(Controller):
    path = "/api/admin/pins"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.PROGRAMME)]

    @delete("/{room_id:str}", summary="Take a room's pin off the plans", responses=errors(*ORGANISER, 404))
    async def unpin_room(self, room_id: FromPath[str], venue: VenueDep) -> None:
        await venue.unpin(room_id)
