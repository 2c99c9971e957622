"""Several worker processes on one database: live events, ETags, the change feed, the scheduler and Web Push agree.

Each test talks to every worker on purpose. A client cannot choose its worker, so it opens connections until each
worker holds one, and tells which worker accepted a connection by finding the server side of the socket among the
server's processes (``/proc``), without anything added to the responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import select
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from server.schemas.announcements import AnnouncementCreate
from server.services.announcements import AnnouncementService
from server.storage.db import SqliteDatabase
from tests.e2e.conftest import RunningServer, start_server, stop_server
from tests.push_service import PushService

WORKERS = 2
#: The issue's promise: a change made through one worker reaches the apps of every worker within a second.
REACH_SECONDS = 1.0
#: How long to look for a connection to every worker, and for the workers to start.
FIND_WORKERS_SECONDS = 30.0

C = TypeVar("C")

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="finds workers through Linux's /proc")


# --- which worker holds a connection ------------------------------------------------------------------------------


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the loopback connection from ``client_port``."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if local_port == server_port and remote_port == client_port:
            return fields[9]
    return None


def worker_holding(server: RunningServer, client_port: int) -> int | None:
    """The process that accepted the connection from ``client_port``, or None if none has yet."""
    inode = _socket_inode(urlsplit(server.url).port or 80, client_port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in _descendants(server.process.pid):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    return pid
            except OSError:
                continue
    return None


def per_worker(
    server: RunningServer, connect: Callable[[], tuple[C, int]], close: Callable[[C], None], *, each: int = 1
) -> dict[int, list[C]]:
    """Open connections until every worker holds ``each`` of them; extra ones are closed.

    ``connect`` returns a connection whose request was answered (so a worker accepted it) and its client port.
    """
    held: dict[int, list[C]] = {}
    deadline = time.monotonic() + FIND_WORKERS_SECONDS
    while len(held) < WORKERS or any(len(conns) < each for conns in held.values()):
        assert time.monotonic() < deadline, f"could not reach {WORKERS} workers: {sorted(held)}"
        conn, port = connect()
        worker = worker_holding(server, port)
        if worker is None or len(held.get(worker, [])) >= each:
            close(conn)
            time.sleep(0.05)
            continue
        held.setdefault(worker, []).append(conn)
    return held


@contextlib.contextmanager
def http_connections(server: RunningServer) -> Iterator[dict[int, http.client.HTTPConnection]]:
    """One kept-alive HTTP connection to each worker, closed at the end."""
    parts = urlsplit(server.url)

    def connect() -> tuple[http.client.HTTPConnection, int]:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        request(conn, "GET", "/healthz")
        assert conn.sock is not None
        return conn, conn.sock.getsockname()[1]

    conns = {pid: held[0] for pid, held in per_worker(server, connect, lambda c: c.close()).items()}
    try:
        yield conns
    finally:
        for conn in conns.values():
            conn.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def request(
    conn: http.client.HTTPConnection, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
) -> Answer:
    data = json.dumps(body).encode() if body is not None else None
    sent = {**(headers or {}), **({"Content-Type": "application/json"} if data else {})}
    conn.request(method, path, body=data, headers=sent)
    response = conn.getresponse()
    content = response.read()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, content)


# --- Server-Sent Events over a bare socket ------------------------------------------------------------------------


@dataclass(eq=False)
class LiveClient:
    """One open ``/api/live`` stream, read without threads: its events with the time each arrived."""

    sock: socket.socket
    events: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    _raw: bytes = b""
    _body: bytes = b""
    _headers_done: bool = False

    @classmethod
    def open(cls, server: RunningServer) -> LiveClient:
        parts = urlsplit(server.url)
        sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)
        sock.sendall(b"GET /api/live HTTP/1.1\r\nHost: kumpul\r\nAccept: text/event-stream\r\n\r\n")
        client = cls(sock)
        deadline = time.monotonic() + 10
        while not any(name == "hello" for name, _, _ in client.events):
            assert time.monotonic() < deadline, "no hello event on /api/live"
            client.read(0.5)
        return client

    @property
    def port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port

    def read(self, timeout: float) -> None:
        """Take what arrived within ``timeout`` seconds."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the live stream")
        self._raw += chunk
        self._parse(time.monotonic())

    def _parse(self, now: float) -> None:
        if not self._headers_done:
            head, sep, rest = self._raw.partition(b"\r\n\r\n")
            if not sep:
                return
            assert head.startswith(b"HTTP/1.1 200"), head
            assert b"transfer-encoding: chunked" in head.lower(), head
            self._headers_done, self._raw = True, rest
        while True:  # chunked transfer encoding
            size_line, sep, rest = self._raw.partition(b"\r\n")
            if not sep:
                break
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                break
            self._body += rest[:size]
            self._raw = rest[size + 2 :]
        text = self._body.replace(b"\r\n", b"\n")
        *messages, tail = text.split(b"\n\n")
        self._body = tail
        for message in messages:
            fields = dict(line.split(": ", 1) for line in message.decode().split("\n") if ": " in line)
            if "event" in fields:
                self.events.append((fields["event"], json.loads(fields.get("data", "null")), now))

    def close(self) -> None:
        self.sock.close()


