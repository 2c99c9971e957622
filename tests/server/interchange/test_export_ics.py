"""GET /api/schedule.ics: an iCalendar that calendar apps subscribe to and that follows moves and cancellations."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Timezone

from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.interchange.export_checks import calendar, events_by_url

Client = AppClient
MAKASSAR = ZoneInfo("Asia/Makassar")


async def sessions(client: Client) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in (await client.get("/api/sessions")).json()}


async def fetch(client: Client) -> dict[str, Any]:
    response = await client.get("/api/schedule.ics")
    assert response.status_code == 200
    return events_by_url(calendar(response.content))


async def test_every_session_is_an_event_with_a_stable_uid(client: Client) -> None:
    demo = await sessions(client)
    first = await fetch(client)
    assert set(first) == set(demo)
    for session_id, event in first.items():
        assert event["UID"] == f"{demo[session_id]['guid']}@kumpul"
    second = await fetch(client)
    assert {sid: e["UID"] for sid, e in second.items()} == {sid: e["UID"] for sid, e in first.items()}


async def test_calendar_names_itself_and_carries_the_event_zone(client: Client) -> None:
    parsed = calendar((await client.get("/api/schedule.ics")).content)
    assert parsed["X-WR-CALNAME"] == "Asia Region Anti-Trafficking Conference 2024"
    assert parsed["PRODID"].startswith("-//Kumpul//")
    assert parsed["VERSION"] == "2.0"
    zones = [component for component in parsed.walk() if isinstance(component, Timezone)]
    assert [str(zone["TZID"]) for zone in zones] == ["Asia/Makassar"]


async def test_an_event_says_where_what_and_when_in_the_event_zone(client: Client) -> None:
    event = (await fetch(client))["plenary-opening"]
    assert event.start == datetime(2024, 7, 23, 8, 30, tzinfo=MAKASSAR)
    assert event.end == datetime(2024, 7, 23, 10, 0, tzinfo=MAKASSAR)
    assert str(event.start.tzinfo) == "Asia/Makassar"
    assert str(event["SUMMARY"]).startswith("Opening plenary")
    assert str(event["LOCATION"]).startswith("Segara Plenary Hall, Ground floor")
    assert [str(c) for c in event.categories] == ["Collaboration & Networking", "Plenary"]
    assert str(event["URL"]) == "http://testserver.local/sessions/plenary-opening"
    description = str(event["DESCRIPTION"])
    assert "Leaders from NGO networks" in description
    assert "Speakers: Ayu Pratiwi (Jalan Pulang Foundation)" in description
    assert event["STATUS"] == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    assert event["LAST-MODIFIED"].dt == event["DTSTAMP"].dt


async def test_a_move_raises_the_sequence_and_the_new_time_shows(client: Client, tokens: Tokens) -> None:
    before = (await fetch(client))["plenary-opening"]
    response = await client.patch(
        "/api/admin/sessions/plenary-opening",
        json={"start": "2024-07-23T09:00:00+08:00", "end": "2024-07-23T10:30:00+08:00"},
        headers=tokens.header("editor"),
    )
    assert response.status_code == 200, response.text
    after = (await fetch(client))["plenary-opening"]
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.start == datetime(2024, 7, 23, 9, 0, tzinfo=MAKASSAR)
    assert after["LAST-MODIFIED"].dt >= before["LAST-MODIFIED"].dt  # iCalendar counts whole seconds


async def test_a_cancelled_session_stays_in_the_feed_as_cancelled(client: Client, tokens: Tokens) -> None:
    response = await client.patch(
        "/api/admin/sessions/plenary-opening", json={"status": "cancelled"}, headers=tokens.header("editor")
    )
    assert response.status_code == 200, response.text
    event = (await fetch(client))["plenary-opening"]
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert str(event["SUMMARY"]).startswith("Cancelled: ")


async def test_off_the_record_sessions_say_so(client: Client) -> None:
    demo = await sessions(client)
    events = await fetch(client)
    for session_id, session in demo.items():
        if session["recording"] == "off-the-record":
            assert "Off the record" in str(events[session_id]["DESCRIPTION"])
            assert "do not quote" in str(events[session_id]["DESCRIPTION"])
