"""The programme arranged for export: what every export shows, and the days, rooms and ids of frab and C3VOC.

Pure functions over a :class:`~server.schemas.programme.Programme`: no I/O, no web framework. The
safety rules live here once, so every format obeys them alike: an anonymous speaker is their
pseudonym and nothing else, and a session that must not be recorded says so.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from server.interchange.notices import NOT_RECORDED, OFF_THE_RECORD
from server.schemas.programme import Event, Link, Programme, Room, Session, Speaker, Track
from server.storage.programme import Revision

#: Names Kumpul's exports across hosts: UUIDs of rooms and speakers, derived from their ids.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:kumpul")


#: Characters XML 1.0 forbids (and calendars choke on): C0 controls other than tab and newlines, surrogates.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Session numbers (frab's ``id``) stay within a signed 32-bit integer, and above 999.
_NUMBER_FLOOR = 1000
_NUMBER_SPACE = 2_000_000_000
#: C3VOC's pattern for ``time_zone_name``; other zones are left out rather than exported invalid.
_C3VOC_ZONE = re.compile(r"^([A-Z][a-z]+/[A-Z][a-z]+)|UTC$")


class NoEvent(ValueError):
    """The programme has no event yet, and frab and C3VOC schedules need its name and dates."""


@dataclass(frozen=True, slots=True)
class ScheduleSource:
    """What every export renders.

    Attributes:
        programme: The programme at one cursor.
        revisions: Revision and last change of each session, read in the same transaction.
        base_url: Where the attendee app is served, without a trailing slash (``https://host``).
        speaker_numbers: Each speaker's integer id (frab's ``<person id>``), read in the same transaction.
    """

    programme: Programme
    revisions: Mapping[str, Revision]
    base_url: str
    speaker_numbers: Mapping[str, int] = field(default_factory=dict)

    def session_url(self, session_id: str) -> str:
        """The session's page in the attendee app."""
        return f"{self.base_url}/sessions/{quote(session_id, safe='')}"


@dataclass(frozen=True, slots=True)
class Person:
    """A speaker as the exports show them."""

    id: str
    name: str
    anonymous: bool
    #: The integer id frab clients key people on; None only when storage has none for the speaker.
    number: int | None = None
    organisation: str = ""
    bio: str = ""
    photo_url: str | None = None
    links: tuple[Link, ...] = ()


def person(speaker: Speaker, number: int | None = None) -> Person:
    """A speaker for export: an anonymous speaker is their pseudonym and nothing else.

    Storage erases an anonymous speaker's hidden fields already; exports do not rely on it. ``number``
    is the speaker's random integer id, which reveals nothing about them, so anonymous speakers keep it.
    """
    if speaker.anonymous:
        return Person(speaker.id, clean(speaker.name), anonymous=True, number=number)
    return Person(
        speaker.id,
        clean(speaker.name),
        anonymous=False,
        number=number,
        organisation=clean(speaker.organisation),
        bio=clean(speaker.bio),
        photo_url=speaker.photo_url,
        links=tuple(speaker.links),
    )


def clean(text: str) -> str:
    """``text`` without the characters XML and calendar files cannot carry."""
    return _FORBIDDEN.sub("", text)


def do_not_record(session: Session) -> bool:
    """Whether the session must not be recorded (``no-recording`` or ``off-the-record``)."""
    return session.recording != "public"


def recording_notice(session: Session) -> str:
    """What attendees must know about recording this session; empty for public sessions."""
    if session.recording == "off-the-record":
        return OFF_THE_RECORD
    if session.recording == "no-recording":
        return NOT_RECORDED
    return ""


def paragraphs(*parts: str) -> str:
    """Non-empty parts joined by blank lines."""
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def zone_of(event: Event | None) -> ZoneInfo:
    """The event's IANA time zone (UTC without an event)."""
    return ZoneInfo(event.time_zone) if event is not None else ZoneInfo("UTC")


def updated(revision: Revision | None) -> datetime:
    """When an entity last changed, as an aware datetime (the epoch when unknown)."""
    if revision is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime.fromisoformat(revision.updated_at).astimezone(UTC)


def slug(text: str, *, separator: str = "-", max_length: int = 60) -> str:
    """ASCII letters and digits of ``text`` in lower case, joined by ``separator``; may be empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    result = ""
    for word in re.findall(r"[a-z0-9]+", ascii_text.lower()):
        candidate = f"{result}{separator}{word}" if result else word
        if len(candidate) > max_length:
            break
        result = candidate
    return result


def acronym(event: Event) -> str:
    """The event's acronym as frab and C3VOC want it: at least four of ``[a-z0-9_]``."""
    text = slug(event.acronym or event.name, separator="_", max_length=40)
    if not text:
        return "kumpul"
    return text if len(text) >= 4 else f"{text}_event"


