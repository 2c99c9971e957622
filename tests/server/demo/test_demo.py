"""The demo conference, on its 2024 dates or moved so that it is running today."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from server.demo import demo_bytes, demo_programme, shift_to


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def test_the_demo_keeps_its_2024_dates_unless_asked() -> None:
    programme = demo_programme()
    assert (programme.event.start_date, programme.event.end_date) == (date(2024, 7, 23), date(2024, 7, 25))


def test_moved_to_today_today_is_its_second_day_and_every_session_keeps_its_local_time() -> None:
    today = date(2026, 12, 7)
    original, moved = demo_programme(), demo_programme(today)
    zone = original.event.time_zone
    assert (moved.event.start_date, moved.event.end_date) == (date(2026, 12, 6), date(2026, 12, 8))
    for before, after in zip(original.sessions, moved.sessions, strict=True):
        assert before.id == after.id
        for old, new in ((before.start, after.start), (before.end, after.end)):
            old_local, new_local = _local(old, zone), _local(new, zone)
            assert new_local.time() == old_local.time(), f"{before.id} keeps its local time"
            assert (new_local.date() - old_local.date()).days == (today - date(2024, 7, 24)).days
    days = sorted({_local(s.start, zone).date() for s in moved.sessions})
    assert days == [date(2026, 12, 6), today, date(2026, 12, 8)]


def test_whole_days_are_moved_in_the_event_zone_across_a_daylight_saving_change() -> None:
    data: dict[str, Any] = msgspec.json.decode(demo_bytes())
    data["event"].update(timeZone="Europe/Berlin", startDate="2026-03-27", endDate="2026-03-29")
    data["sessions"] = [
        {**data["sessions"][0], "start": "2026-03-27T09:00:00+01:00", "end": "2026-03-27T10:00:00+01:00"}
    ]
    # Day 2 is Sunday 29 March 2026, the day clocks go forward: 09:00 there is +02:00.
    moved = shift_to(data, date(2026, 3, 29))
    assert moved["event"]["startDate"] == "2026-03-28"
    assert moved["sessions"][0]["start"] == "2026-03-28T09:00:00+01:00"
    moved = shift_to(data, date(2026, 3, 31))
    assert moved["sessions"][0]["start"] == "2026-03-30T09:00:00+02:00", "09:00 local, in summer time"
    assert data["sessions"][0]["start"] == "2026-03-27T09:00:00+01:00", "the original is left as it was"
