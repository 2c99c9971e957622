"""The frab family (schedule.xml and schedule.json) mapped onto Kumpul's programme.

:mod:`server.interchange.frab_xml` and :mod:`server.interchange.c3voc_json` read their syntax into
the neutral ``Raw…`` records below, each value paired with where it came from (an XML line or a
JSON path); :func:`build` turns those into a :class:`ProgrammeImport` and names the source spot of
anything wrong. Ids are provisional but stable across re-imports of the same source: the import
service matches them against what is stored.
"""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import msgspec

from server.errors import Invalid
from server.interchange.notices import NOT_RECORDED, OFF_THE_RECORD
from server.schemas.programme import Event, Format, Link, ProgrammeImport, Recording, Room, Session, Speaker, Track
from server.services.kinds import slug

#: Per kind, the fields a frab-family file carries. On re-import the stored entity keeps every
#: other field (venue, accessibility, translations, stream links, pronouns, …). A stored event also
#: keeps its acronym: frab's must be a lower-case slug, Kumpul's is what people read.
CARRIED: dict[str, frozenset[str]] = {
    "event": frozenset({"name", "time_zone", "start_date", "end_date", "url", "venue_name"}),
    "room": frozenset({"name", "guid", "position", "capacity"}),
    "track": frozenset({"name", "colour", "position"}),
    "format": frozenset({"name"}),
    "speaker": frozenset({"name", "bio", "photo_url", "links"}),
    "session": frozenset(
        {
            "guid",
            "title",
            "subtitle",
            "abstract",
            "description",
            "start",
            "end",
            "room_id",
            "format",
            "track_id",
            "languages",
            "speaker_ids",
            "recording",
            "tags",
            "status",
            "links",
            "attachments",
        }
    ),
}
#: Carried fields that keep their stored value when the file leaves them empty: frab persons often
#: have no biography, a conference no URL, a track no colour.
KEEP_IF_EMPTY: dict[str, frozenset[str]] = {
    "event": frozenset({"url", "venue_name"}),
    "room": frozenset({"capacity", "guid"}),
    "track": frozenset({"colour"}),
    "speaker": frozenset({"bio", "photo_url", "links"}),
    "session": frozenset({"tags"}),
}
DEFAULT_COLOUR = "#5b6770"

