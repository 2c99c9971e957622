"""``restore``: a backup becomes a database of any name, with a new epoch, and never replaces a live one."""

from __future__ import annotations

import sqlite3
import tarfile
from pathlib import Path

import pytest

from server.storage.backup import BackupError, backup, restore
from server.storage.db import SqliteDatabase


def epoch_of(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        return str(conn.execute("SELECT epoch FROM feed_state").fetchone()[0])


@pytest.fixture
async def archive(tmp_path: Path) -> Path:
    live = tmp_path / "live" / "kumpul.db"
    async with SqliteDatabase(live):
        pass
    (live.parent / "vapid_private.pem").write_bytes(b"the key")
    target = tmp_path / "backup.tar"
    backup(live, target)
    return target


def test_restores_under_any_name_with_the_key_and_a_new_epoch(archive: Path, tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    first = restore(archive, folder / "conference.sqlite")
    assert first.key_restored
    assert (folder / "vapid_private.pem").read_bytes() == b"the key"
    assert (folder / "vapid_private.pem").stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(folder / "conference.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # The same backup restored twice is two histories: devices that synced with one must not trust the other.
    second = restore(archive, folder / "again.sqlite")
    assert not second.key_restored, "the same key is already there"
    with tarfile.open(archive) as tar, tar.extractfile("kumpul.db") as packed:  # type: ignore[union-attr]
        (tmp_path / "packed.db").write_bytes(packed.read())
    epochs = {
        epoch_of(tmp_path / "packed.db"),
        epoch_of(folder / "conference.sqlite"),
        epoch_of(folder / "again.sqlite"),
    }
    assert len(epochs) == 3


@pytest.mark.parametrize("existing", ["kumpul.db", "kumpul.db-wal", "kumpul.db-shm"])
def test_never_replaces_a_live_database(archive: Path, tmp_path: Path, existing: str) -> None:
    folder = tmp_path / "serving"
    folder.mkdir()
    (folder / existing).write_bytes(b"in use")
    with pytest.raises(BackupError, match="exists"):
        restore(archive, folder / "kumpul.db")
    assert sorted(path.name for path in folder.iterdir()) == [existing]
    assert (folder / existing).read_bytes() == b"in use"


def test_refuses_a_folder_holding_another_key(archive: Path, tmp_path: Path) -> None:
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "vapid_private.pem").write_bytes(b"another key")
    with pytest.raises(BackupError, match="another VAPID key"):
        restore(archive, folder / "kumpul.db")
    assert sorted(path.name for path in folder.iterdir()) == ["vapid_private.pem"]


def test_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    stranger = tmp_path / "photos.tar"
    (tmp_path / "cat.jpg").write_bytes(b"meow")
    with tarfile.open(stranger, "w") as tar:
        tar.add(tmp_path / "cat.jpg", arcname="cat.jpg")
    (tmp_path / "fresh").mkdir()
    with pytest.raises(BackupError, match="not a kumpul backup"):
        restore(stranger, tmp_path / "fresh" / "kumpul.db")
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all")
    with pytest.raises(BackupError, match="not a readable tar"):
        restore(tmp_path / "junk.tar", tmp_path / "fresh" / "kumpul.db")
    assert list((tmp_path / "fresh").iterdir()) == []
