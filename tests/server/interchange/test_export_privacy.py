"""Anonymous speakers are their pseudonym alone in every export, even if a hidden field were still stored."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from server.demo import demo_bytes
from server.interchange.c3voc_export import export_json
from server.interchange.frab_export import export_xml
from server.interchange.ics import export_ics
from server.interchange.timetable import ScheduleSource
from server.schemas.programme import Programme
from server.storage.programme import Revision
from tests.asgi import AppClient
from tests.server.interchange.export_checks import (
    calendar,
    events_by_url,
    json_events,
    valid_json,
    valid_xml,
    xml_events,
)

Client = AppClient
EXPORTS = {"ics": export_ics, "xml": export_xml, "json": export_json}
#: What an anonymous speaker must never show, planted in every field the pseudonym does not cover.
PLANTED = {
    "organisation": "Planted Shelter Foundation",
    "role": "Planted case worker",
    "country": "Plantedland",
    "photoUrl": "https://photos.example/planted-face.jpg",
    "links": [{"title": "Planted profile", "url": "https://social.example/planted"}],
    "bio": "Planted biography that names a home village.",
    "pronouns": "planted/pronouns",
}


def leaky_source() -> tuple[ScheduleSource, list[dict[str, Any]]]:
    """The demo with every anonymous speaker's hidden fields filled in, as if storage had not erased them."""
    data = json.loads(demo_bytes())
    anonymous = [speaker for speaker in data["speakers"] if speaker["anonymous"]]
    for speaker in anonymous:
        speaker.update(PLANTED)
    programme = msgspec.convert({**data, "cursor": "0123456789ab.1", "announcements": []}, Programme)
    revisions = {session.id: Revision(0, "2024-07-01T00:00:00.000Z") for session in programme.sessions}
    return ScheduleSource(programme, revisions, "https://kumpul.example"), anonymous


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_no_hidden_field_of_an_anonymous_speaker_reaches_an_export(fmt: str) -> None:
    source, anonymous = leaky_source()
    body = EXPORTS[fmt](source)
    text = body.decode()
    if fmt == "ics":
        calendar(body)
    unfolded = text.replace("\r\n ", "")  # iCalendar folds long lines
    for value in ("Planted", "planted", "photos.example", "social.example"):
        assert value not in unfolded, f"{value!r} leaked into the {fmt} export"
    for speaker in anonymous:
        assert speaker["name"] in unfolded


async def test_anonymous_speakers_appear_by_pseudonym_alone(client: Client) -> None:
    programme = (await client.get("/api/programme")).json()
    anonymous = {s["id"]: s for s in programme["speakers"] if s["anonymous"]}
    assert anonymous, "the demo has anonymous speakers"
    pseudonyms = {s["name"] for s in anonymous.values()}
    hidden = [
        value
        for speaker in anonymous.values()
        for value in (speaker["bio"], speaker["pronouns"], speaker["organisation"], speaker["country"])
        if value
    ]
    their_sessions = [s for s in programme["sessions"] if set(s["speakerIds"]) & set(anonymous)]
    assert their_sessions

    xml_body = (await client.get("/api/schedule.xml")).content
    json_body = (await client.get("/api/schedule.json")).content
    ics_body = (await client.get("/api/schedule.ics")).content
    ics_text = ics_body.decode().replace("\r\n ", "")
    for body in (xml_body.decode(), json_body.decode(), ics_text):
        for value in hidden:
            assert value not in body

    persons = [p for e in xml_events(valid_xml(xml_body)) for p in e.iter("person") if p.text in pseudonyms]
    assert persons
    # Only the random integer id frab clients key people on, never the guid derived from the speaker's id.
    assert all(set(person.attrib) == {"id"} and person.attrib["id"].isdigit() for person in persons)
    json_persons = [p for e in json_events(valid_json(json_body)) for p in e["persons"] if p["name"] in pseudonyms]
    assert json_persons
    assert all(set(person) == {"name", "id"} and isinstance(person["id"], int) for person in json_persons)
    events = events_by_url(calendar(ics_body))
    for session in their_sessions:
        description = str(events[session["id"]]["DESCRIPTION"])
        for speaker_id in set(session["speakerIds"]) & set(anonymous):
            assert f"{anonymous[speaker_id]['name']} (pseudonym)" in description
