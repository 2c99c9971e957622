"""The ``kumpul`` command line: organisers, imports and the database option."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from server.app import create_app
from server.cli import build_parser
from server.demo import demo_bytes
from server.settings import Settings
from server.storage.db import open_database
from tests.asgi import app_client

KUMPUL = [sys.executable, "-m", "server.cli"]


@pytest.fixture(autouse=True)
def engine(database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """The commands run on the suite's engine: on PostgreSQL, on the test's own database (``--db`` then names
    only the folder beside which the node keeps its local files)."""
    if database_url:
        monkeypatch.setenv("KUMPUL_DATABASE_URL", database_url)
    return database_url


async def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    """The rows of ``sql`` in the database the commands wrote to."""
    async with open_database(db, os.environ.get("KUMPUL_DATABASE_URL"), readers=1) as database, database.read() as conn:
        return [tuple(row) for row in await conn.execute_fetchall(sql)]


def everything_stored(db: Path) -> str:
    """All the database holds, as text: the SQLite file's bytes, or every PostgreSQL table as XML."""
    if not os.environ.get("KUMPUL_DATABASE_URL"):
        return db.read_bytes().decode("latin-1")
    [(document,)] = asyncio.run(query(db, "SELECT database_to_xml(true, false, '')"))
    return str(document)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KUMPUL, *args], capture_output=True, text=True, check=False, timeout=60, env={**os.environ, **(env or {})}
    )


def test_organiser_add_prints_the_token_alone_on_stdout(tmp_path: Path) -> None:
    result = run("organiser", "add", "Dewi", "--role", "editor", "--db", str(tmp_path / "k.db"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("kpo_")
    assert len(lines[0]) > 40
    assert lines[0] not in everything_stored(tmp_path / "k.db"), "stored hashed"


async def test_organiser_add_gives_a_one_time_console_password_on_stderr(
    tmp_path: Path, database_url: str | None
) -> None:
    db = tmp_path / "k.db"
    result = run("organiser", "add", "Dewi", "--role", "admin", "--db", str(db))
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("one-time password: ")]
    password = line.removeprefix("one-time password: ").split()[0]
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password), line
    assert "sign in at /admin with this one-time password; you will choose your own" in line
    assert password not in result.stdout
    async with app_client(create_app(Settings(db_path=db, database_url=database_url))) as client:
        signed = await client.post("/api/admin/login", json={"name": "Dewi", "password": password})
        assert signed.status_code == 200
        assert signed.json()["mustChangePassword"] is True
        token = {"Authorization": f"Bearer {result.stdout.strip()}"}
        latest = (await client.get("/api/admin/history", headers=token)).json()[0]
        assert (latest["actor"], latest["action"], latest["kind"]) == ("command line", "created", "organiser")


