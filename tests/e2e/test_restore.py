"""``kumpul restore`` into a fresh instance, and two devices syncing through it: every note reaches both, the ones
written after the backup (kept only on the devices) and the ones written after the restore alike."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import KUMPUL, start_server, stop_server
from tests.sync_devices import Device


def sync(url: str, device: Device) -> dict[str, Any]:
    device.ready_sync(url)
    response = httpx.post(f"{url}/api/me/sync", json=device.request_body(), headers=device.headers, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    device.receive(body)
    return body


def write(device: Device, label: str) -> str:
    note = f"note:{uuid.uuid4()}"
    device.text(note).insert(0, label)
    device.edit(note)
    return note


def settle(url: str, *devices: Device) -> None:
    """Sync each device until it has nothing left to send (a restore asks for one more round trip)."""
    for _ in range(2):
        for device in devices:
            for _ in range(3):
                sync(url, device)
                if not device.changed:
                    break
            assert not device.changed, "the device still has documents to send"


def notes_of(device: Device) -> set[str]:
    return {str(device.text(doc_id)) for doc_id in device.docs if doc_id.startswith("note:")}


def test_two_devices_converge_on_every_note_through_a_restore(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()
    live = start_server(tmp_path / "live" / "kumpul.db")
    try:
        phone = Device(httpx.post(f"{live.url}/api/attendees").json()["token"])
        code = httpx.post(f"{live.url}/api/attendees/me/link-code", headers=phone.headers).json()["code"]
        laptop = phone.linked(httpx.post(f"{live.url}/api/attendees/link", json={"code": code}).json()["token"])
        for number in range(1, 6):
            write(phone, f"n{number}")
        settle(live.url, phone, laptop)
        archive = tmp_path / "night-1.tar"
        assert live.kumpul("backup", str(archive)).returncode == 0
        write(laptop, "n8")  # synced after the backup: the restored server lacks it, both devices hold it
        settle(live.url, laptop, phone)
    finally:
        stop_server(live)

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    restored_db = fresh / "conference.sqlite"
    refused = subprocess.run(
        [*KUMPUL, "restore", str(archive), "--db", str(tmp_path / "live" / "kumpul.db")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "exists" in refused.stderr
    done = subprocess.run(
        [*KUMPUL, "restore", str(archive), "--db", str(restored_db)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"restored {archive} as {restored_db}")

    server = start_server(restored_db)
    try:
        write(phone, "n6")
        write(phone, "n7")
        sync(server.url, phone)  # told to resend: the next round trip sends every note it holds
        settle(server.url, phone, laptop)
        everything = {f"n{number}" for number in range(1, 9)}
        assert notes_of(phone) == everything
        assert notes_of(laptop) == everything
        newcomer = phone.linked(phone.headers["Authorization"].split()[1])
        settle(server.url, newcomer)
        assert notes_of(newcomer) == everything, "the server holds the union too"
    finally:
        stop_server(server)
