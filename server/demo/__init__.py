"""The demo conference (modelled on ARAT 2024) that ``make run`` serves and the tests use."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from server.schemas.programme import ProgrammeImport
from server.schemas.venue import InfoPage

DEMO_FILE = "arat2024.json"
INFO_PAGES_FILE = "info_pages.json"
#: The demo is shown on its second day (of three) when shifted to today: sessions before, now and after.
SHOWN_DAY = 2


def demo_bytes() -> bytes:
    """The demo programme file in Kumpul's import format."""
    return (resources.files("server.demo") / DEMO_FILE).read_bytes()


def demo_info_pages() -> list[InfoPage]:
    """The demo conference's Info pages: code of conduct, safeguarding contact, emergency numbers, and the rest."""
    return msgspec.json.decode((resources.files("server.demo") / INFO_PAGES_FILE).read_bytes(), type=list[InfoPage])


def demo_programme(today: date | None = None) -> ProgrammeImport:
    """The demo programme, decoded and validated.

    Args:
        today: Move the conference by whole days so that ``today`` is its second day; None keeps its 2024 dates.
    """
    if today is None:
        return msgspec.json.decode(demo_bytes(), type=ProgrammeImport)
    data: dict[str, Any] = msgspec.json.decode(demo_bytes())
    return msgspec.convert(shift_to(data, today), type=ProgrammeImport)


def today_at_the_event() -> date:
    """Today's date in the demo event's time zone (where it may already be tomorrow, or still yesterday)."""
    zone: str = msgspec.json.decode(demo_bytes())["event"]["timeZone"]
    return datetime.now(ZoneInfo(zone)).date()


def shift_to(data: dict[str, Any], today: date) -> dict[str, Any]:
    """Move a programme (import format) by whole days in its time zone, so that ``today`` is its second day.

    Sessions keep their local times (in the event's zone, across any daylight-saving change). ``data`` is left
    as it is; the moved copy is returned.
    """
    data = copy.deepcopy(data)
    event = data["event"]
    zone = ZoneInfo(event["timeZone"])
    first = date.fromisoformat(event["startDate"])
    days = (today - timedelta(days=SHOWN_DAY - 1) - first).days
    for key in ("startDate", "endDate"):
        if event.get(key):
            event[key] = (date.fromisoformat(event[key]) + timedelta(days=days)).isoformat()
    for session in data["sessions"]:
        for key in ("start", "end"):
            if session.get(key):
                session[key] = _shift_moment(session[key], zone, days)
    return data


def _shift_moment(text: str, zone: ZoneInfo, days: int) -> str:
    local = datetime.fromisoformat(text).astimezone(zone)
    wall = local.replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=zone).isoformat()
