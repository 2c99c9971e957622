"""What independent schedule clients need of the exports: people keyed by an integer id, JSON without nulls or
keys the C3VOC conversion refuses, and times that stay right across daylight-saving changes."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
import vobject

from server.app import create_app
from server.demo import demo_programme
from server.schemas.programme import ProgrammeImport
from server.services.auth import AuthService, Role
from server.services.programme import ProgrammeService
from server.settings import Settings
from tests.asgi import AppClient, app_client
from tests.postgres import NewDatabase
from tests.server.interchange.export_checks import calendar, json_events, valid_json, valid_xml, xml_events

Client = AppClient


def _xml_people(body: bytes) -> list[tuple[str, str, int]]:
    """``(event guid, name, person id)`` of every ``<person>`` of the XML export."""
    found = []
    for event in xml_events(valid_xml(body)):
        for person in event.iter("person"):
            assert person.get("id") is not None, f"<person>{person.text}</person> has no id"
            found.append((event.get("guid") or "", person.text or "", int(person.get("id") or "")))
    return found


async def _numbers_by_speaker(client: Client) -> dict[str, int]:
    """Each speaker's person id in the XML export, checked to be one id per speaker and one speaker per id."""
    programme = (await client.get("/api/programme")).json()
    speakers = {s["id"]: s["name"] for s in programme["speakers"]}
    by_guid = {s["guid"]: s for s in programme["sessions"]}
    numbers: dict[str, set[int]] = defaultdict(set)
    for guid, name, number in _xml_people((await client.get("/api/schedule.xml")).content):
        session = by_guid[guid]
        (speaker_id,) = [sid for sid in session["speakerIds"] if speakers[sid] == name]
        numbers[speaker_id].add(number)
    assert all(len(found) == 1 for found in numbers.values()), "a speaker has several person ids"
    flat = {speaker_id: next(iter(found)) for speaker_id, found in numbers.items()}
    assert len(set(flat.values())) == len(flat), "two speakers share a person id"
    return flat


async def test_every_person_has_an_integer_id_per_speaker_in_xml_and_json(client: Client) -> None:
    numbers = await _numbers_by_speaker(client)
    programme = (await client.get("/api/programme")).json()
    speaking = {sid for s in programme["sessions"] if s["status"] == "scheduled" for sid in s["speakerIds"]}
    assert set(numbers) == speaking
    assert all(0 < number < 2**31 for number in numbers.values())
    speakers = {s["id"]: s["name"] for s in programme["speakers"]}
    by_name = {speakers[sid]: number for sid, number in numbers.items()}
    document = valid_json((await client.get("/api/schedule.json")).content)
    persons = [person for event in json_events(document) for person in event["persons"]]
    assert persons
    assert all(person["id"] == by_name[person["name"]] for person in persons)


async def test_person_ids_stay_across_edits_and_come_from_no_name(
    client: Client, tmp_path: Path, new_database: NewDatabase
) -> None:
    before = await _numbers_by_speaker(client)
    changed = demo_programme()
    renamed = changed.speakers[0]
    changed.speakers[0] = msgspec.structs.replace(renamed, name=f"{renamed.name} Jr")
    programme: ProgrammeService = client.app.state.programme
    await programme.import_programme(changed)
    assert await _numbers_by_speaker(client) == before

    # The same programme in another database: the same speakers, ids and names, and other numbers.
    with new_database() as url:
        settings = Settings(db_path=tmp_path / "other" / "kumpul.db", database_url=url)
        async with app_client(create_app(settings)) as other:
            await other.app.state.programme.import_programme(demo_programme())
            elsewhere = await _numbers_by_speaker(other)
    assert set(elsewhere) == set(before)
    assert all(elsewhere[sid] != before[sid] for sid in before)


async def test_json_export_has_no_null_text_and_no_keys_the_xml_conversion_refuses(client: Client) -> None:
    document = valid_json((await client.get("/api/schedule.json")).content)
    conference = document["schedule"]["conference"]
    assert "description" not in conference
    events = json_events(document)
    assert any(not event["track"] for event in events), "the demo has sessions without a track"
    for event in events:
        assert "end" not in event
        for key in ("title", "subtitle", "abstract", "description", "track", "language", "type", "room"):
            assert isinstance(event[key], str), f"{key} of {event['guid']} is {event[key]!r}"


# -- daylight-saving changes -------------------------------------------------------------------------------

