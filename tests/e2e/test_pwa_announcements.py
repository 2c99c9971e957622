"""Announcements in the attendee PWA: the live banner, Web Push in the service worker, catching up after being
offline, plain text that stays plain, and the "enable notifications" flow."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.e2e.conftest import (
    DESKTOP,
    MOBILE,
    ContextFactory,
    Demo,
    RunningServer,
    bookmark,
    h1,
    main,
    nav_link,
    screenshot,
    start_server,
    stop_server,
    wait_for_service_worker,
    wait_until_offline_ready,
)

#: What the issue promises: a posted announcement is on an open page within 2 s.
LIVE_DEADLINE_S = 2.0
#: How long a device that comes back online may take to show what it missed.
CATCH_UP_TIMEOUT_MS = 10_000
#: The same announcement sent before the screenshots.
LINKED_BODY = (
    "Hall B is closed for repairs. The plenary moves to Hall A.\n\nMap of the venue: https://example.org/venue-map."
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """``kumpul serve --demo`` that accepts push endpoints on loopback (for the subscription flow)."""
    running = start_server(tmp_path / "kumpul.db", "--demo", env={"KUMPUL_ALLOW_INSECURE_PUSH": "1"})
    yield running
    stop_server(running)


class Organiser:
    """Posts, corrects and retracts announcements with an announcer's token (made once, before any timing)."""

    def __init__(self, server: RunningServer) -> None:
        self.url = server.url
        self.headers = {"Authorization": f"Bearer {server.organiser_token('announcer')}"}

    def post(self, title: str, body: str = "", priority: str = "normal", **extra: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/api/admin/announcements",
            json={"title": title, "body": body, "priority": priority, **extra},
            headers=self.headers,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        announcement: dict[str, Any] = response.json()
        return announcement

    def retract(self, announcement_id: str) -> None:
        response = httpx.delete(
            f"{self.url}/api/admin/announcements/{announcement_id}", headers=self.headers, timeout=10
        )
        assert response.status_code in (200, 204), response.text


def wait_for_live_stream(page: Page) -> None:
    """Wait until the app's EventSource has the server's hello (the app marks <html data-live="open">)."""
    page.wait_for_selector("html[data-live=open]", state="attached", timeout=10_000)


def unread_badge(page: Page) -> Locator:
    return nav_link(page, "Announcements")


def card(page: Page, title: str) -> Locator:
    """An announcement in the list, by its title."""
    return main(page).get_by_role("listitem").filter(has=page.get_by_role("link", name=title, exact=True))


def test_an_open_page_shows_a_posted_announcement_within_two_seconds(
    new_context: ContextFactory, server: RunningServer
) -> None:
    organiser = Organiser(server)
    page = new_context(server).new_page()
    page.goto("/announcements")
    expect(h1(page, "Announcements")).to_be_visible()
    expect(main(page)).to_contain_text("No announcements yet")
    wait_for_live_stream(page)

    title = "Plenary moved to Hall B"
    started = time.monotonic()
    urgent = organiser.post(title, "The plenary starts at 10:30 in Hall B.", "urgent")
    banner = page.get_by_role("alert").filter(has_text=title)
    expect(banner).to_be_visible(timeout=LIVE_DEADLINE_S * 1000)
    elapsed = time.monotonic() - started
    assert elapsed < LIVE_DEADLINE_S, f"the banner took {elapsed:.2f} s"
    expect(banner).to_contain_text("Urgent announcement")
    expect(banner.get_by_role("link", name="Read")).to_have_attribute("href", f"/announcements/{urgent['id']}")

    started = time.monotonic()
    normal = organiser.post("Lunch is served on the terrace", "Until 13:30.")
    status = page.get_by_role("status").filter(has_text="Lunch is served on the terrace")
    expect(status).to_be_visible(timeout=LIVE_DEADLINE_S * 1000)
    assert time.monotonic() - started < LIVE_DEADLINE_S

    # The live announcements join the stored programme once: urgent pinned, each listed once, both unread.
    expect(card(page, title)).to_have_count(1)
    expect(card(page, normal["title"])).to_have_count(1)
    expect(card(page, title).get_by_text("Urgent", exact=True)).to_be_visible()
    expect(main(page).get_by_text("Unread", exact=True)).to_have_count(2)
    expect(unread_badge(page)).to_have_accessible_name("Announcements, 2 unread")
    text = main(page).inner_text()
    assert text.index(title) < text.index(normal["title"]), text

    # "Read" opens the announcement, which marks it read; the banner goes away.
    banner.get_by_role("link", name="Read").click()
    expect(h1(page, title)).to_be_visible()
    expect(main(page)).to_contain_text("The plenary starts at 10:30 in Hall B.")
    expect(page.get_by_role("alert").filter(has_text=title)).to_have_count(0)
    expect(unread_badge(page)).to_have_accessible_name("Announcements, 1 unread")

    page.get_by_role("button", name=f"Dismiss “{normal['title']}”").click()
    expect(status).to_have_count(0)

    # A retraction removes it from the open page.
    organiser.retract(normal["id"])
    nav_link(page, "Announcements").click()
    expect(card(page, title)).to_have_count(1)
    expect(card(page, normal["title"])).to_have_count(0, timeout=LIVE_DEADLINE_S * 1000)
    expect(unread_badge(page)).to_have_accessible_name("Announcements")

    # Stored on the device: a reload shows it at once, still read.
    page.reload()
    expect(card(page, title)).to_have_count(1)
    expect(main(page).get_by_text("Unread", exact=True)).to_have_count(0)


def test_a_programme_change_reaches_an_open_page_within_seconds(
    new_context: ContextFactory, server: RunningServer
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="workshop")
    old_room = demo.room_name(session["roomId"])
    new_room = next(r for r in demo.data["rooms"] if r["name"] not in old_room and old_room not in r["name"])
    page = new_context(server).new_page()
    page.goto(f"/sessions/{session['id']}")
    expect(main(page)).to_contain_text(old_room)
    wait_for_live_stream(page)

    started = time.monotonic()
    response = httpx.patch(
        f"{server.url}/api/admin/sessions/{session['id']}",
        json={"roomId": new_room["id"]},
        headers={"Authorization": f"Bearer {server.organiser_token('editor')}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    # The periodic pull is 30 s away: only the live "programme" poke brings it this fast.
    expect(main(page)).to_contain_text(new_room["name"], timeout=5_000)
    assert time.monotonic() - started < 10


def test_only_announcements_for_this_attendee_are_listed(
    new_context: ContextFactory, server: RunningServer, demo_session: dict[str, Any]
) -> None:
    organiser = Organiser(server)
    other = next(s for s in Demo.load(server).sessions if s["id"] != demo_session["id"])
    page = new_context(server).new_page()
    bookmark(page, demo_session)
    page.goto("/info")
    page.get_by_role("combobox", name="How I take part").select_option(label="Online")
    nav_link(page, "Announcements").click()
    wait_for_live_stream(page)

    organiser.post("Coffee at the registration desk", audience="onsite")
    organiser.post("The stream has subtitles now", audience="online")
    organiser.post("Bring your laptop", audience="session", sessionId=demo_session["id"])
    organiser.post("Room change for another session", audience="session", sessionId=other["id"])
    everyone = organiser.post("Welcome to the conference")

    expect(card(page, everyone["title"])).to_be_visible(timeout=LIVE_DEADLINE_S * 1000)
    expect(card(page, "The stream has subtitles now")).to_be_visible()
    expect(card(page, "Bring your laptop")).to_be_visible()
    expect(card(page, "Coffee at the registration desk")).to_have_count(0)
    expect(card(page, "Room change for another session")).to_have_count(0)
    expect(unread_badge(page)).to_have_accessible_name("Announcements, 3 unread")
    expect(page.get_by_role("status").filter(has_text="Coffee at the registration desk")).to_have_count(0)


#: The page's view of the service worker's notifications.
NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
    title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction, data: n.data, icon: n.icon
}))"""


def test_a_push_message_shows_a_notification(new_context: ContextFactory, server: RunningServer) -> None:
    browsing = new_context(server)
    page = browsing.new_page()
    cdp = browsing.context.new_cdp_session(page)
    registrations: list[str] = []

    def registered(event: dict[str, Any]) -> None:
        registrations.extend(r["registrationId"] for r in event["registrations"] if not r["isDeleted"])

    def versions(event: dict[str, Any]) -> None:
        registrations.extend(v["registrationId"] for v in event["versions"])

    cdp.on("ServiceWorker.workerRegistrationUpdated", registered)
    cdp.on("ServiceWorker.workerVersionUpdated", versions)
    cdp.send("ServiceWorker.enable")
    page.goto("/announcements")
    wait_for_service_worker(page)
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert registrations, "CDP reported no service worker registration"
    browsing.context.grant_permissions(["notifications"], origin=server.url)

    def push(payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": server.url, "registrationId": registrations[-1], "data": data},
        )

    def notifications(until: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        """The service worker's notifications, once ``until`` holds for them."""
        shown: list[dict[str, Any]] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            shown = page.evaluate(NOTIFICATIONS)
            if until(shown):
                return shown
            page.wait_for_timeout(100)
        raise AssertionError(f"the service worker shows {shown}")

    def tagged(tag: str, title: str) -> Callable[[list[dict[str, Any]]], bool]:
        return lambda shown: any(n["tag"] == tag and n["title"] == title for n in shown)

    announcement = {
        "type": "announcement",
        "id": "ann-push-1",
        "title": "Stream of Room 3 is down",
        "body": "Use https://example.org/room-3 until it is back.",
        "priority": "urgent",
        "url": "/announcements/ann-push-1",
    }
    push(announcement)
    [shown] = notifications(tagged("announcement:ann-push-1", "Stream of Room 3 is down"))
    assert shown["title"] == "Stream of Room 3 is down"
    assert shown["body"] == "Use https://example.org/room-3 until it is back."
    assert shown["tag"] == "announcement:ann-push-1"
    assert shown["requireInteraction"] is True
    assert shown["data"] == {"url": "/announcements/ann-push-1"}
    assert shown["icon"].endswith("/icons/icon-192.png")

    # A correction carries the same tag and replaces the notification instead of adding one.
    push({**announcement, "title": "Stream of Room 3 is back", "body": "Sorry for the trouble.", "priority": "normal"})
    [corrected] = notifications(tagged("announcement:ann-push-1", "Stream of Room 3 is back"))
    assert (corrected["title"], corrected["tag"], corrected["requireInteraction"]) == (
        "Stream of Room 3 is back",
        "announcement:ann-push-1",
        False,
    )

    push(
        {
            "type": "alert",
            "sessionId": "ses-1",
            "title": "Session changed",
            "body": "Opening plenary: now Tue 23 Jul, 09:30 (WITA) in Hall A",
            "status": "scheduled",
            "start": "2024-07-23T01:30:00Z",
            "end": "2024-07-23T02:30:00Z",
            "room": "Hall A",
            "url": "/sessions/ses-1",
        }
    )
    shown_now = notifications(tagged("alert:ses-1", "Session changed"))
    assert len(shown_now) == 2, shown_now
    alert = next(n for n in shown_now if n["tag"] == "alert:ses-1")
    assert alert["title"] == "Session changed"
    assert alert["data"] == {"url": "/sessions/ses-1"}

    # Whatever arrives, the browser requires a notification: a broken payload still shows a generic one.
    push("this is not JSON")
    generic = next(n for n in notifications(tagged("kumpul", "Kumpul")) if n["tag"] == "kumpul")
    assert generic["title"] == "Kumpul"
    assert generic["data"] == {"url": "/announcements"}


