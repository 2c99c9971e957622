"""The SQLite database: one serialised writer, a pool of readers, migrations at start-up."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


#: Seconds a client is asked to wait before retrying a write refused because the storage is full.
FULL_RETRY_AFTER = 30


def storage_full(error: BaseException) -> bool:
    """Whether ``error`` is SQLite's ``SQLITE_FULL``: the disk (or the database's page limit) has no room left.

    The transaction that met it was rolled back, so nothing of it was written.
    """
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_FULL


def database_busy(error: BaseException) -> bool:
    """Whether ``error`` is a lock another connection held past the busy timeout (``SQLITE_BUSY``/``LOCKED``)."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    return "locked" in str(error) or "busy" in str(error)


def transient(error: BaseException) -> bool:
    """Whether ``error`` is a storage condition that passes by itself (full, busy): worth a retry, not a trace."""
    return storage_full(error) or database_busy(error)


async def _configure(conn: aiosqlite.Connection, *, readonly: bool) -> None:
    conn.row_factory = aiosqlite.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA foreign_keys = ON")
    # Deleted rows are overwritten, not left in free pages: an erased attendee's notes leave the file at once.
    await conn.execute("PRAGMA secure_delete = ON")
    if readonly:
        await conn.execute("PRAGMA query_only = ON")
    else:
        await conn.execute("PRAGMA journal_mode = WAL")
        # WAL with synchronous=NORMAL never loses a committed transaction when the process dies;
        # only a power cut can roll back the last commits, and never corrupts the file.
        await conn.execute("PRAGMA synchronous = NORMAL")


def migration_files() -> list[tuple[int, str, str]]:
    """The bundled migrations as ``(version, name, sql)``, in order."""
    folder = resources.files("server.storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


class Database:
    """One SQLite file opened for the life of the app.

    Every write goes through :meth:`write`, which holds an asyncio lock and a ``BEGIN IMMEDIATE``
    transaction, so writes are serialised in this process and against other processes. Reads use a
    small pool of ``query_only`` connections and never wait for writes (WAL).
    """

    def __init__(self, path: Path, *, readers: int = 4) -> None:
        self.path = path
        self._reader_count = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._write_lock = asyncio.Lock()
        self._wipe: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Open the connections and apply pending migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await aiosqlite.connect(self.path, isolation_level=None)
        await _configure(self._writer, readonly=False)
        await self._migrate()
        for _ in range(self._reader_count):
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            await _configure(conn, readonly=True)
            self._all_readers.append(conn)
            self._readers.put_nowait(conn)

    async def close(self) -> None:
        """Close every connection."""
        if self._wipe is not None:
            self._wipe.cancel()
            self._wipe = None
        for conn in self._all_readers:
            await conn.close()
        self._all_readers.clear()
        self._readers = asyncio.Queue()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock:
            conn = self._writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                if not conn.in_transaction:
                    # SQLite rolls a whole transaction back by itself on some errors (a full disk, an I/O
                    # error); a block that went on after catching one must not be reported as committed.
                    raise sqlite3.OperationalError("the transaction was rolled back by SQLite; nothing was committed")
                await conn.execute("COMMIT")
            except BaseException:
                await _rollback(conn)
                raise

    def wipe_soon(self) -> None:
        """Empty the write-ahead log soon, after a write deleted what must not stay on disk (plaintext notes).

        ``secure_delete`` overwrites deleted rows in the pages a transaction writes, but until a checkpoint the old
        page images stay in the write-ahead log and the database file; ``wal_checkpoint(TRUNCATE)`` copies the wiped
        pages over them and empties the log. Readers of other processes can hold the log for a moment, so the
        checkpoint is retried a few times; deletions that come meanwhile share it.
        """
        if self._wipe is None or self._wipe.done():
            self._wipe = asyncio.get_running_loop().create_task(self._checkpoint_until_empty())

    async def wiped(self) -> None:
        """Wait for the checkpoint :meth:`wipe_soon` started, if one is under way."""
        if self._wipe is not None:
            await asyncio.shield(self._wipe)

    async def checkpoint(self) -> bool:
        """``wal_checkpoint(TRUNCATE)`` between writes; whether the log is now empty (False: a reader held it)."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock, self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            row = await cur.fetchone()
        return row is not None and int(row[0]) == 0

    async def _checkpoint_until_empty(self) -> None:
        for attempt in range(8):
            try:
                if await self.checkpoint():
                    return
            except sqlite3.OperationalError as error:
                if not transient(error):
                    raise
            # A reader of another process holds the log: give it a moment (0.05 s, then longer, up to ~6 s in all).
            await asyncio.sleep(0.05 * 2**attempt)
        log.warning("the write-ahead log could not be emptied after deleting plaintext notes; the next checkpoint will")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read connection from the pool, returned when the block ends."""
        conn = await self._readers.get()
        try:
            yield conn
        finally:
            self._readers.put_nowait(conn)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read connection inside one read transaction: every query of the block sees the same state."""
        async with self.read() as conn:
            await conn.execute("BEGIN")
            try:
                yield conn
            finally:
                await conn.execute("COMMIT")

    async def data_version(self) -> int:
        """SQLite's ``data_version`` as seen by the writer: it moves when another connection commits."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._writer.execute("PRAGMA data_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        assert self._writer is not None
        conn = self._writer
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT"
        )
        async with conn.execute("SELECT version FROM schema_migrations") as cur:
            applied = {row[0] for row in await cur.fetchall()}
        for version, name, sql in migration_files():
            if version in applied:
                continue
            log.info("applying migration %s", name)
            await conn.execute("BEGIN IMMEDIATE")
            try:
                # executescript would commit the open transaction first, so run statement by statement.
                for statement in _statements(sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, datetime('now'))",
                    (version, name),
                )
                await conn.execute("COMMIT")
            except BaseException:
                await _rollback(conn)
                raise


async def _rollback(conn: aiosqlite.Connection) -> None:
    """End a failed transaction so the connection can write again, keeping the error that ended it.

    After ``SQLITE_FULL`` or an I/O error SQLite may have rolled the transaction back already (a second
    ``ROLLBACK`` would fail and hide the first error); a failed ``COMMIT`` leaves it open.
    """
    if conn.in_transaction:
        try:
            await conn.execute("ROLLBACK")
        except sqlite3.Error as error:
            log.warning("could not roll back a failed transaction: %s", error)


def _statements(sql: str) -> list[str]:
    """Split a migration into complete statements, as SQLite's own parser sees them."""
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(row.lstrip().startswith("--") for row in pending.strip().splitlines()):
        raise RuntimeError(f"incomplete statement at the end of a migration: {pending.strip()[:80]}")
    return statements
