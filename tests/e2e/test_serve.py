"""The real server as users start it: ``kumpul serve --demo``, organiser tokens and imports from a shell."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.conftest import RunningServer, start_server, stop_server


def test_serves_the_demo_conference(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/api/programme", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "br"
    programme = response.json()
    assert programme["event"]["acronym"].startswith("ARAT")
    assert len(programme["sessions"]) >= 60


def test_token_from_the_command_line_authorises_writes(server: RunningServer) -> None:
    token = server.organiser_token("editor")
    assert token.startswith("kpo_")
    room = httpx.get(f"{server.url}/api/rooms").json()[0]
    response = httpx.patch(
        f"{server.url}/api/admin/rooms/{room['id']}",
        json={"capacity": 321},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert httpx.get(f"{server.url}/api/rooms/{room['id']}").json()["capacity"] == 321


def test_an_import_from_another_process_reaches_the_running_server(server: RunningServer, tmp_path: Path) -> None:
    before = httpx.get(f"{server.url}/api/programme")
    programme = before.json()
    session = programme["sessions"][0]
    session["title"] = "Moved by an import"
    file = tmp_path / "update.json"
    file.write_text(json.dumps(programme))
    result = server.kumpul("import", str(file))
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        response = httpx.get(f"{server.url}/api/programme", headers={"If-None-Match": before.headers["etag"]})
        if response.status_code == 200:
            break
        time.sleep(0.1)
    assert response.status_code == 200
    assert response.json()["sessions"][0]["title"] == "Moved by an import"
    changes = httpx.get(f"{server.url}/api/changes", params={"since": before.json()["cursor"]}).json()
    assert [c["id"] for c in changes["changes"]] == [session["id"]]


def test_restart_keeps_everything(server: RunningServer) -> None:
    from tests.e2e.conftest import start_server, stop_server

    token = server.organiser_token("admin")
    session = httpx.get(f"{server.url}/api/sessions").json()[0]
    httpx.patch(
        f"{server.url}/api/admin/sessions/{session['id']}",
        json={"title": "Survives a restart"},
        headers={"Authorization": f"Bearer {token}"},
    )
    stop_server(server)
    again = start_server(server.db, "--demo")
    try:
        assert httpx.get(f"{again.url}/api/sessions/{session['id']}").json()["title"] == "Survives a restart"
    finally:
        stop_server(again)


def test_the_demo_is_on_its_second_day_today_unless_its_original_dates_are_asked_for(tmp_path: Path) -> None:
    running = start_server(tmp_path / "today.db", "--demo", "--demo-dates", "today")
    try:
        zone = ZoneInfo(httpx.get(f"{running.url}/api/event", timeout=10).json()["timeZone"])
        before = datetime.now(zone).date()
        programme = httpx.get(f"{running.url}/api/programme", timeout=10).json()
        today = {before, datetime.now(zone).date()}  # the same day, unless the test ran across midnight
    finally:
        stop_server(running)
    first = date.fromisoformat(programme["event"]["startDate"])
    assert first + timedelta(days=1) in today, "a newcomer finds the conference running: today is its second day"
    starts = [datetime.fromisoformat(s["start"]).astimezone(zone) for s in programme["sessions"]]
    assert {start.date() for start in starts} == {first, first + timedelta(days=1), first + timedelta(days=2)}
    assert min(start.time() for start in starts).isoformat() == "07:30:00", "sessions keep their local times"

    running = start_server(tmp_path / "original.db", "--demo", "--demo-dates", "original")
    try:
        event = httpx.get(f"{running.url}/api/event", timeout=10).json()
    finally:
        stop_server(running)
    assert (event["startDate"], event["endDate"]) == ("2024-07-23", "2024-07-25")
