"""Links and attachments of sessions, and speakers' pages and avatars, survive an import and come out again."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.interchange.export_checks import json_events, valid_json, valid_xml, xml_events
from tests.server.interchange.test_import_api import read, upload

Client = AppClient


def _events(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [event for day in document["schedule"]["conference"]["days"] for r in day["rooms"].values() for event in r]


def _absolute(url: str) -> str:
    """frab users type some links without a scheme (``nymtech.net``): they are web addresses."""
    return url if url.startswith(("http://", "https://")) else f"https://{url}"


async def test_frab_json_links_are_kept_served_and_exported(empty_client: Client, tokens: Tokens) -> None:
    source = json.loads(read("frab-camp2019.json"))
    linked = {event["guid"]: event["links"] for event in _events(source) if event.get("links")}
    assert len(linked) == 26
    await upload(empty_client, tokens, read("frab-camp2019.json"))

    sessions = {s["guid"]: s for s in (await empty_client.get("/api/programme")).json()["sessions"]}
    for guid, links in linked.items():
        assert [(link["url"], link["title"]) for link in sessions[guid]["links"]] == [
            (_absolute(link["url"]), link["title"].strip()) for link in links
        ]
    exported = {e["guid"]: e for e in json_events(valid_json((await empty_client.get("/api/schedule.json")).content))}
    for guid, links in linked.items():
        assert {_absolute(link["url"]) for link in links} <= {link["url"] for link in exported[guid]["links"]}
    xml = {e.get("guid"): e for e in xml_events(valid_xml((await empty_client.get("/api/schedule.xml")).content))}
    for guid, links in linked.items():
        assert {_absolute(link["url"]) for link in links} <= {link.get("href") for link in xml[guid].iter("link")}


async def test_pretalx_attachments_and_speaker_pages_are_kept(empty_client: Client, tokens: Tokens) -> None:
    document = json.loads(read("pretalx-democon.json"))
    event = _events(document)[0]
    event["attachments"] = [{"url": "/media/democon/slides.pdf", "title": "Slides", "type": "slides"}]
    event["links"] = [{"url": "https://democon.example/notes", "title": "Notes", "type": "related"}]
    person = event["persons"][0]
    person["avatar"] = "https://pretalx.example/media/avatars/brian.png"
    person["url"] = "https://brian.example/"
    await upload(empty_client, tokens, json.dumps(document).encode())

    programme = (await empty_client.get("/api/programme")).json()
    session = next(s for s in programme["sessions"] if s["guid"] == event["guid"])
    base = document["schedule"]["base_url"]
    assert session["attachments"] == [{"title": "Slides", "url": urljoin(base, "/media/democon/slides.pdf")}]
    assert session["links"] == [{"title": "Notes", "url": "https://democon.example/notes"}]
    speaker = next(s for s in programme["speakers"] if s["id"] == session["speakerIds"][0])
    assert speaker["photoUrl"] == "https://pretalx.example/media/avatars/brian.png"
    assert [link["url"] for link in speaker["links"]] == ["https://brian.example/"]

    exported = {e["guid"]: e for e in json_events(valid_json((await empty_client.get("/api/schedule.json")).content))}
    again = exported[event["guid"]]
    assert again["attachments"] == [{"title": "Slides", "url": session["attachments"][0]["url"]}]
    assert {"url": "https://democon.example/notes", "title": "Notes"} in again["links"]
    assert again["persons"][0]["avatar"] == speaker["photoUrl"]
    assert again["persons"][0]["links"] == [{"url": "https://brian.example/", "title": "brian.example"}]
    xml = {e.get("guid"): e for e in xml_events(valid_xml((await empty_client.get("/api/schedule.xml")).content))}
    assert [a.get("href") for a in xml[event["guid"]].iter("attachment")] == [session["attachments"][0]["url"]]


async def test_an_anonymous_speaker_gets_no_page_or_avatar_from_a_file(client: Client, tokens: Tokens) -> None:
    programme = (await client.get("/api/programme")).json()
    pseudonyms = {s["name"] for s in programme["speakers"] if s["anonymous"]}
    document = json.loads((await client.get("/api/schedule.json")).content)
    planted = 0
    for event in _events(document):
        for person in event["persons"]:
            if person["name"] in pseudonyms:
                person["avatar"] = "https://photos.example/face.jpg"
                person["url"] = "https://social.example/profile"
                person["links"] = [{"url": "https://social.example/other", "title": "Profile"}]
                planted += 1
    assert planted
    await upload(client, tokens, json.dumps(document).encode())

    after = (await client.get("/api/programme")).json()
    for speaker in after["speakers"]:
        if speaker["anonymous"]:
            assert speaker["photoUrl"] is None
            assert speaker["links"] == []
    for path in ("/api/programme", "/api/schedule.json", "/api/schedule.xml", "/api/schedule.ics"):
        body = (await client.get(path)).text.replace("\r\n ", "")
        assert "photos.example" not in body
        assert "social.example" not in body
