"""Independent schedule clients read Kumpul's exports: schedule-convert (frab XML) and down-frab-videos (JSON).

Both run in this process on the exported bytes, with the network shut: neither may fetch anything.
"""

from __future__ import annotations

import io
import json
import socket
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

import pytest
from down_frab_videos import fahrplan_data, lecture_downloader
from schedule_convert.importers.frab_xml import FrabXmlImporter

from tests.asgi import AppClient
from tests.conftest import Tokens

Client = AppClient


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt of a client to connect somewhere fails the test."""

    def refuse(*_: Any) -> NoReturn:
        raise AssertionError("a schedule client tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


async def test_schedule_convert_credits_each_session_to_its_own_speakers(client: Client) -> None:
    programme = (await client.get("/api/programme")).json()
    names = {speaker["id"]: speaker["name"] for speaker in programme["speakers"]}
    scheduled = {s["guid"]: s for s in programme["sessions"] if s["status"] == "scheduled"}
    body = (await client.get("/api/schedule.xml")).content

    conference = FrabXmlImporter().parse(io.BytesIO(body))

    assert {str(event.guid) for event in conference.events} == set(scheduled)
    for event in conference.events:
        assert [speaker.name for speaker in event.speakers] == [
            names[sid] for sid in scheduled[str(event.guid)]["speakerIds"]
        ]
    people = {id(speaker) for event in conference.events for speaker in event.speakers}
    speaking = {sid for session in scheduled.values() for sid in session["speakerIds"]}
    assert len(people) == len(speaking) > 1
    credits = Counter(id(speaker) for event in conference.events for speaker in event.speakers)
    assert max(credits.values()) < len(conference.events)


async def test_down_frab_videos_reads_every_talk(client: Client, tmp_path: Path) -> None:
    body = (await client.get("/api/schedule.json")).content
    path = tmp_path / "schedule.json"
    path.write_bytes(body)

    data = fahrplan_data("https://kumpul.example", str(path), "")
    downloader = lecture_downloader(data, [], str(tmp_path))

    events = [
        e for day in json.loads(body)["schedule"]["conference"]["days"] for es in day["rooms"].values() for e in es
    ]
    assert sorted(data.lectures) == sorted(event["id"] for event in events)
    for event in events:
        text = downloader.info_text(event["id"])
        assert text.startswith(event["title"])
        assert event["url"] in text


async def test_the_clients_read_a_named_version_as_it_was_published(
    client: Client, tokens: Tokens, tmp_path: Path
) -> None:
    programme = (await client.get("/api/programme")).json()
    scheduled = {s["guid"]: s for s in programme["sessions"] if s["status"] == "scheduled"}
    published = await client.post("/api/admin/releases", json={"name": "v1"}, headers=tokens.header("editor"))
    assert published.status_code == 201
    cancelled = next(iter(scheduled.values()))
    edit = await client.patch(
        f"/api/admin/sessions/{cancelled['id']}", json={"status": "cancelled"}, headers=tokens.header("editor")
    )
    assert edit.status_code == 200

    xml = (await client.get("/api/schedule.xml", params={"version": "v1"})).content
    conference = FrabXmlImporter().parse(io.BytesIO(xml))
    assert {str(event.guid) for event in conference.events} == set(scheduled)

    path = tmp_path / "schedule.json"
    path.write_bytes((await client.get("/api/schedule.json", params={"version": "v1"})).content)
    data = fahrplan_data("https://kumpul.example", str(path), "")
    assert len(data.lectures) == len(scheduled)
    current = tmp_path / "current.json"
    current.write_bytes((await client.get("/api/schedule.json")).content)
    assert len(fahrplan_data("https://kumpul.example", str(current), "").lectures) == len(scheduled) - 1
