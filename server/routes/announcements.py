"""Announcements for organisers, Web Push subscriptions for devices, and the live stream for open apps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from server.errors import Invalid
from server.routes.deps import (
    ActorDep,
    AnnouncementsDep,
    FeedDep,
    LiveDep,
    PushDep,
    RoomStatusDep,
    client_address,
    requires,
)
from server.routes.openapi import ATTENDEE, ORGANISER, ORGANISER_SECURITY, errors, json_document
from server.schemas.announcements import (
    AnnouncementCreate,
    AnnouncementRecord,
    AnnouncementUpdate,
    Delivery,
    PushKey,
    PushSubscriptionIn,
    PushSubscriptionRef,
)
from server.services.attendees import AttendeeService
from server.services.auth import Organiser, Permission
from server.services.live import live_places
from server.storage.attendees import AttendeeRow
from sync import Cursor, CursorError

KEEPALIVE_SECONDS = 15.0


class AdminAnnouncementController(Controller):
    path = "/api/admin/announcements"
    tags = ["admin"]
    security = ORGANISER_SECURITY
    guards = [requires(Permission.ANNOUNCE)]

    @post("/", summary="Post an announcement (now, or at sendAt)", responses=errors(*ORGANISER, 400, 413))
    async def create_announcement(
        self,
        request: Request,  # type: ignore[type-arg]
        data: JSONBody[AnnouncementCreate],
        announcements: AnnouncementsDep,
    ) -> AnnouncementRecord:
        organiser: Organiser = request.state.organiser
        return await announcements.create(data, organiser.name)

    @get("/", summary="Every announcement, scheduled, published, retracted or expired", responses=errors(*ORGANISER))
    async def list_announcements(self, announcements: AnnouncementsDep) -> list[AnnouncementRecord]:
        return await announcements.list_all()

    @get("/{announcement_id:str}", summary="One announcement", responses=errors(*ORGANISER, 404))
    async def get_announcement(
        self, announcement_id: FromPath[str], announcements: AnnouncementsDep
    ) -> AnnouncementRecord:
        return await announcements.get(announcement_id)

    @patch(
        "/{announcement_id:str}",
        summary="Correct an announcement (replaces it on devices)",
        responses=errors(*ORGANISER, 400, 404, 413),
    )
    async def update_announcement(
        self,
        announcement_id: FromPath[str],
        data: JSONBody[AnnouncementUpdate],
        announcements: AnnouncementsDep,
        actor: ActorDep,
    ) -> AnnouncementRecord:
        return await announcements.update(announcement_id, data, actor=actor)

    @delete("/{announcement_id:str}", summary="Retract an announcement", responses=errors(*ORGANISER, 404))
    async def retract_announcement(
        self, announcement_id: FromPath[str], announcements: AnnouncementsDep, actor: ActorDep
    ) -> None:
        await announcements.retract(announcement_id, actor=actor)

    @get(
        "/{announcement_id:str}/delivery",
        summary="Push delivery counts, live while the fan-out runs",
        responses=errors(*ORGANISER, 404),
    )
    async def get_delivery(self, announcement_id: FromPath[str], announcements: AnnouncementsDep) -> Delivery:
        return await announcements.delivery(announcement_id)


class PushController(Controller):
    path = "/api/push"
    tags = ["push"]

    @get("/key", summary="The VAPID public key (applicationServerKey)")
    async def get_key(self, request: Request) -> PushKey:  # type: ignore[type-arg]
        return PushKey(public_key=request.app.state.vapid_keys.application_server_key)

    @post(
        "/subscriptions",
        summary="Subscribe this device to Web Push (the same endpoint again updates it)",
        description=(
            "Send the attendee token to receive announcements for their bookmarked sessions. The endpoint must be "
            "an https URL of a public push service. A known endpoint changes only with the attendee token it was "
            "made with or its own `keys.auth` (403 otherwise)."
        ),
        security=[{}, {"bearer": []}],
        responses={
            **json_document(dict[str, str], "The endpoint was known already: its keys and settings are updated"),
            **errors(*ATTENDEE, 400, 403, 413, 429),
        },
    )
    async def subscribe(
        self,
        request: Request,  # type: ignore[type-arg]
        data: JSONBody[PushSubscriptionIn],
        push: PushDep,
    ) -> Response[dict[str, str]]:
        created = await push.subscribe(data, await _attendee(request), client_address(request))
        return Response({"status": "subscribed" if created else "updated"}, status_code=201 if created else 200)

    @delete(
        "/subscriptions",
        summary="Unsubscribe a device: its endpoint and auth secret in the body (or the owner's attendee token)",
        description=(
            "The subscription is forgotten only for its owner: send its `auth` secret (the browser's `keys.auth`) "
            "or the attendee token it was made with. The old form `?endpoint=` (no body) works only with that "
            "token."
        ),
        security=[{}, {"bearer": []}],
        responses=errors(*ATTENDEE, 400, 403, 404, 413),
    )
    async def unsubscribe(
        self,
        request: Request,  # type: ignore[type-arg]
        push: PushDep,
        data: JSONBody[PushSubscriptionRef | None] = None,
        endpoint: Annotated[
            str | None,
            Parameter(
                description="Old installed apps: the endpoint in the query (needs the owner's attendee token)",
                max_length=2048,
            ),
        ] = None,
    ) -> None:
        if data is None and endpoint is None:
            raise Invalid('send the subscription as JSON: {"endpoint": …, "auth": …}', field="endpoint")
        if data is not None and endpoint is not None:
            raise Invalid("send the endpoint in the body only, not in the query too", field="endpoint")
        attendee = await _attendee(request)
        if data is not None:
            await push.unsubscribe(data.endpoint, attendee, data.auth)
        else:
            assert endpoint is not None
            await push.unsubscribe(endpoint, attendee, None)


async def _attendee(request: Request) -> AttendeeRow | None:  # type: ignore[type-arg]
    """The attendee whose token the request carries; None without one (401 for a token that is not valid)."""
    if not request.headers.get("authorization"):
        return None
    attendees: AttendeeService = request.app.state.attendees
    return await attendees.attendee_for(request.headers.get("authorization"))


class LiveController(Controller):
    path = "/api/live"
    tags = ["live"]

    @get(
        "/",
        summary="Server-Sent Events for open apps",
        description=(
            "`announcement` (the announcement JSON), `retracted` ({id}) and `programme` ({cursor}: pull "
            "/api/changes) events; each event's id is a programme cursor, so `Last-Event-ID` resumes. "
            "`room-status` ({rooms: [RoomStatus]}, every current status; no id) follows `hello` and comes "
            "again whenever a status changes. `info` ({}; no id) says the Info pages changed: read "
            "/api/info-pages again. Open "
            "streams are capped per address (429) and per server process (503); both carry `Retry-After`."
        ),
        opt={"skip_compression": True},
        media_type="text/event-stream",
        responses=errors(429, 503),
    )
    async def live(
        self,
        request: Request,  # type: ignore[type-arg]
        live: LiveDep,
        feed: FeedDep,
        room_status: RoomStatusDep,
    ) -> ServerSentEvent:
        connection = live.connect(client_address(request))
        live_places(request.scope).append(connection)  # given back when the request ends, however it ends
        current = feed.cursor
        resume: Cursor | None = None
        try:
            candidate = Cursor.decode(request.headers.get("last-event-id", ""))
            if candidate.epoch == feed.state.epoch and feed.state.floor <= candidate.seq < feed.state.seq:
                resume = candidate
        except CursorError:
            resume = None
        backlog = await live.events_since(resume, current) if resume else []
        statuses = room_status.event()

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            try:
                yield ServerSentEventMessage(event="hello", data=f'{{"cursor":"{current}"}}', id=current, retry=3000)
                yield ServerSentEventMessage(event=statuses.event, data=statuses.data)
                for missed in backlog:
                    yield ServerSentEventMessage(event=missed.event, data=missed.data, id=missed.id)
                while True:
                    try:
                        event = await asyncio.wait_for(connection.queue.get(), KEEPALIVE_SECONDS)
                    except TimeoutError:
                        yield ServerSentEventMessage(comment="keep-alive")
                        continue
                    if event is None:
                        return
                    yield ServerSentEventMessage(event=event.event, data=event.data, id=event.id or None)
            finally:
                live.disconnect(connection)

        return ServerSentEvent(stream(), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
