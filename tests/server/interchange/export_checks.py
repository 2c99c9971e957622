"""Checks the export tests share: the published schemas (copied beside this file, see SCHEMAS.md) and parsers."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from icalendar import Calendar
from lxml import etree

HERE = Path(__file__).resolve().parent
XSD = HERE / "schedule.xml.xsd"
JSON_SCHEMA = HERE / "schedule.schema.json"


@cache
def _xml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(XSD))


@cache
def _json_validator() -> jsonschema.Draft6Validator:
    schema = json.loads(JSON_SCHEMA.read_text())
    return jsonschema.Draft6Validator(schema, format_checker=jsonschema.Draft6Validator.FORMAT_CHECKER)


def valid_xml(body: bytes) -> etree._Element:
    """The parsed schedule.xml, after checking it against the C3VOC XSD (the errors name the lines)."""
    root = etree.fromstring(body)
    schema = _xml_schema()
    assert schema.validate(root), "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
    return root


def valid_json(body: bytes) -> dict[str, Any]:
    """The parsed schedule.json, after checking it against the C3VOC JSON schema."""
    document: dict[str, Any] = json.loads(body)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _json_validator().iter_errors(document)]
    assert not errors, "\n".join(errors[:20])
    _check_formats(document)
    return document


def _check_formats(document: dict[str, Any]) -> None:
    """The schema's ``format`` keywords that jsonschema checks only with optional packages: uuid, date-time, uri."""
    conference = document["schedule"]["conference"]
    for room in conference["rooms"]:
        uuid.UUID(room["guid"])
    for day in conference["days"]:
        date.fromisoformat(day["date"])
        for moment in (day["day_start"], day["day_end"]):
            assert datetime.fromisoformat(moment).tzinfo is not None, moment
    for event in json_events(document):
        uuid.UUID(event["guid"])
        assert datetime.fromisoformat(event["date"]).tzinfo is not None, event["date"]
        assert urlsplit(event["url"]).scheme in ("http", "https"), event["url"]
        for person in event["persons"]:
            assert isinstance(person.get("id"), int), person
            if "guid" in person:
                uuid.UUID(person["guid"])


def calendar(body: bytes) -> Calendar:
    """The parsed iCalendar (icalendar refuses what does not parse)."""
    parsed = Calendar.from_ical(body)
    assert isinstance(parsed, Calendar)
    return parsed


def events_by_url(parsed: Calendar) -> dict[str, Any]:
    """The calendar's events by the session id at the end of their URL."""
    return {str(event["URL"]).rsplit("/", 1)[-1]: event for event in parsed.events}


def xml_events(root: etree._Element) -> list[etree._Element]:
    return list(root.iter("event"))


def json_events(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        event
        for day in document["schedule"]["conference"]["days"]
        for events in day["rooms"].values()
        for event in events
    ]