def live_clients(server: RunningServer, each: int) -> dict[int, list[LiveClient]]:
    """``each`` live streams held by every worker."""

    def connect() -> tuple[LiveClient, int]:
        client = LiveClient.open(server)
        return client, client.port

    return per_worker(server, connect, LiveClient.close, each=each)


def wait_for_events(
    clients: list[LiveClient], wanted: Callable[[str, dict[str, Any]], bool], timeout: float
) -> dict[LiveClient, float]:
    """When each client got an event that ``wanted`` accepts (clients still waiting at the timeout are missing)."""
    got: dict[LiveClient, float] = {}
    deadline = time.monotonic() + timeout
    while True:
        for client in clients:
            if client not in got:
                arrived = [at for name, data, at in client.events if wanted(name, data)]
                if arrived:
                    got[client] = arrived[0]
        waiting = {client.sock: client for client in clients if client not in got}
        left = deadline - time.monotonic()
        if not waiting or left <= 0:
            return got
        ready, _, _ = select.select(list(waiting), [], [], min(left, 0.1))
        for sock in ready:
            waiting[sock].read(0)


# --- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """``kumpul serve --demo --workers 2`` shared by the tests that need no restart."""
    running = start_server(tmp_path_factory.mktemp("workers") / "kumpul.db", "--demo", "--workers", str(WORKERS))
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def admin(workers: RunningServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {workers.organiser_token('admin')}"}


@pytest.fixture
def conns(workers: RunningServer) -> Iterator[dict[int, http.client.HTTPConnection]]:
    """A kept-alive connection to each worker."""
    with http_connections(workers) as held:
        yield held


def edit_a_session(conn: http.client.HTTPConnection, headers: dict[str, str], title: str) -> None:
    sessions = json.loads(request(conn, "GET", "/api/sessions").body)
    answer = request(conn, "PATCH", f"/api/admin/sessions/{sessions[3]['id']}", headers, {"title": title})
    assert answer.status == 200, answer.body


# --- tests --------------------------------------------------------------------------------------------------------


class ClientsOfEveryWorker:
    """Two live streams held by each worker, closed at the end."""

    def __init__(self, server: RunningServer) -> None:
        self.by_worker = live_clients(server, each=2)
        self.all = [client for clients in self.by_worker.values() for client in clients]

    def close(self) -> None:
        for client in self.all:
            client.close()


def test_announcements_and_programme_changes_reach_live_apps_on_every_worker_within_a_second(
    workers: RunningServer, admin: dict[str, str]
) -> None:
    clients = ClientsOfEveryWorker(workers)
    try:
        assert len(clients.by_worker) == WORKERS
        posted = httpx.post(
            f"{workers.url}/api/admin/announcements",
            json={"title": "Lunch moved", "body": "Lunch is served on the terrace."},
            headers=admin,
            timeout=10,
        )
        assert posted.status_code == 201, posted.text
        sent = time.monotonic()
        announcement = posted.json()["id"]
        got = wait_for_events(clients.all, lambda name, data: name == "announcement" and data["id"] == announcement, 5)
        assert len(got) == len(clients.all), "every open app gets the announcement, whichever worker it is on"
        slowest = max(got.values()) - sent
        assert slowest <= REACH_SECONDS, f"the last app got it after {slowest:.2f} s"

        with http_connections(workers) as conns:
            conn = next(iter(conns.values()))
            edit_a_session(conn, admin, "Keynote: what the survivors asked for")
            edited = time.monotonic()
            cursor = json.loads(request(conn, "GET", "/api/programme").body)["cursor"]
        got = wait_for_events(clients.all, lambda name, data: name == "programme" and data["cursor"] == cursor, 5)
        assert len(got) == len(clients.all), "every open app is told the programme changed"
        slowest = max(got.values()) - edited
        assert slowest <= REACH_SECONDS, f"the last app heard of the edit after {slowest:.2f} s"
    finally:
        clients.close()


def test_every_worker_answers_the_same_etag_and_revalidates_the_others(
    conns: dict[int, http.client.HTTPConnection], admin: dict[str, str]
) -> None:
    gzip = {"Accept-Encoding": "gzip"}

    def programme_everywhere() -> dict[int, Answer]:
        return {pid: request(conn, "GET", "/api/programme", gzip) for pid, conn in conns.items()}

    before = programme_everywhere()
    assert {a.status for a in before.values()} == {200}
    assert len({a.headers["etag"] for a in before.values()}) == 1, "one ETag for one cursor, whichever worker"
    assert len({a.body for a in before.values()}) == 1, "the same compressed bytes from every worker"
    old_etag = next(iter(before.values())).headers["etag"]
    for conn in conns.values():
        assert request(conn, "GET", "/api/programme", {**gzip, "If-None-Match": old_etag}).status == 304

    first = next(iter(conns.values()))
    edit_a_session(first, admin, "Keynote: moved to the main hall")
    edited = time.monotonic()
    deadline = edited + REACH_SECONDS + 1
    while True:
        after = programme_everywhere()
        if all(a.headers["etag"] != old_etag for a in after.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert all(a.headers["etag"] != old_etag for a in after.values()), "every worker noticed the edit"
    assert time.monotonic() - edited <= REACH_SECONDS + 0.5
    assert len({a.headers["etag"] for a in after.values()}) == 1
    assert len({a.body for a in after.values()}) == 1
    new_etag = next(iter(after.values())).headers["etag"]
    for conn in conns.values():
        stale = request(conn, "GET", "/api/programme", {**gzip, "If-None-Match": old_etag})
        assert (stale.status, stale.headers["etag"]) == (200, new_etag), "an old copy gets the new programme"
        assert request(conn, "GET", "/api/programme", {**gzip, "If-None-Match": new_etag}).status == 304
        brotli = request(conn, "GET", "/api/programme", {"Accept-Encoding": "br", "If-None-Match": new_etag})
        assert brotli.status == 304, "a copy revalidates whichever worker gave it and in whichever encoding"


def test_every_worker_serves_the_same_change_feed(
    conns: dict[int, http.client.HTTPConnection], admin: dict[str, str]
) -> None:
    first = next(iter(conns.values()))
    start = json.loads(request(first, "GET", "/api/programme").body)["cursor"]
    for n in range(3):
        edit_a_session(first, admin, f"Keynote, take {n}")
    newest = json.loads(request(first, "GET", "/api/programme").body)["cursor"]
    time.sleep(REACH_SECONDS)
    pages = {pid: request(conn, "GET", f"/api/changes?since={start}") for pid, conn in conns.items()}
    assert {p.status for p in pages.values()} == {200}
    assert len({p.body for p in pages.values()}) == 1, "the same page from every worker"
    page = json.loads(next(iter(pages.values())).body)
    assert page["cursor"] == newest
    assert [c["type"] for c in page["changes"]] == ["session"]
    for conn in conns.values():
        current = json.loads(request(conn, "GET", f"/api/changes?since={newest}").body)
        assert current == {"changes": [], "cursor": newest, "more": False}


def _pull_everywhere(workers: list[http.client.HTTPConnection], before: str, poked: str, title: str) -> None:
    for conn in workers:  # at once, as the app does on hearing the poke
        page = json.loads(request(conn, "GET", f"/api/changes?since={before}&atLeast={poked}").body)
        assert page["cursor"] == poked, f"{title}: a worker answered as if nothing had changed"
        assert [change["data"]["title"] for change in page["changes"]] == [title]


def _revalidate_everywhere(workers: list[http.client.HTTPConnection], etag: str, title: str) -> None:
    for conn in workers:  # a copy from the worker that wrote revalidates on every worker, never goes back
        revalidated = request(conn, "GET", "/api/programme", {"If-None-Match": etag})
        assert revalidated.status == 304, f"{title}: a worker answered with its older programme"


def test_the_change_feed_right_after_a_poke_has_the_change_whichever_worker_answers(
    conns: dict[int, http.client.HTTPConnection], admin: dict[str, str]
) -> None:
    """An app told of a change (the poke's cursor) gets it at once, even from a worker whose watcher is behind."""
    workers = list(conns.values())
    for move in range(20):
        writer = workers[move % len(workers)]
        title = f"Keynote, move {move}"
        before = json.loads(request(writer, "GET", "/api/programme").body)["cursor"]
        edit_a_session(writer, admin, title)
        etag = request(writer, "GET", "/api/programme", {"Accept-Encoding": "gzip"}).headers["etag"]
        poked = json.loads(request(writer, "GET", "/api/programme").body)["cursor"]
        # Whichever check comes first finds the other workers behind: take turns, so both are tested that way.
        if move // len(workers) % 2:
            _pull_everywhere(workers, before, poked, title)
            _revalidate_everywhere(workers, etag, title)
        else:
            _revalidate_everywhere(workers, etag, title)
            _pull_everywhere(workers, before, poked, title)


async def _schedule(db_path: Path, send_at: datetime) -> str:
    async with SqliteDatabase(db_path, readers=1) as db:
        service = AnnouncementService(db, on_write=lambda _: asyncio.sleep(0), wake_outbox=lambda: None)
        data = AnnouncementCreate(title="Doors open", body="The hall opens now.", send_at=send_at)
        record = await service.create(data, "test")
    return record.id


def _seq(cursor: str) -> int:
    return int(cursor.rsplit(".", 1)[1])


def test_a_scheduled_announcement_is_published_once_by_workers_waking_together(tmp_path: Path) -> None:
    db = tmp_path / "kumpul.db"
    # Scheduled before the server starts, so the schedulers of both workers wait for the same moment.
    send_at = datetime.now(UTC) + timedelta(seconds=12)
    announcement = asyncio.run(_schedule(db, send_at))
    server = start_server(db, "--workers", str(WORKERS))
    clients: ClientsOfEveryWorker | None = None
    try:
        clients = ClientsOfEveryWorker(server)
        assert datetime.now(UTC) < send_at, "both workers should be up before the send time"
        assert _seq(httpx.get(f"{server.url}/api/programme", timeout=10).json()["cursor"]) == 0
        wait = (send_at - datetime.now(UTC)).total_seconds() + REACH_SECONDS + 1
        got = wait_for_events(clients.all, lambda name, data: name == "announcement", wait)
        assert len(got) == len(clients.all), "every open app gets the scheduled announcement"
        time.sleep(REACH_SECONDS)
        for client in clients.all:
            client.read(0.1)
            heard = [data["id"] for name, data, _ in client.events if name == "announcement"]
            assert heard == [announcement], "published once, so heard once"
        cursor = httpx.get(f"{server.url}/api/programme", timeout=10).json()["cursor"]
        assert _seq(cursor) == 1, "one write to the feed: one publication"
    finally:
        if clients is not None:
            clients.close()
        stop_server(server)


def _add_subscriptions(db: Path, service: PushService, n: int) -> None:
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, created_at, updated_at)"
            " VALUES (?, ?, ?, datetime('now'), datetime('now'))",
            [(s.endpoint, s.p256dh, s.auth) for s in service.subscriptions(n)],
        )