def test_an_offline_page_catches_up_on_reconnect(new_context: ContextFactory, server: RunningServer) -> None:
    organiser = Organiser(server)
    browsing = new_context(server)
    page = browsing.new_page()
    page.goto("/announcements")
    expect(h1(page, "Announcements")).to_be_visible()
    wait_until_offline_ready(page)
    wait_for_live_stream(page)
    expect(unread_badge(page)).to_have_accessible_name("Announcements")

    browsing.context.set_offline(True)
    expect(page.get_by_role("status").filter(has_text="Offline").first).to_be_visible()
    missed = organiser.post("Shuttle buses leave from the east gate at 17:30", "Last one at 18:15.")
    page.wait_for_timeout(1_000)
    expect(card(page, missed["title"])).to_have_count(0)

    browsing.context.set_offline(False)
    expect(card(page, missed["title"])).to_be_visible(timeout=CATCH_UP_TIMEOUT_MS)
    expect(card(page, missed["title"]).get_by_text("Unread", exact=True)).to_be_visible()
    expect(unread_badge(page)).to_have_accessible_name("Announcements, 1 unread")
    expect(page.locator(".main-nav .nav-count")).to_have_attribute("data-count", "1")


def test_announcement_text_stays_text_and_its_urls_become_links(
    new_context: ContextFactory, server: RunningServer
) -> None:
    organiser = Organiser(server)
    browsing = new_context(server)
    page = browsing.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    title = "<i>Room 3</i> stream <script>alert('title')</script>"
    body = (
        "<script>window.__injected = 'script'; alert('script')</script>\n"
        "<img src=\"/nothing.png\" onerror=\"window.__injected = 'img'; alert('img')\">\n"
        '<b>Bold?</b> <a href="https://example.net/">a link in markup</a>\n\n'
        "Watch at https://example.org/room-3?lang=en. Not links: javascript:alert('js') and "
        "data:text/html,<script>alert(1)</script>"
    )
    posted = organiser.post(title, body)
    page.goto(f"/announcements/{posted['id']}")
    expect(h1(page, title)).to_be_visible()

    content = main(page)
    for fragment in [
        "<script>window.__injected = 'script'; alert('script')</script>",
        "<img src=\"/nothing.png\" onerror=\"window.__injected = 'img'; alert('img')\">",
        "<b>Bold?</b>",
        "javascript:alert('js')",
    ]:
        expect(content).to_contain_text(fragment)
    body_element = content.locator(".announcement-body")
    assert body_element.locator("script, img, b, i, iframe").count() == 0
    assert page.locator("h1 i, h1 script").count() == 0

    links = body_element.get_by_role("link")
    expect(links).to_have_count(2)
    markup_url = links.filter(has_text="https://example.net/")
    expect(markup_url).to_have_attribute("href", "https://example.net/")
    watch = links.filter(has_text="https://example.org/room-3?lang=en")
    expect(watch).to_have_text("https://example.org/room-3?lang=en")
    expect(watch).to_have_attribute("href", "https://example.org/room-3?lang=en")
    expect(watch).to_have_attribute("rel", "noopener noreferrer")
    expect(watch).to_have_attribute("target", "_blank")
    assert content.locator("a[href^='javascript:'], a[href^='data:']").count() == 0

    page.wait_for_timeout(500)
    assert page.evaluate("window.__injected") is None
    assert dialogs == []
    assert browsing.foreign_requests() == []

    # The list shows the same text, inert too.
    nav_link(page, "Announcements").click()
    expect(main(page).get_by_role("link", name=title, exact=True)).to_be_visible()
    assert page.evaluate("window.__injected") is None
    assert dialogs == []


