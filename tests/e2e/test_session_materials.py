"""Session materials in real Chromium: a frab file's links and attachments, edited in the console session form
(reordered, one removed, one added; a javascript: address refused), come out of schedule.xml and schedule.json
as edited, and the attendee's session page lists them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, ContextFactory, RunningServer, start_server, stop_server
from tests.e2e.console_helpers import admin_token, h1, organiser, saved, sign_in
from tests.server.interchange.test_import_api import read
from tests.server.interchange.test_materials_round_trip import GUID, with_materials


@pytest.fixture
def imported(tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:
    """A server whose programme came from the sample frab XML with materials on its first event; that event's id."""
    running = start_server(tmp_path / "kumpul.db")
    try:
        token = admin_token(running)
        answer = httpx.post(
            f"{running.url}/api/admin/import",
            content=with_materials(read("schedule.xml")),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        sessions = httpx.get(f"{running.url}/api/sessions", timeout=10).json()
        yield running, next(session["id"] for session in sessions if session["guid"] == GUID)
    finally:
        stop_server(running)


def test_materials_edited_in_the_console_are_exported_and_shown(
    new_context: ContextFactory, imported: tuple[RunningServer, str]
) -> None:
    server, session_id = imported
    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, organiser(server, "editor"), f"/admin/sessions/{session_id}")
    expect(h1(page, "Edit session")).to_be_visible()
    links = page.get_by_role("group", name="Links (slides, papers, recordings)")
    expect(links.get_by_label("Title of link 1")).to_have_value("Session page")
    expect(links.get_by_label("Title of link 2")).to_have_value("Paper")

    # The paper first, the session page gone, a recording added.
    links.get_by_role("button", name="Move link 2 up").click()
    links.get_by_role("button", name="Remove link 2").click()
    links.get_by_role("button", name="Add link").click()
    links.get_by_label("Title of link 2").fill("Recording")
    address = links.get_by_label("Address of link 2")
    address.fill("javascript:alert(document.cookie)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Addresses must start with https://")
    assert [link["title"] for link in stored(server, session_id)["links"]] == ["Session page", "Paper"]

    address.fill("https://media.example.org/v/s04001")
    attachments = page.get_by_role("group", name="Attachments (files)")
    attachments.get_by_role("button", name="Move attachment 2 up").click()
    page.get_by_role("button", name="Save").click()
    saved(page)

    session = stored(server, session_id)
    expected_links = [
        ("Paper", "https://papers.example.org/s04001.pdf"),
        ("Recording", "https://media.example.org/v/s04001"),
    ]
    expected_files = [
        ("Handout", "https://summit.example.org/media/s04001-handout.pdf"),
        ("Slides", "https://summit.example.org/media/s04001-slides.pdf"),
    ]
    assert [(link["title"], link["url"]) for link in session["links"]] == expected_links
    assert [(item["title"], item["url"]) for item in session["attachments"]] == expected_files
    xml = etree.fromstring(httpx.get(f"{server.url}/api/schedule.xml", timeout=10).content)
    event = next(element for element in xml.iter("event") if element.get("guid") == GUID)
    assert [(link.text, link.get("href")) for link in event.iter("link")] == expected_links
    assert [(item.text, item.get("href")) for item in event.iter("attachment")] == expected_files
    document = httpx.get(f"{server.url}/api/schedule.json", timeout=10).json()
    days = document["schedule"]["conference"]["days"]
    exported = next(e for day in days for room in day["rooms"].values() for e in room if e["guid"] == GUID)
    assert [(item["title"], item["url"]) for item in exported["attachments"]] == expected_files

    attendee = new_context(server).new_page()
    attendee.goto(f"/sessions/{session_id}")
    materials = attendee.get_by_role("region", name="After the session")
    expect(materials.get_by_role("link")).to_have_text([title for title, _ in expected_links + expected_files])


def stored(server: RunningServer, session_id: str) -> dict[str, list[dict[str, str]]]:
    answer = httpx.get(f"{server.url}/api/sessions/{session_id}", timeout=10)
    assert answer.status_code == 200
    found: dict[str, list[dict[str, str]]] = answer.json()
    return found
