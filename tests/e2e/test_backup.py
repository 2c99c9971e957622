"""``kumpul backup`` while the real server runs and writes, restored into a fresh data folder, served again: notes,
announcements, programme changes and push subscriptions (with the same VAPID key) are all there."""

from __future__ import annotations

import sqlite3
import tarfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.push_service import PushService
from tests.sync_devices import Device


def sync(url: str, device: Device) -> None:
    device.ready_sync(url)
    response = httpx.post(f"{url}/api/me/sync", json=device.request_body(), headers=device.headers, timeout=30)
    assert response.status_code == 200, response.text
    device.receive(response.json())


def test_a_backup_taken_while_serving_restores_into_a_working_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUMPUL_ALLOW_INSECURE_PUSH", "1")
    (tmp_path / "data").mkdir()
    server = start_server(tmp_path / "data" / "kumpul.db", "--demo")
    try:
        key = httpx.get(f"{server.url}/api/push/key").json()["publicKey"]
        with PushService(vapid_public_key=key) as push:
            editor = {"Authorization": f"Bearer {server.organiser_token('admin')}"}
            session = httpx.get(f"{server.url}/api/sessions").json()[3]
            edited = httpx.patch(
                f"{server.url}/api/admin/sessions/{session['id']}", json={"title": "Moved to Hall B"}, headers=editor
            )
            assert edited.status_code == 200, edited.text
            attendee = httpx.post(f"{server.url}/api/attendees").json()
            phone = Device(attendee["token"])
            note = f"note:{uuid.uuid4()}"
            phone.text(note).insert(0, "Ask the panel about remedy for survivors.")
            phone.edit(note)
            sync(server.url, phone)
            subscription = push.subscribe()
            subscribed = httpx.post(f"{server.url}/api/push/subscriptions", json=subscription.as_json())
            assert subscribed.is_success, subscribed.text
            announced = httpx.post(
                f"{server.url}/api/admin/announcements", json={"title": "Shuttle at 17:30"}, headers=editor
            )
            assert announced.status_code == 201, announced.text
            push.wait_for_sync(1)
            cursor = httpx.get(f"{server.url}/api/programme").json()["cursor"]

            # Writes go on while the backup is taken.
            stop = threading.Event()
            written: list[int] = []

            def keep_writing() -> None:
                busy = Device(httpx.post(f"{server.url}/api/attendees").json()["token"])
                while not stop.is_set():
                    doc = f"note:{uuid.uuid4()}"
                    busy.text(doc).insert(0, "written during the backup " * 20)
                    busy.edit(doc)
                    sync(server.url, busy)
                    written.append(1)

            writers = [threading.Thread(target=keep_writing) for _ in range(3)]
            for writer in writers:
                writer.start()
            try:
                deadline = time.monotonic() + 30
                while len(written) < 10 and time.monotonic() < deadline:
                    time.sleep(0.01)
                archive = tmp_path / "kumpul-backup.tar"
                before = len(written)
                result = server.kumpul("backup", str(archive))
                during = len(written) - before
            finally:
                stop.set()
                for writer in writers:
                    writer.join(timeout=30)
            assert result.returncode == 0, result.stderr
            assert result.stdout.startswith(f"wrote {archive}: kumpul.db (")
            assert "vapid_private.pem" in result.stdout
            assert before >= 10
            assert during > 0, "writes were served while the backup ran"
            again = server.kumpul("backup", str(archive))
            assert again.returncode == 1
            assert "--force" in again.stderr

            # Restore: extract into a fresh data folder and serve it.
            fresh = tmp_path / "restored"
            fresh.mkdir()
            with tarfile.open(archive) as tar:
                tar.extractall(fresh, filter="data")
            with sqlite3.connect(fresh / "kumpul.db") as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            restored = start_server(fresh / "kumpul.db")
            try:
                url = restored.url
                assert httpx.get(f"{url}/api/push/key").json()["publicKey"] == key, "the same VAPID key"
                assert httpx.get(f"{url}/api/sessions/{session['id']}").json()["title"] == "Moved to Hall B"
                stale = httpx.get(f"{url}/api/changes", params={"since": cursor})
                assert stale.status_code == 410, "a phone's cursor from before the restore refetches the programme"
                titles = [a["title"] for a in httpx.get(f"{url}/api/programme").json()["announcements"]]
                assert "Shuttle at 17:30" in titles
                laptop = phone.linked(attendee["token"])
                sync(url, laptop)
                assert str(laptop.text(note)) == "Ask the panel about remedy for survivors."
                # The stored push subscription works with the restored key: the service checks k and decrypts.
                push.reset()
                posted = httpx.post(
                    f"{url}/api/admin/announcements", json={"title": "After the restore"}, headers=editor
                )
                assert posted.status_code == 201, posted.text
                (item,) = push.wait_for_sync(1, timeout=15)
                assert item.sub_id == subscription.sub_id
                assert item.json()["title"] == "After the restore"
            finally:
                stop_server(restored)
    finally:
        stop_server(server)