def stored_subscriptions(server: RunningServer) -> list[dict[str, Any]]:
    with sqlite3.connect(server.db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT endpoint, participation, alert_sessions FROM push_subscriptions").fetchall()
    return [dict(row) for row in rows]


#: Subscribing as the app does, to learn why the browser refuses (for the skip reason).
PROBE_SUBSCRIBE = """async () => {
    const registration = await navigator.serviceWorker.ready;
    const { publicKey } = await (await fetch("/api/push/key")).json();
    const options = { userVisibleOnly: true, applicationServerKey: publicKey };
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 20 s")), 20000));
    try {
        await Promise.race([registration.pushManager.subscribe(options), timeout]);
        return null;
    } catch (error) {
        return `${error.name}: ${error.message}`;
    }
}"""


def test_turning_on_notifications_registers_this_device(
    new_context: ContextFactory, server: RunningServer, demo_session: dict[str, Any]
) -> None:
    browsing = new_context(server)
    page = browsing.new_page()
    bookmark(page, demo_session)
    page.goto("/announcements")
    wait_for_service_worker(page)
    browsing.context.grant_permissions(["notifications"], origin=server.url)
    panel = main(page).get_by_role("region", name="Notifications")
    expect(panel).to_contain_text("announcements from the organisers")
    expect(panel).to_contain_text("a session in your agenda moves")
    panel.get_by_role("checkbox", name="Alert me when my bookmarked sessions change").check()
    panel.get_by_role("button", name="Turn on notifications").click()
    outcome = panel.get_by_text(re.compile("Notifications are on for this device|could not be turned on"))
    expect(outcome).to_be_visible(timeout=30_000)
    if "could not" in outcome.inner_text():
        expect(panel.get_by_role("button", name="Turn on notifications")).to_be_enabled()
        reason = page.evaluate(PROBE_SUBSCRIBE)
        pytest.skip(
            "headless Chromium cannot subscribe to Web Push here: Playwright's browser contexts are off-the-record, "
            "where Chromium has no Push API, and a persistent profile needs Google's push service, which this "
            f"machine cannot reach (pushManager.subscribe() said: {reason})"
        )

    [stored] = stored_subscriptions(server)
    assert json.loads(stored["alert_sessions"]) == [demo_session["id"]]
    expect(panel.get_by_role("button", name="Turn off notifications")).to_be_visible()
    panel.get_by_role("button", name="Turn off notifications").click()
    expect(panel.get_by_role("button", name="Turn on notifications")).to_be_visible()
    assert stored_subscriptions(server) == []


@pytest.fixture
def demo_session(server: RunningServer) -> dict[str, Any]:
    return Demo.load(server).find(day=0, format="workshop")


def test_blocked_notifications_say_how_to_allow_them(new_context: ContextFactory, server: RunningServer) -> None:
    page = new_context(server).new_page()
    page.goto("/info")
    panel = main(page).get_by_role("region", name="Notifications")
    expect(panel).to_contain_text("announcements from the organisers")
    # Without a grant, headless Chromium answers the permission prompt with "denied", as a refusing attendee would.
    panel.get_by_role("button", name="Turn on notifications").click()
    expect(panel).to_contain_text("Notifications are blocked for Kumpul in this browser")
    expect(panel).to_contain_text("Site settings → Notifications")
    expect(panel.get_by_role("button", name="Turn on notifications")).to_be_disabled()


IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_on_an_iphone_the_app_explains_adding_it_to_the_home_screen_first(
    browser: Browser, server: RunningServer
) -> None:
    context = browser.new_context(
        base_url=server.url, viewport=cast(ViewportSize, MOBILE), user_agent=IPHONE_SAFARI, locale="en-GB"
    )
    try:
        page = context.new_page()
        page.goto("/announcements")
        panel = main(page).get_by_role("region", name="Notifications")
        expect(panel).to_contain_text("Add to Home Screen")
        expect(panel.get_by_role("button", name="Turn on notifications")).to_have_count(0)
        panel.scroll_into_view_if_needed()
        screenshot(page, "notifications-iphone")
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["mobile", "desktop"])
def test_screenshots_of_announcements(
    new_context: ContextFactory, server: RunningServer, viewport: dict[str, int]
) -> None:
    organiser = Organiser(server)
    organiser.post("Shuttle buses leave from the east gate at 17:30", "The last bus leaves at 18:15.")
    urgent = organiser.post("Hall B is closed, its sessions move to Hall A", LINKED_BODY, "urgent")
    organiser.post("Lunch is served on the terrace", "Vegetarian, vegan and halal dishes are labelled. " * 4)
    page = new_context(server, viewport=viewport).new_page()
    page.goto("/announcements")
    expect(card(page, urgent["title"])).to_be_visible()
    wait_for_service_worker(page)
    wait_for_live_stream(page)
    notices = page.locator(".notices .toast")
    if notices.count():
        notices.get_by_role("button", name="Dismiss").click()
    screenshot(page, "announcements")

    main(page).get_by_role("link", name=urgent["title"]).click()
    expect(h1(page, urgent["title"])).to_be_visible()
    expect(main(page).get_by_role("link", name="https://example.org/venue-map")).to_be_visible()
    screenshot(page, "announcement")

    live = organiser.post("Plenary moved to Hall B", "From 10:30.", "urgent")
    expect(page.get_by_role("alert").filter(has_text=live["title"])).to_be_visible(timeout=LIVE_DEADLINE_S * 1000)
    screenshot(page, "announcement-banner")

    page.goto("/announcements")
    panel = main(page).get_by_role("region", name="Notifications")
    panel.scroll_into_view_if_needed()
    screenshot(page, "notifications")
    panel.get_by_role("button", name="Turn on notifications").click()
    expect(panel).to_contain_text("Notifications are blocked")
    panel.scroll_into_view_if_needed()
    screenshot(page, "notifications-blocked")