_DURATION = re.compile(r"^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_AT = re.compile(r" - at `\$\.?([^`]*)`$")
_S = TypeVar("_S", bound=msgspec.Struct)


#: What frab XML (elements) and C3VOC JSON (keys) hold of an event as plain text.
EVENT_TEXT_FIELDS = (
    "title",
    "subtitle",
    "type",
    "date",
    "start",
    "duration",
    "end",
    "track",
    "language",
    "abstract",
    "description",
)


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a value came from.

    ``text`` starts every message ("schedule.conference.title", "line 12, <event>") and ``field``
    goes into the error's ``extra`` (a JSON path or an element path). ``xml`` says how to name a key
    inside the spot.
    """

    text: str
    field: str
    xml: bool = False

    def child(self, key: str) -> Spot:
        """The spot of ``key`` inside this one: ``path.key`` in JSON, ``line N, <el>, key`` in XML."""
        if self.xml:
            return Spot(f"{self.text}, {key}", f"{self.field}/{key}", xml=True)
        return Spot(f"{self.text}.{key}", f"{self.field}.{key}")

    def fail(self, problem: str) -> Invalid:
        """An :class:`Invalid` naming this spot."""
        return Invalid(f"{self.text}: {problem}", field=self.field)


@dataclass(slots=True)
class RawTrack:
    name: str
    spot: Spot
    colour: str | None = None
    slug: str | None = None


@dataclass(slots=True)
class RawRoom:
    name: str
    spot: Spot
    capacity: int | None = None
    guid: str | None = None


@dataclass(slots=True)
class RawPerson:
    name: str
    spot: Spot
    code: str | None = None
    guid: str | None = None
    id: str | None = None
    bio: str | None = None
    avatar: str | None = None
    #: ``(title, url)`` of the person's pages: their ``url`` first, then their ``links``.
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class RawEvent:
    """One event (a Kumpul session) as the file has it; ``spots`` maps a source key to its spot."""

    spot: Spot
    spots: dict[str, Spot]
    room: str
    day_date: date | None = None
    day_start: datetime | None = None
    guid: str | None = None
    id: str | None = None
    title: str | None = None
    subtitle: str | None = None
    type: str | None = None
    date: str | None = None
    start: str | None = None
    duration: str | None = None
    end: str | None = None
    track: str | None = None
    language: str | None = None
    abstract: str | None = None
    description: str | None = None
    do_not_record: bool = False
    persons: list[RawPerson] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    #: ``(title, url)`` of the event's links and attachments, as the file lists them.
    links: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[tuple[str, str]] = field(default_factory=list)

    def at(self, key: str) -> Spot:
        """The spot of a source key, else of the event itself."""
        return self.spots.get(key) or self.spot.child(key)


@dataclass(slots=True)
class RawSchedule:
    spot: Spot
    title: str
    title_spot: Spot
    acronym: str = ""
    time_zone: str | None = None
    time_zone_spot: Spot | None = None
    start: str | None = None
    end: str | None = None
    url: str | None = None
    base_url: str | None = None
    venue: str = ""
    tracks: list[RawTrack] = field(default_factory=list)
    rooms: list[RawRoom] = field(default_factory=list)
    day_dates: list[date] = field(default_factory=list)
    events: list[RawEvent] = field(default_factory=list)


# -- values -----------------------------------------------------------------------------------


def parse_moment(text: str, spot: Spot, zone: zoneinfo.ZoneInfo | None = None) -> datetime:
    """An ISO 8601 date-time; without an offset it is read in ``zone`` (when given)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise spot.fail(f"{text!r} is not an ISO 8601 date and time such as 2024-07-23T09:00:00+08:00") from None
    if moment.tzinfo is None:
        if zone is None:
            raise spot.fail(f"{text!r} has no UTC offset")
        moment = moment.replace(tzinfo=zone)
    return moment


def parse_day(text: str, spot: Spot) -> date:
    """A date, or the date of a date-time."""
    text = text.strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) > 10 else date.fromisoformat(text)
    except ValueError:
        raise spot.fail(f"{text!r} is not a date such as 2024-07-23") from None


def parse_duration(text: str, spot: Spot) -> timedelta:
    """``HH:MM`` or ``HH:MM:SS``."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise spot.fail(f"{text!r} is not a duration in the form HH:MM")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def parse_clock(text: str, spot: Spot) -> time:
    """``HH:MM`` or ``HH:MM:SS``, a time of day."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise spot.fail(f"{text!r} is not a time of day in the form HH:MM")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return time(hours, minutes, seconds)


def is_true(text: str | None) -> bool:
    """XML Schema booleans: ``true`` and ``1``."""
    return (text or "").strip().lower() in ("true", "1")


# -- building -----------------------------------------------------------------------------------


def _zone(raw: RawSchedule) -> tuple[str, zoneinfo.ZoneInfo]:
    """The event's IANA time zone: ``time_zone_name``, else the fixed offset of the first event."""
    if raw.time_zone:
        try:
            return raw.time_zone, zoneinfo.ZoneInfo(raw.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            spot = raw.time_zone_spot or raw.spot
            raise spot.fail(f"{raw.time_zone!r} is not an IANA time zone such as 'Europe/Berlin'") from None
    for event in raw.events:
        if event.date:
            offset = parse_moment(event.date, event.at("date"), zoneinfo.ZoneInfo("UTC")).utcoffset()
            if offset is not None and offset.total_seconds() % 3600 == 0:
                hours = int(offset.total_seconds() // 3600)
                # POSIX-style Etc zones have the sign inverted: UTC+2 is Etc/GMT-2.
                name = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
                return name, zoneinfo.ZoneInfo(name)
    return "UTC", zoneinfo.ZoneInfo("UTC")


def _recording(event: RawEvent) -> tuple[str, Recording]:
    """The description and recording policy of an event.

    Kumpul's own exports end an opted-out session's description with a recording notice: it is
    taken off again, and the off-the-record notice brings back the off-the-record policy.
    """
    description = (event.description or "").strip()
    if not event.do_not_record:
        return description, "public"
    for notice, policy in ((OFF_THE_RECORD, "off-the-record"), (NOT_RECORDED, "no-recording")):
        if description == notice or description.endswith("\n\n" + notice):
            return description.removesuffix(notice).strip(), policy  # type: ignore[return-value]
    return description, "no-recording"


def _languages(text: str | None) -> list[str]:
    """Language codes of a ``language`` value such as ``en``, ``de, en`` or ``pt-BR``; others are skipped."""
    found: list[str] = []
    for part in re.split(r"[,;/\s]+", text or ""):
        head, dash, rest = part.strip().partition("-")
        code = head.lower() + dash + rest
        if code and _LANGUAGE.match(code) and code not in found:
            found.append(code)
    return found


def _https(url: str | None, base_url: str | None) -> str | None:
    """An https URL, resolved against ``base_url`` when relative; anything else is dropped."""
    if not url or not url.strip():
        return None
    url = url.strip()
    if base_url and not re.match(r"^[a-z][a-z0-9+.-]*:", url, flags=re.IGNORECASE):
        url = urljoin(base_url, url)
    return url if re.match(r"^https://[^\s]+$", url) and len(url) <= 2048 else None


def _uuid(text: str | None) -> str:
    """``text`` as a lower-case UUID, or empty when it is none."""
    try:
        return str(uuid.UUID((text or "").strip()))
    except ValueError:
        return ""


#: A link written without its scheme: a host name with a dot, then a path or nothing.
_BARE_HOST = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?(/|$)", flags=re.IGNORECASE)
#: A link's title when the file gives none, and the longest one kept (``ShortText``).
_LINK_TITLE_MAX = 300


def _links(items: list[tuple[str, str]], base_url: str | None) -> list[Link]:
    """The http(s) links among ``items``, each address once; relative ones resolved against ``base_url``."""
    found: list[Link] = []
    seen: set[str] = set()
    for title, url in items:
        address = _web_url(url, base_url)
        if address is None or address in seen:
            continue
        seen.add(address)
        found.append(Link(title=(title.strip() or urlsplit(address).netloc)[:_LINK_TITLE_MAX], url=address))
    return found


def _web_url(url: str | None, base_url: str | None) -> str | None:
    """An http or https URL; a path is resolved against ``base_url`` and a bare host name (``example.org/x``,
    as frab users type them) gets ``https://``; anything else is dropped."""
    if not url or not url.strip():
        return None
    url = url.strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*:", url, flags=re.IGNORECASE):
        if _BARE_HOST.match(url):
            url = f"https://{url}"
        elif base_url:
            url = urljoin(base_url, url)
    return url if re.match(r"^https?://[^\s]+$", url) and len(url) <= 2048 else None


def _checked(entity: _S, locate: Callable[[str], Spot], keys: dict[str, str]) -> _S:
    """``entity`` validated against its Struct's constraints; a problem names its source spot.

    Args:
        entity: A Struct built with the constructor, which does not check lengths or patterns.
        locate: The spot of a source key.
        keys: Kumpul JSON field name -> source key, so the message names the file's own key.
    """
    try:
        return msgspec.json.decode(msgspec.json.encode(entity), type=type(entity))
    except msgspec.ValidationError as error:
        message = str(error)
        match = _AT.search(message)
        path = match.group(1) if match else ""
        head = re.split(r"[.\[]", path, maxsplit=1)[0]
        raise locate(keys.get(head, head or "value")).fail(_AT.sub("", message)) from None


_SESSION_KEYS = {
    "id": "guid",
    "guid": "guid",
    "title": "title",
    "subtitle": "subtitle",
    "abstract": "abstract",
    "description": "description",
    "tags": "tags",
    "languages": "language",
}


class _Ids:
    """Provisional ids, unique per kind and stable for the same source."""

    def __init__(self) -> None:
        self.taken: dict[str, set[str]] = {}

    def claim(self, kind: str, wanted: str) -> str:
        taken = self.taken.setdefault(kind, set())
        candidate, number = wanted, 2
        while candidate in taken:
            suffix = f"-{number}"
            candidate = wanted[: 64 - len(suffix)] + suffix
            number += 1
        taken.add(candidate)
        return candidate


def _named_id(prefix: str, name: str, fallback: str) -> str:
    text = slug(name, max_length=60 - len(prefix))
    return f"{prefix}{text}" if text else fallback


class _Builder:
    def __init__(self, raw: RawSchedule) -> None:
        self.raw = raw
        self.ids = _Ids()
        self.time_zone, self.zone = _zone(raw)
        self.rooms: dict[str, Room] = {}
        self.tracks: dict[str, Track] = {}
        self.formats: dict[str, Format] = {}
        self.speakers: dict[str, Speaker] = {}
        self.speaker_spots: dict[str, Spot] = {}
        self.person_ids: dict[str, str] = {}
        self.sessions: list[Session] = []
        self.session_spots: dict[str, Spot] = {}

    def room(self, name: str, spot: Spot, capacity: int | None = None, guid: str | None = None) -> str:
        key = name.strip().casefold()
        guid = _uuid(guid)
        if key not in self.rooms:
            if not name.strip():
                raise spot.fail("a room needs a name")
            room_id = self.ids.claim("room", _named_id("room-", name, "room"))
            room = Room(id=room_id, name=name.strip(), guid=guid, capacity=capacity, position=len(self.rooms))
            self.rooms[key] = _checked(room, spot.child, {"name": "name", "capacity": "capacity"})
        elif guid and not self.rooms[key].guid:
            self.rooms[key] = msgspec.structs.replace(self.rooms[key], guid=guid)
        return self.rooms[key].id

    def track(self, name: str, spot: Spot, colour: str | None = None, wanted: str | None = None) -> str:
        key = name.strip().casefold()
        if key not in self.tracks:
            base = f"track-{wanted}" if wanted and _ID.match(f"track-{wanted}") else _named_id("track-", name, "track")
            colour = colour if colour and _COLOUR.match(colour) else DEFAULT_COLOUR
            track = Track(id=self.ids.claim("track", base), name=name.strip(), colour=colour, position=len(self.tracks))
            self.tracks[key] = _checked(track, spot.child, {"name": "name"})
        return self.tracks[key].id

    def format(self, text: str | None, spot: Spot) -> str:
        name = (text or "").strip() or "Session"
        key = name.casefold()
        if key not in self.formats:
            display = name[:1].upper() + name[1:]
            fmt = Format(id=self.ids.claim("format", slug(name) or "session"), name=display, position=len(self.formats))
            self.formats[key] = _checked(fmt, lambda _: spot, {})
        return self.formats[key].id

    def speaker(self, person: RawPerson) -> str:
        if not person.name.strip():
            raise person.spot.fail("a person needs a name")
        if person.code:
            key, wanted = f"code:{person.code}", f"spk-{person.code.lower()}"
        elif person.guid:
            key, wanted = f"guid:{person.guid.lower()}", f"spk-{person.guid.lower()}"
        elif person.id:
            key, wanted = f"id:{person.id}", f"spk-{person.id}"
        else:
            key, wanted = f"name:{person.name.casefold()}", _named_id("spk-", person.name, "spk")
        if not _ID.match(wanted):
            wanted = _named_id("spk-", wanted, "spk")
        speaker_id = self.person_ids.get(key)
        if speaker_id is None:
            speaker_id = self.person_ids[key] = self.ids.claim("speaker", wanted)
        known = self.speakers.get(speaker_id)
        bio = (person.bio or "").strip() or (known.bio if known else "")
        photo = _https(person.avatar, self.raw.base_url) or (known.photo_url if known else None)
        links = _links(person.links, self.raw.base_url) or (known.links if known else [])
        speaker = Speaker(id=speaker_id, name=person.name.strip(), bio=bio, photo_url=photo, links=links)
        if known is None or speaker != known:
            keys = {"name": "name", "bio": "biography"}
            self.speakers[speaker_id] = _checked(speaker, person.spot.child, keys)
            self.speaker_spots[speaker_id] = person.spot
        return speaker_id

    def session(self, event: RawEvent) -> None:
        title = (event.title or "").strip()
        if not title:
            raise event.at("title").fail("an event needs a title")
        guid = (event.guid or "").strip().lower()
        if guid:
            session_id = guid if _ID.match(guid) else ""
            if not session_id or len(guid) > 64:
                raise event.at("guid").fail(f"{event.guid!r} is not a usable guid (a UUID is expected)")
        elif event.id:
            session_id = f"event-{event.id.strip()}"
            if not _ID.match(session_id):
                raise event.at("id").fail(f"{event.id!r} is not a usable id")
        else:
            raise event.at("guid").fail("an event needs a guid (or an id)")
        if session_id in self.session_spots:
            first = self.session_spots[session_id]
            key = "guid" if guid else "id"
            raise event.at(key).fail(f"the {key} {(event.guid or event.id)!r} appears twice (first at {first.text})")
        self.session_spots[session_id] = event.spot
        start = self._start(event)
        if event.end:
            end = parse_moment(event.end, event.at("end"), self.zone)
            end_spot = event.at("end")
        elif event.duration:
            # In UTC: adding to a local time would add to the wall clock, an hour off across a DST change.
            length = parse_duration(event.duration, event.at("duration"))
            end = (start.astimezone(UTC) + length).astimezone(start.tzinfo)
            end_spot = event.at("duration")
        else:
            raise event.at("duration").fail("an event needs a duration (HH:MM)")
        if end <= start:
            raise end_spot.fail(
                f"the event would end ({end.isoformat()}) before or when it starts ({start.isoformat()}); "
                "a session must end after it starts"
            )
        speaker_ids: list[str] = []
        for person in event.persons:
            speaker_id = self.speaker(person)
            if speaker_id not in speaker_ids:
                speaker_ids.append(speaker_id)
        description, recording = _recording(event)
        track = (event.track or "").strip()
        session = Session(
            id=session_id,
            guid=guid,
            title=title,
            start=start,
            end=end,
            room_id=self.room(event.room, event.at("room")),
            format=self.format(event.type, event.at("type")),
            subtitle=(event.subtitle or "").strip(),
            abstract=(event.abstract or "").strip(),
            description=description,
            track_id=self.track(track, event.at("track")) if track else None,
            languages=_languages(event.language),
            speaker_ids=speaker_ids,
            recording=recording,
            tags=[tag.strip() for tag in event.tags if tag.strip()],
            links=_links(event.links, self.raw.base_url),
            attachments=_links(event.attachments, self.raw.base_url),
        )
        self.sessions.append(_checked(session, event.at, _SESSION_KEYS))

    def _start(self, event: RawEvent) -> datetime:
        if event.date and "T" in event.date:
            return parse_moment(event.date, event.at("date"), self.zone)
        if event.start is None:
            raise event.at("date").fail("an event needs a date (ISO 8601 with offset) or a start (HH:MM)")
        clock = parse_clock(event.start, event.at("start"))
        day = parse_day(event.date, event.at("date")) if event.date else event.day_date
        if day is None:
            raise event.at("date").fail("an event with only a start time needs its day's date")
        moment = datetime.combine(day, clock, tzinfo=self.zone)
        # frab days run past midnight: a 01:00 start on a day that begins at 10:00 is the next morning.
        if event.day_start is not None and not event.date:
            day_start = event.day_start.astimezone(self.zone)
            if day_start.date() == day and clock < day_start.time():
                moment += timedelta(days=1)
        return moment

    def event(self) -> Event:
        raw = self.raw
        days = sorted(raw.day_dates)
        starts = [session.start.astimezone(self.zone).date() for session in self.sessions]
        start = days[0] if days else parse_day(raw.start, raw.spot) if raw.start else min(starts, default=None)
        end = days[-1] if days else parse_day(raw.end, raw.spot) if raw.end else max(starts, default=None)
        if start is None or end is None:
            raise raw.spot.fail("the conference has no start date, no days and no events")
        counts = Counter(code for session in self.sessions for code in session.languages)
        languages = sorted(counts)
        if not raw.title.strip():
            raise raw.title_spot.fail("the conference needs a title")
        url = raw.url.strip() if raw.url and re.match(r"^https?://[^\s]+$", raw.url.strip()) else None
        event = Event(
            name=raw.title.strip(),
            time_zone=self.time_zone,
            start_date=start,
            end_date=max(start, end),
            acronym=raw.acronym.strip(),
            venue_name=raw.venue.strip(),
            language=counts.most_common(1)[0][0] if counts else "en",
            languages=languages,
            url=url,
        )
        return _checked(event, raw.spot.child, {"name": "title", "acronym": "acronym", "venueName": "venue"})


def build(raw: RawSchedule) -> ProgrammeImport:
    """The programme a frab-family schedule describes.

    Raises:
        Invalid: A missing or malformed value, an event ending before it starts, a guid used twice;
            the message names the line or field path.
    """
    builder = _Builder(raw)
    for track in raw.tracks:
        builder.track(track.name, track.spot, track.colour, track.slug)
    for room in raw.rooms:
        builder.room(room.name, room.spot, room.capacity, room.guid)
    for event in raw.events:
        builder.session(event)
    guids = Counter(room.guid for room in builder.rooms.values() if room.guid)
    rooms = [  # a guid that names several rooms (pretalx's demo has one) tells them apart from nothing
        msgspec.structs.replace(room, guid="") if guids[room.guid] > 1 else room for room in builder.rooms.values()
    ]
    return ProgrammeImport(
        event=builder.event(),
        rooms=rooms,
        tracks=list(builder.tracks.values()),
        formats=list(builder.formats.values()),
        speakers=list(builder.speakers.values()),
        sessions=builder.sessions,
    )