def derived_uuid(*parts: str) -> str:
    """A stable UUID for an entity that has none (rooms, speakers), from its kind and id."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def elapsed_minutes(start: datetime, end: datetime) -> int:
    """The minutes that pass from ``start`` to ``end``.

    Subtracting two datetimes of the same ``ZoneInfo`` gives the difference of their wall clocks, which is an
    hour off across a daylight-saving change; in UTC it is the real length.
    """
    return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()) // 60


def hours_minutes(minutes: int) -> str:
    """A duration or time of day as ``HH:MM``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class Slot:
    """A session placed in the timetable, with the ids other formats need."""

    session: Session
    number: int
    guid: str
    slug: str
    room_name: str
    track: Track | None
    format_name: str
    #: The session's languages as frab writes them (``en, id``); None when the session names none.
    language: str | None
    persons: tuple[Person, ...]
    start: datetime
    end: datetime
    url: str
    links: tuple[tuple[str, str], ...]

    @property
    def start_text(self) -> str:
        """The local start as ``HH:MM``."""
        return f"{self.start:%H:%M}"

    @property
    def duration_text(self) -> str:
        """The length as ``HH:MM``: the time that really passes, also across a daylight-saving change."""
        return hours_minutes(elapsed_minutes(self.start, self.end))

    @property
    def description(self) -> str:
        """The long description, with the recording notice when there is one."""
        return paragraphs(clean(self.session.description), recording_notice(self.session))


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """A room with the name and UUID it has in exports (names that repeat get the room's id)."""

    room: Room
    name: str
    guid: str

    @property
    def description(self) -> str:
        return paragraphs(clean(self.room.floor), clean(self.room.accessibility))


@dataclass(frozen=True, slots=True)
class RoomSlots:
    room: RoomInfo
    slots: tuple[Slot, ...]


@dataclass(frozen=True, slots=True)
class Day:
    """One conference day in the event's time zone (``index`` counts from 1)."""

    index: int
    date: date
    start: datetime
    end: datetime
    rooms: tuple[RoomSlots, ...]


@dataclass(frozen=True, slots=True)
class Timetable:
    """The programme as frab and C3VOC schedules arrange it. Cancelled sessions are left out."""

    event: Event
    zone: ZoneInfo
    acronym: str
    version: str
    base_url: str
    rooms: tuple[RoomInfo, ...]
    tracks: tuple[Track, ...]
    days: tuple[Day, ...]
    timeslot: str

    @property
    def c3voc_zone(self) -> str | None:
        """The zone name when C3VOC's pattern accepts it."""
        name = self.event.time_zone
        return name if _C3VOC_ZONE.search(name) else None

    def speaker_guid(self, speaker: Person) -> str:
        """A stable UUID of a (not anonymous) speaker, from the event's acronym and the speaker's id."""
        return derived_uuid(self.acronym, "speaker", speaker.id)

    def slots(self) -> list[Slot]:
        return [slot for day in self.days for room in day.rooms for slot in room.slots]


def build_timetable(source: ScheduleSource) -> Timetable:
    """Arrange the programme by day and room, in the event's time zone.

    Sessions are numbered from their guid (stable across edits and hosts) and given a UUID (their
    guid when it is one). Cancelled sessions are left out: apps that read these formats show a
    session that disappeared as cancelled.

    Raises:
        NoEvent: The programme has no event.
    """
    programme = source.programme
    event = programme.event
    if event is None:
        raise NoEvent("the programme has no event yet: import a programme or PUT /api/admin/event")
    zone = zone_of(event)
    short = acronym(event)
    sessions = [session for session in programme.sessions if session.status != "cancelled"]
    known = {room.id for room in programme.rooms}
    missing = sorted({session.room_id for session in sessions} - known)  # only if storage lost a room
    rooms = _room_infos([*programme.rooms, *(Room(id=room_id, name=room_id) for room_id in missing)], short)
    room_by_id = {info.room.id: info for info in rooms}
    tracks = {track.id: track for track in programme.tracks}
    formats = {item.id: item.name for item in programme.formats}
    speakers = {speaker.id: speaker for speaker in programme.speakers}
    numbers = _numbers(sessions)
    speaker_numbers = source.speaker_numbers
    guids = _uuids(sessions)

    slots: list[Slot] = []
    for session in sessions:
        number = numbers[session.id]
        slots.append(
            Slot(
                session=session,
                number=number,
                guid=guids[session.id],
                slug=f"{short}-{number}-{slug(session.id) or number}",
                room_name=room_by_id[session.room_id].name,
                track=tracks.get(session.track_id) if session.track_id else None,
                format_name=clean(formats.get(session.format, session.format)),
                language=", ".join(session.languages) or None,
                persons=tuple(
                    person(speakers[sid], speaker_numbers.get(sid)) for sid in session.speaker_ids if sid in speakers
                ),
                start=session.start.astimezone(zone),
                end=session.end.astimezone(zone),
                url=source.session_url(session.id),
                links=_links(session),
            )
        )
    return Timetable(
        event=event,
        zone=zone,
        acronym=short,
        version=programme.cursor,
        base_url=source.base_url,
        rooms=rooms,
        tracks=tuple(programme.tracks),
        days=_days(event, zone, slots, rooms),
        timeslot=hours_minutes(_timeslot_minutes(slots)),
    )