def _delivery(server: RunningServer, headers: dict[str, str], announcement: str) -> dict[str, int]:
    path = f"{server.url}/api/admin/announcements/{announcement}/delivery"
    report: dict[str, int] = httpx.get(path, headers=headers, timeout=10).json()
    return report


def _all_sent(server: RunningServer, headers: dict[str, str], announcement: str, n: int) -> dict[str, int]:
    deadline = time.monotonic() + 30
    while True:
        report = _delivery(server, headers, announcement)
        if report["sent"] == n or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


@pytest.fixture
def push_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    monkeypatch.setenv("KUMPUL_ALLOW_INSECURE_PUSH", "1")
    running = start_server(tmp_path / "kumpul.db", "--demo", "--workers", str(WORKERS))
    yield running
    stop_server(running)


def test_two_workers_push_each_message_exactly_once(push_workers: RunningServer) -> None:
    n = 600
    key = httpx.get(f"{push_workers.url}/api/push/key", timeout=10).json()["publicKey"]
    with PushService(vapid_public_key=key) as service:
        _add_subscriptions(push_workers.db, service, n)
        with http_connections(push_workers):
            pass  # both workers are up, so both outboxes poll
        service.delay = 0.02  # a fan-out of a few seconds, so the second worker's outbox joins in
        headers = {"Authorization": f"Bearer {push_workers.organiser_token('announcer')}"}
        posted = httpx.post(
            f"{push_workers.url}/api/admin/announcements",
            json={"title": "Shuttle", "body": "The last shuttle leaves at 18:00."},
            headers=headers,
            timeout=10,
        )
        assert posted.status_code == 201, posted.text
        service.wait_for_sync(n, timeout=60)
        report = _all_sent(push_workers, headers, posted.json()["id"], n)
        time.sleep(1.0)
        counts = service.counts()
        assert len(counts) == n
        assert sorted(set(counts.values())) == [1], "every subscription exactly once"
        assert {k: v for k, v in report.items() if k != "languages"} == {
            "targeted": n,
            "sent": n,
            "failed": 0,
            "gone": 0,
            "pending": 0,
        }


