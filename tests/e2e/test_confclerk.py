"""ConfClerk, the Debian schedule app, imports the real server's schedule.xml with its speakers.

ConfClerk has no command-line options: it loads a conference's schedule from the address stored with the
conference in its own SQLite database when its "Reload Conference" action (Ctrl+R) runs. The test gives it a
home of its own, stores the server's address there, starts it on a virtual X display (Xvfb), presses Ctrl+R
with xdotool and reads what ConfClerk stored.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import RunningServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("confclerk", "Xvfb", "xdotool")),
        reason="needs ConfClerk, Xvfb and xdotool (apt-get install confclerk xvfb xdotool)",
    ),
]
#: Generous: CI runs the suite on two cores next to the server.
DEADLINE_SECONDS = 60


def _until(what: str, check: Callable[[], bool], db: Path | None = None) -> None:
    """Wait until ``check()`` is true (ConfClerk writes its database at its own pace), failing after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not check():
        if time.monotonic() > deadline:
            found = "" if db is None else f" (it holds {_counts(db)})"
            pytest.fail(f"ConfClerk did not get there: {what}{found}")
        time.sleep(0.2)


def _counts(db: Path) -> dict[str, int]:
    queries = {
        "event": "SELECT count(*) FROM event",
        "person": "SELECT count(*) FROM person",
        "event_person": "SELECT count(*) FROM event_person",
    }
    return {table: _count(db, sql) for table, sql in queries.items()}


@contextlib.contextmanager
def _running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def display(tmp_path: Path) -> Iterator[str]:
    """A virtual X display, named once Xvfb says it is ready."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-nolisten", "tcp"], pass_fds=(write,))
    os.close(write)
    with os.fdopen(read) as ready:
        number = ready.readline().strip()
    try:
        yield f":{number}"
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return -1
    try:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # not created yet, or locked while ConfClerk writes
        return -1


def _confclerk_import(url: str, display: str, tmp_path: Path, sessions: int, links: int) -> Path:
    """Have ConfClerk load the schedule at ``url`` until it holds ``sessions`` events and ``links`` event-person
    links; its database."""
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "DISPLAY": display}
    db = home / ".local" / "share" / "Toastfreeware" / "ConfClerk" / "ConfClerk.sqlite"
    log = tmp_path / "confclerk.log"

    with _running(["confclerk"], env, log):  # the first start creates ConfClerk's database
        _until("its database", lambda: _count(db, "SELECT count(*) FROM conference") == 0)
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("INSERT INTO conference (title, start, end, active, url) VALUES ('Kumpul', 0, 0, 1, ?)", (url,))

    with _running(["confclerk"], env, log):
        windows = subprocess.run(
            ["xdotool", "search", "--sync", "--class", "confclerk"], env=env, capture_output=True, text=True, timeout=30
        ).stdout.split()
        assert windows, log.read_text()
        pressed = [0.0]

        def reload_until_it_starts() -> bool:
            """Press Ctrl+R again while nothing arrives: the window may not take keys yet when it first shows."""
            started = _count(db, "SELECT count(*) FROM event") > 0
            if not started and time.monotonic() - pressed[0] > 3:
                for window in windows:
                    subprocess.run(["xdotool", "windowfocus", window], env=env, check=False, timeout=30)
                    subprocess.run(["xdotool", "key", "ctrl+r"], env=env, check=True, timeout=30)
                pressed[0] = time.monotonic()
            return started

        _until("the reload to start", reload_until_it_starts)
        events, people = "SELECT count(*) FROM event", "SELECT count(*) FROM event_person"
        _until(
            f"{sessions} events and {links} event-person links",
            lambda: _count(db, events) == sessions and _count(db, people) == links,
            db,
        )
    return db


def test_confclerk_imports_every_speaker(server: RunningServer, display: str, tmp_path: Path) -> None:
    programme = httpx.get(f"{server.url}/api/programme").json()
    scheduled = [s for s in programme["sessions"] if s["status"] == "scheduled"]
    speakers = {sid for session in scheduled for sid in session["speakerIds"]}
    links = sum(len(set(session["speakerIds"])) for session in scheduled)
    assert speakers

    db = _confclerk_import(f"{server.url}/api/schedule.xml", display, tmp_path, len(scheduled), links)

    assert _count(db, "SELECT count(*) FROM person") == len(speakers)
    assert _count(db, "SELECT count(*) FROM event_person") == links
    assert _count(db, "SELECT count(DISTINCT xid_person) FROM event_person") == len(speakers)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM person")}
    assert names == {s["name"] for s in programme["speakers"] if s["id"] in speakers}


def test_confclerk_reads_a_named_version_as_published(server: RunningServer, display: str, tmp_path: Path) -> None:
    editor = {"Authorization": f"Bearer {server.organiser_token('editor')}"}
    programme = httpx.get(f"{server.url}/api/programme").json()
    scheduled = [s for s in programme["sessions"] if s["status"] == "scheduled"]
    links = sum(len(set(session["speakerIds"])) for session in scheduled)
    published = httpx.post(f"{server.url}/api/admin/releases", json={"name": "v1"}, headers=editor)
    assert published.status_code == 201, published.text
    # After the release: one session cancelled, another retitled. Version v1 still has them as they were.
    first, second = scheduled[0], scheduled[1]
    for session_id, change in ((first["id"], {"status": "cancelled"}), (second["id"], {"title": "Retitled later"})):
        edited = httpx.patch(f"{server.url}/api/admin/sessions/{session_id}", json=change, headers=editor)
        assert edited.status_code == 200, edited.text

    db = _confclerk_import(f"{server.url}/api/schedule.xml?version=v1", display, tmp_path, len(scheduled), links)

    with contextlib.closing(sqlite3.connect(db)) as conn:
        titles = {row[0] for row in conn.execute("SELECT title FROM event")}
    assert {first["title"], second["title"]} <= titles
    assert "Retitled later" not in titles
