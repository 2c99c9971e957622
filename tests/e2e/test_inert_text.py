"""Hostile text from organisers and attendees stays text: shown literally in the PWA and the console, never run.

The pages are opened with the Content-Security-Policy switched off, so that the test sees what the app itself does
with the text: a policy would block an injected handler even if the app had put it into the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import DESKTOP, MOBILE, RunningServer, h1, main
from tests.e2e.console_helpers import admin_token, organiser, sign_in

#: A note's status once the server holds it.
SYNCED = re.compile(r"Synced$")
SESSION_TITLE = "Safe routes <img src=x onerror=\"window.__pwned='session title'\">"
SESSION_DESCRIPTION = (
    "Bring your questions. <script>window.__pwned='description'</script> "
    "See [the guide](javascript:alert('markdown')) or <a href=\"javascript:alert('anchor')\">this page</a>."
)
SESSION_ABSTRACT = "In short: <svg><animate onbegin=\"alert('abstract')\" attributeName=x dur=1s></svg>"
SPEAKER_NAME = "Dewi <svg onload=\"window.__pwned='speaker name'\">"
SPEAKER_BIO = (
    "Advocate. <iframe srcdoc=\"<script>parent.__pwned='bio'</script>\"></iframe> "
    "<b onmouseover=\"window.__pwned='hover'\">Bold?</b>"
)
LINK_TITLE = "Blog <img src=x onerror=alert('link')>"
ROOM_NAME = "Hall <img src=x onerror=alert('room')>"
TRACK_NAME = "Care <style>body{display:none}</style> track"
ANNOUNCEMENT_TITLE = "Shuttle <svg/onload=alert('announcement')>"
ANNOUNCEMENT_BODY = "Details: javascript:alert('body') and https://example.org/a\"><img src=x onerror=alert('url')> end"
NOTE_TITLE = "My <img src=x onerror=alert('note title')> note"
NOTE_BODY = "<script>alert('note body')</script> remember this"
SESSION_NOTE = "<img src=x onerror=\"window.__pwned='session note'\"> ask later"

#: Elements and attributes hostile text would bring into the page if it were parsed as HTML: handlers, javascript:
#: URLs, scripts, frames and styles in the body, the payloads' images. Returns a description of each one found.
INJECTED = """() => {
    const found = [];
    for (const element of document.querySelectorAll("*")) {
        for (const attribute of element.attributes) {
            if (/^on/i.test(attribute.name)) found.push(`${element.tagName} ${attribute.name}`);
            if (/^\\s*javascript:/i.test(attribute.value)) {
                found.push(`${element.tagName} ${attribute.name} javascript:`);
            }
        }
    }
    for (const element of document.body.querySelectorAll("script, iframe, object, embed, style, svg[onload]")) {
        found.push(`${element.tagName} in the body`);
    }
    for (const image of document.querySelectorAll("img")) {
        if (image.getAttribute("src") === "x") found.push("img src=x");
    }
    if (window.__pwned !== undefined) found.push(`window.__pwned = ${window.__pwned}`);
    return found;
}"""


def create(server: RunningServer, token: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/admin/{kind}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture(scope="module")
def hostile(shared_server: RunningServer) -> dict[str, Any]:
    """A room, a track, a speaker, a session and an announcement whose every text is hostile, made through the API."""
    token = admin_token(shared_server)
    event = httpx.get(f"{shared_server.url}/api/programme", timeout=10).json()["event"]
    zone = ZoneInfo(event["timeZone"])
    first_day = date.fromisoformat(event["startDate"])
    room = create(shared_server, token, "rooms", {"name": ROOM_NAME})
    track = create(shared_server, token, "tracks", {"name": TRACK_NAME, "colour": "#1f6f8b"})
    refused = httpx.post(
        f"{shared_server.url}/api/admin/speakers",
        json={"name": "Link", "links": [{"title": "x", "url": "javascript:alert('link url')"}]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert refused.status_code == 400, "a javascript: link must be refused before it is stored"
    speaker = create(
        shared_server,
        token,
        "speakers",
        {"name": SPEAKER_NAME, "bio": SPEAKER_BIO, "links": [{"title": LINK_TITLE, "url": "https://example.org/blog"}]},
    )
    session = create(
        shared_server,
        token,
        "sessions",
        {
            "title": SESSION_TITLE,
            "abstract": SESSION_ABSTRACT,
            "description": SESSION_DESCRIPTION,
            # Before the demo's first session, so it leads the first day of the programme.
            "start": datetime.combine(first_day, time(6, 0), zone).isoformat(),
            "end": datetime.combine(first_day, time(6, 45), zone).isoformat(),
            "roomId": room["id"],
            "trackId": track["id"],
            "format": "plenary",
            "speakerIds": [speaker["id"]],
        },
    )
    announcement = create(
        shared_server, token, "announcements", {"title": ANNOUNCEMENT_TITLE, "body": ANNOUNCEMENT_BODY}
    )
    return {"session": session, "speaker": speaker, "room": room, "track": track, "announcement": announcement}


@pytest.fixture
def open_page(browser: Browser, shared_server: RunningServer) -> Iterator[tuple[Page, list[str]]]:
    """A page on the shared server without the Content-Security-Policy, and the messages of any dialog it opens."""
    context = browser.new_context(
        base_url=shared_server.url,
        viewport=MOBILE,  # type: ignore[arg-type]
        locale="en-GB",
        timezone_id="Asia/Makassar",
        bypass_csp=True,
        service_workers="allow",
    )
    context.set_default_timeout(10_000)
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    context.on("dialog", dismiss)
    try:
        yield context.new_page(), dialogs
    finally:
        context.close()


def assert_inert(page: Page, dialogs: list[str], where: str) -> None:
    """Nothing of the hostile text became markup or ran, and no dialog opened."""
    injected = page.evaluate(INJECTED)
    assert injected == [], f"{where}: hostile text became markup: {injected}"
    assert dialogs == [], f"{where}: a dialog opened: {dialogs}"


def test_hostile_programme_text_is_shown_literally_and_never_runs_in_the_pwa(
    open_page: tuple[Page, list[str]], hostile: dict[str, Any]
) -> None:
    page, dialogs = open_page
    announcement = hostile["announcement"]

    page.goto("/programme")
    expect(h1(page, "Programme")).to_be_visible()
    card = main(page).get_by_role("listitem").filter(has=page.get_by_role("link", name=SESSION_TITLE, exact=True))
    expect(card).to_be_visible()
    expect(card).to_contain_text(ROOM_NAME)
    # The compact rows name the room; the track is named in the Theme filter (and on the session page).
    main(page).get_by_role("button", name=re.compile(r"^Filter")).click()
    theme = main(page).get_by_role("combobox", name="Theme")
    expect(theme.locator("option").filter(has_text=TRACK_NAME)).to_have_count(1)
    assert_inert(page, dialogs, "programme")

    card.get_by_role("link", name=SESSION_TITLE, exact=True).click()
    expect(h1(page, SESSION_TITLE)).to_be_visible()
    content = main(page)
    expect(content.get_by_text(SESSION_ABSTRACT, exact=True)).to_be_visible()
    expect(content.get_by_text(SESSION_DESCRIPTION, exact=True)).to_be_visible()
    expect(content).to_contain_text(ROOM_NAME)
    expect(content).to_contain_text(TRACK_NAME)
    expect(content.get_by_role("link", name="this page")).to_have_count(0)
    expect(content.get_by_role("link", name="the guide")).to_have_count(0)
    assert_inert(page, dialogs, "session")

    content.get_by_role("link", name=SPEAKER_NAME, exact=True).click()
    expect(h1(page, SPEAKER_NAME)).to_be_visible()
    expect(main(page).get_by_text(SPEAKER_BIO, exact=True)).to_be_visible()
    expect(main(page).get_by_role("link", name=LINK_TITLE, exact=True)).to_have_attribute(
        "href", "https://example.org/blog"
    )
    expect(main(page).get_by_role("link", name=SESSION_TITLE, exact=True)).to_be_visible()
    assert_inert(page, dialogs, "speaker")

    page.goto("/speakers")
    expect(main(page).get_by_role("link", name=SPEAKER_NAME, exact=True)).to_be_visible()
    assert_inert(page, dialogs, "speakers")

    page.goto("/announcements")
    expect(h1(page, "Announcements")).to_be_visible()
    main(page).get_by_role("link", name=ANNOUNCEMENT_TITLE, exact=True).click()
    expect(h1(page, ANNOUNCEMENT_TITLE)).to_be_visible()
    body = main(page).get_by_text(re.compile(r"^Details: javascript:"))
    expect(body).to_have_text(ANNOUNCEMENT_BODY)
    # Only the http(s) URL became a link, and it ends where the markup begins.
    links = body.get_by_role("link")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.org/a")
    assert_inert(page, dialogs, "announcement")
    assert announcement["id"] in page.url


def test_hostile_notes_are_shown_literally_and_never_run(
    open_page: tuple[Page, list[str]], hostile: dict[str, Any]
) -> None:
    page, dialogs = open_page
    session = hostile["session"]
    page.goto(f"/sessions/{session['id']}")
    expect(h1(page, SESSION_TITLE)).to_be_visible()
    box = page.get_by_role("textbox", name="Note for this session")
    expect(box).to_be_enabled()
    box.fill(SESSION_NOTE)
    expect(box).to_have_accessible_description(SYNCED, timeout=15_000)

    page.goto("/notes")
    page.get_by_role("button", name="New note").click()
    page.get_by_role("textbox", name="Title", exact=True).fill(NOTE_TITLE)
    page.get_by_role("textbox", name="Note", exact=True).fill(NOTE_BODY)
    expect(page.get_by_role("textbox", name="Note", exact=True)).to_have_accessible_description(SYNCED, timeout=15_000)
    assert_inert(page, dialogs, "note editor")

    page.goto("/notes")
    expect(h1(page, "My notes")).to_be_visible()
    notes = main(page)
    expect(notes.get_by_role("link", name=SESSION_TITLE, exact=True)).to_be_visible()
    expect(notes.get_by_text(SESSION_NOTE, exact=True)).to_be_visible()
    expect(notes.get_by_role("link", name=NOTE_TITLE, exact=True)).to_be_visible()
    expect(notes.get_by_text(NOTE_BODY, exact=True)).to_be_visible()
    assert_inert(page, dialogs, "my notes")

    notes.get_by_role("link", name=NOTE_TITLE, exact=True).click()
    expect(page.get_by_role("textbox", name="Title", exact=True)).to_have_value(NOTE_TITLE)
    expect(page.get_by_role("textbox", name="Note", exact=True)).to_have_value(NOTE_BODY)
    assert_inert(page, dialogs, "note")


def test_hostile_programme_text_is_shown_literally_and_never_runs_in_the_console(
    open_page: tuple[Page, list[str]], shared_server: RunningServer, hostile: dict[str, Any]
) -> None:
    page, dialogs = open_page
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    sign_in(page, organiser(shared_server, "admin"))
    expect(h1(page, "Sessions")).to_be_visible()
    expect(main(page).get_by_role("link", name=SESSION_TITLE, exact=True)).to_be_visible()
    assert_inert(page, dialogs, "console sessions")

    main(page).get_by_role("link", name=SESSION_TITLE, exact=True).click()
    expect(h1(page, "Edit session")).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_have_value(SESSION_TITLE)
    expect(page.get_by_label("Abstract (optional)", exact=True)).to_have_value(SESSION_ABSTRACT)
    expect(main(page).get_by_text(SPEAKER_NAME, exact=True)).to_be_visible()
    expect(page.get_by_label("Room", exact=True).locator("option:checked")).to_have_text(ROOM_NAME)
    expect(page.get_by_label("Track", exact=True).locator("option:checked")).to_have_text(TRACK_NAME)
    assert_inert(page, dialogs, "console session editor")

    for path, heading, name in (
        ("/admin/speakers", "Speakers", SPEAKER_NAME),
        ("/admin/rooms", "Rooms", ROOM_NAME),
        ("/admin/tracks", "Tracks", TRACK_NAME),
    ):
        page.goto(path)
        expect(h1(page, heading)).to_be_visible()
        expect(main(page).get_by_role("link", name=name, exact=True)).to_be_visible()
        assert_inert(page, dialogs, f"console {heading.lower()}")

    page.goto(f"/admin/speakers/{hostile['speaker']['id']}")
    expect(page.get_by_label("Bio (optional)", exact=True)).to_have_value(SPEAKER_BIO)
    expect(page.get_by_label("Title of link 1", exact=True)).to_have_value(LINK_TITLE)
    assert_inert(page, dialogs, "console speaker editor")

    page.goto("/admin/announcements")
    item = main(page).get_by_role("listitem").filter(has=page.get_by_role("heading", name=ANNOUNCEMENT_TITLE))
    expect(item).to_be_visible()
    expect(item).to_contain_text(ANNOUNCEMENT_BODY)
    assert_inert(page, dialogs, "console announcements")

    page.goto("/admin/history")
    expect(h1(page, "History")).to_be_visible()
    history = main(page).get_by_role("table")
    expect(history.get_by_role("link", name=re.compile(re.escape(SESSION_TITLE)))).to_be_visible()
    expect(history.get_by_role("link", name=re.compile(re.escape(SPEAKER_NAME)))).to_be_visible()
    assert_inert(page, dialogs, "console history")
