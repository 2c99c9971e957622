"""Announcements and Web Push subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from server.schemas.base import Base, Id, LanguageCode, Moment

Audience = Literal["everyone", "onsite", "online", "session"]
Priority = Literal["normal", "urgent"]
Participation = Literal["onsite", "online"]
#: Minutes before a bookmarked session its reminder comes.
ReminderMinutes = Literal[5, 10, 15, 30]
AnnouncementTitle = Annotated[str, Meta(min_length=1, max_length=140)]
AnnouncementBody = Annotated[str, Meta(max_length=5000, description="Plain text; the app makes links clickable")]


class AnnouncementTranslation(Base, kw_only=True, omit_defaults=True):
    """The announcement in one more of the event's languages; each has the same limits as the original."""

    title: AnnouncementTitle
    body: AnnouncementBody = ""


#: The other languages of an announcement, by BCP 47 tag; each must be one of the event's ``languages``.
AnnouncementTranslations = Annotated[
    dict[LanguageCode, AnnouncementTranslation],
    Meta(max_length=20, description="The announcement in other languages of the event, by language tag"),
]


class AnnouncementCreate(Base, kw_only=True):
    """What an organiser sends. ``audience: session`` reaches the attendees who bookmarked ``sessionId``."""

    title: AnnouncementTitle
    body: AnnouncementBody = ""
    priority: Priority = "normal"
    audience: Audience = "everyone"
    session_id: Id | None = None
    send_at: Moment | None = None
    expires_at: Moment | None = None
    translations: AnnouncementTranslations = {}


class AnnouncementUpdate(Base, kw_only=True):
    """A correction: fields left out stay as they are; ``translations`` replaces every translation."""

    title: AnnouncementTitle | UnsetType = UNSET
    body: AnnouncementBody | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    send_at: Moment | UnsetType = UNSET
    expires_at: Moment | UnsetType | None = UNSET
    translations: AnnouncementTranslations | UnsetType = UNSET


class Announcement(Base, kw_only=True):
    """An announcement as attendees see it in the programme feed."""

    id: str
    title: str
    body: str
    priority: Priority
    audience: Audience
    session_id: str | None
    published_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    #: The text in the event's other languages; an attendee whose language is missing reads the original.
    translations: dict[str, AnnouncementTranslation] = {}


class AnnouncementRecord(Announcement, kw_only=True):
    """An announcement as organisers see it, including scheduled and retracted ones."""

    state: Literal["scheduled", "published", "retracted", "expired"]
    send_at: datetime
    version: int
    created_by: str


class LanguageDelivery(Base, kw_only=True):
    """The fan-out to the devices that got the text in one language."""

    language: str
    targeted: int
    sent: int
    failed: int
    gone: int
    pending: int


class Delivery(Base, kw_only=True):
    """Where the Web Push fan-out of one announcement stands; ``languages`` breaks it down by the language of
    the text each device gets (its attendee's language, or the event's own when there is no translation)."""

    targeted: int
    sent: int
    failed: int
    gone: int
    pending: int
    languages: list[LanguageDelivery] = []


PushAuth = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{16,32}={0,2}$", description="base64url auth secret")]
PushEndpoint = Annotated[str, Meta(max_length=2048)]


class SubscriptionKeys(Base, kw_only=True):
    p256dh: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{80,100}={0,2}$", description="base64url P-256 point")]
    auth: PushAuth


class PushSubscriptionIn(Base, kw_only=True):
    """A browser's PushSubscription, plus what this device wants to hear about."""

    endpoint: PushEndpoint
    keys: SubscriptionKeys
    participation: Participation | None = None
    alert_sessions: Annotated[list[Id], Meta(max_length=500)] = []
    #: The attendee's language: announcements come in it when they have a translation in it.
    lang: LanguageCode | None = None
    #: Minutes before each session in ``alertSessions`` a reminder comes (5, 10, 15 or 30); null or absent: none.
    reminder_minutes: ReminderMinutes | None = None
    #: Alerts when a session in ``alertSessions`` moves or is cancelled; false to follow them for reminders only.
    change_alerts: bool = True


class PushSubscriptionRef(Base, kw_only=True):
    """``DELETE /api/push/subscriptions``: the endpoint, and the subscription's auth secret (``keys.auth``) to
    prove it is this device's; the owner's attendee token may be sent instead."""

    endpoint: PushEndpoint
    auth: PushAuth | None = None


class PushKey(Base, kw_only=True):
    """The applicationServerKey for ``pushManager.subscribe``."""

    public_key: str
