"""``kumpul backup``: the database and the VAPID key in one tar file, taken safely while the server runs.

The database is copied with SQLite's online backup API from one read transaction: a consistent snapshot
of everything committed when it began, while the server goes on reading and writing (WAL). The copy is
checked, given a new epoch (restored, it is another copy of the programme, see
:mod:`sync.cursor`), then packed with the VAPID private key that lives beside the database (without it, restored
push subscriptions could not be used: every device would have to subscribe again). The tar is written
under a temporary name in the target's folder and moved into place only when complete, so a backup file
is never half-written.

``kumpul restore`` (:func:`restore`) puts a backup in place as a database of any name, never over one that exists.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from server.push.vapid import PRIVATE_KEY_FILE

#: The names inside the backup: restoring is extracting them into the data folder (see docs/operations.md).
DATABASE_MEMBER = "kumpul.db"
KEY_MEMBER = PRIVATE_KEY_FILE


class BackupError(Exception):
    """The backup was not written (nothing is left behind)."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    """What a backup wrote.

    Attributes:
        path: The tar file.
        database_bytes: Size of the database copy inside it.
        schema_version: The last migration applied to the copy.
        key_included: Whether the VAPID private key is inside (it exists once a server has started).
    """

    path: Path
    database_bytes: int
    schema_version: int
    key_included: bool


def backup(db_path: Path, target: Path, *, force: bool = False) -> BackupReport:
    """Write a backup of the database at ``db_path`` (and its VAPID key) to the tar file ``target``.

    Args:
        db_path: The live database; a server may be using it.
        target: The tar file to write; its folder must exist.
        force: Replace ``target`` if it exists.

    Raises:
        BackupError: No database at ``db_path``, ``target`` exists (without ``force``), or the copy failed its
            integrity check. Nothing is written then.
    """
    if not db_path.is_file():
        raise BackupError(f"there is no database at {db_path}")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    key = db_path.parent / PRIVATE_KEY_FILE
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as work:
        copy = Path(work) / DATABASE_MEMBER
        schema_version = _copy_database(db_path, copy)
        packed = Path(work) / "backup.tar"
        # The tar holds a private key: only the owner may read it, from the moment it exists.
        descriptor = os.open(packed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            with tarfile.open(fileobj=file, mode="w", format=tarfile.PAX_FORMAT) as tar:
                tar.add(copy, arcname=DATABASE_MEMBER, filter=_owner_only)
                if key.is_file():
                    tar.add(key, arcname=KEY_MEMBER, filter=_owner_only)
            file.flush()
            os.fsync(file.fileno())
        if force:
            packed.replace(target)
        else:
            try:
                os.link(packed, target)  # fails if the target appeared meanwhile: never overwrite unasked
            except FileExistsError:
                raise BackupError(f"{target} exists; pass --force to replace it") from None
        _sync_folder(target.parent)
        return BackupReport(target, copy.stat().st_size, schema_version, key.is_file())


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What a restore wrote.

    Attributes:
        db_path: The restored database.
        schema_version: The last migration applied to it (newer ones run when a server starts on it).
        key_restored: Whether the VAPID private key was put beside it (False: the backup had none, or the same key
            was already there).
    """

    db_path: Path
    schema_version: int
    key_restored: bool


