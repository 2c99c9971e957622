"""frab / Pentabarf ``schedule.xml`` (as pretalx, frab and Open Event export it) read into a programme.

The parser never touches the network, loads no DTD and expands no entity; a document that
declares a DOCTYPE is refused outright, so "billion laughs" and external entities cannot work.
Problems name the line they are on.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from lxml import etree

from server.errors import Invalid
from server.interchange.frab_common import (
    EVENT_TEXT_FIELDS,
    RawEvent,
    RawPerson,
    RawRoom,
    RawSchedule,
    RawTrack,
    Spot,
    build,
    is_true,
    parse_day,
    parse_moment,
)
from server.schemas.programme import ProgrammeImport

_TRAILING_POSITION = re.compile(r", line \d+, column \d+$")
#: The advice for programmers that ends libxml2's messages about its limits (``, use XML_PARSE_HUGE option``).
_ADVICE = re.compile(r",? (use|try) XML_PARSE_HUGE.*$")


def _parser() -> etree.XMLParser:
    """A parser that reads only the bytes it is given: no network, no DTD, no entity expansion."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def _name(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str) and _name(child) == name]


def _child(element: etree._Element, name: str) -> etree._Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: etree._Element | None) -> str | None:
    return None if element is None else "".join(element.itertext())


class _Reader:
    def __init__(self, tree: etree._ElementTree) -> None:
        self.tree = tree

    def spot(self, element: etree._Element, path: str | None = None) -> Spot:
        return Spot(f"line {element.sourceline}, <{_name(element)}>", path or self.tree.getpath(element), xml=True)

    def schedule(self, root: etree._Element) -> RawSchedule:
        conference = _child(root, "conference")
        if conference is None:
            raise self.spot(root).fail("a schedule needs a <conference> element")
        title = _child(conference, "title")
        if title is None:
            raise self.spot(conference).fail("the conference needs a <title>")
        zone = _child(conference, "time_zone_name")
        raw = RawSchedule(
            spot=self.spot(conference),
            title=_text(title) or "",
            title_spot=self.spot(title),
            acronym=_text(_child(conference, "acronym")) or "",
            time_zone=(_text(zone) or "").strip() or None,
            time_zone_spot=self.spot(zone) if zone is not None else None,
            start=_text(_child(conference, "start")),
            end=_text(_child(conference, "end")),
            url=_text(_child(conference, "url")),
            base_url=_text(_child(conference, "base_url")) or _text(_child(root, "base_url")),
            venue=_text(_child(conference, "venue")) or "",
        )
        for track in _children(conference, "track"):
            name = track.get("name") or _text(track) or ""
            raw.tracks.append(RawTrack(name, self.spot(track), colour=track.get("color"), slug=track.get("slug")))
        for day in _children(root, "day"):
            self.day(day, raw)
        return raw

    def day(self, day: etree._Element, raw: RawSchedule) -> None:
        spot = self.spot(day)
        day_start = parse_moment(day.get("start", ""), spot.child("start")) if day.get("start") else None
        when = day.get("date") or (day.get("start") or "")[:10]
        day_date = parse_day(when, spot.child("date")) if when else None
        if day_date is not None:
            raw.day_dates.append(day_date)
        for room in _children(day, "room"):
            room_spot = self.spot(room)
            name = (room.get("name") or "").strip()
            if not name:
                raise room_spot.fail("a <room> needs a name attribute")
            raw.rooms.append(RawRoom(name, room_spot, guid=room.get("guid")))
            for event in _children(room, "event"):
                raw.events.append(self.event(event, name, day_date, day_start))

    def event(self, element: etree._Element, room: str, day: date | None, day_start: datetime | None) -> RawEvent:
        path = self.tree.getpath(element)
        spot = self.spot(element, path)
        spots: dict[str, Spot] = {}
        values: dict[str, str] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            key = _name(child)
            spots[key] = Spot(f"line {child.sourceline}, <{key}>", f"{path}/{key}", xml=True)
            if key in EVENT_TEXT_FIELDS:
                values[key] = _text(child) or ""
        for attribute in ("guid", "id", "code"):
            if element.get(attribute):
                spots[attribute] = spot.child(attribute)
        raw = RawEvent(
            spot=spot,
            spots=spots,
            room=room,
            day_date=day,
            day_start=day_start,
            guid=element.get("guid"),
            id=element.get("id"),
            title=values.get("title"),
            subtitle=values.get("subtitle"),
            type=values.get("type"),
            date=values.get("date"),
            start=values.get("start"),
            duration=values.get("duration"),
            end=values.get("end"),
            track=values.get("track"),
            language=values.get("language"),
            abstract=values.get("abstract"),
            description=values.get("description"),
        )
        persons = _child(element, "persons")
        for person in _children(persons, "person") if persons is not None else []:
            raw.persons.append(
                RawPerson(
                    _text(person) or "",
                    self.spot(person, f"{path}/persons/person[{len(raw.persons) + 1}]"),
                    code=person.get("code"),
                    guid=person.get("guid"),
                    id=person.get("id"),
                )
            )
        recording = _child(element, "recording")
        raw.do_not_record = is_true(_text(_child(recording, "optout")) if recording is not None else None) or is_true(
            _text(_child(element, "do_not_record"))
        )
        for kind, item in (("links", "link"), ("attachments", "attachment")):
            holder = _child(element, kind)
            found = (
                [(_text(one) or "", one.get("href") or "") for one in _children(holder, item)]
                if holder is not None
                else []
            )
            getattr(raw, kind).extend(found)
        tags = _child(element, "tags")
        raw.tags = [_text(tag) or "" for tag in _children(tags, "tag")] if tags is not None else []
        return raw


