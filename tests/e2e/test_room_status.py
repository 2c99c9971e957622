"""Room status, live: a volunteer marks a room full on the console's phone page, an open attendee app shows it on
the session's row and its page within 2 s (and on the map), and it goes away by itself when the session in the room
ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    DESKTOP,
    MOBILE,
    ContextFactory,
    RunningServer,
    axe_violations,
    describe_violations,
    require_pwa_build,
    screenshot,
    start_server,
    stop_server,
)
from tests.e2e.console_helpers import h1, nav, organiser, sign_in

pytestmark = pytest.mark.e2e

#: How long the session in the room still runs once the volunteer is signed in: time to set the status, watch it
#: arrive on a busy machine (with accessibility checks and screenshots), and then see it lapse.
RUNS_FOR = timedelta(seconds=60)


@pytest.fixture
def today(tmp_path: Path) -> Iterator[RunningServer]:
    """The demo moved so that today is its second day, so the app's real clock falls inside the event."""
    require_pwa_build()
    running = start_server(tmp_path / "kumpul.db", "--demo", "--demo-dates", "today")
    yield running
    stop_server(running)


def wait_for_live(page: Page) -> None:
    """Wait until the app's EventSource has the server's hello (the app marks <html data-live="open">)."""
    page.wait_for_selector("html[data-live=open]", state="attached", timeout=10_000)


def test_a_volunteer_marks_a_room_full_and_open_apps_show_it_until_the_session_ends(
    today: RunningServer, new_context: ContextFactory
) -> None:
    editor = {"Authorization": f"Bearer {today.organiser_token('editor')}"}
    with httpx.Client(base_url=today.url, headers=editor, timeout=10) as api:
        room = api.post("/api/admin/rooms", json={"name": "Door Test Hall"})
        assert room.status_code == 201, room.text
        room_id = room.json()["id"]
        format_id = api.get("/api/formats").json()[0]["id"]

        volunteer = organiser(today, "volunteer")
        console = new_context(today, viewport=MOBILE).new_page()
        sign_in(console, volunteer)
        expect(h1(console, "Room status")).to_be_visible()
        expect(nav(console).get_by_role("link")).to_have_text(["Room status"])

        now = datetime.now(UTC)
        ends = now + RUNS_FOR
        session = api.post(
            "/api/admin/sessions",
            json={
                "title": "Packed workshop",
                "start": (now - timedelta(minutes=10)).isoformat(),
                "end": ends.isoformat(),
                "roomId": room_id,
                "format": format_id,
            },
        )
        assert session.status_code == 201, session.text
        session_id = session.json()["id"]

    attendee = new_context(today)
    now_next = attendee.new_page()
    now_next.goto("/")
    row = now_next.get_by_role("listitem").filter(has=now_next.get_by_role("link", name="Packed workshop"))
    expect(row).to_be_visible()
    detail = attendee.new_page()
    detail.goto(f"/sessions/{session_id}")
    expect(detail.get_by_role("heading", level=1, name="Packed workshop")).to_be_visible()
    wait_for_live(now_next)
    wait_for_live(detail)
    expect(detail.get_by_text("Room full")).to_have_count(0)

    console.get_by_label("Room", exact=True).select_option(label="Door Test Hall")
    console.get_by_role("radio", name="Full").check()
    console.get_by_role("button", name="Set status").click()
    set_at = time.monotonic()
    expect(console.get_by_role("status")).to_contain_text("Door Test Hall: Full until")

    expect(detail.get_by_text("Room full")).to_be_visible(timeout=2_000)
    expect(row.get_by_text("Room full")).to_be_visible(timeout=max(100, int((set_at + 2 - time.monotonic()) * 1000)))
    print(f"room status shown in the open app {time.monotonic() - set_at:.2f} s after the volunteer set it")

    # An app opened after the change sees it too, at a desktop's width as on a phone.
    later = new_context(today, viewport=DESKTOP).new_page()
    later.goto(f"/sessions/{session_id}")
    expect(later.get_by_text("Room full")).to_be_visible()
    # The map's list of rooms says it beside the room.
    later.goto(f"/map?room={room_id}")
    expect(later.get_by_role("listitem").filter(has_text="Door Test Hall")).to_contain_text("Room full")

    for view, shown in (
        ("room-status-console", console),
        ("room-status-session", detail),
        ("room-status-now", now_next),
    ):
        violations = axe_violations(shown)
        assert not violations, describe_violations(view, violations)
        screenshot(shown, view)
    screenshot(later, "room-status-session")

    # The session ends: the status lapses by itself, in the open apps and on the server.
    left = (ends - datetime.now(UTC)).total_seconds()
    expect(detail.get_by_text("Room full")).to_have_count(0, timeout=max(1_000, int((left + 10) * 1000)))
    expect(row.get_by_text("Room full")).to_have_count(0)
    assert httpx.get(f"{today.url}/api/room-status", timeout=10).json() == []