def test_organiser_names_are_unique(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    assert run("organiser", "add", "Dewi", "--role", "admin", "--db", db).returncode == 0
    again = run("organiser", "add", "Dewi", "--role", "admin", "--db", db)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    bad_role = run("organiser", "add", "Budi", "--role", "owner", "--db", db)
    assert bad_role.returncode == 2
    assert "invalid choice" in bad_role.stderr


@pytest.mark.sqlite_only  # the SQLite file's path; PostgreSQL's address comes from KUMPUL_DATABASE_URL
def test_kumpul_db_environment_variable(tmp_path: Path) -> None:
    db = tmp_path / "from-env.db"
    result = run("organiser", "add", "Dewi", "--role", "admin", env={"KUMPUL_DB": str(db)})
    assert result.returncode == 0
    assert db.exists()


def test_import_and_reimport(tmp_path: Path) -> None:
    file = tmp_path / "demo.json"
    file.write_bytes(demo_bytes())
    db = str(tmp_path / "k.db")
    first = run("import", str(file), "--db", db)
    assert first.returncode == 0, first.stderr
    assert "entities written" in first.stderr
    second = run("import", str(file), "--db", db)
    assert second.returncode == 0
    assert ": 0 entities written" in second.stderr


def test_import_refuses_a_broken_file_and_writes_nothing(tmp_path: Path) -> None:
    data = json.loads(demo_bytes())
    data["sessions"][3]["roomId"] = "nowhere"
    file = tmp_path / "broken.json"
    file.write_text(json.dumps(data))
    db = tmp_path / "k.db"
    result = run("import", str(file), "--db", str(db))
    assert result.returncode == 1
    assert "sessions[3]" in result.stderr
    assert "roomId" in result.stderr
    check = run("import", str(tmp_path / "missing.json"), "--db", str(db))
    assert check.returncode == 1
    assert "No such file" in check.stderr
    (tmp_path / "bad.json").write_text("{")
    assert "not valid JSON" in run("import", str(tmp_path / "bad.json"), "--db", str(db)).stderr
    (tmp_path / "wrong.json").write_text('{"event": {"name": 3}}')
    wrong = run("import", str(tmp_path / "wrong.json"), "--db", str(db))
    assert "event.name" in wrong.stderr


def test_failed_import_leaves_the_database_empty(tmp_path: Path) -> None:
    data = json.loads(demo_bytes())
    data["sessions"][-1]["speakerIds"] = ["nobody"]
    file = tmp_path / "broken.json"
    file.write_text(json.dumps(data))
    db = tmp_path / "k.db"
    assert run("import", str(file), "--db", str(db)).returncode == 1
    assert asyncio.run(query(db, "SELECT count(*) FROM entities")) == [(0,)]


IMPORT_DATA = Path(__file__).parent / "interchange" / "data"


def feed_seq(db: Path) -> int:
    [(seq,)] = asyncio.run(query(db, "SELECT seq FROM feed_state"))
    return int(str(seq))


def test_import_frab_xml_then_an_updated_export(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    first = run("import", str(IMPORT_DATA / "schedule.xml"), "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert "sessions: 35 added, 0 changed, 0 cancelled" in first.stdout
    assert "  + Recruitment fees: who pays, who profits (" in first.stdout
    assert "rooms: 4 added, 0 changed, 0 deleted" in first.stdout
    assert "(frab-xml): 73 entities written" in first.stderr
    assert "importing [" not in first.stderr, "no progress bar when stderr is not a terminal"

    seq = feed_seq(db)
    again = run("import", str(IMPORT_DATA / "schedule.xml"), "--db", str(db))
    assert again.stdout == "nothing to change\n"
    assert ": 0 entities written" in again.stderr
    assert feed_seq(db) == seq

    updated = run("import", str(IMPORT_DATA / "schedule-updated.xml"), "--db", str(db), "--delete-missing")
    assert updated.returncode == 0, updated.stderr
    assert "sessions: 1 added, 2 changed, 1 deleted" in updated.stdout
    assert "  - Measuring prevalence responsibly (" in updated.stdout
    assert "  ~ Jonah K. Kaplan (spk-0f4e1922-dde5-5a6d-ac69-9f487de922a1)" in updated.stdout, "matched by guid"


def test_import_dry_run_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    assert run("import", str(IMPORT_DATA / "schedule.xml"), "--db", str(db)).returncode == 0
    seq = feed_seq(db)
    dry = run("import", str(IMPORT_DATA / "schedule-updated.xml"), "--db", str(db), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "sessions: 1 added, 2 changed, 1 cancelled" in dry.stdout
    assert "  + Late addition: questions for the ministries (" in dry.stdout
    assert "  ~ Children on the move (" in dry.stdout
    assert "speakers: 0 added, 1 changed, 0 deleted" in dry.stdout
    assert "5 entities would change; nothing was written" in dry.stderr
    assert feed_seq(db) == seq


def test_import_of_a_c3voc_json_export(tmp_path: Path) -> None:
    result = run("import", str(IMPORT_DATA / "pretalx-democon.json"), "--db", str(tmp_path / "k.db"))
    assert result.returncode == 0, result.stderr
    assert "sessions: 36 added" in result.stdout
    assert "(c3voc-json): 70 entities written" in result.stderr


def test_import_refuses_broken_and_hostile_xml(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    missing = run("import", str(IMPORT_DATA / "missing-duration.xml"), "--db", str(db))
    assert missing.returncode == 1
    assert missing.stderr.strip().endswith("kumpul: line 21, <event>, duration: an event needs a duration (HH:MM)")
    syntax = run("import", str(IMPORT_DATA / "malformed-syntax.xml"), "--db", str(db))
    assert syntax.returncode == 1
    assert "kumpul: line 20: the XML is not well-formed" in syntax.stderr
    hostile = run("import", str(IMPORT_DATA / "billion-laughs.xml"), "--db", str(db))
    assert hostile.returncode == 1
    assert "must not declare a DOCTYPE" in hostile.stderr
    assert feed_seq(db) == 0


def test_import_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    import pty
    import select

    leader, follower = pty.openpty()
    command = [*KUMPUL, "import", str(IMPORT_DATA / "frab-camp2019.json"), "--db", str(tmp_path / "k.db")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    output = b""
    while select.select([leader], [], [], 60)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the command ends
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    os.close(leader)
    assert b"\rimporting [" in output
    assert b"100% (" in output


def test_import_refuses_deeply_nested_files_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    deep_json = tmp_path / "deep.json"
    deep_json.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    deep_object = tmp_path / "deep-object.json"
    deep_object.write_bytes(b'{"event":' * 100_000 + b"1" + b"}" * 100_000)
    deep_xml = tmp_path / "deep.xml"
    deep_xml.write_bytes(b"<schedule>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</schedule>")
    for file, problem in [
        (deep_json, "neither XML (a frab schedule.xml) nor a JSON object"),
        (deep_object, "the file is nested too deeply"),
        (deep_xml, "elements are nested too deeply"),
    ]:
        result = run("import", str(file), "--db", str(db))
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        [line] = [line for line in result.stderr.splitlines() if not line.startswith("INFO ")]
        assert line.startswith("kumpul: line 1") or problem.startswith("neither"), line
        assert problem in line
    assert feed_seq(db) == 0


def test_serve_refuses_numbers_out_of_range_naming_the_option(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    for option, value, problem in [
        ("--port", "99999999999999999999", "from 0 to 65535"),
        ("--port", "-1", "from 0 to 65535"),
        ("--workers", "99999999999999999999", "from 1 to 1024"),
        ("--workers", "0", "from 1 to 1024"),
    ]:
        result = run("serve", option, value, "--db", db)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert f"argument {option}: expected a whole number {problem}, got {value!r}" in result.stderr


def test_the_demo_runs_today_unless_asked_for_its_original_dates() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "--demo"]).demo_dates == "today"
    assert parser.parse_args(["serve", "--demo", "--demo-dates", "original"]).demo_dates == "original"


@pytest.mark.sqlite_only  # a PostgreSQL database is made by its administrator, not by a command
def test_import_dry_run_on_a_missing_database_creates_none(tmp_path: Path) -> None:
    db = tmp_path / "typo.db"
    dry = run("import", str(IMPORT_DATA / "schedule.xml"), "--db", str(db), "--dry-run")
    assert dry.returncode == 1
    assert f"there is no database at {db}" in dry.stderr
    assert list(tmp_path.iterdir()) == []
