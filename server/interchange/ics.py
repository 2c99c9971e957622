"""The programme (or an attendee's agenda) as an RFC 5545 iCalendar that calendar apps subscribe to.

Each session is one VEVENT whose UID stays the same across fetches and hosts (its guid and
``@kumpul``). ``SEQUENCE`` is the session's revision and ``LAST-MODIFIED``/``DTSTAMP`` its last
change, so a subscribed calendar picks up moves; a cancelled session stays in the feed with
``STATUS:CANCELLED`` so it disappears from calendars instead of lingering. Times carry the event's
IANA zone with its VTIMEZONE, so calendars show the event's own clock, unless the zone changes its UTC
offset (daylight-saving time) during the programme: then every time is written in UTC. Local times around
a change are where parsers part ways: one local time in the repeated hour names two instants, and the
VTIMEZONE of a change is read differently (``icalendar`` writes a transition's start in the new offset,
``vobject`` reads it in the old one and shifts later times by an hour, ical.js gets it right). A UTC time
means one instant to every parser. The bytes depend only on the programme, so they can be cached and
given a strong ETag.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDDDTypes

from server import __version__
from server.interchange.timetable import (
    ScheduleSource,
    clean,
    paragraphs,
    person,
    recording_notice,
    updated,
    zone_of,
)
from server.schemas.programme import Session

PRODID = f"-//Kumpul//Kumpul {__version__}//EN"
UID_DOMAIN = "kumpul"
#: How often subscribed calendars should fetch again: moves during the conference should show soon.
REFRESH = timedelta(hours=1)


def export_ics(source: ScheduleSource, *, name: str | None = None, only: Collection[str] | None = None) -> bytes:
    """The iCalendar of the programme's sessions, UTF-8.

    Args:
        source: The programme, session revisions and the app's address.
        name: The calendar's name (default: the event's name).
        only: Keep only these session ids (an attendee's agenda); all sessions when None.
    """
    programme = source.programme
    event = programme.event
    zone = zone_of(event)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    title = clean(name or (event.name if event else "Kumpul"))
    calendar.add("name", title)
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-timezone", zone.key)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDDDTypes(REFRESH))

    rooms = {room.id: room for room in programme.rooms}
    tracks = {track.id: track.name for track in programme.tracks}
    formats = {item.id: item.name for item in programme.formats}
    speakers = {speaker.id: speaker for speaker in programme.speakers}
    venue = clean(event.venue_name) if event else ""
    sessions = [session for session in programme.sessions if only is None or session.id in only]
    written_in: tzinfo = zone
    if sessions and changes_offset(zone, min(s.start for s in sessions), max(s.end for s in sessions)):
        written_in = UTC
    for session in sessions:
        revision = source.revisions.get(session.id)
        changed = updated(revision)
        room = rooms.get(session.room_id)
        location = [clean(room.name), clean(room.floor)] if room else [session.room_id]
        categories = [clean(text) for text in (tracks.get(session.track_id or ""), formats.get(session.format)) if text]
        names = []
        for speaker_id in session.speaker_ids:
            if speaker_id in speakers:
                item = person(speakers[speaker_id])
                names.append(_speaker_line(item.name, item.organisation, anonymous=item.anonymous))
        cancelled = session.status == "cancelled"
        vevent = Event()
        vevent.add("uid", f"{session.guid or session.id}@{UID_DOMAIN}")
        vevent.add("dtstamp", changed)
        vevent.add("last-modified", changed)
        vevent.add("sequence", revision.revision if revision else 0)
        vevent.add("dtstart", session.start.astimezone(written_in))
        vevent.add("dtend", session.end.astimezone(written_in))
        vevent.add("summary", f"Cancelled: {clean(session.title)}" if cancelled else clean(session.title))
        vevent.add("description", _description(session, names, source.session_url(session.id), cancelled=cancelled))
        vevent.add("location", ", ".join(part for part in [*location, venue] if part))
        if categories:
            vevent.add("categories", categories)
        vevent.add("url", source.session_url(session.id))
        vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        vevent.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        calendar.add_component(vevent)
    if sessions and written_in is zone and zone.key != "UTC":
        first = min(session.start.astimezone(zone) for session in sessions).date()
        last = max(session.end.astimezone(zone) for session in sessions).date()
        calendar.add_missing_timezones(first_date=first - timedelta(days=1), last_date=last + timedelta(days=2))
    body: bytes = calendar.to_ical()
    return body


def changes_offset(zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether ``zone`` has more than one UTC offset from a day before ``start`` to two days after ``end``."""
    moment = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    last = end.astimezone(UTC) + timedelta(days=2)
    offset = moment.astimezone(zone).utcoffset()
    while moment <= last:
        if moment.astimezone(zone).utcoffset() != offset:
            return True
        moment += timedelta(minutes=30)  # a few zones change by half an hour, at a half hour
    return False


def _speaker_line(name: str, organisation: str, *, anonymous: bool) -> str:
    if anonymous:
        return f"{name} (pseudonym)"
    return f"{name} ({organisation})" if organisation else name


def _description(session: Session, speakers: list[str], url: str, *, cancelled: bool) -> str:
    """Abstract, speakers, recording rules, stream and the session's page, as plain text."""
    return paragraphs(
        "This session is cancelled." if cancelled else "",
        clean(session.subtitle),
        clean(session.abstract),
        f"Speakers: {', '.join(speakers)}" if speakers else "",
        recording_notice(session),
        f"Watch online: {session.stream_url}" if session.stream_url else "",
        url,
    )
