"""Reminders before bookmarked sessions, end to end: the real server queues and pushes them to a loopback push
service (which decrypts them independently, with http_ece), the service worker in real Chromium shows them
(CDP push delivery), and an open app without push shows them in the page."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    DESKTOP,
    ContextFactory,
    Demo,
    RunningServer,
    axe_violations,
    bookmark,
    describe_violations,
    h1,
    screenshot,
    start_server,
    stop_server,
    wait_for_service_worker,
)
from tests.push_service import PushService

#: The scheduler looks every 5 s; the loopback push service answers at once.
REMINDER_DEADLINE_S = 30


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """The demo server, pushing to loopback, gathering session edits for 30 s (so a reminder falls due meanwhile)."""
    running = start_server(
        tmp_path / "kumpul.db",
        "--demo",
        env={"KUMPUL_ALLOW_INSECURE_PUSH": "1", "KUMPUL_ALERT_DELAY_SECONDS": "30"},
    )
    yield running
    stop_server(running)


@pytest.fixture
def service(server: RunningServer) -> Iterator[PushService]:
    key = httpx.get(f"{server.url}/api/push/key").json()["publicKey"]
    with PushService(vapid_public_key=key) as running:
        yield running


#: The page's view of the service worker's notifications.
NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
    title: n.title, body: n.body, tag: n.tag, data: n.data
}))"""


def move(server: RunningServer, session: dict[str, Any], start: datetime, room_id: str) -> None:
    response = httpx.patch(
        f"{server.url}/api/admin/sessions/{session['id']}",
        json={
            "start": start.isoformat(timespec="seconds"),
            "end": (start + timedelta(minutes=45)).isoformat(timespec="seconds"),
            "roomId": room_id,
        },
        headers={"Authorization": f"Bearer {server.organiser_token('editor')}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def outbox(server: RunningServer, session_id: str) -> dict[tuple[str, str], int]:
    with sqlite3.connect(server.db) as conn:
        rows = conn.execute(
            "SELECT kind, state, count(*) FROM push_outbox WHERE ref = ? GROUP BY kind, state", (session_id,)
        ).fetchall()
    return {(kind, state): n for kind, state, n in rows}


def settled(server: RunningServer, session_id: str) -> dict[tuple[str, str], int]:
    """The outbox rows about a session once none is being sent (the answers are recorded after they come)."""
    deadline = time.monotonic() + 10
    while True:
        states = outbox(server, session_id)
        if not any(state == "sending" for _, state in states) or time.monotonic() > deadline:
            return states
        time.sleep(0.1)


def test_a_moved_session_gets_one_pushed_reminder_that_the_service_worker_shows(
    new_context: ContextFactory, server: RunningServer, service: PushService
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=1)
    room = next(r for r in demo.data["rooms"] if r["id"] != session["roomId"])
    english, indonesian, bystander = service.subscriptions(3)
    for sub, extra in ((english, {}), (indonesian, {"lang": "id"}), (bystander, {"reminderMinutes": None})):
        body = {**sub.as_json(), "alertSessions": [session["id"]], "reminderMinutes": 10, **extra}
        response = httpx.post(f"{server.url}/api/push/subscriptions", json=body)
        assert response.status_code == 201, response.text

    # The session moves to another room, starting in ten minutes and a moment: its reminder falls due while
    # the change alert is still gathering edits, so the two devices with reminders get one message each.
    start = (datetime.now(UTC) + timedelta(minutes=10, seconds=3)).astimezone(demo.zone).replace(microsecond=0)
    move(server, session, start, room["id"])
    deliveries = service.wait_for_sync(2, timeout=REMINDER_DEADLINE_S)
    by_device = {d.sub_id: d for d in deliveries}
    assert set(by_device) == {english.sub_id, indonesian.sub_id}
    message = by_device[english.sub_id].json()
    assert message["type"] == "reminder"
    assert message["sessionId"] == session["id"]
    assert message["title"] == session["title"]
    assert message["changed"] is True
    assert message["body"] == f"Moved: now starts at {start:%H:%M} in {room['name']}"
    assert by_device[english.sub_id].urgency == "high"
    translated = by_device[indonesian.sub_id].json()
    assert translated["body"].startswith(f"Dipindah: sekarang mulai pukul {start:%H:%M} di ")
    assert settled(server, session["id"]) == {
        ("reminder", "sent"): 2,
        ("alert", "merged"): 2,
        ("alert", "pending"): 1,  # the device without reminders hears of the move when the alert is due
    }

    # What the push service decrypted goes to the service worker as a real push event.
    browsing = new_context(server)
    page = browsing.new_page()
    cdp = browsing.context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(r["registrationId"] for r in event["registrations"] if not r["isDeleted"]),
    )
    cdp.on(
        "ServiceWorker.workerVersionUpdated",
        lambda event: registrations.extend(v["registrationId"] for v in event["versions"]),
    )
    cdp.send("ServiceWorker.enable")
    page.goto("/info")
    wait_for_service_worker(page)
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert registrations, "CDP reported no service worker registration"
    browsing.context.grant_permissions(["notifications"], origin=server.url)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": server.url,
            "registrationId": registrations[-1],
            "data": by_device[english.sub_id].plaintext.decode(),
        },
    )
    shown = notifications(page, lambda items: any(n["tag"] == f"alert:{session['id']}" for n in items))
    assert shown == [
        {
            "title": session["title"],
            "body": f"Moved: now starts at {start:%H:%M} in {room['name']}",
            "tag": f"alert:{session['id']}",
            "data": {"url": f"/sessions/{session['id']}"},
        }
    ]


