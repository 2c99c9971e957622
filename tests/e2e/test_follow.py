"""The real server follows a local schedule source with two workers: one pull at a time, a hang changes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import RunningServer, start_server, stop_server
from tests.schedule_source import ScheduleSource, schedule_source

DATA = Path(__file__).resolve().parents[1] / "server" / "interchange" / "data"


@pytest.fixture
def source() -> Iterator[ScheduleSource]:
    with schedule_source() as served:
        served.state.body = (DATA / "schedule.xml").read_bytes()
        yield served


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """Two workers, each running the follow loop, looking often; a hanging pull is given a minute."""
    env = {
        "KUMPUL_ALLOW_INSECURE_SOURCE": "1",
        "KUMPUL_SOURCE_POLL_SECONDS": "0.2",
        "KUMPUL_SOURCE_TIMEOUT_SECONDS": "60",
    }
    running = start_server(tmp_path / "kumpul.db", "--workers", "2", env=env)
    yield running
    stop_server(running)


def test_two_workers_pull_once_and_a_hanging_source_changes_nothing(
    server: RunningServer, source: ScheduleSource
) -> None:
    editor = {"Authorization": f"Bearer {server.organiser_token('editor')}"}
    configured = httpx.put(
        f"{server.url}/api/admin/source", json={"url": source.url, "everySeconds": 10}, headers=editor, timeout=60
    )
    assert configured.status_code == 200, configured.text
    assert configured.json()["lastResult"] == "imported"
    sessions = httpx.get(f"{server.url}/api/sessions", timeout=10).json()
    assert len(sessions) == 35
    assert len(source.state.requests) == 1

    # Ten seconds on, the pull is due for both workers' loops; one claims it and the source hangs.
    source.state.body = (DATA / "schedule-updated.xml").read_bytes()
    source.state.mode = "hang"
    source.state.arrived.clear()
    assert source.state.arrived.wait(30), "no worker pulled when the source was due"
    assert len(source.state.requests) == 2
    # The other worker looks every 0.2 s meanwhile and must not pull too: no request in the next 3 s.
    source.state.arrived.clear()
    assert not source.state.arrived.wait(3)
    assert len(source.state.requests) == 2
    assert "if-none-match" in source.state.requests[1], "the pull asks with the first file's ETag"

    # The source gives up halfway: the pull fails, and nothing changed.
    source.state.release.set()
    deadline = time.monotonic() + 30
    while (status := httpx.get(f"{server.url}/api/admin/source", headers=editor, timeout=10).json())[
        "lastResult"
    ] != "failed" and time.monotonic() < deadline:
        time.sleep(0.1)  # the outcome is written by the worker that pulled; the API is where it shows
    assert status["lastResult"] == "failed", status
    assert status["failures"] == 1
    assert httpx.get(f"{server.url}/api/sessions", timeout=10).json() == sessions
    history = httpx.get(f"{server.url}/api/admin/history", headers=editor, timeout=10).json()
    assert [entry["summary"].split(":")[0] for entry in history if entry["action"] == "pulled"] == [
        "failed",
        "imported",
    ]
