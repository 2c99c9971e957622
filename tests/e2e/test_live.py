"""GET /api/live: announcements reach open apps within seconds, and a reconnect resumes where it stopped."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from tests.e2e.conftest import RunningServer


@dataclass
class Event:
    event: str
    data: str
    id: str | None
    at: float


def listen(url: str, events: queue.Queue[Event], stop: threading.Event, last_event_id: str | None = None) -> None:
    """Read Server-Sent Events into ``events`` until ``stop`` is set or the server goes away."""
    with contextlib.suppress(httpx.TransportError):
        read_stream(url, events, stop, last_event_id)


def read_stream(url: str, events: queue.Queue[Event], stop: threading.Event, last_event_id: str | None) -> None:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    with httpx.stream("GET", f"{url}/api/live", headers=headers, timeout=httpx.Timeout(5, read=30)) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if stop.is_set():
                return
            if not line:
                if "event" in fields or "data" in fields:
                    events.put(
                        Event(
                            fields.get("event", "message"), fields.get("data", ""), fields.get("id"), time.monotonic()
                        )
                    )
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


class Listener:
    def __init__(self, url: str, last_event_id: str | None = None) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=listen, args=(url, self.events, self.stop, last_event_id), daemon=True)
        self.thread.start()

    def next(self, kind: str, timeout: float = 5.0) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event.event == kind:
                return event


def opened(server: RunningServer, last_event_id: str | None = None) -> Iterator[Listener]:
    listener = Listener(server.url, last_event_id)
    listener.next("hello")
    yield listener
    listener.stop.set()


def test_an_announcement_reaches_an_open_app_within_two_seconds(server: RunningServer) -> None:
    token = server.organiser_token("announcer")
    for listener in opened(server):
        posted = time.monotonic()
        response = httpx.post(
            f"{server.url}/api/admin/announcements",
            json={"title": "Lunch extended", "body": "Until 13:30", "priority": "urgent"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201
        event = listener.next("announcement")
        assert event.at - posted < 2.0
        assert json.loads(event.data)["title"] == "Lunch extended"
        poke = listener.next("programme")
        assert json.loads(poke.data)["cursor"] == poke.id


def test_programme_changes_poke_open_apps(server: RunningServer) -> None:
    editor = {"Authorization": f"Bearer {server.organiser_token('editor')}"}
    session = httpx.get(f"{server.url}/api/sessions").json()[0]
    for listener in opened(server):
        httpx.patch(f"{server.url}/api/admin/sessions/{session['id']}", json={"title": "Renamed"}, headers=editor)
        poke = json.loads(listener.next("programme").data)
        changes = httpx.get(
            f"{server.url}/api/changes", params={"since": httpx.get(f"{server.url}/healthz").json()["cursor"]}
        )
        assert changes.json()["cursor"] == poke["cursor"]


def test_reconnect_with_last_event_id_gets_what_was_missed(server: RunningServer) -> None:
    token = {"Authorization": f"Bearer {server.organiser_token('announcer')}"}
    cursor = httpx.get(f"{server.url}/healthz").json()["cursor"]
    missed = httpx.post(f"{server.url}/api/admin/announcements", json={"title": "While you were away"}, headers=token)
    for listener in opened(server, last_event_id=cursor):
        event = listener.next("announcement")
        assert json.loads(event.data)["id"] == missed.json()["id"]
        assert listener.next("programme").id == httpx.get(f"{server.url}/healthz").json()["cursor"]


def test_an_announcement_from_the_command_line_reaches_open_apps(server: RunningServer) -> None:
    for listener in opened(server):
        result = server.kumpul("announce", "Stream of Room 3 is down", "Use the Hall A stream.")
        assert result.returncode == 0, result.stderr
        event = listener.next("announcement", timeout=5)
        assert json.loads(event.data)["title"] == "Stream of Room 3 is down"