def _room_infos(rooms: list[Room], short: str) -> tuple[RoomInfo, ...]:
    names = [clean(room.name) for room in rooms]
    repeated = {name for name in names if names.count(name) > 1}
    return tuple(
        RoomInfo(room, f"{name} ({room.id})" if name in repeated else name, _room_guid(room, short))
        for room, name in zip(rooms, names, strict=True)
    )


def _room_guid(room: Room, short: str) -> str:
    """The room's UUID: the one its source gave it, else one derived from its id."""
    try:
        return str(uuid.UUID(room.guid))
    except ValueError:
        return derived_uuid(short, "room", room.id)


def _numbers(sessions: list[Session]) -> dict[str, int]:
    """A positive number per session, from its guid; a clash moves the later id (in id order) on by one."""
    taken: set[int] = set()
    numbers: dict[str, int] = {}
    for session in sorted(sessions, key=lambda item: item.id):
        digest = hashlib.sha256(f"session/{session.guid or session.id}".encode()).digest()
        number = _NUMBER_FLOOR + int.from_bytes(digest[:4], "big") % _NUMBER_SPACE
        while number in taken:
            number = _NUMBER_FLOOR + (number - _NUMBER_FLOOR + 1) % _NUMBER_SPACE
        taken.add(number)
        numbers[session.id] = number
    return numbers


def _uuids(sessions: list[Session]) -> dict[str, str]:
    """Each session's guid as a UUID: itself when it is one, else a UUID derived from it."""
    seen: set[str] = set()
    guids: dict[str, str] = {}
    for session in sorted(sessions, key=lambda item: item.id):
        try:
            guid = str(uuid.UUID(session.guid))
        except ValueError:
            guid = derived_uuid("session", session.guid or session.id)
        if guid in seen:
            guid = derived_uuid("session-id", session.id)
        seen.add(guid)
        guids[session.id] = guid
    return guids


def _links(session: Session) -> tuple[tuple[str, str], ...]:
    """The stream and interpretation channels, then the session's own links."""
    links = [("Live stream", session.stream_url)] if session.stream_url else []
    links += [(f"Interpretation ({lang})", url) for lang, url in sorted(session.interpretation.items())]
    links += [(clean(link.title), link.url) for link in session.links]
    return tuple(links)


def _days(event: Event, zone: ZoneInfo, slots: list[Slot], rooms: tuple[RoomInfo, ...]) -> tuple[Day, ...]:
    """Every day from the event's start to its end, and any other day a session starts on."""
    dates = {event.start_date + timedelta(days=n) for n in range((event.end_date - event.start_date).days + 1)}
    dates |= {slot.start.date() for slot in slots}
    days = []
    for index, day in enumerate(sorted(dates), start=1):
        todays = sorted(
            (slot for slot in slots if slot.start.date() == day),
            key=lambda slot: (slot.start, slot.end, slot.session.id),
        )
        midnight = datetime.combine(day, time(), tzinfo=zone)
        start = min((slot.start for slot in todays), default=midnight)
        end = max((slot.end for slot in todays), default=datetime.combine(day + timedelta(days=1), time(), tzinfo=zone))
        by_room = (
            RoomSlots(room, tuple(slot for slot in todays if slot.session.room_id == room.room.id)) for room in rooms
        )
        days.append(Day(index, day, start, end, tuple(room for room in by_room if room.slots)))
    return tuple(days)


def _timeslot_minutes(slots: list[Slot]) -> int:
    """The grid every session fits: the greatest common divisor of start minutes and lengths (15 when none)."""
    divisor = 0
    for slot in slots:
        divisor = math.gcd(divisor, slot.start.hour * 60 + slot.start.minute)
        divisor = math.gcd(divisor, elapsed_minutes(slot.start, slot.end))
    return min(divisor, 60) if divisor else 15
