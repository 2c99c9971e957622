"""Programme changes as an Atom feed (RFC 4287): sessions added, moved, re-roomed, cancelled or removed.

One entry per change, newest first, each with a stable ``urn:uuid`` id (from the database's epoch and the
change's number), the time it was made, the session's title and what changed in plain words, with times in
the event's own zone. Feed readers and other schedule tools subscribe to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from lxml import etree

from server import __version__
from server.interchange.timetable import clean, derived_uuid, zone_of
from server.schemas.programme import Programme
from server.storage.changes import ChangeRow

ATOM = "http://www.w3.org/2005/Atom"
_E = f"{{{ATOM}}}"

_HEADLINES = {
    "added": "Added",
    "moved": "Moved",
    "re-roomed": "New room",
    "cancelled": "Cancelled",
    "removed": "Removed",
}


def export_atom(programme: Programme, rows: Sequence[ChangeRow], base_url: str, epoch: str) -> bytes:
    """The Atom feed of ``rows`` (newest first), linking to the app at ``base_url``, UTF-8."""
    event = programme.event
    zone = zone_of(event)
    rooms = {room.id: clean(room.name) for room in programme.rooms}
    feed = etree.Element(f"{_E}feed", nsmap={None: ATOM})
    name = clean(event.name) if event else "Kumpul"
    _text(feed, "id", f"urn:uuid:{derived_uuid('changes', epoch)}")
    _text(feed, "title", f"{name}: programme changes")
    _text(feed, "updated", _when(rows[0].at) if rows else _epoch_start())
    author = etree.SubElement(feed, f"{_E}author")
    _text(author, "name", name)
    generator = _text(feed, "generator", "Kumpul")
    generator.set("version", __version__)
    etree.SubElement(feed, f"{_E}link", rel="self", href=f"{base_url}/api/changes.atom", type="application/atom+xml")
    etree.SubElement(feed, f"{_E}link", rel="alternate", href=f"{base_url}/programme", type="text/html")
    for row in rows:
        entry = etree.SubElement(feed, f"{_E}entry")
        _text(entry, "id", f"urn:uuid:{derived_uuid('change', epoch, str(row.id))}")
        _text(entry, "title", f"{_HEADLINES.get(row.change, row.change)}: {clean(row.title)}")
        _text(entry, "updated", _when(row.at))
        etree.SubElement(entry, f"{_E}category", term=row.change)
        if row.change != "removed":
            href = f"{base_url}/sessions/{quote(row.session_id, safe='')}"
            etree.SubElement(entry, f"{_E}link", rel="alternate", href=href, type="text/html")
        _text(entry, "summary", describe(row, rooms, zone.key))
    body: bytes = etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return body


def describe(row: ChangeRow, rooms: dict[str, str], zone: str) -> str:
    """What changed, in one plain sentence: ``Moved from Tue 10:00-11:00 to Tue 11:30-12:30 (Asia/Jakarta).``"""

    def room(room_id: str | None) -> str:
        return rooms.get(room_id or "", room_id or "?")

    was = _slot(row.old_start, row.old_end, zone)
    now = _slot(row.new_start, row.new_end, zone)
    if row.change == "added":
        return f"Added: {now} in {room(row.new_room)} ({zone})."
    if row.change == "moved":
        return f"Moved from {was} to {now} ({zone})."
    if row.change == "re-roomed":
        return f"Now in {room(row.new_room)} (was {room(row.old_room)}), {now} ({zone})."
    if row.change == "cancelled":
        return f"Cancelled: was {was} in {room(row.old_room)} ({zone})."
    return f"Removed from the programme: was {was} in {room(row.old_room)} ({zone})."


def _slot(start: str | None, end: str | None, zone: str) -> str:
    if not start or not end:
        return "?"
    tz = ZoneInfo(zone)
    begin = datetime.fromisoformat(start).astimezone(tz)
    finish = datetime.fromisoformat(end).astimezone(tz)
    return f"{begin:%a %d %b %H:%M}-{finish:%H:%M}"


def _when(at: str) -> str:
    """An RFC 3339 time, as Atom wants: ``2024-11-20T03:04:05Z``."""
    return datetime.fromisoformat(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch_start() -> str:
    return "1970-01-01T00:00:00Z"


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, f"{_E}{tag}")
    element.text = clean(text)
    return element
