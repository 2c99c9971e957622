"""The programme as a C3VOC ``schedule.json`` (what pretalx and frab export as JSON).

Valid against the C3VOC JSON schema (``tests/server/interchange/schedule.schema.json``).
Cancelled sessions are left out; sessions that must not be recorded carry ``do_not_record``. Text fields
are strings, never null (down-frab-videos wraps them as text), and the document holds only keys the C3VOC
tools' JSON-to-XML conversion knows, so the converted file is valid against the XSD too: no conference
description and no ``end`` per event (the XML has a ``duration`` instead).
"""

from __future__ import annotations

from typing import Any

import msgspec

from server import __version__
from server.interchange.timetable import (
    Person,
    RoomInfo,
    ScheduleSource,
    Slot,
    Timetable,
    build_timetable,
    clean,
    do_not_record,
    slug,
)

SCHEMA_URL = "https://c3voc.de/schedule/schema.json"
_encoder = msgspec.json.Encoder()


def export_json(source: ScheduleSource) -> bytes:
    """The C3VOC schedule JSON of the programme, UTF-8.

    Raises:
        NoEvent: The programme has no event.
    """
    return _encoder.encode(schedule_document(build_timetable(source)))


def schedule_document(table: Timetable) -> dict[str, Any]:
    """The schedule as a JSON-ready dict."""
    event = table.event
    conference: dict[str, Any] = {
        "acronym": table.acronym,
        "title": clean(event.name),
        "start": event.start_date.isoformat(),
        "end": event.end_date.isoformat(),
        "daysCount": len(table.days),
        "timeslot_duration": table.timeslot,
    }
    if table.c3voc_zone:
        conference["time_zone_name"] = table.c3voc_zone
    conference["url"] = event.url or f"{table.base_url}/"
    conference["tracks"] = [_track(track.name, track.id, track.colour) for track in table.tracks]
    conference["rooms"] = [_room(room) for room in table.rooms]
    conference["days"] = [
        {
            "index": day.index,
            "date": day.date.isoformat(),
            "day_start": day.start.isoformat(),
            "day_end": day.end.isoformat(),
            "rooms": {room.room.name: [_event(table, slot) for slot in room.slots] for room in day.rooms},
        }
        for day in table.days
    ]
    return {
        "$schema": SCHEMA_URL,
        "generator": {"name": "Kumpul", "version": __version__},
        "schedule": {"version": table.version, "base_url": f"{table.base_url}/", "conference": conference},
    }


def _track(name: str, track_id: str, colour: str) -> dict[str, Any]:
    track: dict[str, Any] = {"name": clean(name), "color": colour}
    if track_slug := slug(track_id):
        track["slug"] = track_slug
    return track


def _room(room: RoomInfo) -> dict[str, Any]:
    return {
        "name": room.name,
        "guid": room.guid,
        "description": room.description or None,
        "capacity": room.room.capacity,
    }


def _event(table: Timetable, slot: Slot) -> dict[str, Any]:
    session = slot.session
    return {
        "guid": slot.guid,
        "id": slot.number,
        "date": slot.start.isoformat(),
        "start": slot.start_text,
        "duration": slot.duration_text,
        "room": slot.room_name,
        "slug": slot.slug,
        "url": slot.url,
        "title": clean(session.title),
        "subtitle": clean(session.subtitle),
        "track": clean(slot.track.name) if slot.track else "",
        "type": slot.format_name,
        "language": slot.language or "",
        "abstract": clean(session.abstract),
        "description": slot.description,
        "recording_license": "",
        "do_not_record": do_not_record(session),
        "persons": [_person(table, item) for item in slot.persons],
        "links": [{"url": url, "title": title} for title, url in slot.links],
        "attachments": [{"url": item.url, "title": clean(item.title)} for item in session.attachments],
    }


def _person(table: Timetable, item: Person) -> dict[str, Any]:
    """pretalx's person form with frab's integer ``id``; an anonymous speaker is their pseudonym and number alone."""
    found: dict[str, Any] = {"name": item.name}
    if item.number is not None:
        found["id"] = item.number
    if item.anonymous:
        return found
    found["guid"] = table.speaker_guid(item)
    if item.bio:
        found["biography"] = item.bio
    if item.photo_url:
        found["avatar"] = item.photo_url
    if item.links:
        found["links"] = [{"url": link.url, "title": clean(link.title)} for link in item.links]
    return found
