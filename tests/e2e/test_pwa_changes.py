"""The attendee app's "Changes" and the console's "Source of record", in Chromium against the real server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, ContextFactory, Demo, RunningServer, main, start_server, stop_server
from tests.e2e.console_helpers import admin_token, h1, nav, organiser, saved, sign_in
from tests.schedule_source import schedule_source

DATA = Path(__file__).resolve().parents[1] / "server" / "interchange" / "data"


def wait_for_live_stream(page: Page) -> None:
    """Wait until the attendee app's EventSource has the server's hello (it marks <html data-live="open">)."""
    page.wait_for_selector("html[data-live=open]", state="attached", timeout=10_000)


def changes_link(page: Page) -> object:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(r"^Changes"))


def test_a_room_change_in_the_console_shows_in_changes_with_a_badge(
    new_context: ContextFactory, server: RunningServer
) -> None:
    editor = organiser(server, "editor", admin_token(server))
    demo = Demo.load(server)
    session = demo.find(day=0, format="workshop")
    old_room = demo.room_name(session["roomId"])
    room = next(r for r in demo.data["rooms"] if r["name"] not in old_room and old_room not in r["name"])
    attendee = new_context(server).new_page()
    attendee.goto("/programme")
    expect(main(attendee).get_by_role("link", name=session["title"]).first).to_be_visible()
    wait_for_live_stream(attendee)
    menu = attendee.get_by_role("navigation", name="Main")
    # Nothing changed since the attendee got the app: no badge, and on a phone no tab either.
    expect(menu.get_by_role("link", name=re.compile(r"^Changes"))).to_have_count(0)

    console = new_context(server, viewport=DESKTOP).new_page()
    sign_in(console, editor)
    main(console).get_by_role("link", name=session["title"]).click()
    expect(h1(console, "Edit session")).to_be_visible()
    console.get_by_label("Room", exact=True).select_option(label=room["name"])
    console.get_by_role("button", name="Save").click()
    saved(console)

    # No reload: the open app follows the change feed, and the badge counts the change.
    badge = menu.get_by_role("link", name="Changes, 1 changed")
    expect(badge).to_be_visible(timeout=10_000)
    badge.click()
    expect(h1(attendee, "Programme changes")).to_be_visible()
    card = main(attendee).get_by_role("listitem").filter(has=attendee.get_by_role("link", name=session["title"]))
    expect(card).to_contain_text("New room")
    expect(card.locator(".change-was")).to_contain_text(old_room)
    expect(card.locator(".change-now")).to_contain_text(room["name"])

    # Having looked, the count starts again from here, also after a reload.
    attendee.get_by_role("button", name="Mark all as seen").click()
    expect(main(attendee)).to_contain_text("Nothing has changed since you last looked.")
    attendee.goto("/programme")
    expect(main(attendee).get_by_role("link", name=session["title"]).first).to_be_visible()
    expect(menu.get_by_role("link", name=re.compile(r"^Changes, "))).to_have_count(0)


@pytest.fixture
def following_server(tmp_path: Path) -> Iterator[RunningServer]:
    """The server, allowed to follow a schedule source on loopback (an empty programme to start with)."""
    running = start_server(tmp_path / "kumpul.db", env={"KUMPUL_ALLOW_INSECURE_SOURCE": "1"})
    yield running
    stop_server(running)


def test_the_console_follows_a_source_and_shows_a_failing_pull(
    new_context: ContextFactory, following_server: RunningServer
) -> None:
    server = following_server
    with schedule_source() as source:
        source.state.body = (DATA / "schedule.xml").read_bytes()
        editor = organiser(server, "editor", admin_token(server))
        console = new_context(server, viewport=DESKTOP).new_page()
        sign_in(console, editor)
        nav(console).get_by_role("link", name="Source of record").click()
        expect(h1(console, "Source of record")).to_be_visible()
        expect(main(console)).to_contain_text("The programme follows no source")
        console.get_by_label("Address of the schedule.xml or schedule.json (https)").fill(source.url)
        console.get_by_label("Pull every (minutes)").fill("60")
        console.get_by_role("button", name="Follow this source").click()
        saved(console, "Following the source")
        status = main(console).get_by_role("region", name="Last pull")
        expect(status).to_contain_text("Imported changes")
        sessions = httpx.get(f"{server.url}/api/sessions", timeout=10).json()
        assert len(sessions) == 35

        source.state.body = (DATA / "malformed-syntax.xml").read_bytes()
        console.get_by_role("button", name="Pull now").click()
        alert = main(console).get_by_role("alert")
        expect(alert).to_contain_text("Failed")
        expect(alert).to_contain_text("line 20")
        expect(alert).to_contain_text("1 failed pull in a row")
        assert httpx.get(f"{server.url}/api/sessions", timeout=10).json() == sessions
