"""The frab XML and C3VOC JSON exports validate against the published schemas, for the demo and for edge cases."""

from __future__ import annotations

from typing import Any

from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.interchange.export_checks import (
    calendar,
    events_by_url,
    json_events,
    valid_json,
    valid_xml,
    xml_events,
)

Client = AppClient

THAI_TITLE = "การคุ้มครองผู้เสียหาย: บทเรียนจากชายแดนไทยและเมียนมา"
INDONESIAN_TITLE = "Perlindungan pekerja migran: pelajaran dari Nusa Tenggara Timur"


async def programme(client: Client) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get("/api/programme")).json()
    return body


async def add_edge_cases(client: Client, tokens: Tokens) -> dict[str, str]:
    """A Thai session with a new anonymous speaker, an Indonesian off-the-record one without track, a cancellation."""
    editor = tokens.header("editor")
    demo = await programme(client)
    room = demo["rooms"][1]["id"]
    speaker = await client.post(
        "/api/admin/speakers",
        json={"name": "Bunga", "anonymous": True, "pronouns": "she/her", "bio": "Bunga is a pseudonym."},
        headers=editor,
    )
    assert speaker.status_code == 201, speaker.text
    thai = await client.post(
        "/api/admin/sessions",
        json={
            "title": THAI_TITLE,
            "start": "2024-07-25T13:00:00+08:00",
            "end": "2024-07-25T14:15:00+08:00",
            "roomId": room,
            "format": "panel",
            "trackId": demo["tracks"][0]["id"],
            "languages": ["th"],
            "speakerIds": [speaker.json()["id"], demo["speakers"][0]["id"]],
        },
        headers=editor,
    )
    assert thai.status_code == 201, thai.text
    indonesian = await client.post(
        "/api/admin/sessions",
        json={
            "title": INDONESIAN_TITLE,
            "start": "2024-07-25T14:30:00+08:00",
            "end": "2024-07-25T15:30:00+08:00",
            "roomId": room,
            "format": "panel",
            "languages": ["id"],
            "recording": "off-the-record",
            "speakerIds": [speaker.json()["id"]],
        },
        headers=editor,
    )
    assert indonesian.status_code == 201, indonesian.text
    cancelled = next(s for s in demo["sessions"] if s["status"] == "scheduled" and s["speakerIds"])
    response = await client.patch(
        f"/api/admin/sessions/{cancelled['id']}", json={"status": "cancelled"}, headers=editor
    )
    assert response.status_code == 200, response.text
    return {"thai": thai.json()["id"], "indonesian": indonesian.json()["id"], "cancelled": cancelled["id"]}


async def test_the_demo_exports_validate_against_the_published_schemas(client: Client) -> None:
    demo = await programme(client)
    scheduled = {s["guid"] for s in demo["sessions"] if s["status"] == "scheduled"}

    root = valid_xml((await client.get("/api/schedule.xml")).content)
    assert {event.get("guid") for event in xml_events(root)} == scheduled
    assert root.findtext("conference/title") == demo["event"]["name"]
    assert root.findtext("conference/time_zone_name") == "Asia/Makassar"
    assert [day.get("date") for day in root.iter("day")] == ["2024-07-23", "2024-07-24", "2024-07-25"]

    document = valid_json((await client.get("/api/schedule.json")).content)
    assert {event["guid"] for event in json_events(document)} == scheduled
    assert document["schedule"]["conference"]["daysCount"] == 3


async def test_edge_cases_validate_and_keep_their_text(client: Client, tokens: Tokens) -> None:
    ids = await add_edge_cases(client, tokens)
    sessions = {s["id"]: s for s in (await programme(client))["sessions"]}
    off_the_record = next(s for s in sessions.values() if s["recording"] == "off-the-record")
    no_track = next(s for s in sessions.values() if s["trackId"] is None and s["status"] == "scheduled")

    root = valid_xml((await client.get("/api/schedule.xml")).content)
    xml = {event.get("guid"): event for event in xml_events(root)}
    assert sessions[ids["cancelled"]]["guid"] not in xml, "a cancelled session is left out"
    thai = xml[sessions[ids["thai"]]["guid"]]
    assert thai.findtext("title") == THAI_TITLE
    assert thai.findtext("language") == "th"
    assert next(person.text for person in thai.iter("person")) == "Bunga"
    indonesian = xml[sessions[ids["indonesian"]]["guid"]]
    assert indonesian.findtext("title") == INDONESIAN_TITLE
    assert indonesian.findtext("track") == ""
    assert indonesian.findtext("recording/optout") == "true"
    assert xml[no_track["guid"]].findtext("track") == ""
    assert xml[off_the_record["guid"]].findtext("recording/optout") == "true"
    assert "Off the record" in (xml[off_the_record["guid"]].findtext("description") or "")

    document = valid_json((await client.get("/api/schedule.json")).content)
    events = {event["guid"]: event for event in json_events(document)}
    assert sessions[ids["cancelled"]]["guid"] not in events
    assert events[sessions[ids["thai"]]["guid"]]["title"] == THAI_TITLE
    bunga = events[sessions[ids["thai"]]["guid"]]["persons"][0]
    assert set(bunga) == {"name", "id"}
    assert bunga["name"] == "Bunga"
    assert events[sessions[ids["indonesian"]]["guid"]]["track"] == ""
    assert events[sessions[ids["indonesian"]]["guid"]]["do_not_record"] is True
    assert events[no_track["guid"]]["track"] == ""

    ics = events_by_url(calendar((await client.get("/api/schedule.ics")).content))
    assert str(ics[ids["thai"]]["SUMMARY"]) == THAI_TITLE
    assert str(ics[ids["indonesian"]]["SUMMARY"]) == INDONESIAN_TITLE
    assert ics[ids["cancelled"]]["STATUS"] == "CANCELLED"


async def test_recording_opt_outs_appear_in_every_export(client: Client) -> None:
    sessions = (await programme(client))["sessions"]
    opted_out = {s["guid"] for s in sessions if s["recording"] != "public" and s["status"] == "scheduled"}
    public = {s["guid"] for s in sessions if s["recording"] == "public" and s["status"] == "scheduled"}
    assert opted_out
    assert public

    root = valid_xml((await client.get("/api/schedule.xml")).content)
    optout = {event.get("guid"): event.findtext("recording/optout") for event in xml_events(root)}
    assert {guid for guid, value in optout.items() if value == "true"} == opted_out
    assert {guid for guid, value in optout.items() if value == "false"} == public

    document = valid_json((await client.get("/api/schedule.json")).content)
    flags = {event["guid"]: event["do_not_record"] for event in json_events(document)}
    assert {guid for guid, flag in flags.items() if flag} == opted_out

    by_id = {s["id"]: s for s in sessions}
    for session_id, event in events_by_url(calendar((await client.get("/api/schedule.ics")).content)).items():
        description = str(event["DESCRIPTION"])
        recording = by_id[session_id]["recording"]
        assert ("Off the record" in description) == (recording == "off-the-record"), session_id
        assert ("Not recorded" in description) == (recording == "no-recording"), session_id


async def test_without_an_event_the_frab_formats_say_so_and_the_calendar_is_empty(empty_client: Client) -> None:
    for path in ("/api/schedule.xml", "/api/schedule.json"):
        response = await empty_client.get(path)
        assert response.status_code == 404
        assert "no event" in response.json()["detail"]
    response = await empty_client.get("/api/schedule.ics")
    assert response.status_code == 200
    assert calendar(response.content).events == []
