"""``kumpul backup``: one consistent snapshot of the database and the VAPID key, in a tar written all or nothing."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import stat
import tarfile
from pathlib import Path

import pytest

from server.cli import main
from server.push.vapid import PRIVATE_KEY_FILE, load_or_create_keys
from server.storage.backup import DATABASE_MEMBER, KEY_MEMBER, BackupError, backup
from server.storage.db import SqliteDatabase


def make_database(folder: Path) -> Path:
    """A migrated database in WAL mode with a table of notes."""
    path = folder / "kumpul.db"

    async def make() -> None:
        async with SqliteDatabase(path) as db, db.write() as conn:
            await conn.execute("CREATE TABLE notes (text TEXT)")
            await conn.execute("INSERT INTO notes VALUES ('committed before the backup')")

    asyncio.run(make())
    return path


def extract(archive: Path, into: Path) -> dict[str, Path]:
    with tarfile.open(archive) as tar:
        members = {member.name: member for member in tar.getmembers()}
        for member in members.values():
            assert stat.S_IMODE(member.mode) == 0o600, member.name
        tar.extractall(into, filter="data")
    return {name: into / name for name in members}


def test_a_backup_holds_what_was_committed_and_nothing_in_flight(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = make_database(data)
    keys = load_or_create_keys(data)
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("INSERT INTO notes VALUES ('committed while a server runs')")
        assert (data / "kumpul.db-wal").stat().st_size > 0, "the committed rows are still in the write-ahead log"
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO notes VALUES ('not committed when the backup is taken')")
        report = backup(db, tmp_path / "kumpul-backup.tar")
    finally:
        writer.rollback()
        writer.close()

    assert report.key_included
    assert report.schema_version >= 4
    assert stat.S_IMODE((tmp_path / "kumpul-backup.tar").stat().st_mode) == 0o600, "it holds a private key"
    restored = extract(tmp_path / "kumpul-backup.tar", tmp_path / "restored")
    assert set(restored) == {DATABASE_MEMBER, KEY_MEMBER}
    with contextlib.closing(sqlite3.connect(restored[DATABASE_MEMBER])) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",), "one file, no -wal beside it"
        notes = [row[0] for row in conn.execute("SELECT text FROM notes")]
    assert notes == ["committed before the backup", "committed while a server runs"]
    assert load_or_create_keys(tmp_path / "restored").application_server_key == keys.application_server_key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "kumpul-backup.tar", "restored"], "no leftovers"


def test_an_existing_file_is_replaced_only_when_asked(tmp_path: Path) -> None:
    db = make_database(tmp_path / "data")
    target = tmp_path / "backup.tar"
    target.write_bytes(b"an older backup")
    with pytest.raises(BackupError, match="--force"):
        backup(db, target)
    assert target.read_bytes() == b"an older backup"
    report = backup(db, target, force=True)
    assert not report.key_included, "no server has started on this database yet"
    assert set(extract(target, tmp_path / "restored")) == {DATABASE_MEMBER}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.tar", "data", "restored"]


def test_the_command_says_what_it_wrote_and_refuses_what_it_cannot_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = make_database(tmp_path / "data")
    load_or_create_keys(db.parent)
    target = tmp_path / "backup.tar"
    assert main(["backup", str(target), "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"wrote {target}: {DATABASE_MEMBER} (")
    assert f"and {PRIVATE_KEY_FILE}" in out
    assert "docs/operations.md" in err
    assert main(["backup", str(target), "--db", str(db)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["backup", str(tmp_path / "other.tar"), "--db", str(tmp_path / "missing.db")]) == 1
    assert "no database" in capsys.readouterr().err
    assert main(["backup", str(tmp_path / "no" / "such" / "folder.tar"), "--db", str(db)]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.tar", "data"]
