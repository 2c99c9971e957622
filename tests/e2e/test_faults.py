"""Faults around the real server: push services that hang or dawdle, clients that stall, and kill -9 in the middle of
a large import or of an announcement's fan-out. Nothing acknowledged is lost, nothing is half-written, and each
subscription hears each announcement (again only if it was on its way when the server died)."""

from __future__ import annotations

import contextlib
import copy
import json
import select
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import KUMPUL, RunningServer, start_server, stop_server
from tests.e2e.test_live import Listener
from tests.push_service import PushService

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "server" / "demo" / "arat2024.json"
#: Push subscriptions of the fan-out killed midway.
SUBSCRIBERS = 1200


def until(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.05)


def integrity(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def announce(server: RunningServer, token: str, title: str) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/admin/announcements",
        json={"title": title, "body": f"{title}: details at the desk."},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def delivery(server: RunningServer, token: str, announcement_id: str) -> dict[str, int]:
    response = httpx.get(
        f"{server.url}/api/admin/announcements/{announcement_id}/delivery",
        headers={"Authorization": f"Bearer {token}"},
    )
    report: dict[str, int] = response.json()
    return report


def kill_9(server: RunningServer) -> None:
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    assert server.process.returncode == -signal.SIGKILL


# -- push services that hang or answer slowly ------------------------------------------------------------------------


@pytest.fixture
def push_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    monkeypatch.setenv("KUMPUL_ALLOW_INSECURE_PUSH", "1")
    running = start_server(tmp_path / "kumpul.db", "--demo")
    yield running
    stop_server(running)


def test_a_hanging_push_service_holds_up_neither_the_server_nor_other_push_services(
    push_server: RunningServer,
) -> None:
    key = httpx.get(f"{push_server.url}/api/push/key").json()["publicKey"]
    with PushService(key) as stuck, PushService(key) as healthy, PushService(key) as slow:
        hanging, fine, dawdling = stuck.subscriptions(40), healthy.subscriptions(40), slow.subscriptions(10)
        for sub in hanging:
            stuck.respond(sub, "hang")
        slow.delay = 2.0  # answers late, but within the server's request timeout
        for sub in [*hanging, *fine, *dawdling]:
            assert httpx.post(f"{push_server.url}/api/push/subscriptions", json=sub.as_json()).is_success
        token = push_server.organiser_token("announcer")
        listener = Listener(push_server.url)
        listener.next("hello")

        first = announce(push_server, token, "Plenary moved to Hall B")
        assert first["id"] in listener.next("announcement", timeout=10).data, "open apps hear it at once"
        healthy.wait_for_sync(40, timeout=10)
        assert stuck.arrived > 0
        assert stuck.failures == [], "the other push services got it before any request to the hanging one timed out"

        # The server goes on answering, and a second announcement is not queued behind the hanging requests.
        assert httpx.get(f"{push_server.url}/api/programme").status_code == 200
        assert httpx.post(f"{push_server.url}/api/attendees").status_code == 201
        second = announce(push_server, token, "Lunch extended to 13:30")
        healthy.wait_for_sync(80, timeout=10)
        assert second["id"] in listener.next("announcement", timeout=10).data
        assert stuck.failures == [], "still no request to the hanging service has timed out"

        # The hanging requests time out and are dropped; once the service recovers, each message arrives once.
        stuck.wait_until_sync(lambda: len(stuck.failures) > 0, timeout=30, what="the requests time out")
        assert {failure.reason for failure in stuck.failures} == {"hang: client gave up"}
        for sub in hanging:
            stuck.respond(sub, 201)
        stuck.wait_for_sync(80, timeout=60)
        slow.wait_for_sync(20, timeout=30)
        until(lambda: delivery(push_server, token, first["id"])["pending"] == 0, "the first is settled")
        until(lambda: delivery(push_server, token, second["id"])["pending"] == 0, "the second is settled")
        assert delivery(push_server, token, first["id"])["sent"] == 90
        assert delivery(push_server, token, second["id"])["sent"] == 90
        for service in (stuck, healthy, slow):
            messages = [(d.sub_id, d.json()["id"]) for d in service.deliveries()]
            assert len(messages) == len(set(messages)) == 2 * len(service.counts()), "each message once"


# -- clients that stall -----------------------------------------------------------------------------------------------


def test_stalled_clients_hold_no_one_hostage_and_are_dropped(tmp_path: Path) -> None:
    server = start_server(tmp_path / "kumpul.db", "--demo", env={"KUMPUL_CLIENT_TIMEOUT_SECONDS": "2"})
    port = int(server.url.rsplit(":", 1)[1])
    trickling: list[socket.socket] = []
    stalled: list[socket.socket] = []
    try:
        for _ in range(20):  # headers sent a byte at a time, never finished
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /api/programme HTTP/1.1\r\nHost: kumpul\r\nX-Slow: ")
            trickling.append(sock)
        for _ in range(20):  # a body that never finishes
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(
                b"POST /api/attendees/link HTTP/1.1\r\nHost: kumpul\r\nContent-Type: application/json\r\n"
                b"Content-Length: 4000\r\n\r\n" + b'{"code": '
            )
            stalled.append(sock)

        # Everyone else is served meanwhile.
        assert httpx.get(f"{server.url}/api/programme", timeout=5).status_code == 200
        assert httpx.post(f"{server.url}/api/attendees", timeout=5).status_code == 201

        answers: dict[socket.socket, bytes] = dict.fromkeys(stalled, b"")
        dropped: set[socket.socket] = set()
        deadline = time.monotonic() + 60
        while len(dropped) < len(trickling) + len(stalled):
            assert time.monotonic() < deadline, f"only {len(dropped)} of 40 stalled connections were dropped"
            for sock in trickling:
                if sock not in dropped:
                    with contextlib.suppress(OSError):
                        sock.send(b"x")  # one more byte of a header that never ends
            readable, _, _ = select.select([s for s in (*trickling, *stalled) if s not in dropped], [], [], 0.2)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if data:
                    answers.setdefault(sock, b"")
                    answers[sock] += data
                else:
                    dropped.add(sock)
        for sock in stalled:
            assert answers[sock].startswith(b"HTTP/1.1 408 "), answers[sock][:100]
            assert b"stopped arriving" in answers[sock]
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    finally:
        for sock in (*trickling, *stalled):
            sock.close()
        stop_server(server)


# -- kill -9 in the middle of writes ----------------------------------------------------------------------------------


def large_programme(sessions: int) -> tuple[bytes, dict[str, str]]:
    """The demo with every title changed and ``sessions`` more sessions, and the sessions' titles it holds."""
    programme = json.loads(DEMO.read_text())
    for session in programme["sessions"]:
        session["title"] = f"{session['title']} (new edition)"
    model = programme["sessions"][0]
    for number in range(sessions):
        session = copy.deepcopy(model)
        session.update(id=f"added-{number}", guid=str(uuid.uuid4()), title=f"Added session {number}")
        session["abstract"] = f"Added session {number}. " + "An abstract long enough to need some pages. " * 20
        programme["sessions"].append(session)
    return json.dumps(programme).encode(), {s["id"]: s["title"] for s in programme["sessions"]}


def titles(server: RunningServer) -> dict[str, str]:
    return {s["id"]: s["title"] for s in httpx.get(f"{server.url}/api/sessions", timeout=30).json()}


def importing(db: Path) -> bool:
    """Whether a long write transaction (the import) holds the database: locked now and still a moment later."""
    for attempt in range(2):
        with contextlib.closing(sqlite3.connect(db, timeout=0, isolation_level=None)) as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                if attempt == 0:
                    time.sleep(0.2)  # the server's own short writes (the push outbox looking for work) end at once
                continue
            conn.execute("ROLLBACK")
            return False
    return True


@pytest.mark.parametrize("via", ["api", "command line"])
def test_kill_9_during_a_large_import_leaves_the_old_programme_or_the_whole_new_one(tmp_path: Path, via: str) -> None:
    server = start_server(tmp_path / "kumpul.db", "--demo")
    old = titles(server)
    upload, new = large_programme(2000)
    (tmp_path / "programme.json").write_bytes(upload)
    editor = {"Authorization": f"Bearer {server.organiser_token('editor')}"}
    answered: list[httpx.Response] = []

    def run_import() -> None:
        with contextlib.suppress(httpx.TransportError):
            answered.append(httpx.post(f"{server.url}/api/admin/import", content=upload, headers=editor, timeout=120))

    if via == "api":
        importer = threading.Thread(target=run_import)
        importer.start()
        until(lambda: importing(server.db), "the import is writing", seconds=60)
        kill_9(server)
        importer.join(timeout=30)
        assert integrity(server.db) == "ok"
        server = start_server(server.db)
    else:
        command = [*KUMPUL, "import", str(tmp_path / "programme.json"), "--db", str(server.db)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        until(lambda: importing(server.db), "the import is writing", seconds=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    try:
        after = titles(server)
        assert after in (old, new), "either the whole import or none of it"
        if answered and answered[0].is_success:
            assert after == new, "an acknowledged import is kept"
        # Whatever the outcome, the import can be run again and completes.
        assert httpx.post(f"{server.url}/api/admin/import", content=upload, headers=editor, timeout=120).is_success
        assert titles(server) == new
    finally:
        stop_server(server)
    assert integrity(server.db) == "ok"


def test_kill_9_during_a_fan_out_keeps_every_acknowledged_announcement_and_pushes_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUMPUL_ALLOW_INSECURE_PUSH", "1")
    server = start_server(tmp_path / "kumpul.db", "--demo")
    key = httpx.get(f"{server.url}/api/push/key").json()["publicKey"]
    with PushService(key) as push:
        subs = push.subscriptions(SUBSCRIBERS)
        with contextlib.closing(sqlite3.connect(server.db)) as conn, conn:
            conn.executemany(
                "INSERT INTO push_subscriptions (endpoint, p256dh, auth, created_at, updated_at)"
                " VALUES (?, ?, ?, datetime('now'), datetime('now'))",
                [(s.endpoint, s.p256dh, s.auth) for s in subs],
            )
        push.delay = 0.02
        token = server.organiser_token("announcer")
        acknowledged = [announce(server, token, f"Announcement {n}")["id"] for n in range(3)]
        push.wait_for_sync(SUBSCRIBERS, timeout=60)
        kill_9(server)
        at_kill = push.delivered
        assert at_kill < 3 * SUBSCRIBERS, "the fan-out was still running"
        with contextlib.closing(sqlite3.connect(server.db)) as conn:
            in_flight = {
                (endpoint.rsplit("/", 1)[-1], ref)
                for endpoint, ref in conn.execute(
                    "SELECT s.endpoint, o.ref FROM push_outbox o JOIN push_subscriptions s ON s.id = o.subscription_id"
                    " WHERE o.state = 'sending'"
                )
            }
        assert integrity(server.db) == "ok"

        push.delay = 0.0
        again = start_server(server.db)
        try:
            listed = httpx.get(
                f"{again.url}/api/admin/announcements", headers={"Authorization": f"Bearer {token}"}
            ).json()
            assert {a["id"] for a in listed} >= set(acknowledged), "every acknowledged announcement is kept"
            feed = {c["id"] for c in httpx.get(f"{again.url}/api/programme").json()["announcements"]}
            assert feed >= set(acknowledged)
            for announcement_id in acknowledged:
                until(lambda a=announcement_id: delivery(again, token, a)["pending"] == 0, "the fan-out resumes", 60)
                assert delivery(again, token, announcement_id)["sent"] == SUBSCRIBERS
        finally:
            stop_server(again)
        heard: dict[tuple[str, str], int] = {}
        for item in push.deliveries():
            message = item.json()
            heard[item.sub_id, message["id"]] = heard.get((item.sub_id, message["id"]), 0) + 1
        assert set(heard) == {(sub.sub_id, a) for sub in subs for a in acknowledged}, "everyone hears everything"
        twice = {pair for pair, count in heard.items() if count > 1}
        assert max(heard.values()) <= 2
        assert twice <= in_flight, "only a message on its way when the server died is sent again"
    assert integrity(server.db) == "ok"