def test_a_backlog_left_by_a_stopped_server_is_pushed_once_by_two_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUMPUL_ALLOW_INSECURE_PUSH", "1")
    db = tmp_path / "kumpul.db"
    n = 1000
    first = start_server(db, "--demo", "--workers", "1")
    key = httpx.get(f"{first.url}/api/push/key", timeout=10).json()["publicKey"]
    stop_server(first)
    with PushService(vapid_public_key=key) as service:
        _add_subscriptions(db, service, n)
        # Queued while no server runs: both workers find the backlog when they start.
        queued = first.kumpul("announce", "Registration", "The desk opens at 8:00.")
        assert queued.returncode == 0, queued.stderr
        announcement = queued.stdout.strip()
        service.delay = 0.01
        server = start_server(db, "--workers", str(WORKERS))
        try:
            service.wait_for_sync(n, timeout=60)
            headers = {"Authorization": f"Bearer {server.organiser_token('announcer')}"}
            report = _all_sent(server, headers, announcement, n)
            time.sleep(1.0)
            counts = service.counts()
            twice = sorted(sub for sub, times in counts.items() if times > 1)
            assert not twice, f"{len(twice)} of {n} subscriptions got the message more than once"
            assert {k: v for k, v in report.items() if k != "languages"} == {
                "targeted": n,
                "sent": n,
                "failed": 0,
                "gone": 0,
                "pending": 0,
            }
        finally:
            stop_server(server)
