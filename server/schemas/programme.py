"""The programme: event, rooms, tracks, session formats, speakers and sessions.

Each kind has one Struct used for creation and for responses (``id`` may be left out on creation)
and an ``…Update`` Struct whose fields are all optional, for ``PATCH``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from server.schemas.announcements import Announcement
from server.schemas.base import (
    Base,
    Colour,
    Count,
    Day,
    Id,
    LanguageCode,
    LongText,
    Moment,
    Name,
    Position,
    ShortText,
    Tag,
    Text,
    Title,
    Url,
)

Recording = Literal["public", "no-recording", "off-the-record"]
SessionStatus = Literal["scheduled", "cancelled"]
TimeZoneName = Annotated[str, Meta(min_length=1, max_length=64, examples=["Asia/Makassar"])]


#: The fields of a translation that no longer match their source text (computed by the server; ignored when sent).
StaleFields = Annotated[
    list[Annotated[str, Meta(max_length=40)]],
    Meta(
        max_length=16,
        description="Fields of this translation whose source text changed since it was translated; set by the server",
    ),
]
#: What the attendee app shows for a stale translation: it with a "may be out of date" marker, or the original.
StalePolicy = Literal["mark", "original"]


class EventTranslation(Base, omit_defaults=True):
    name: str = ""
    description: LongText = ""
    stale: StaleFields = []


class Event(Base, kw_only=True):
    """The conference itself. Content is in ``language``; ``translations`` holds the others."""

    name: Name
    time_zone: TimeZoneName
    start_date: Day
    end_date: Day
    acronym: ShortText = ""
    venue_name: ShortText = ""
    venue_address: Text = ""
    language: LanguageCode = "en"
    languages: list[LanguageCode] = []
    description: LongText = ""
    url: Url | None = None
    translations: dict[LanguageCode, EventTranslation] = {}
    #: A stale translation is shown marked as possibly out of date ("mark") or replaced by the original.
    stale_translations: StalePolicy = "mark"


class RoomTranslation(Base, omit_defaults=True):
    name: str = ""
    accessibility: Text = ""
    stale: StaleFields = []


class Room(Base, kw_only=True):
    """A place where sessions happen, onsite or as a stream.

    ``guid`` is the room's UUID in the schedule it was imported from (pretalx and frab name rooms by one), so a
    room renamed there stays the same room here; empty for rooms made in Kumpul.
    """

    id: Id = ""
    name: Name
    guid: Annotated[str, Meta(max_length=64)] = ""
    floor: ShortText = ""
    capacity: Count | None = None
    accessibility: Text = ""
    stream_url: Url | None = None
    position: Position = 0
    translations: dict[LanguageCode, RoomTranslation] = {}


class RoomUpdate(Base, kw_only=True):
    name: Name | UnsetType = UNSET
    floor: ShortText | UnsetType = UNSET
    capacity: Count | UnsetType | None = UNSET
    accessibility: Text | UnsetType = UNSET
    stream_url: Url | UnsetType | None = UNSET
    position: Position | UnsetType = UNSET
    translations: dict[LanguageCode, RoomTranslation] | UnsetType = UNSET


class TrackTranslation(Base, omit_defaults=True):
    name: str = ""
    description: Text = ""
    stale: StaleFields = []


class Track(Base, kw_only=True):
    """A theme that sessions belong to."""

    id: Id = ""
    name: Name
    colour: Colour = "#5b6770"
    description: Text = ""
    position: Position = 0
    translations: dict[LanguageCode, TrackTranslation] = {}


class TrackUpdate(Base, kw_only=True):
    name: Name | UnsetType = UNSET
    colour: Colour | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    position: Position | UnsetType = UNSET
    translations: dict[LanguageCode, TrackTranslation] | UnsetType = UNSET


class FormatTranslation(Base, omit_defaults=True):
    name: str = ""
    stale: StaleFields = []


class Format(Base, kw_only=True):
    """A kind of session: plenary, panel, working group, world café, break, …"""

    id: Id = ""
    name: Name
    position: Position = 0
    translations: dict[LanguageCode, FormatTranslation] = {}


class FormatUpdate(Base, kw_only=True):
    name: Name | UnsetType = UNSET
    position: Position | UnsetType = UNSET
    translations: dict[LanguageCode, FormatTranslation] | UnsetType = UNSET


class Link(Base, kw_only=True):
    title: ShortText
    url: Url


class SecureLink(Base, kw_only=True):
    """A link an organiser types in: https only (imported files may list http pages, and keep them)."""

    title: Annotated[str, Meta(min_length=1, max_length=300)]
    url: Annotated[str, Meta(pattern=r"^https://[^\s]+$", max_length=2048, description="An https URL")]


class SpeakerTranslation(Base, omit_defaults=True):
    role: ShortText = ""
    bio: Text = ""
    stale: StaleFields = []


class Speaker(Base, kw_only=True):
    """A person who speaks. ``anonymous`` speakers are known only by pseudonym, pronouns and bio."""

    id: Id = ""
    name: Name
    anonymous: bool = False
    pronouns: ShortText = ""
    bio: Text = ""
    organisation: ShortText = ""
    role: ShortText = ""
    country: ShortText = ""
    photo_url: Url | None = None
    links: list[Link] = []
    translations: dict[LanguageCode, SpeakerTranslation] = {}


class SpeakerUpdate(Base, kw_only=True):
    name: Name | UnsetType = UNSET
    anonymous: bool | UnsetType = UNSET
    pronouns: ShortText | UnsetType = UNSET
    bio: Text | UnsetType = UNSET
    organisation: ShortText | UnsetType = UNSET
    role: ShortText | UnsetType = UNSET
    country: ShortText | UnsetType = UNSET
    photo_url: Url | UnsetType | None = UNSET
    links: list[Link] | UnsetType = UNSET
    translations: dict[LanguageCode, SpeakerTranslation] | UnsetType = UNSET


class SessionTranslation(Base, omit_defaults=True):
    title: str = ""
    subtitle: ShortText = ""
    abstract: Text = ""
    description: LongText = ""
    stale: StaleFields = []


class Session(Base, kw_only=True):
    """A slot in the programme."""

    id: Id = ""
    guid: Annotated[str, Meta(max_length=64)] = ""
    title: Title
    start: Moment
    end: Moment
    room_id: Id
    format: Id
    subtitle: ShortText = ""
    abstract: Text = ""
    description: LongText = ""
    track_id: Id | None = None
    languages: list[LanguageCode] = []
    speaker_ids: list[Id] = []
    stream_url: Url | None = None
    interpretation: dict[LanguageCode, Url] = {}
    recording: Recording = "public"
    capacity: Count | None = None
    tags: list[Tag] = []
    status: SessionStatus = "scheduled"
    translations: dict[LanguageCode, SessionTranslation] = {}
    #: Pages about the session (slides, a paper, a project site), as the source schedule lists them.
    links: list[Link] = []
    #: Files attached to the session (slides, handouts), by their address.
    attachments: list[Link] = []


class SessionUpdate(Base, kw_only=True):
    title: Title | UnsetType = UNSET
    start: Moment | UnsetType = UNSET
    end: Moment | UnsetType = UNSET
    room_id: Id | UnsetType = UNSET
    format: Id | UnsetType = UNSET
    subtitle: ShortText | UnsetType = UNSET
    abstract: Text | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    track_id: Id | UnsetType | None = UNSET
    languages: list[LanguageCode] | UnsetType = UNSET
    speaker_ids: list[Id] | UnsetType = UNSET
    stream_url: Url | UnsetType | None = UNSET
    interpretation: dict[LanguageCode, Url] | UnsetType = UNSET
    recording: Recording | UnsetType = UNSET
    capacity: Count | UnsetType | None = UNSET
    tags: list[Tag] | UnsetType = UNSET
    status: SessionStatus | UnsetType = UNSET
    translations: dict[LanguageCode, SessionTranslation] | UnsetType = UNSET
    links: list[SecureLink] | UnsetType = UNSET
    attachments: list[SecureLink] | UnsetType = UNSET


class RecordingChange(Base, kw_only=True):
    """An admin's decision about a session's recording policy, stricter or less strict."""

    recording: Recording


class Programme(Base, kw_only=True):
    """The whole programme in one document, as of ``cursor``."""

    cursor: str
    event: Event | None
    rooms: list[Room]
    tracks: list[Track]
    formats: list[Format]
    speakers: list[Speaker]
    sessions: list[Session]
    announcements: list[Announcement]


class ProgrammeImport(Base, kw_only=True):
    """Kumpul's own import format: a programme in which every entity carries its id.

    A ``GET /api/programme`` document imports as it is: its ``cursor`` and ``announcements`` are
    accepted and ignored (announcements are posted, not imported).
    """

    event: Event
    rooms: list[Room] = []
    tracks: list[Track] = []
    formats: list[Format] = []
    speakers: list[Speaker] = []
    sessions: list[Session] = []
    cursor: str | None = None
    announcements: list[Announcement] = []


Entity = Event | Room | Track | Format | Speaker | Session
EntityUpdate = RoomUpdate | TrackUpdate | FormatUpdate | SpeakerUpdate | SessionUpdate

__all__ = [
    "Entity",
    "EntityUpdate",
    "Event",
    "Format",
    "FormatUpdate",
    "Link",
    "Programme",
    "ProgrammeImport",
    "RecordingChange",
    "Room",
    "RoomUpdate",
    "Session",
    "SessionUpdate",
    "Speaker",
    "SpeakerUpdate",
    "StalePolicy",
    "Track",
    "TrackUpdate",
]