def notifications(page: Page, until: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        shown = page.evaluate(NOTIFICATIONS)
        if until(shown):
            return shown
        page.wait_for_timeout(100)
    raise AssertionError(f"the service worker shows {shown}")


def test_a_cancelled_session_is_not_reminded_of(server: RunningServer, service: PushService) -> None:
    demo = Demo.load(server)
    session = demo.find(day=1)
    other = next(s for s in demo.sessions if s["id"] != session["id"] and s["status"] == "scheduled")
    device, control = service.subscriptions(2)
    for sub, followed in ((device, session), (control, other)):
        body = {**sub.as_json(), "alertSessions": [followed["id"]], "reminderMinutes": 5, "changeAlerts": False}
        assert httpx.post(f"{server.url}/api/push/subscriptions", json=body).status_code == 201
    editor = {"Authorization": f"Bearer {server.organiser_token('editor')}"}
    start = (datetime.now(UTC) + timedelta(minutes=5, seconds=2)).astimezone(demo.zone).replace(microsecond=0)
    times = {"start": start.isoformat(timespec="seconds"), "end": (start + timedelta(minutes=30)).isoformat()}
    cancelled = httpx.patch(
        f"{server.url}/api/admin/sessions/{session['id']}", json={**times, "status": "cancelled"}, headers=editor
    )
    assert cancelled.status_code == 200, cancelled.text
    move(server, other, start, other["roomId"])
    # Both fall due at the same moment: once the other session's reminder is in, the cancelled one's would be too.
    (reminded,) = service.wait_for_sync(1, timeout=REMINDER_DEADLINE_S)
    assert reminded.sub_id == control.sub_id
    assert settled(server, other["id"]) == {("reminder", "sent"): 1}
    assert outbox(server, session["id"]) == {}, "nothing queued for the cancelled session"
    assert service.deliveries(device) == []


@pytest.mark.parametrize("viewport", [None, DESKTOP], ids=["phone", "desktop"])
def test_without_push_the_open_app_shows_the_reminder(
    new_context: ContextFactory, server: RunningServer, viewport: dict[str, int] | None
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=1)
    # The page's clock: nine minutes before the session starts.
    browsing = new_context(server, viewport=viewport, at=demo.start(session) - timedelta(minutes=9))
    page = browsing.new_page()
    page.goto("/info")
    expect(h1(page, "Info")).to_be_visible()
    choice = page.get_by_role("combobox", name="Remind me before my bookmarked sessions")
    expect(choice).to_have_value("off")
    choice.select_option(label="10 minutes before")
    in_page = "Without notifications on this device, reminders appear here while Kumpul is open."
    expect(page.get_by_text(in_page)).to_be_visible()
    page.wait_for_load_state("networkidle")  # the venue's rooms come in above and would move the panel
    choice.evaluate("element => element.scrollIntoView({block: 'center'})")
    screenshot(page, "reminders-choice")
    bookmark(page, session)

    reminder = page.get_by_role("status").filter(has_text="Starting soon").filter(has_text=session["title"])
    expect(reminder).to_be_visible()
    expect(reminder).to_contain_text(f"{demo.start(session):%H:%M} in {demo.room_name(session['roomId'])}")
    screenshot(page, "reminders-in-page")
    assert not (violations := axe_violations(page)), describe_violations("reminder", violations)
    reminder.get_by_role("link", name=re.compile(rf"^View\W+{re.escape(session['title'])}$")).click()
    expect(h1(page, session["title"])).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Starting soon")).to_have_count(0)
    page.reload()  # dismissed stays dismissed
    expect(h1(page, session["title"])).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Starting soon")).to_have_count(0)


def test_a_restart_at_the_due_time_neither_skips_nor_doubles_a_reminder(
    server: RunningServer, service: PushService
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=1)
    subs = service.subscriptions(1500)
    with sqlite3.connect(server.db) as conn:
        conn.executemany(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, alert_sessions, reminder_minutes, change_alerts,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, 10, 0, strftime('%Y-%m-%dT%H:%M:%fZ'),"
            " strftime('%Y-%m-%dT%H:%M:%fZ'))",
            [(s.endpoint, s.p256dh, s.auth, f'["{session["id"]}"]') for s in subs],
        )
    start = (datetime.now(UTC) + timedelta(minutes=10, seconds=2)).astimezone(demo.zone).replace(microsecond=0)
    move(server, session, start, session["roomId"])
    service.wait_for_sync(200, timeout=REMINDER_DEADLINE_S)
    service.hold()  # the requests on their way now wait: the server stops mid fan-out, whatever the machine's speed
    service.wait_until_sync(lambda: service.arrived > service.delivered + len(service.failures), what="a held request")
    server.process.terminate()  # at the due time: it finishes the batch in flight and stops
    service.release()
    server.process.wait(timeout=30)
    stopped_at = service.delivered
    assert 200 <= stopped_at < 1500, "the server stopped mid fan-out"

    again = start_server(server.db, env={"KUMPUL_ALLOW_INSECURE_PUSH": "1"})
    try:
        service.wait_for_sync(1500, timeout=REMINDER_DEADLINE_S)
        assert settled(again, session["id"]) == {("reminder", "sent"): 1500}
        assert sorted(set(service.counts().values())) == [1], "every device exactly once"
    finally:
        stop_server(again)