BERLIN = "Europe/Berlin"
#: (session id, start, end): the night clocks go back (03:00 CEST -> 02:00 CET) and the night they go forward.
AUTUMN = [
    ("across-fall-back", "2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+01:00"),  # two real hours
    ("first-repeat", "2026-10-25T02:10:00+02:00", "2026-10-25T02:40:00+02:00"),
    ("second-repeat", "2026-10-25T02:15:00+01:00", "2026-10-25T02:45:00+01:00"),
]
SPRING = [
    ("across-spring-forward", "2026-03-29T01:00:00+01:00", "2026-03-29T04:00:00+02:00"),  # two real hours
    ("after-the-gap", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"),
]


def _dst_programme(day: str, sessions: list[tuple[str, str, str]]) -> ProgrammeImport:
    return msgspec.convert(
        {
            "event": {"name": "Night Shift Camp", "timeZone": BERLIN, "startDate": day, "endDate": day},
            "rooms": [{"id": "room-hall", "name": "Hall"}],
            "formats": [{"id": "talk", "name": "Talk"}],
            "speakers": [{"id": "spk-night", "name": "Night Owl"}],
            "sessions": [
                {
                    "id": sid,
                    "guid": f"00000000-0000-4000-8000-{index:012d}",
                    "title": f"Session {sid}",
                    "start": start,
                    "end": end,
                    "roomId": "room-hall",
                    "format": "talk",
                    "speakerIds": ["spk-night"],
                }
                for index, (sid, start, end) in enumerate(sessions, start=1)
            ],
        },
        ProgrammeImport,
    )


def _instants(sessions: list[tuple[str, str, str]]) -> dict[str, tuple[datetime, datetime]]:
    return {
        f"Session {sid}": (datetime.fromisoformat(start).astimezone(UTC), datetime.fromisoformat(end).astimezone(UTC))
        for sid, start, end in sessions
    }


@pytest.fixture(params=["autumn", "spring"])
async def dst(request: pytest.FixtureRequest, empty_client: Client) -> tuple[Client, list[tuple[str, str, str]]]:
    """The demo's server holding a night with a daylight-saving change, and that night's sessions."""
    day, sessions = ("2026-10-25", AUTUMN) if request.param == "autumn" else ("2026-03-29", SPRING)
    await empty_client.app.state.programme.import_programme(_dst_programme(day, sessions))
    return empty_client, sessions


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


async def test_durations_are_the_time_that_really_passes(dst: tuple[Client, list[tuple[str, str, str]]]) -> None:
    client, sessions = dst
    expected = {title: (end - start) // timedelta(minutes=1) for title, (start, end) in _instants(sessions).items()}
    xml = {
        e.findtext("title"): _minutes(e.findtext("duration") or "")
        for e in xml_events(valid_xml((await client.get("/api/schedule.xml")).content))
    }
    document = valid_json((await client.get("/api/schedule.json")).content)
    as_json = {event["title"]: _minutes(event["duration"]) for event in json_events(document)}
    assert xml == expected
    assert as_json == expected


async def test_calendar_parsers_agree_on_every_instant(dst: tuple[Client, list[tuple[str, str, str]]]) -> None:
    client, sessions = dst
    body = (await client.get("/api/schedule.ics")).content
    expected = _instants(sessions)
    by_icalendar = {
        str(event["SUMMARY"]): (event.decoded("DTSTART").astimezone(UTC), event.decoded("DTEND").astimezone(UTC))
        for event in calendar(body).events
    }
    by_vobject = {
        event.summary.value: (event.dtstart.value.astimezone(UTC), event.dtend.value.astimezone(UTC))
        for event in vobject.readOne(body.decode()).vevent_list
    }
    assert by_icalendar == expected
    assert by_vobject == expected


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_schedules_round_trip_across_the_change(
    dst: tuple[Client, list[tuple[str, str, str]]], fmt: str, tmp_path: Path, new_database: NewDatabase
) -> None:
    client, sessions = dst
    exported = (await client.get(f"/api/schedule.{fmt}")).content
    with new_database() as url:
        settings = Settings(db_path=tmp_path / "copy" / "kumpul.db", database_url=url)
        async with app_client(create_app(settings)) as copy:
            auth: AuthService = copy.app.state.auth
            _, token = await auth.add_organiser("importer", Role.EDITOR)
            headers = {"Authorization": f"Bearer {token}"}
            imported = await copy.post("/api/admin/import", content=exported, headers=headers)
            assert imported.status_code == 200, imported.text
            document = (await copy.get("/api/programme")).json()
    back = {
        s["title"]: (
            datetime.fromisoformat(s["start"]).astimezone(UTC),
            datetime.fromisoformat(s["end"]).astimezone(UTC),
        )
        for s in document["sessions"]
    }
    assert back == _instants(sessions)
