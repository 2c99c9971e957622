"""C3VOC / pretalx / frab ``schedule.json`` read into a programme.

Reads what the C3VOC JSON schema describes, including frab's older persons (``{id, public_name}``)
and pretalx's (``{code, name, biography, avatar}``). A problem names its field path, such as
``schedule.conference.days[1].rooms.Hall 1[3].duration``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from server.interchange.frab_common import (
    EVENT_TEXT_FIELDS,
    RawEvent,
    RawPerson,
    RawRoom,
    RawSchedule,
    RawTrack,
    Spot,
    build,
    parse_day,
    parse_moment,
)
from server.schemas.programme import ProgrammeImport


def _at(path: str) -> Spot:
    return Spot(path, path)


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _at(path).fail(f"expected an object, got {_kind(value)}")
    return value


def _array(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _at(path).fail(f"expected an array, got {_kind(value)}")
    return value


def _string(container: dict[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    """A text value; an ``id`` may also be a whole number (frab's numeric ids), read as its digits."""
    value = container.get(key)
    if value is None:
        if required:
            raise _at(f"{path}.{key}").fail("this field is required")
        return None
    if key == "id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise _at(f"{path}.{key}").fail(f"expected a string, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _schedule(document: Any) -> RawSchedule:
    root = _object(document, "(the document)")
    schedule = _object(root.get("schedule"), "schedule")
    path = "schedule.conference"
    conference = _object(schedule.get("conference"), path)
    raw = RawSchedule(
        spot=_at(path),
        title=_string(conference, "title", path, required=True) or "",
        title_spot=_at(f"{path}.title"),
        acronym=_string(conference, "acronym", path) or "",
        time_zone=(_string(conference, "time_zone_name", path) or "").strip() or None,
        time_zone_spot=_at(f"{path}.time_zone_name"),
        start=_string(conference, "start", path),
        end=_string(conference, "end", path),
        url=_string(conference, "url", path),
        base_url=_string(schedule, "base_url", "schedule"),
    )
    for index, value in enumerate(_array(conference.get("tracks"), f"{path}.tracks")):
        where = f"{path}.tracks[{index}]"
        track = _object(value, where)
        name = _string(track, "name", where, required=True) or ""
        raw.tracks.append(RawTrack(name, _at(where), _string(track, "color", where), _string(track, "slug", where)))
    for index, value in enumerate(_array(conference.get("rooms"), f"{path}.rooms")):
        where = f"{path}.rooms[{index}]"
        room = _object(value, where)
        capacity = room.get("capacity")
        whole = int(capacity) if isinstance(capacity, int | float) and not isinstance(capacity, bool) else None
        name = _string(room, "name", where, required=True) or ""
        raw.rooms.append(RawRoom(name, _at(where), whole, _string(room, "guid", where)))
    for index, value in enumerate(_array(conference.get("days"), f"{path}.days")):
        _day(_object(value, f"{path}.days[{index}]"), f"{path}.days[{index}]", raw)
    return raw


def _day(day: dict[str, Any], path: str, raw: RawSchedule) -> None:
    when = _string(day, "date", path)
    day_date = parse_day(when, _at(f"{path}.date")) if when else None
    if day_date is not None:
        raw.day_dates.append(day_date)
    start_text = _string(day, "day_start", path)
    day_start = parse_moment(start_text, _at(f"{path}.day_start")) if start_text else None
    rooms = _object(day.get("rooms", {}), f"{path}.rooms")
    for room, events in rooms.items():
        where = f"{path}.rooms.{room}"
        for index, event in enumerate(_array(events, where)):
            raw.events.append(
                _event(_object(event, f"{where}[{index}]"), f"{where}[{index}]", room, day_date, day_start)
            )


def _event(event: dict[str, Any], path: str, room: str, day: date | None, day_start: datetime | None) -> RawEvent:
    values = {key: _string(event, key, path) for key in EVENT_TEXT_FIELDS}
    do_not_record = event.get("do_not_record")
    if do_not_record is not None and not isinstance(do_not_record, bool):
        raise _at(f"{path}.do_not_record").fail(f"expected true, false or null, got {_kind(do_not_record)}")
    raw = RawEvent(
        spot=_at(path),
        spots={},
        room=room,
        day_date=day,
        day_start=day_start,
        guid=_string(event, "guid", path),
        id=_string(event, "id", path),
        do_not_record=bool(do_not_record),
        title=values["title"],
        subtitle=values["subtitle"],
        type=values["type"],
        date=values["date"],
        start=values["start"],
        duration=values["duration"],
        end=values["end"],
        track=values["track"],
        language=values["language"],
        abstract=values["abstract"],
        description=values["description"],
    )
    for index, value in enumerate(_array(event.get("persons"), f"{path}.persons")):
        where = f"{path}.persons[{index}]"
        person = _object(value, where)
        name = _string(person, "name", where) or _string(person, "public_name", where)
        if not name:
            raise _at(f"{where}.name").fail("a person needs a name (or public_name)")
        raw.persons.append(
            RawPerson(
                name,
                _at(where),
                code=_string(person, "code", where),
                guid=_string(person, "guid", where),
                id=_string(person, "id", where),
                bio=_string(person, "biography", where),
                avatar=_string(person, "avatar", where),
                links=[("", url)] if (url := _string(person, "url", where)) else [],
            )
        )
        raw.persons[-1].links += _references(person.get("links"), f"{where}.links")
    raw.links = _references(event.get("links"), f"{path}.links")
    raw.attachments = _references(event.get("attachments"), f"{path}.attachments")
    for index, tag in enumerate(_array(event.get("tags"), f"{path}.tags")):
        if not isinstance(tag, str):
            raise _at(f"{path}.tags[{index}]").fail(f"expected a string, got {_kind(tag)}")
        raw.tags.append(tag)
    return raw


def _references(value: Any, path: str) -> list[tuple[str, str]]:
    """``(title, url)`` of C3VOC references (links and attachments); a missing or null list is empty."""
    found = []
    for index, item in enumerate(_array(value, path)):
        where = f"{path}[{index}]"
        reference = _object(item, where)
        found.append((_string(reference, "title", where) or "", _string(reference, "url", where, required=True) or ""))
    return found


def parse_document(document: Any) -> ProgrammeImport:
    """The programme in a decoded ``schedule.json`` document.

    Raises:
        Invalid: A missing or malformed field, an event that ends before it starts, a guid used
            twice; the message names the field path.
    """
    return build(_schedule(document))
