"""The real server on a real disk that fills up: every write answers a retryable 507 and changes nothing, reads and
live streams go on, background work waits, and once space is freed everything works again without a restart.

The disk is a small tmpfs in a user and mount namespace (``tests/small_disk.py``); the test is skipped where such
namespaces are not allowed. ``tests/server/test_disk_full.py`` covers the same paths in process, everywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import KUMPUL, RunningServer, ServerProcess, free_port, stop_server
from tests.e2e.test_live import Listener
from tests.push_service import BrowserSubscription, PushService
from tests.small_disk import SmallDisk, require
from tests.sync_devices import Device

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "server" / "demo" / "arat2024.json"
NOTE_BEFORE = f"note:{uuid.uuid4()}"
NOTE_AFTER = f"note:{uuid.uuid4()}"
NEW_PASSWORD = "a long enough password"
NEWER_PASSWORD = "another long password"


@dataclass
class SmallDiskServer:
    server: RunningServer
    disk: SmallDisk
    admin: dict[str, str]
    admin_name: str
    one_time_password: str
    log: Path
    folder: Path


def kumpul(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KUMPUL, *args], capture_output=True, text=True, check=True, timeout=60)


@pytest.fixture
def on_small_disk(tmp_path: Path) -> Iterator[SmallDiskServer]:
    """``kumpul serve`` with its database on a 24 MB disk of its own, seeded with the demo and an admin."""
    require()
    seed = tmp_path / "seed"
    seed.mkdir()
    kumpul("import", str(DEMO), "--db", str(seed / "kumpul.db"))
    added = kumpul("organiser", "add", "Dewi", "--role", "admin", "--db", str(seed / "kumpul.db"))
    password = re.search(r"one-time password: (\S+)", added.stderr)
    assert password is not None, added.stderr
    disk = SmallDisk(24 * 1024 * 1024)
    port = free_port()
    log = tmp_path / "kumpul.log"
    serve = [*KUMPUL, "serve", "--port", str(port), "--db", str(disk.mountpoint / "kumpul.db"), "--workers", "1"]
    with log.open("ab") as output:
        process = ServerProcess(
            disk.command(serve, copy_from=seed),
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "KUMPUL_ALLOW_INSECURE_PUSH": "1"},
            start_new_session=True,
        )
    disk.attach(process.pid)
    server = RunningServer(f"http://127.0.0.1:{port}", disk.mountpoint / "kumpul.db", process)
    try:
        wait_until_serving(server, log)
        yield SmallDiskServer(
            server, disk, {"Authorization": f"Bearer {added.stdout.strip()}"}, "Dewi", password.group(1), log, tmp_path
        )
    finally:
        stop_server(server)
        disk.remove_mountpoint()


def wait_until_serving(server: RunningServer, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start within 30 s")


def until(check: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.05)


@dataclass
class World:
    """What exists before the disk fills, for the write requests to act on."""

    url: str
    admin: dict[str, str]
    console: httpx.Client
    csrf: dict[str, str]
    admin_name: str
    attendee: Device
    erasable: Device
    link_code: str
    unsubscribable: BrowserSubscription
    newcomer: BrowserSubscription
    retractable: str
    correctable: str
    removable_organiser: int
    session: dict[str, Any]
    deletable_session: str
    programme: dict[str, Any]

    def close(self) -> None:
        self.console.close()


def every_write(world: World) -> list[tuple[str, Callable[[], httpx.Response]]]:
    """One request to each route that changes something, ready to send (twice: refused while full, then done)."""
    url, admin = world.url, world.admin
    session, room, fmt = world.session, world.session["roomId"], world.session["format"]
    new_session = {"title": "Evening briefing", "start": session["start"], "end": session["end"]}
    new_session |= {"roomId": room, "format": fmt, "id": "evening-briefing"}
    event = {**world.programme["event"], "venueName": "Another venue"}
    changed = {**world.programme, "event": event}
    changed["sessions"] = [{**s, "title": f"{s['title']}!"} for s in world.programme["sessions"]]
    note = world.attendee.linked(world.attendee.headers["Authorization"].removeprefix("Bearer "))
    note.text(NOTE_AFTER).insert(0, "Written after the disk was full.")
    note.edit(NOTE_AFTER)
    note.ready_sync(url)

    def call(method: str, path: str, **kwargs: Any) -> Callable[[], httpx.Response]:
        kwargs.setdefault("headers", admin)
        return lambda: httpx.request(method, f"{url}{path}", timeout=30, **kwargs)

    def console(method: str, path: str, **kwargs: Any) -> Callable[[], httpx.Response]:
        return lambda: world.console.request(method, path, headers=world.csrf, **kwargs)

    return [
        ("PUT event", call("PUT", "/api/admin/event", json=event)),
        ("POST session", call("POST", "/api/admin/sessions", json=new_session)),
        ("PATCH session", call("PATCH", f"/api/admin/sessions/{session['id']}", json={"title": "Moved upstairs"})),
        ("DELETE session", call("DELETE", f"/api/admin/sessions/{world.deletable_session}")),
        ("POST speaker", call("POST", "/api/admin/speakers", json={"id": "new-speaker", "name": "Ayu Lestari"})),
        ("PATCH speaker", call("PATCH", "/api/admin/speakers/spare-speaker", json={"name": "Putu"})),
        ("DELETE speaker", call("DELETE", "/api/admin/speakers/spare-speaker")),
        ("POST room", call("POST", "/api/admin/rooms", json={"id": "new-room", "name": "Hall Z"})),
        ("PATCH room", call("PATCH", "/api/admin/rooms/spare-room", json={"floor": "2"})),
        ("DELETE room", call("DELETE", "/api/admin/rooms/spare-room")),
        ("POST track", call("POST", "/api/admin/tracks", json={"id": "new-track", "name": "Supply chains"})),
        ("PATCH track", call("PATCH", "/api/admin/tracks/spare-track", json={"description": "x"})),
        ("DELETE track", call("DELETE", "/api/admin/tracks/spare-track")),
        ("POST format", call("POST", "/api/admin/formats", json={"id": "new-format", "name": "Fireside chat"})),
        ("PATCH format", call("PATCH", "/api/admin/formats/spare-format", json={"name": "Roundtable"})),
        ("DELETE format", call("DELETE", "/api/admin/formats/spare-format")),
        ("POST import", call("POST", "/api/admin/import", content=httpx.Response(200, json=changed).content)),
        ("POST attendee", call("POST", "/api/attendees", headers={})),
        ("PATCH me", call("PATCH", "/api/attendees/me", json={"language": "th"}, headers=world.attendee.headers)),
        ("POST link code", call("POST", "/api/attendees/me/link-code", headers=world.attendee.headers)),
        ("POST link", call("POST", "/api/attendees/link", json={"code": world.link_code}, headers={})),
        ("POST calendar", call("POST", "/api/attendees/me/calendar", headers=world.attendee.headers)),
        ("DELETE calendar", call("DELETE", "/api/attendees/me/calendar", headers=world.attendee.headers)),
        ("POST sync", call("POST", "/api/me/sync", json=note.request_body(), headers=note.headers)),
        ("POST push", call("POST", "/api/push/subscriptions", json=world.newcomer.as_json(), headers={})),
        (
            "DELETE push",
            call(
                "DELETE",
                "/api/push/subscriptions",
                json={"endpoint": world.unsubscribable.endpoint, "auth": world.unsubscribable.auth},
                headers={},
            ),
        ),
        ("POST announcement", call("POST", "/api/admin/announcements", json={"title": "Dinner at 19:00"})),
        ("PATCH announcement", call("PATCH", f"/api/admin/announcements/{world.correctable}", json={"body": "Hall C"})),
        ("DELETE announcement", call("DELETE", f"/api/admin/announcements/{world.retractable}")),
        ("POST organiser", call("POST", "/api/admin/organisers", json={"name": "Rina", "role": "editor"})),
        ("POST password reset", call("POST", f"/api/admin/organisers/{world.removable_organiser}/password-reset")),
        ("DELETE organiser", call("DELETE", f"/api/admin/organisers/{world.removable_organiser}")),
        (
            "POST login",
            call("POST", "/api/admin/login", json={"name": world.admin_name, "password": NEW_PASSWORD}, headers={}),
        ),
        (
            "POST password",
            console(
                "POST", "/api/admin/password", json={"currentPassword": NEW_PASSWORD, "newPassword": NEWER_PASSWORD}
            ),
        ),
        ("POST logout", console("POST", "/api/admin/logout")),
        ("DELETE me", call("DELETE", "/api/attendees/me", headers=world.erasable.headers)),
    ]


def prepare(setup: SmallDiskServer, push: PushService) -> World:
    url, admin = setup.server.url, setup.admin

    def ok(response: httpx.Response) -> Any:
        assert response.is_success, response.text
        return response.json() if response.content else None

    for kind, body in (
        ("speakers", {"id": "spare-speaker", "name": "Spare"}),
        ("rooms", {"id": "spare-room", "name": "Spare room"}),
        ("tracks", {"id": "spare-track", "name": "Spare track"}),
        ("formats", {"id": "spare-format", "name": "Spare format"}),
    ):
        ok(httpx.post(f"{url}/api/admin/{kind}", json=body, headers=admin))
    sessions = ok(httpx.get(f"{url}/api/sessions"))
    console = httpx.Client(base_url=url, timeout=30)
    signed = ok(console.post("/api/admin/login", json={"name": setup.admin_name, "password": setup.one_time_password}))
    csrf = {"X-CSRF-Token": signed["csrfToken"]}
    ok(
        console.post(
            "/api/admin/password",
            json={"currentPassword": setup.one_time_password, "newPassword": NEW_PASSWORD},
            headers=csrf,
        )
    )
    attendee = Device(ok(httpx.post(f"{url}/api/attendees"))["token"])
    attendee.text(NOTE_BEFORE).insert(0, "Written before the disk was full.")
    attendee.edit(NOTE_BEFORE)
    attendee.ready_sync(url)
    attendee.receive(ok(httpx.post(f"{url}/api/me/sync", json=attendee.request_body(), headers=attendee.headers)))
    ok(httpx.post(f"{url}/api/attendees/me/calendar", headers=attendee.headers))
    code = ok(httpx.post(f"{url}/api/attendees/me/link-code", headers=attendee.headers))["code"]
    erasable = Device(ok(httpx.post(f"{url}/api/attendees"))["token"])
    unsubscribable, newcomer = push.subscriptions(2)
    ok(httpx.post(f"{url}/api/push/subscriptions", json=unsubscribable.as_json()))
    retractable = ok(httpx.post(f"{url}/api/admin/announcements", json={"title": "To retract"}, headers=admin))["id"]
    correctable = ok(httpx.post(f"{url}/api/admin/announcements", json={"title": "To correct"}, headers=admin))["id"]
    made = ok(httpx.post(f"{url}/api/admin/organisers", json={"name": "Wayan", "role": "announcer"}, headers=admin))
    return World(
        url=url,
        admin=admin,
        console=console,
        csrf=csrf,
        admin_name=setup.admin_name,
        attendee=attendee,
        erasable=erasable,
        link_code=code,
        unsubscribable=unsubscribable,
        newcomer=newcomer,
        retractable=retractable,
        correctable=correctable,
        removable_organiser=made["organiser"]["id"],
        session=sessions[0],
        deletable_session=sessions[1]["id"],
        programme=ok(httpx.get(f"{url}/api/programme")),
    )


def everything(world: World) -> dict[str, Any]:
    """What the server holds, as its reads show it."""
    url, admin = world.url, world.admin
    me = world.attendee.linked(world.attendee.headers["Authorization"].removeprefix("Bearer "))
    me.ready_sync(url)
    me.receive(httpx.post(f"{url}/api/me/sync", json=me.request_body(), headers=me.headers).json())
    return {
        "programme": httpx.get(f"{url}/api/programme").json(),
        "announcements": httpx.get(f"{url}/api/admin/announcements", headers=admin).json(),
        "organisers": httpx.get(f"{url}/api/admin/organisers", headers=admin).json(),
        "history": httpx.get(f"{url}/api/admin/history", headers=admin).json(),
        "me": httpx.get(f"{url}/api/attendees/me", headers=world.attendee.headers).json(),
        "erasable": httpx.get(f"{url}/api/attendees/me", headers=world.erasable.headers).status_code,
        "notes": sorted((doc_id, str(me.text(doc_id))) for doc_id in me.docs if doc_id.startswith("note:")),
    }


def test_a_full_disk_refuses_every_write_and_recovers_without_a_restart(on_small_disk: SmallDiskServer) -> None:
    server, disk, admin = on_small_disk.server, on_small_disk.disk, on_small_disk.admin
    key = httpx.get(f"{server.url}/api/push/key").json()["publicKey"]
    with PushService(vapid_public_key=key) as push, contextlib.closing(prepare(on_small_disk, push)) as world:
        listener = Listener(server.url)
        listener.next("hello")
        # A push on its way while the disk fills: the service answers late, when the server cannot record it.
        phone = push.subscribe()
        assert httpx.post(f"{server.url}/api/push/subscriptions", json=phone.as_json()).is_success
        push.delay = 2.0
        in_flight = httpx.post(f"{server.url}/api/admin/announcements", json={"title": "In flight"}, headers=admin)
        push.wait_until_sync(lambda: push.arrived >= 2, what="the pushes of the announcement reach the service")
        send_at = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
        scheduled = httpx.post(
            f"{server.url}/api/admin/announcements", json={"title": "Due while full", "sendAt": send_at}, headers=admin
        ).json()["id"]
        before = everything(world)

        disk.fill()
        for name, request in every_write(world):
            response = request()
            assert response.status_code == 507, f"{name}: {response.status_code} {response.text}"
            assert response.headers["Retry-After"].isdigit(), name
            assert "storage is full" in response.json()["detail"], name
            assert "nothing was changed" in response.json()["detail"], name
        # The command line says so too, and a backup to another disk works.
        upload = on_small_disk.folder / "programme.json"
        upload.write_text(json.dumps({**world.programme, "event": {**world.programme["event"], "venueName": "X"}}))
        imported = subprocess.run(
            disk.inside([*KUMPUL, "import", str(upload), "--db", str(server.db)]), capture_output=True, text=True
        )
        assert imported.returncode == 1
        assert "the disk is full" in imported.stderr
        assert "Traceback" not in imported.stderr
        saved = subprocess.run(
            disk.inside([*KUMPUL, "backup", str(on_small_disk.folder / "full.tar"), "--db", str(server.db)]),
            capture_output=True,
            text=True,
        )
        assert saved.returncode == 0, saved.stderr
        assert everything(world) == before, "nothing was written, and every read still answers"
        assert httpx.get(f"{server.url}/api/schedule.ics").status_code == 200
        Listener(server.url).next("hello")  # a new live stream opens
        push.delay = 0.0
        push.wait_until_sync(lambda: push.delivered >= 2, what="the push service accepts the pushes in flight")
        until(lambda: datetime.now(UTC) > datetime.fromisoformat(send_at) + timedelta(seconds=1), "the due time")
        until(lambda: "announcement scheduler could not write" in on_small_disk.log.read_text(), "scheduler retries")
        assert server.process.poll() is None

        disk.free()
        for name, request in every_write(world):
            response = request()
            assert response.is_success, f"{name}: {response.status_code} {response.text}"
        heard = ""
        while scheduled not in heard:  # the announcement due while the disk was full reaches open apps
            heard = listener.next("announcement", timeout=20).data
        delivery = f"{server.url}/api/admin/announcements/{in_flight.json()['id']}/delivery"
        until(lambda: httpx.get(delivery, headers=admin).json()["sent"] == 2, "the late answers are recorded")
        after = everything(world)
        assert after["programme"]["event"]["venueName"] == "Another venue"
        assert (NOTE_AFTER, "Written after the disk was full.") in after["notes"]
        assert after["erasable"] == 401

        # Every subscription got each message once: what the push service accepted was never sent again.
        def settled() -> bool:
            listed = httpx.get(f"{server.url}/api/admin/announcements", headers=admin).json()
            reports = [httpx.get(f"{delivery_of}/{a['id']}/delivery", headers=admin).json() for a in listed]
            return all(report["pending"] == 0 for report in reports)

        delivery_of = f"{server.url}/api/admin/announcements"
        until(lambda: any(d.json()["id"] == scheduled for d in push.deliveries(phone)), "the due one is pushed")
        until(settled, "every push is sent and recorded")
        messages = [(d.sub_id, d.plaintext) for d in push.deliveries()]
        assert len(messages) == len(set(messages)), "no message reached a subscription twice"
        check = subprocess.run(
            disk.inside([sys.executable, "-c", INTEGRITY_CHECK, str(server.db)]), capture_output=True, text=True
        )
        assert check.stdout.strip() == "ok", check.stderr
    log = on_small_disk.log.read_text()
    assert "Traceback" not in log
    assert "unhandled error" not in log


INTEGRITY_CHECK = (
    "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])"
)
