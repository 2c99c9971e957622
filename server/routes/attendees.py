"""Anonymous attendees: create, profile, link another device, erase; and the private sync round trip."""

from __future__ import annotations

import asyncio
import gzip
from datetime import datetime
from typing import Annotated, Literal

import brotli
import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import UNSET, UnsetType

from server.routes.deps import AttendeeDep, AttendeesDep, PrivateSyncDep, attendee_required, client_address
from server.routes.openapi import ATTENDEE, errors
from server.routes.responses import negotiate_encoding, raw_json
from server.schemas.base import Base, LanguageCode
from server.services.attendees import (
    Attendee,
    AttendeeKey,
    Device,
    LinkPreview,
    NewDevice,
    Rotation,
    Wrapped,
)
from sync import SyncRequest, SyncResponse
from sync.vault import KeyId as KeyNumber

_encoder = msgspec.json.Encoder()


class Credentials(msgspec.Struct, rename="camel"):
    """An attendee id, the bearer token of this device (shown once, stored hashed) and its public device id."""

    attendee_id: str
    token: str
    device_id: str


class DeviceInfo(Base, kw_only=True):
    """What a device says about itself: a name people recognise, its P-256 public key and its key proof.

    ``publicKey`` and ``proof`` are standard base64. Fields left out are kept.
    """

    name: str | None = None
    public_key: bytes | None = None
    proof: bytes | None = None

    def device(self) -> NewDevice:
        return NewDevice(self.name, self.public_key, self.proof)


class WrappedKey(Base, kw_only=True):
    device_id: str
    key: bytes


class KeyRotation(Base, kw_only=True):
    """A new notebook key (the server never sees it): its id, the id it replaces, the older keys encrypted under it
    (the keyring) and the new key wrapped for each device that may read it."""

    key_id: KeyNumber
    previous: KeyNumber
    keyring: bytes | None = None
    wrapped: list[WrappedKey] = []

    def rotation(self) -> Rotation:
        return Rotation(
            self.key_id, self.previous, self.keyring, [Wrapped(item.device_id, item.key) for item in self.wrapped]
        )


class Revocation(Base, kw_only=True):
    """Revoking a device: the notebook key moves on with it (required once the attendee has a key)."""

    rotation: KeyRotation | None = None


class LinkCode(msgspec.Struct, rename="camel"):
    """A code to type (or scan) on another device; single use."""

    code: str
    expires_at: datetime


class CalendarFeed(msgspec.Struct, rename="camel"):
    """The secret address of my agenda as a calendar feed (shown once; a new one replaces it)."""

    url: str
    webcal_url: str


class CalendarLanguage(Base, kw_only=True):
    """The language my agenda's calendar feed is written in; null for the event's main language."""

    lang: LanguageCode | None


class LinkRequest(Base, kw_only=True):
    """A link code, and what this device says about itself."""

    code: str
    name: str | None = None
    public_key: bytes | None = None
    proof: bytes | None = None


class LinkPreviewRequest(Base, kw_only=True):
    code: str


class KeyId(msgspec.Struct, rename="camel"):
    key_id: int


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
        description=(
            "No personal data: an id and a device token. The optional body names this device and gives its public"
            " key (for receiving a new notebook key when another device is revoked)."
        ),
        responses=errors(400, 413, 429),
    )
    async def create_attendee(
        self,
        request: Request,  # type: ignore[type-arg]
        attendees: AttendeesDep,
        data: JSONBody[DeviceInfo | None] = None,
    ) -> Credentials:
        device = data.device() if data is not None else None
        attendee_id, token, device_id = await attendees.create(client_address(request), device)
        return Credentials(attendee_id, token, device_id)

    @post(
        "/link/preview",
        summary="Whose notebook a link code joins: its devices and how many documents, without using the code",
        description=(
            "A device opening a link shows this before anything moves, so that a link someone else made cannot"
            " take a notebook over silently."
        ),
        status_code=200,
        responses=errors(400, 413, 429),
    )
    async def preview_link(
        self,
        request: Request,  # type: ignore[type-arg]
        data: JSONBody[LinkPreviewRequest],
        attendees: AttendeesDep,
    ) -> LinkPreview:
        return await attendees.preview(data.code, client_address(request))

    @post("/link", summary="Link this device with a code from another device", responses=errors(400, 413, 429))
    async def link_device(
        self,
        request: Request,  # type: ignore[type-arg]
        data: JSONBody[LinkRequest],
        attendees: AttendeesDep,
    ) -> Credentials:
        device = NewDevice(data.name, data.public_key, data.proof)
        attendee_id, token, device_id = await attendees.redeem(data.code, client_address(request), device)
        return Credentials(attendee_id, token, device_id)


