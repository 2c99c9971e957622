"""Kumpul's storage: one interface, two engines.

:class:`Database` is what services hold. :class:`SqliteDatabase` (the embedded default) is one file with one
serialised writer and a pool of readers; :class:`server.storage.postgres.PostgresDatabase` runs on a PostgreSQL
cluster that several Kumpul nodes share. Storage modules write SQL once, in SQLite's dialect with ``?`` and
``:name`` placeholders; where the engines differ they ask :func:`postgres` which one they talk to.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import psycopg

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


#: Seconds a client is asked to wait before retrying a write refused because the storage is full.
FULL_RETRY_AFTER = 30


#: What a write that breaks a constraint (a taken name, a refused privacy floor) raises, on either engine.
IntegrityError: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
#: What a storage condition that may pass by itself raises, on either engine (see :func:`transient`).
StorageError: tuple[type[Exception], ...] = (sqlite3.OperationalError, psycopg.OperationalError)


class Row(Protocol):
    """A result row: by position and by column name, on either engine."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The cursor of an executed statement, on either engine."""

    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Iterable[Any]: ...


class Executed(Protocol):
    """``conn.execute(...)``: awaited, its cursor; in ``async with``, its cursor, closed when the block ends."""

    def __await__(self) -> Generator[Any, None, Cursor]: ...

    async def __aenter__(self) -> Cursor: ...

    async def __aexit__(self, exc_type: Any, exc: Any, traceback: Any, /) -> Any: ...


class Connection(Protocol):
    """What storage functions are given: an SQLite connection (aiosqlite) or a PostgreSQL one (:mod:`postgres`)."""

    def execute(self, sql: str, parameters: Any = None, /) -> Executed: ...

    async def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...

    async def execute_fetchall(self, sql: str, parameters: Any = None, /) -> Iterable[Any]: ...


def postgres(conn: Connection) -> bool:
    """Whether ``conn`` talks to PostgreSQL, for the few statements the two engines spell differently."""
    return getattr(conn, "dialect", "sqlite") == "postgresql"


# The spellings the engines differ in, each a fragment of SQL for the connection at hand. The rest of the SQL is
# written once: ``ON CONFLICT``, ``RETURNING``, ``IS DISTINCT FROM``, ``coalesce`` and ``kumpul_now()`` read the same.


def each(conn: Connection, element: str = "text") -> str:
    """A table of one column ``value``, the items of a list parameter (pass it through :func:`listed`):
    ``json_each(?)`` on SQLite, ``unnest(?::element[])`` on PostgreSQL. ``element`` is PostgreSQL's type of the
    items: ``text`` or ``bigint``."""
    return f"unnest(?::{element}[]) AS each_item(value)" if postgres(conn) else "json_each(?)"


def listed(conn: Connection, values: Iterable[Any]) -> Any:
    """A list as the parameter :func:`each` reads: JSON text for SQLite, an array for PostgreSQL."""
    items = list(values)
    return items if postgres(conn) else json.dumps(items)


def json_items(conn: Connection, column: str, key: str | None = None) -> str:
    """A table of one column ``value``, the items of the JSON array in ``column`` (or in its field ``key``), as
    text: ``json_each(column, '$.key')`` on SQLite, ``jsonb_array_elements_text`` on PostgreSQL."""
    if postgres(conn):
        array = f"{column}::jsonb" + (f" -> '{key}'" if key else "")
        return f"jsonb_array_elements_text(coalesce({array}, '[]'::jsonb)) AS json_item(value)"
    return f"json_each({column}, '$.{key}')" if key else f"json_each({column})"


def json_field(conn: Connection, column: str, key: str) -> str:
    """The field ``key`` of the JSON object in ``column``, as SQL text (numbers and booleans as their JSON
    text on PostgreSQL; SQLite gives them as numbers): ``column ->> '$.key'`` / ``column::jsonb ->> 'key'``."""
    return f"({column}::jsonb ->> '{key}')" if postgres(conn) else f"({column} ->> '$.{key}')"


