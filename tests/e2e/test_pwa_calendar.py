"""My agenda in a calendar app: subscribe once the agenda syncs, copy the address, turn it off; download everything."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import ContextFactory, Demo, RunningServer, bookmark, h1, main, screenshot

#: The attendee exists on the server only after the first sync, which follows a bookmark within seconds.
SYNC_TIMEOUT_MS = 20_000


def test_subscribe_to_my_agenda_in_a_calendar_app(new_context: ContextFactory, server: RunningServer) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="plenary")
    browsing = new_context(server)
    browsing.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = browsing.new_page()

    page.goto("/agenda")
    expect(h1(page, "My agenda")).to_be_visible()
    calendar = main(page).get_by_role("region", name="In your calendar app")
    download = calendar.get_by_role("link", name="Download the whole programme (.ics)")
    expect(download).to_have_attribute("href", "/api/schedule.ics")
    whole = page.request.get("/api/schedule.ics")
    assert whole.headers["content-type"] == "text/calendar; charset=utf-8"
    assert session["guid"] in whole.text()
    expect(calendar).to_contain_text("Add a session to your agenda while online")
    expect(calendar.get_by_role("button", name="Subscribe in your calendar")).to_have_count(0)

    bookmark(page, session)
    page.goto("/agenda")
    subscribe = calendar.get_by_role("button", name="Subscribe in your calendar")
    expect(subscribe).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    subscribe.click()

    address = calendar.get_by_role("textbox", name="Calendar address")
    expect(address).to_have_value(re.compile(rf"^{re.escape(server.url)}/api/calendar/\S+\.ics$"))
    url = address.input_value()
    open_in_app = calendar.get_by_role("link", name="Open in your calendar app")
    expect(open_in_app).to_have_attribute("href", "webcal://" + url.split("://", 1)[1])
    feed = httpx.get(url, timeout=10)
    assert feed.status_code == 200
    assert f"UID:{session['guid']}@kumpul" in feed.text

    calendar.get_by_role("button", name="Copy address").click()
    expect(calendar.get_by_role("status")).to_have_text("Address copied.")
    calendar.scroll_into_view_if_needed()
    screenshot(page, "agenda-calendar")
    assert page.evaluate("navigator.clipboard.readText()") == url

    page.reload()
    expect(address).to_have_value(url)  # kept on the device: the calendar that follows it keeps working

    calendar.get_by_role("button", name="Turn off this address").click()
    expect(calendar.get_by_role("button", name="Subscribe in your calendar")).to_be_visible()
    assert httpx.get(url, timeout=10).status_code == 404