class MeController(Controller):
    path = "/api/attendees/me"
    tags = ["attendees"]
    guards = [attendee_required]
    security = [{"bearer": []}]

    @get("/", summary="My profile, and my notebook key's id", responses=errors(*ATTENDEE))
    async def get_me(self, me: AttendeeDep, attendees: AttendeesDep) -> AttendeeKey:
        return AttendeeKey(me.id, me.participation, me.language, await attendees.key_id(me))

    @get("/devices", summary="My linked devices: name, when linked, when last seen", responses=errors(*ATTENDEE))
    async def list_devices(self, me: AttendeeDep, attendees: AttendeesDep) -> list[Device]:
        return await attendees.devices(me)

    @patch(
        "/device",
        summary="Name this device, or register its public key and key proof",
        responses=errors(*ATTENDEE, 400, 413),
    )
    async def update_device(self, data: JSONBody[DeviceInfo], me: AttendeeDep, attendees: AttendeesDep) -> Device:
        return await attendees.update_device(me, data.device())

    @post(
        "/devices/{device_id:str}/revoke",
        summary="Revoke another of my devices: its token stops at once, and the notebook key moves on",
        description=(
            "Send the rotation: a new notebook key wrapped for every device that stays, so the revoked device"
            " cannot read what is written afterwards."
        ),
        status_code=204,
        responses=errors(*ATTENDEE, 400, 404, 409, 413),
    )
    async def revoke_device(
        self, device_id: FromPath[str], data: JSONBody[Revocation], me: AttendeeDep, attendees: AttendeesDep
    ) -> None:
        await attendees.revoke(me, device_id, data.rotation.rotation() if data.rotation is not None else None)

    @post(
        "/keys",
        summary="Register my notebook key's id (the first key), wrapped for my devices; the server never sees it",
        status_code=200,
        responses=errors(*ATTENDEE, 400, 409, 413),
    )
    async def register_key(self, data: JSONBody[KeyRotation], me: AttendeeDep, attendees: AttendeesDep) -> KeyId:
        return KeyId(await attendees.register_key(me, data.rotation()))

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
            "holding the address can read the agenda, so it is a secret: asking again replaces it. `?lang=` "
            "is the app's language: the feed shows the programme in it where the event offers it."
        ),
        responses=errors(*ATTENDEE, 429),
    )
    async def make_calendar_feed(
        self,
        request: Request,  # type: ignore[type-arg]
        me: AttendeeDep,
        attendees: AttendeesDep,
        lang: Annotated[
            LanguageCode | None, QueryParameter(name="lang", description="The feed's language", max_length=35)
        ] = None,
    ) -> CalendarFeed:
        key = await attendees.new_calendar_key(me, lang)
        url = f"{str(request.base_url).rstrip('/')}/api/calendar/{key}.ics"
        return CalendarFeed(url, "webcal://" + url.split("://", 1)[1])

    @delete(
        "/calendar",
        summary="Turn off my agenda's calendar feed: its address answers 404 from now on",
        responses=errors(*ATTENDEE),
    )
    async def delete_calendar_feed(self, me: AttendeeDep, attendees: AttendeesDep) -> None:
        await attendees.revoke_calendar_key(me)

    @put(
        "/calendar/language",
        summary="Change the language of my agenda's calendar feed, keeping its address",
        description="The app sends this when its language changes. 404 when I have no calendar feed.",
        responses=errors(*ATTENDEE, 400, 404),
    )
    async def set_calendar_language(
        self, data: JSONBody[CalendarLanguage], me: AttendeeDep, attendees: AttendeesDep
    ) -> CalendarLanguage:
        await attendees.set_calendar_lang(me, data.lang)
        return data


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