def storage_full(error: BaseException) -> bool:
    """Whether ``error`` is SQLite's ``SQLITE_FULL`` or PostgreSQL's ``disk_full``: no room left.

    The transaction that met it was rolled back, so nothing of it was written.
    """
    if isinstance(error, psycopg.errors.DiskFull):
        return True
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_FULL


def database_busy(error: BaseException) -> bool:
    """Whether ``error`` is a lock another connection held past the busy timeout (``SQLITE_BUSY``/``LOCKED``), or
    PostgreSQL out of reach, out of connections or giving up on a lock: nothing was written, and it passes."""
    if isinstance(error, psycopg.OperationalError):  # the pool's PoolTimeout and lock timeouts are among them
        return True
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    return "locked" in str(error) or "busy" in str(error)


def transient(error: BaseException) -> bool:
    """Whether ``error`` is a storage condition that passes by itself (full, busy): worth a retry, not a trace."""
    return storage_full(error) or database_busy(error)


def kumpul_now(seconds: float = 0.0) -> str:
    """The current time plus ``seconds``, as ISO 8601 UTC text with milliseconds, the form every stored time has
    (SQLite's ``kumpul_now()``), so stored times compare as strings.

    SQL calls it as ``kumpul_now()`` or ``kumpul_now(seconds)`` on both engines: a function of each connection
    here, a SQL function in PostgreSQL's schema.
    """
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def _configure(conn: aiosqlite.Connection, *, readonly: bool) -> None:
    conn.row_factory = aiosqlite.Row
    await conn.create_function("kumpul_now", 0, kumpul_now)
    await conn.create_function("kumpul_now", 1, kumpul_now)
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


def migration_files(dialect: str = "sqlite") -> list[tuple[int, str, str]]:
    """The bundled migrations of one engine as ``(version, name, sql)``, in order.

    PostgreSQL's start at a baseline equal to SQLite's first 18 together; later ones come in pairs, one per engine,
    under the same number.
    """
    folder = resources.files("server.storage") / "migrations"
    if dialect == "postgresql":
        folder = folder / "postgresql"
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