def restore(archive: Path, db_path: Path) -> RestoreReport:
    """Restore a ``kumpul backup`` tar as the database ``db_path`` (any name) and its VAPID key beside it.

    A database is live when a file is at ``db_path`` or beside it as its write-ahead log (``-wal``/``-shm``, which
    a server or command that has it open keeps): restore never replaces one, and a stale write-ahead log must
    never meet a restored file. The restored database gets a new epoch, as a backup does: restoring the same
    backup twice gives two histories, and devices that synced with the first send what the second lacks.

    Raises:
        BackupError: ``db_path`` (or its write-ahead log) exists, its folder does not, another VAPID key is there,
            or ``archive`` is not a backup; nothing is written then.
    """
    for path in (db_path, *_companions(db_path)):
        if path.exists() or path.is_symlink():
            raise BackupError(
                f"{path} exists: restore never replaces a database (stop the server and move the old files away,"
                " or restore to another --db)"
            )
    folder = db_path.parent
    if not folder.is_dir():
        raise BackupError(f"the folder {folder} does not exist")
    key = folder / PRIVATE_KEY_FILE
    try:
        with tarfile.open(archive, mode="r:") as tar:
            members = {member.name: member for member in tar.getmembers()}
            unknown = sorted(set(members) - {DATABASE_MEMBER, KEY_MEMBER})
            database = members.get(DATABASE_MEMBER)
            if unknown or database is None or not all(member.isfile() for member in members.values()):
                raise BackupError(
                    f"{archive} is not a kumpul backup: expected {DATABASE_MEMBER} and {KEY_MEMBER} as plain files,"
                    f" found {sorted(members)[:5]}"
                )
            key_bytes = _read_member(tar, members[KEY_MEMBER]) if KEY_MEMBER in members else None
            if key_bytes is not None and key.exists() and key.read_bytes() != key_bytes:
                raise BackupError(f"{key} holds another VAPID key; restore into a folder without one")
            with tempfile.TemporaryDirectory(dir=folder, prefix=f".{db_path.name}.restore.") as work:
                copy = Path(work) / DATABASE_MEMBER
                source = tar.extractfile(database)
                assert source is not None  # a regular file, checked above
                with source, copy.open("xb") as file:
                    shutil.copyfileobj(source, file)
                version = _prepare_restored(copy, archive)
                try:
                    os.link(copy, db_path)  # fails if a database appeared meanwhile: never overwrite
                except FileExistsError:
                    raise BackupError(f"{db_path} exists: restore never replaces a database") from None
    except (tarfile.TarError, EOFError) as error:
        raise BackupError(f"{archive} is not a readable tar file: {error}") from None
    key_restored = False
    if key_bytes is not None and not key.exists():
        descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key_bytes)
            file.flush()
            os.fsync(file.fileno())
        key_restored = True
    _sync_folder(folder)
    return RestoreReport(db_path, version, key_restored)


def _companions(db_path: Path) -> tuple[Path, Path]:
    return db_path.with_name(f"{db_path.name}-wal"), db_path.with_name(f"{db_path.name}-shm")


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    source = tar.extractfile(member)
    assert source is not None  # a regular file, checked by the caller
    with source:
        return source.read()


def _prepare_restored(copy: Path, archive: Path) -> int:
    """Check the extracted database and give it a new epoch; returns its schema version."""
    try:
        conn = sqlite3.connect(copy)
        try:
            status = conn.execute("PRAGMA integrity_check").fetchall()
            if status != [("ok",)]:
                raise BackupError(f"the database in {archive} failed SQLite's integrity check: {status[:5]}")
            with conn:
                conn.execute("UPDATE feed_state SET epoch = lower(hex(randomblob(6))) WHERE id = 1")
            version = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the database in {archive} cannot be read: {error}") from None
    with copy.open("rb+") as file:
        os.fsync(file.fileno())
    return int(version)


def _copy_database(source_path: Path, copy: Path) -> int:
    """Copy the database into ``copy`` as one consistent snapshot, check it; returns its schema version."""
    # A read-only connection: the backup never writes to the live database, not even its journal mode.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(copy)
        try:
            # Every page in one step, in one read transaction: writers go on (WAL), and the copy is one snapshot.
            source.backup(target)
            # A plain rollback-journal file: one file to move, open or inspect, with no -wal beside it.
            target.execute("PRAGMA journal_mode = DELETE")
            # A restored database is another copy of the programme: apps' cursors from the live one (which may
            # be ahead of the backup) get 410 and refetch the programme, rather than trusting a forked history.
            with target:
                target.execute("UPDATE feed_state SET epoch = lower(hex(randomblob(6))) WHERE id = 1")
            status = target.execute("PRAGMA integrity_check").fetchall()
            if status != [("ok",)]:
                raise BackupError(f"the copy failed SQLite's integrity check: {status[:5]}")
            version = target.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
        finally:
            target.close()
    except sqlite3.Error as error:
        raise BackupError(f"could not copy {source_path}: {error}") from None
    finally:
        source.close()
    with copy.open("rb+") as file:
        os.fsync(file.fileno())
    return int(version)


def _owner_only(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode = 0o600
    return info


def _sync_folder(folder: Path) -> None:
    """Make the new directory entry durable (a rename is only on disk once its folder is)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
