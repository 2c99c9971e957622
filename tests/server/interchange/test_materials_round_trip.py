"""Session materials: links and attachments imported from frab XML and pretalx JSON, edited as the console edits
them (add, remove, reorder; https only), and exported again in schedule.json and schedule.xml in their new order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.interchange.export_checks import json_events, valid_json, valid_xml, xml_events
from tests.server.interchange.test_import_api import read, upload

Client = AppClient
GUID = "89a6f3c9-38f5-58ab-a490-9d204bea6267"


def with_materials(xml: bytes) -> bytes:
    """The sample frab file with a second link and two attachments on its first event."""
    old = b"""          <link href="https://summit.example.org/2025/talk/S04001/">Session page</link>"""
    assert old in xml
    xml = xml.replace(old, old + b"""\n          <link href="https://papers.example.org/s04001.pdf">Paper</link>""", 1)
    attachments = (
        b"<attachments>"
        b'<attachment href="https://summit.example.org/media/s04001-slides.pdf">Slides</attachment>'
        b'<attachment href="https://summit.example.org/media/s04001-handout.pdf">Handout</attachment>'
        b"</attachments>"
    )
    return xml.replace(b"<attachments/>", attachments, 1)


async def session_of(client: Client, guid: str) -> dict[str, Any]:
    sessions = (await client.get("/api/programme")).json()["sessions"]
    found: dict[str, Any] = next(session for session in sessions if session["guid"] == guid)
    return found


async def exported(client: Client, guid: str) -> tuple[dict[str, Any], Any]:
    document = valid_json((await client.get("/api/schedule.json")).content)
    event = next(event for event in json_events(document) if event["guid"] == guid)
    root = valid_xml((await client.get("/api/schedule.xml")).content)
    element = next(element for element in xml_events(root) if element.get("guid") == guid)
    return event, element


async def test_frab_xml_materials_survive_import_console_edit_and_export(empty_client: Client, tokens: Tokens) -> None:
    client = empty_client
    await upload(client, tokens, with_materials(read("schedule.xml")))
    session = await session_of(client, GUID)
    assert [link["title"] for link in session["links"]] == ["Session page", "Paper"]
    assert [item["title"] for item in session["attachments"]] == ["Slides", "Handout"]

    # The console's edit: the paper first, the session page removed, a recording added; handout before slides.
    links = [session["links"][1], {"title": "Recording", "url": "https://media.example.org/v/s04001"}]
    attachments = list(reversed(session["attachments"]))
    edited = await client.patch(
        f"/api/admin/sessions/{session['id']}",
        json={"links": links, "attachments": attachments},
        headers=tokens.header("editor"),
    )
    assert edited.status_code == 200, edited.text

    event, element = await exported(client, GUID)
    assert [(link["title"], link["url"]) for link in event["links"]] == [(x["title"], x["url"]) for x in links]
    assert [(item["title"], item["url"]) for item in event["attachments"]] == [
        (x["title"], x["url"]) for x in attachments
    ]
    assert [(link.text, link.get("href")) for link in element.iter("link")] == [(x["title"], x["url"]) for x in links]
    assert [(item.text, item.get("href")) for item in element.iter("attachment")] == [
        (x["title"], x["url"]) for x in attachments
    ]

    # What was exported imports again unchanged.
    again = await upload(client, tokens, (await client.get("/api/schedule.xml")).content)
    assert again is not None
    assert (await session_of(client, GUID))["links"] == links
    assert (await session_of(client, GUID))["attachments"] == attachments


async def test_pretalx_json_materials_come_out_in_both_formats(empty_client: Client, tokens: Tokens) -> None:
    client = empty_client
    document = json.loads(read("pretalx-democon.json"))
    event = next(e for day in document["schedule"]["conference"]["days"] for r in day["rooms"].values() for e in r)
    event["links"] = [{"url": "https://democon.example/recording", "title": "Recording", "type": "related"}]
    event["attachments"] = [{"url": "https://democon.example/media/slides.pdf", "title": "Slides", "type": "slides"}]
    await upload(client, tokens, json.dumps(document).encode())
    exported_event, element = await exported(client, event["guid"])
    assert {"url": "https://democon.example/recording", "title": "Recording"} in [
        {"url": link["url"], "title": link["title"]} for link in exported_event["links"]
    ]
    assert [(item["url"], item["title"]) for item in exported_event["attachments"]] == [
        ("https://democon.example/media/slides.pdf", "Slides")
    ]
    assert ("https://democon.example/media/slides.pdf", "Slides") in [
        (item.get("href"), item.text) for item in element.iter("attachment")
    ]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>x</script>",
        "http://plain.example/",
    ],
)
@pytest.mark.parametrize("field", ["links", "attachments"])
async def test_an_address_that_is_not_https_is_refused_and_nothing_changes(
    client: Client, tokens: Tokens, url: str, field: str
) -> None:
    session = (await client.get("/api/programme")).json()["sessions"][0]
    answer = await client.patch(
        f"/api/admin/sessions/{session['id']}",
        json={field: [{"title": "Slides", "url": url}]},
        headers=tokens.header("editor"),
    )
    assert answer.status_code == 400, answer.text
    assert "url" in answer.json()["detail"]
    after = await client.get(f"/api/sessions/{session['id']}")
    assert after.json().get(field, []) == session.get(field, [])
