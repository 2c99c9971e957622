"""The programme as a frab / Pentabarf ``schedule.xml`` (what Giggity, ConfClerk and EventFahrplan read).

Valid against the C3VOC XML schema (``tests/server/interchange/schedule.xml.xsd``). Cancelled
sessions are left out; sessions that must not be recorded carry ``<recording><optout>true``.
"""

from __future__ import annotations

from lxml import etree

from server import __version__
from server.interchange.timetable import (
    ScheduleSource,
    Slot,
    Timetable,
    build_timetable,
    clean,
    do_not_record,
    slug,
)

#: frab's track slug: a letter first, then letters, digits and '-'.
_TRACK_SLUG_START = "abcdefghijklmnopqrstuvwxyz"


def export_xml(source: ScheduleSource) -> bytes:
    """The frab schedule XML of the programme, UTF-8 with an XML declaration.

    Raises:
        NoEvent: The programme has no event.
    """
    root = schedule_element(build_timetable(source))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def schedule_element(table: Timetable) -> etree._Element:
    """The ``<schedule>`` element of the timetable."""
    event = table.event
    root = etree.Element("schedule")
    etree.SubElement(root, "generator", name="Kumpul", version=__version__)
    _text(root, "url", f"{table.base_url}/api/schedule.xml")
    _text(root, "version", table.version)
    conference = etree.SubElement(root, "conference")
    _text(conference, "title", clean(event.name))
    _text(conference, "acronym", table.acronym)
    _text(conference, "start", event.start_date.isoformat())
    _text(conference, "end", event.end_date.isoformat())
    _text(conference, "days", str(len(table.days)))
    _text(conference, "timeslot_duration", table.timeslot)
    _text(conference, "base_url", f"{table.base_url}/")
    _text(conference, "url", event.url or f"{table.base_url}/")
    _text(conference, "time_zone_name", event.time_zone)
    for track in table.tracks:
        element = _text(conference, "track", clean(track.name))
        element.set("name", clean(track.name))
        element.set("color", track.colour)
        track_slug = slug(track.id)
        if len(track_slug) >= 2 and track_slug[0] in _TRACK_SLUG_START:
            element.set("slug", track_slug)
    for day in table.days:
        day_element = etree.SubElement(
            root,
            "day",
            index=str(day.index),
            date=day.date.isoformat(),
            start=day.start.isoformat(),
            end=day.end.isoformat(),
        )
        for room in day.rooms:
            room_element = etree.SubElement(day_element, "room", name=room.room.name, guid=room.room.guid)
            for slot in room.slots:
                _event(table, room_element, slot)
    return root


def _event(table: Timetable, parent: etree._Element, slot: Slot) -> None:
    session = slot.session
    element = etree.SubElement(parent, "event", id=str(slot.number), guid=slot.guid)
    _text(element, "room", slot.room_name)
    _text(element, "title", clean(session.title))
    _text(element, "subtitle", clean(session.subtitle))
    _text(element, "type", slot.format_name)
    _text(element, "date", slot.start.isoformat())
    _text(element, "start", slot.start_text)
    _text(element, "duration", slot.duration_text)
    _text(element, "abstract", clean(session.abstract))
    _text(element, "slug", slot.slug)
    _text(element, "track", clean(slot.track.name) if slot.track else "")
    persons = etree.SubElement(element, "persons")
    for item in slot.persons:
        person = _text(persons, "person", item.name)
        if item.number is not None:  # frab clients key people on it: random, so anonymous speakers keep it
            person.set("id", str(item.number))
        if not item.anonymous:  # an anonymous speaker is their pseudonym alone
            person.set("guid", table.speaker_guid(item))
    if slot.language:
        _text(element, "language", slot.language)
    _text(element, "description", slot.description)
    recording = etree.SubElement(element, "recording")
    _text(recording, "license", "")
    _text(recording, "optout", "true" if do_not_record(session) else "false")
    links = etree.SubElement(element, "links")
    for title, url in slot.links:
        _text(links, "link", title).set("href", url)
    attachments = etree.SubElement(element, "attachments")
    for attachment in session.attachments:
        _text(attachments, "attachment", clean(attachment.title)).set("href", attachment.url)
    _text(element, "url", slot.url)


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element
