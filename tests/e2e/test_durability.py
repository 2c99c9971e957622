"""Nothing acknowledged is lost: kill -9 the server while 200 sync requests run, restart, check.

On SQLite the same server restarts on its file; on PostgreSQL another node takes over the database.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from pycrdt import Doc, Text

from tests.e2e.conftest import start_server, stop_server
from tests.postgres import Cluster
from tests.sync_devices import Device, Notebook, b64, seal

ATTENDEES = 10
REQUESTS = 200
KILL_AFTER = 40


def note_request(notebook: Notebook, text: str) -> tuple[str, dict[str, Any]]:
    doc_id = f"note:{uuid.uuid4()}"
    doc: Doc[Text] = Doc()
    doc["body"] = Text(text)
    frame = seal(notebook, doc_id, "update", doc.get_update())
    return doc_id, {"cursor": None, "keyId": 1, "logs": [{"id": doc_id, "append": [b64(frame)]}]}


async def send_all(url: str, tokens: list[str], notebooks: dict[str, Notebook], kill: Any) -> dict[str, str]:
    """Send every request at once; kill the server after the first acknowledgements arrive."""
    acknowledged: dict[str, str] = {}
    limits = httpx.Limits(max_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(index: int) -> None:
            text = f"note {index}: every word matters"
            token = tokens[index % len(tokens)]
            doc_id, body = note_request(notebooks[token], text)
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


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_acknowledged_updates_survive_kill_9(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> None:
    database: tuple[str, ...] = ()
    if engine == "postgresql":
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        database = ("--database-url", cluster.new_database())
    server = start_server(tmp_path / "kumpul.db", *database)
    tokens = [httpx.post(f"{server.url}/api/attendees").json()["token"] for _ in range(ATTENDEES)]
    notebooks = {token: Notebook.new() for token in tokens}
    for token in tokens:
        key = {"keyId": 1, "previous": 0, "wrapped": []}
        registered = httpx.post(f"{server.url}/api/attendees/me/keys", json=key, headers=bearer(token))
        assert registered.status_code == 200, registered.text
    kill = lambda: server.process.send_signal(signal.SIGKILL)  # noqa: E731
    acknowledged = asyncio.run(send_all(server.url, tokens, notebooks, kill))
    server.process.wait(timeout=10)
    assert server.process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= KILL_AFTER

    if database:  # another node, on a machine of its own
        (tmp_path / "again").mkdir()
        again = start_server(tmp_path / "again" / "kumpul.db", *database)
    else:
        again = start_server(server.db)
    try:
        found: dict[str, str] = {}
        for token in tokens:
            device = Device(token, notebooks[token])
            response = httpx.post(f"{again.url}/api/me/sync", json=device.request_body(), headers=device.headers)
            assert response.status_code == 200
            device.receive(response.json())
            found.update({doc_id: str(device.text(doc_id)) for doc_id in device.docs})
        missing = {doc_id for doc_id in acknowledged if found.get(doc_id) != acknowledged[doc_id]}
        assert not missing, f"{len(missing)} acknowledged notes lost"
    finally:
        stop_server(again)
