"""Nothing acknowledged is lost: kill -9 the server while 200 sync requests run, restart, check."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
from pycrdt import Doc, Text

from tests.e2e.conftest import start_server, stop_server
from tests.sync_devices import Device, b64

ATTENDEES = 10
REQUESTS = 200
KILL_AFTER = 40


def note_request(text: str) -> tuple[str, dict[str, Any]]:
    doc_id = f"note:{uuid.uuid4()}"
    doc: Doc[Text] = Doc()
    doc["body"] = Text(text)
    return doc_id, {"cursor": None, "docs": [{"id": doc_id, "update": b64(doc.get_update())}]}


async def send_all(url: str, tokens: list[str], kill: Any) -> dict[str, str]:
    """Send every request at once; kill the server after the first acknowledgements arrive."""
    acknowledged: dict[str, str] = {}
    limits = httpx.Limits(max_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(index: int) -> None:
            text = f"note {index}: every word matters"
            doc_id, body = note_request(text)
            token = tokens[index % len(tokens)]
            try:
                response = await client.post("/api/me/sync", json=body, headers={"Authorization": f"Bearer {token}"})
            except httpx.TransportError:
                return
            if response.status_code == 200:
                acknowledged[doc_id] = text
                if len(acknowledged) == KILL_AFTER:
                    kill()

        await asyncio.gather(*(one(i) for i in range(REQUESTS)))
    return acknowledged


def test_acknowledged_updates_survive_kill_9(tmp_path: Path) -> None:
    server = start_server(tmp_path / "kumpul.db")
    tokens = [httpx.post(f"{server.url}/api/attendees").json()["token"] for _ in range(ATTENDEES)]
    acknowledged = asyncio.run(send_all(server.url, tokens, lambda: server.process.send_signal(signal.SIGKILL)))
    server.process.wait(timeout=10)
    assert server.process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= KILL_AFTER

    again = start_server(server.db)
    try:
        found: dict[str, str] = {}
        for token in tokens:
            device = Device(token)
            response = httpx.post(f"{again.url}/api/me/sync", json=device.request_body(), headers=device.headers)
            assert response.status_code == 200
            device.receive(response.json())
            found.update({doc_id: str(device.text(doc_id)) for doc_id in device.docs})
        missing = {doc_id for doc_id in acknowledged if found.get(doc_id) != acknowledged[doc_id]}
        assert not missing, f"{len(missing)} acknowledged notes lost"
    finally:
        stop_server(again)
