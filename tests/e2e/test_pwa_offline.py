"""The attendee PWA with the network off: it starts, navigates, searches and keeps bookmarks after one visit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import (
    ContextFactory,
    Demo,
    RunningServer,
    announce,
    day_tab_name,
    h1,
    main,
    nav_link,
    session_link,
    start_server,
    stop_server,
    wait_until_offline_ready,
)

#: How long an organiser's change may take to appear after the device reconnects.
RECONNECT_TIMEOUT_MS = 15_000
#: The status indicator's states, case-sensitive (so the toast "Ready to work offline" is not mistaken for one).
ONLINE = re.compile("Online")
OFFLINE = re.compile("Offline")


def search_word_only_in_indonesian(demo: Demo) -> tuple[str, dict[str, Any]]:
    """A word of one session's Indonesian title that no English text of the programme contains."""
    english = " ".join(
        [s["title"] + " " + s["abstract"] for s in demo.sessions] + [s["name"] for s in demo.data["speakers"]]
    ).casefold()
    for session in demo.sessions:
        if not demo.unambiguous(session):
            continue
        title = session.get("translations", {}).get("id", {}).get("title", "")
        for word in sorted(re.findall(r"\w{7,}", title), key=len, reverse=True):
            if word.casefold() not in english:
                return word, session
    raise LookupError("no Indonesian title word that English text lacks")


def open_session_from_programme(page: Page, demo: Demo, session: dict[str, Any]) -> None:
    """Programme → the session's day tab → its time slot → its link."""
    nav_link(page, "Programme").click()
    expect(h1(page, "Programme")).to_be_visible()
    expect(nav_link(page, "Programme")).to_have_attribute("aria-current", "page")
    days = page.get_by_role("tablist", name="Days")
    tab = days.get_by_role("tab", name=day_tab_name(demo.day(session)))
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    slot = demo.start(session).strftime("%H:%M")
    expect(main(page).get_by_role("heading", level=2, name=slot).first).to_be_visible()
    session_link(page, session).click()
    expect(h1(page, session["title"])).to_be_visible()


def search_and_open(page: Page, text: str, session: dict[str, Any]) -> None:
    """Type into the programme's search box and open a session from the results."""
    nav_link(page, "Programme").click()
    search = page.get_by_role("searchbox", name="Search the programme")
    search.fill("")
    search.press_sequentially(text, delay=20)
    expect(session_link(page, session)).to_be_visible()
    live = page.locator("[aria-live=polite], [role=status]").filter(has_text=re.compile(r"\b\d+ sessions?\b"))
    expect(live.first).to_be_attached()
    session_link(page, session).click()
    expect(h1(page, session["title"])).to_be_visible()


def test_after_one_visit_everything_works_offline_and_bookmarks_survive_a_reload(
    new_context: ContextFactory, shared_server: RunningServer
) -> None:
    demo = Demo.load(shared_server)
    browsing = new_context(shared_server, at=demo.during_the_event())
    page = browsing.new_page()

    page.goto("/")
    expect(h1(page, "Now & next")).to_be_visible()
    expect(main(page).get_by_role("link").first).to_be_visible()
    wait_until_offline_ready(page)

    browsing.context.set_offline(True)
    page.reload()
    expect(h1(page, "Now & next")).to_be_visible()

    by_tab = demo.find(day=1)
    open_session_from_programme(page, demo, by_tab)
    expect(main(page)).to_contain_text(demo.room_name(by_tab["roomId"]))

    speaker = demo.speaker(by_tab["speakerIds"][0])
    main(page).get_by_role("link", name=speaker["name"], exact=True).click()
    expect(h1(page, speaker["name"])).to_be_visible()
    expect(main(page)).to_contain_text(speaker["bio"][:40])

    by_title = demo.find(day=2)
    words = by_title["title"].split()
    search_and_open(page, " ".join(words[1:3]) if len(words) > 2 else words[0], by_title)

    word, by_translation = search_word_only_in_indonesian(demo)
    search_and_open(page, word, by_translation)

    page.get_by_role("button", name="Add to my agenda").click()
    remove = page.get_by_role("button", name="Remove from my agenda")
    expect(remove).to_have_attribute("aria-pressed", "true")

    page.reload()
    expect(h1(page, by_translation["title"])).to_be_visible()
    expect(remove).to_have_attribute("aria-pressed", "true")
    nav_link(page, "My agenda").click()
    expect(h1(page, "My agenda")).to_be_visible()
    expect(session_link(page, by_translation)).to_be_visible()
    assert browsing.foreign_requests() == []


def test_a_room_change_made_while_offline_appears_after_reconnecting(
    new_context: ContextFactory, server: RunningServer
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="working-group")
    old_room = demo.room_name(session["roomId"])
    new_room = next(
        r for r in demo.data["rooms"] if r["name"] not in old_room and old_room not in r["name"] and r["name"]
    )
    browsing = new_context(server)
    page = browsing.new_page()
    page.goto(f"/sessions/{session['id']}")
    expect(h1(page, session["title"])).to_be_visible()
    expect(main(page)).to_contain_text(old_room)
    wait_until_offline_ready(page)

    browsing.context.set_offline(True)
    response = httpx.patch(
        f"{server.url}/api/admin/sessions/{session['id']}",
        json={"roomId": new_room["id"]},
        headers={"Authorization": f"Bearer {server.organiser_token('editor')}"},
    )
    assert response.status_code == 200, response.text
    page.wait_for_timeout(1_000)
    expect(main(page)).to_contain_text(old_room)

    browsing.context.set_offline(False)
    expect(main(page)).to_contain_text(new_room["name"], timeout=RECONNECT_TIMEOUT_MS)
    expect(main(page)).not_to_contain_text(old_room)


