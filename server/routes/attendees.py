"""Anonymous attendees: create, profile, link another device, erase; and the private sync round trip."""

from __future__ import annotations

import asyncio
import gzip
from datetime import datetime
from typing import Literal

import brotli
import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody
from msgspec import UNSET, UnsetType

from server.routes.deps import AttendeeDep, AttendeesDep, PrivateSyncDep, attendee_required, client_address
from server.routes.openapi import ATTENDEE, errors
from server.routes.responses import negotiate_encoding, raw_json
from server.schemas.base import Base, LanguageCode
from server.services.attendees import Attendee
from sync import SyncRequest, SyncResponse

_encoder = msgspec.json.Encoder()


class Credentials(msgspec.Struct, rename="camel"):
    """An attendee id and the bearer token of this device (shown once, stored hashed)."""

    attendee_id: str
    token: str


class LinkCode(msgspec.Struct, rename="camel"):
    """A code to type (or scan) on another device; single use."""

    code: str
    expires_at: datetime


class CalendarFeed(msgspec.Struct, rename="camel"):
    """The secret address of my agenda as a calendar feed (shown once; a new one replaces it)."""

    url: str
    webcal_url: str


class LinkRequest(Base, kw_only=True):
    code: str


class ProfileUpdate(Base, kw_only=True):
    """Fields left out are kept; null clears."""

    participation: Literal["onsite", "online"] | UnsetType | None = UNSET
    language: LanguageCode | UnsetType | None = UNSET


class AttendeeController(Controller):
    path = "/api/attendees"
    tags = ["attendees"]

    @post(
        "/",
        summary="Create an anonymous attendee",
        description="No personal data: an id and a device token.",
        responses=errors(429),
    )
    async def create_attendee(self, request: Request, attendees: AttendeesDep) -> Credentials:  # type: ignore[type-arg]
        attendee_id, token = await attendees.create(client_address(request))
        return Credentials(attendee_id, token)

    @post("/link", summary="Link this device with a code from another device", responses=errors(400, 413, 429))
    async def link_device(
        self,
        request: Request,  # type: ignore[type-arg]
        data: JSONBody[LinkRequest],
        attendees: AttendeesDep,
    ) -> Credentials:
        attendee_id, token = await attendees.redeem(data.code, client_address(request))
        return Credentials(attendee_id, token)


class MeController(Controller):
    path = "/api/attendees/me"
    tags = ["attendees"]
    guards = [attendee_required]
    security = [{"bearer": []}]

    @get("/", summary="My profile", responses=errors(*ATTENDEE))
    async def get_me(self, me: AttendeeDep) -> Attendee:
        return Attendee(me.id, me.participation, me.language)

    @patch(
        "/",
        summary="Change my participation (onsite or online) and preferred language",
        responses=errors(*ATTENDEE, 400, 413),
    )
    async def update_me(self, data: JSONBody[ProfileUpdate], me: AttendeeDep, attendees: AttendeesDep) -> Attendee:
        participation = me.participation if isinstance(data.participation, UnsetType) else data.participation
        language = me.language if isinstance(data.language, UnsetType) else data.language
        return await attendees.update_profile(me, participation, language)

    @delete(
        "/", summary="Erase me and everything of mine; every device's token stops working", responses=errors(*ATTENDEE)
    )
    async def erase_me(self, me: AttendeeDep, attendees: AttendeesDep) -> None:
        await attendees.erase(me)

    @post(
        "/link-code",
        summary="A code that links another device to me (10 minutes, single use)",
        responses=errors(*ATTENDEE, 429),
    )
    async def make_link_code(
        self,
        request: Request,  # type: ignore[type-arg]
        me: AttendeeDep,
        attendees: AttendeesDep,
    ) -> LinkCode:
        code, expires = await attendees.link_code(me, client_address(request))
        return LinkCode(code, expires)

    @post(
        "/calendar",
        summary="A secret calendar feed of my agenda (a new address each time; the old one stops)",
        description=(
            "Subscribe to `webcalUrl` (or `url`) in a calendar app to see the sessions in my agenda. Anyone "
            "holding the address can read the agenda, so it is a secret: asking again replaces it."
        ),
        responses=errors(*ATTENDEE, 429),
    )
    async def make_calendar_feed(
        self,
        request: Request,  # type: ignore[type-arg]
        me: AttendeeDep,
        attendees: AttendeesDep,
    ) -> CalendarFeed:
        key = await attendees.new_calendar_key(me)
        url = f"{str(request.base_url).rstrip('/')}/api/calendar/{key}.ics"
        return CalendarFeed(url, "webcal://" + url.split("://", 1)[1])

    @delete(
        "/calendar",
        summary="Turn off my agenda's calendar feed: its address answers 404 from now on",
        responses=errors(*ATTENDEE),
    )
    async def delete_calendar_feed(self, me: AttendeeDep, attendees: AttendeesDep) -> None:
        await attendees.revoke_calendar_key(me)


class PrivateSyncController(Controller):
    path = "/api/me"
    tags = ["attendees"]
    guards = [attendee_required]
    security = [{"bearer": []}]

    @post(
        "/sync",
        summary="Sync my private documents in one round trip",
        description=(
            "Send the documents changed on this device (state vector and update, standard base64) and the "
            "cursor of the last response; get back what this device lacks. Replaying a request is harmless."
        ),
        status_code=200,
        responses=errors(*ATTENDEE, 400, 413, 429),
        # Encoded and compressed in a worker thread below: an answer may carry a megabyte of documents.
        opt={"skip_compression": True},
    )
    async def sync_documents(
        self,
        request: Request,  # type: ignore[type-arg]
        data: JSONBody[SyncRequest],
        me: AttendeeDep,
        private_sync: PrivateSyncDep,
    ) -> Response[SyncResponse]:
        answer = await private_sync.sync(me, data, client_address(request))
        encoding = negotiate_encoding(request.headers.get("accept-encoding"))
        body = await asyncio.to_thread(_encode_answer, answer, encoding)
        headers = {"Vary": "Accept-Encoding"}
        if encoding != "identity":
            headers["Content-Encoding"] = encoding
        return raw_json(body, headers=headers)  # type: ignore[return-value]


def _encode_answer(answer: SyncResponse, encoding: str) -> bytes:
    """A sync answer as JSON in ``encoding``: CPU work for large answers, kept off the event loop."""
    body = _encoder.encode(answer)
    if encoding == "br":
        return brotli.compress(body, quality=4)
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=6, mtime=0)
    return body