class Database(ABC):
    """The storage a running app holds: opened once, then writes, reads and consistent snapshots."""

    #: ``sqlite`` or ``postgresql``.
    dialect: str
    #: The SQLite file; on PostgreSQL, the path this node's local caches are kept beside (the encoded programme).
    path: Path

    @abstractmethod
    async def open(self) -> None:
        """Open the connections and apply pending migrations."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection."""

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abstractmethod
    def write(self, key: str | None = None) -> AbstractAsyncContextManager[Connection]:
        """A write transaction, serialised with every other write (of every process and node): committed when the
        block ends, rolled back if it raises.

        Args:
            key: Set by a write that touches only what belongs to ``key`` (one attendee's private documents) and
                reads nothing another key's writes change: it need only be serialised with the writes of the same
                key and with every write without one. An engine may run writes of different keys at once
                (PostgreSQL does); SQLite has one writer, and ignores it.
        """

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Connection]:
        """A connection for reads; each statement sees the latest commit."""

    @abstractmethod
    def snapshot(self) -> AbstractAsyncContextManager[Connection]:
        """A connection inside one read transaction: every query of the block sees the same state."""

    @abstractmethod
    async def data_version(self) -> int:
        """A number that moves when another connection (process, node) commits."""

    def wipe_soon(self) -> None:  # noqa: B027 - most engines have nothing to do
        """Make what a write just deleted leave the storage's files soon (plaintext notes); nothing by default."""

    async def wiped(self) -> None:  # noqa: B027
        """Wait for what :meth:`wipe_soon` started."""

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the data lives, for messages: a path, or a PostgreSQL address without its password."""


def open_database(path: Path, url: str | None = None, *, readers: int = 4) -> Database:
    """The database of a server: PostgreSQL at ``url`` when one is given, else the SQLite file ``path``."""
    if url:
        from server.storage.postgres import PostgresDatabase

        return PostgresDatabase(url, local=path, connections=readers + 2)
    return SqliteDatabase(path, readers=readers)


class SqliteDatabase(Database):
    """One SQLite file opened for the life of the app.

    Every write goes through :meth:`write`, which holds an asyncio lock and a ``BEGIN IMMEDIATE``
    transaction, so writes are serialised in this process and against other processes. Reads use a
    small pool of ``query_only`` connections and never wait for writes (WAL).
    """

    dialect = "sqlite"

    def __init__(self, path: Path, *, readers: int = 4) -> None:
        self.path = path
        self._reader_count = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._write_lock = asyncio.Lock()
        self._turn = WriterTurn(path.with_name(f"{path.name}-writer"))
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
        self._turn.close()

    @property
    def where(self) -> str:
        return str(self.path)

    @asynccontextmanager
    async def write(self, key: str | None = None) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises (one at a time, whatever
        its ``key``: SQLite has one writer)."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock, self._turn.held():
            conn = self._writer
            await _begin_immediate(conn)
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
        """SQLite's ``data_version`` as seen by the writer: it moves when another connection commits.

        Read between write transactions, never inside one: the statement holds a read snapshot on the writer until
        it is closed, and a ``BEGIN IMMEDIATE`` queued on the connection meanwhile would find that snapshot stale
        once another process had committed, and fail at once as busy (SQLite cannot wait for a lock it would need
        to give up its own snapshot for).
        """
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock, self._writer.execute("PRAGMA data_version") as cur:
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


class WriterTurn:
    """Whose turn it is to write, among the processes that share one SQLite file (the workers of a server, a
    command run beside it): an exclusive ``flock`` on a file beside the database, taken before ``BEGIN IMMEDIATE``.

    SQLite's own lock is what keeps writes apart; this only hands it on promptly. A process that finds the file
    locked by another one sleeps in SQLite's busy handler, waking after 1, 2, 5 ... up to 100 ms to try again, while
    the other process, which never sleeps, takes the lock again and again: under many concurrent writes some waited
    seconds (private syncs with two workers: p99 3 to 4 s, and now and then a 503 after the busy timeout, against
    0.5 s with one worker). A process blocked on ``flock`` wakes as soon as the lock is released.

    The wait runs in a thread of its own, which a cancelled or timed-out writer cannot stop: each attempt has its own
    file descriptor, closed (so released) as soon as that thread has the lock if nobody is waiting for it any more.
    After the busy timeout the write is refused as busy, as SQLite would refuse it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._threads = None

    def _take(self) -> int | None:
        """The turn, as a descriptor to close; None when the file cannot be made (a full disk, a read-only folder):
        SQLite's lock alone then keeps the writes apart, with its busy handler's waits."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            log.debug("writing without a turn: %s", error)
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kumpul-writer-turn")
        taking = asyncio.get_running_loop().run_in_executor(self._threads, self._take)
        try:
            fd = await asyncio.wait_for(asyncio.shield(taking), BUSY_TIMEOUT_MS / 1000)
        except BaseException as error:
            taking.add_done_callback(_close_taken)
            if isinstance(error, TimeoutError):
                raise sqlite3.OperationalError("database is locked (another process is writing)") from None
            raise
        try:
            yield
        finally:
            if fd is not None:
                os.close(fd)


def _close_taken(taking: asyncio.Future[int | None]) -> None:
    """Release a turn taken after its writer stopped waiting."""
    if not taking.cancelled() and taking.exception() is None and (fd := taking.result()) is not None:
        os.close(fd)


async def _begin_immediate(conn: aiosqlite.Connection) -> None:
    """``BEGIN IMMEDIATE``, and when the caller is cancelled meanwhile (it may wait out a lock another process holds),
    the transaction it began rolled back before the cancellation goes on.

    The statement runs on the connection's thread whatever becomes of the coroutine awaiting it: left to itself, a
    transaction begun after its caller was cancelled stays open, holding the database's write lock, and every later
    write of the worker fails ("cannot start a transaction within a transaction").
    """
    begin = asyncio.ensure_future(conn.execute("BEGIN IMMEDIATE"))
    try:
        await asyncio.shield(begin)
    except asyncio.CancelledError:
        cleanup = asyncio.ensure_future(_end_begun(begin, conn))
        while not cleanup.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(cleanup)
        raise


async def _end_begun(begin: asyncio.Future[Any], conn: aiosqlite.Connection) -> None:
    with contextlib.suppress(Exception):
        await begin
    await _rollback(conn)


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