def test_the_status_indicator_says_whether_the_device_is_online(
    new_context: ContextFactory, shared_server: RunningServer
) -> None:
    browsing = new_context(shared_server)
    page = browsing.new_page()
    page.goto("/programme")
    expect(h1(page, "Programme")).to_be_visible()
    wait_until_offline_ready(page)
    status = page.get_by_role("status")
    expect(status.filter(has_text=ONLINE).first).to_be_visible()
    expect(status.filter(has_text=re.compile(r"Updated (just now|\d+ minutes? ago)")).first).to_be_visible()

    browsing.context.set_offline(True)
    expect(status.filter(has_text=OFFLINE).first).to_be_visible()
    expect(status.filter(has_text=ONLINE)).to_have_count(0)

    browsing.context.set_offline(False)
    expect(status.filter(has_text=ONLINE).first).to_be_visible(timeout=RECONNECT_TIMEOUT_MS)
    expect(status.filter(has_text=OFFLINE)).to_have_count(0)


def test_a_hanging_change_feed_is_abandoned_and_retried(new_context: ContextFactory, server: RunningServer) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="workshop")
    old_room = demo.room_name(session["roomId"])
    new_room = next(r for r in demo.data["rooms"] if r["name"] not in old_room and old_room not in r["name"])
    browsing = new_context(server)
    page = browsing.new_page()
    page.goto(f"/sessions/{session['id']}")
    expect(main(page)).to_contain_text(old_room)
    wait_until_offline_ready(page)

    hanging: list[Route] = []

    def never_answer(route: Route) -> None:  # the wifi is connected, but nothing comes back
        hanging.append(route)

    browsing.context.route("**/api/changes*", never_answer)
    response = httpx.patch(
        f"{server.url}/api/admin/sessions/{session['id']}",
        json={"roomId": new_room["id"]},
        headers={"Authorization": f"Bearer {server.organiser_token('editor')}"},
    )
    assert response.status_code == 200, response.text
    browsing.context.set_offline(True)
    browsing.context.set_offline(False)
    status = page.get_by_role("status")
    expect(status.filter(has_text="Syncing").first).to_be_visible(timeout=RECONNECT_TIMEOUT_MS)
    expect(status.filter(has_text="Syncing")).to_have_count(0, timeout=10_000)
    assert hanging, "the app did not ask for changes after coming back online"
    expect(main(page)).to_contain_text(old_room)

    browsing.context.unroute("**/api/changes*")
    expect(main(page)).to_contain_text(new_room["name"], timeout=30_000)
    expect(status.filter(has_text=ONLINE).first).to_be_visible()


def test_a_cursor_the_server_no_longer_knows_leads_to_a_clean_refetch(
    new_context: ContextFactory, tmp_path: Path
) -> None:
    before = start_server(tmp_path / "before.db", "--demo")
    try:
        announce(before, "This announcement belongs to the old database")
        demo = Demo.load(before)
        session = demo.find(day=0, format="working-group")
        old_room = demo.room_name(session["roomId"])
        new_room = next(r for r in demo.data["rooms"] if r["name"] not in old_room and old_room not in r["name"])
        browsing = new_context(before)
        page = browsing.new_page()
        page.goto("/announcements")
        expect(main(page)).to_contain_text("This announcement belongs to the old database")
        page.goto(f"/sessions/{session['id']}")
        expect(main(page)).to_contain_text(old_room)
        wait_until_offline_ready(page)
        browsing.context.set_offline(True)
    finally:
        stop_server(before)

    port = urlsplit(before.url).port
    after = start_server(tmp_path / "after.db", "--demo", port=port)  # same origin, a database started afresh
    try:
        response = httpx.patch(
            f"{after.url}/api/admin/sessions/{session['id']}",
            json={"roomId": new_room["id"]},
            headers={"Authorization": f"Bearer {after.organiser_token('editor')}"},
        )
        assert response.status_code == 200, response.text
        changes: list[int] = []
        page.on("response", lambda r: changes.append(r.status) if "/api/changes" in r.url else None)
        browsing.context.set_offline(False)
        expect(main(page)).to_contain_text(new_room["name"], timeout=RECONNECT_TIMEOUT_MS)
        assert 410 in changes, f"the change feed answered {changes}, never 410"
        nav_link(page, "Announcements").click()
        expect(h1(page, "Announcements")).to_be_visible()
        expect(main(page)).not_to_contain_text("This announcement belongs to the old database")
        expect(main(page)).to_contain_text("No announcements yet")
    finally:
        stop_server(after)


def test_a_bookmark_is_stored_before_the_app_confirms_it(
    new_context: ContextFactory, shared_server: RunningServer
) -> None:
    demo = Demo.load(shared_server)
    page = new_context(shared_server).new_page()
    lost = []
    for session in [s for s in demo.sessions if demo.unambiguous(s)][:8]:
        page.goto(f"/sessions/{session['id']}")
        expect(h1(page, session["title"])).to_be_visible()
        page.get_by_role("button", name="Add to my agenda").click()
        expect(page.get_by_role("button", name="Remove from my agenda")).to_have_attribute("aria-pressed", "true")
        page.reload()  # the attendee closes the app, or the phone reloads it, right after tapping
        expect(h1(page, session["title"])).to_be_visible()
        toggle = page.get_by_role("button", name=re.compile(r"(Add to|Remove from) my agenda"))
        expect(toggle).to_be_visible()
        page.wait_for_timeout(300)
        if toggle.get_attribute("aria-pressed") != "true":
            lost.append(session["title"])
    assert not lost, f"bookmarks lost by a reload right after “Add to my agenda”: {lost}"