def _skip_space(data: bytes, at: int) -> int:
    while at < len(data) and data[at] in b" \t\r\n":
        at += 1
    return at


def _doctype_line(data: bytes) -> int | None:
    """The line of a DOCTYPE in the prolog (before the root element), or None.

    Only the prolog is looked at, so a schedule that merely mentions "<!DOCTYPE" in its text is fine.
    """
    at = _skip_space(data, 0)
    while True:
        if data.startswith(b"<?", at):
            closing = b"?>"
        elif data.startswith(b"<!--", at):
            closing = b"-->"
        elif data[at : at + 9].upper() == b"<!DOCTYPE":
            return data.count(b"\n", 0, at) + 1
        else:
            return None
        end = data.find(closing, at)
        if end < 0:
            return None
        at = _skip_space(data, end + len(closing))


def _syntax_error(error: etree.XMLSyntaxError) -> Invalid:
    line = error.position[0] if error.position else error.lineno
    message = _TRAILING_POSITION.sub("", error.msg or str(error))
    if error.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
        # The parser's own limits (elements nested more than 256 deep, a text node over 10 MB): far past any
        # schedule. Its message ends with advice for programmers (XML_PARSE_HUGE) that is dropped.
        column = error.position[1] if error.position else 0
        if "Text node too long" in message:
            detail = "one text in it is longer than 10 MB, and a schedule's texts are far shorter"
        elif message.startswith("Excessive depth"):
            detail = f"elements are nested too deeply ({_ADVICE.sub('', message)})"
        else:
            detail = f"a limit is exceeded ({_ADVICE.sub('', message)})"
        return Invalid(
            f"line {line}, column {column}: the XML is beyond what a schedule needs: {detail}",
            field=f"line {line}",
        )
    return Invalid(f"line {line}: the XML is not well-formed: {message}", field=f"line {line}")


def read_tree(data: bytes) -> etree._ElementTree:
    """Parse ``data`` safely.

    Raises:
        Invalid: Not well-formed XML (with its line), or a document that declares a DOCTYPE.
    """
    line = _doctype_line(data.removeprefix(b"\xef\xbb\xbf"))
    if line is None:
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as error:
            raise _syntax_error(error) from None
        tree = root.getroottree()
        if not tree.docinfo.doctype and tree.docinfo.internalDTD is None:
            return tree
        line = 1  # declared in a way the prolog scan did not see (another encoding); still refused
    raise Invalid(
        f"line {line}: a schedule.xml must not declare a DOCTYPE: its entities could expand without end "
        "or read local files, so the file is refused unread",
        field=f"line {line}",
    )


def parse(data: bytes) -> ProgrammeImport:
    """The programme in a frab ``schedule.xml``.

    Raises:
        Invalid: Malformed XML, a missing element or attribute, a bad value, an event that ends
            before it starts, a guid used twice; the message names the line.
    """
    tree = read_tree(data)
    root = tree.getroot()
    if _name(root) != "schedule":
        raise Invalid(
            f"line {root.sourceline}: the root element is <{_name(root)}>; a frab schedule.xml starts with <schedule>",
            field="/" + _name(root),
        )
    return build(_Reader(tree).schedule(root))
