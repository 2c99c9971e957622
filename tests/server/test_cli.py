"""The ``kumpul`` command line: organisers, imports and the database option."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from server.demo import demo_bytes

KUMPUL = [sys.executable, "-m", "server.cli"]


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
    assert lines[0] not in (tmp_path / "k.db").read_bytes().decode("latin-1"), "stored hashed"


def test_organiser_names_are_unique(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    assert run("organiser", "add", "Dewi", "--role", "admin", "--db", db).returncode == 0
    again = run("organiser", "add", "Dewi", "--role", "admin", "--db", db)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    bad_role = run("organiser", "add", "Budi", "--role", "owner", "--db", db)
    assert bad_role.returncode == 2
    assert "invalid choice" in bad_role.stderr


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
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM entities").fetchone()[0] == 0
