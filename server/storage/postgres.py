"""PostgreSQL: the storage for several Kumpul nodes in front of one database.

Storage modules write their SQL once, in SQLite's dialect with ``?``, ``?NNN`` and ``:name`` placeholders;
:class:`PgConnection` turns the placeholders into psycopg's and otherwise sends the statement as written, so the
statements both engines understand (``ON CONFLICT``, ``RETURNING``, ``kumpul_now()``) need no second copy. Rows
answer by position and by name, like ``sqlite3.Row``; Python booleans are stored as the integers 0 and 1, as
SQLite stores them.

Writes are serialised across every node by a transaction-level advisory lock, which is what SQLite's
``BEGIN IMMEDIATE`` gives one file: code that reads and then writes within one transaction (the next sequence
number, a uniqueness check across rows) stays correct without knowing how many nodes there are. Every write
transaction sends a ``NOTIFY`` that PostgreSQL delivers at commit; each node LISTENs on one connection and
counts them, which is what :meth:`PostgresDatabase.data_version` reports, so a node learns of another's commit
within milliseconds without polling the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import secrets
from collections.abc import AsyncIterator, Generator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.adapt import Dumper
from psycopg.rows import RowMaker
from psycopg_pool import AsyncConnectionPool

from server.storage.db import Database, migration_files

log = logging.getLogger(__name__)

#: The channel write transactions notify, and each node listens on.
COMMIT_CHANNEL = "kumpul_commit"
#: The advisory lock every write transaction holds: one writer at a time across all nodes, as on SQLite. A write
#: with a key (one attendee's private documents) holds it shared, and the lock of its key alone.
WRITE_LOCK = 0x4B554D50  # "KUMP"
#: The class of the keyed writes' locks (the two-number form, which never meets the one-number ``WRITE_LOCK``).
KEYED_LOCK = 0x4B4B4559  # "KKEY"
#: The advisory lock migrations hold, so two nodes starting at once do not both apply one.
MIGRATION_LOCK = 0x4B4D4947  # "KMIG"
#: How long a statement may wait for a lock before it fails as busy (503 with Retry-After), as SQLite's busy timeout.
LOCK_TIMEOUT_MS = 5000

_PLACEHOLDER = re.compile(
    r"""'(?:[^']|'')*'"""  # a string literal, kept as it is
    r"""|"(?:[^"]|"")*\""""  # a quoted name
    r"""|--[^\n]*"""  # a comment
    r"""|\?(\d*)"""  # ?, ?NNN
    r"""|(?<![:\w]):([A-Za-z_]\w*)"""  # :name, not a ::cast
    r"""|(%)"""
)


@functools.lru_cache(maxsize=2048)
def translated(sql: str) -> tuple[str, bool]:
    """``sql`` with psycopg's placeholders for SQLite's, and whether it now takes named parameters.

    ``?`` becomes ``%s``; ``?NNN`` becomes ``%(pNNN)s`` (a bare ``?`` beside them takes the next number, as in
    SQLite); ``:name`` becomes ``%(name)s``; a literal ``%`` is doubled. String literals, quoted names and comments
    are left alone.
    """
    numbered = re.search(r"\?\d", _literals_removed(sql)) is not None
    counter = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal counter
        text = match.group(0)
        if match.group(3):
            return "%%"
        if match.group(2):
            return f"%({match.group(2)})s"
        if text.startswith("?"):
            if not numbered:
                return "%s"
            counter = int(match.group(1)) if match.group(1) else counter + 1
            return f"%(p{counter})s"
        return text

    converted = _PLACEHOLDER.sub(replace, sql)
    return converted, numbered or re.search(r"%\(\w+\)s", converted) is not None


def _literals_removed(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'|--[^\n]*", "", sql)


def _parameters(sql: str, parameters: Any) -> tuple[str, Any]:
    query, named = translated(sql)
    if parameters is None:
        return query, None
    if named and not isinstance(parameters, Mapping):
        return query, {f"p{number}": value for number, value in enumerate(parameters, start=1)}
    return query, parameters


class PgRow:
    """A row that answers by position and by column name, as ``sqlite3.Row`` does."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, int], values: Sequence[Any]) -> None:
        self._names = names
        self._values = values

    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            return self._values[self._names[key]]
        return self._values[key]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PgRow):
            return tuple(self._values) == tuple(other._values)
        return tuple(self._values) == other

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __repr__(self) -> str:
        return f"PgRow({tuple(self._values)!r})"

    def keys(self) -> list[str]:
        return list(self._names)


def _rows(cursor: Any) -> RowMaker[PgRow]:
    names: dict[str, int] = {}
    for index, column in enumerate(cursor.description or ()):
        names.setdefault(column.name, index)  # a name given twice answers with its first column, as in SQLite
    return functools.partial(PgRow, names)


class _BoolAsInteger(Dumper):
    """Python booleans stored as 0 and 1, in the integer columns where SQLite keeps them."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _Pending:
    """``conn.execute(...)``: awaited, the cursor; in ``async with``, the cursor, closed at the end."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], sql: str, parameters: Any) -> None:
        self._conn = conn
        self._sql, self._parameters = _parameters(sql, parameters)
        self._cursor: psycopg.AsyncCursor[Any] | None = None

    async def _run(self) -> psycopg.AsyncCursor[Any]:
        cursor = self._conn.cursor(row_factory=_rows)
        await cursor.execute(self._sql, self._parameters)
        self._cursor = cursor
        return cursor

    def __await__(self) -> Generator[Any, None, psycopg.AsyncCursor[Any]]:
        return self._run().__await__()

    async def __aenter__(self) -> psycopg.AsyncCursor[Any]:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class PgConnection:
    """A PostgreSQL connection that storage functions use as they use an SQLite one."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, parameters: Any = None, /) -> _Pending:
        return _Pending(self.raw, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Any], /) -> None:
        query, named = translated(sql)
        rows = list(parameters)
        if named:
            rows = [
                row if isinstance(row, Mapping) else {f"p{n}": value for n, value in enumerate(row, start=1)}
                for row in rows
            ]
        async with self.raw.cursor() as cursor:
            await cursor.executemany(query, rows)

    async def execute_fetchall(self, sql: str, parameters: Any = None, /) -> list[PgRow]:
        async with self.execute(sql, parameters) as cursor:
            return await cursor.fetchall()


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.adapters.register_dumper(bool, _BoolAsInteger)
    await conn.set_autocommit(True)
    await conn.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
    await conn.execute("SET TIME ZONE 'UTC'")


def without_password(url: str) -> str:
    """``url`` fit for a log line or a message: the password left out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, parts.fragment))


class PostgresDatabase(Database):
    """A PostgreSQL database that any number of Kumpul nodes share."""

    dialect = "postgresql"

    def __init__(self, url: str, *, local: Path, connections: int = 6) -> None:
        self.url = url
        self.path = local
        self._size = max(2, connections)
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._write_lock = asyncio.Lock()
        self._version = 0
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        #: Names this process's commits in their notifications: like SQLite's data_version, the count moves only
        #: for commits of other processes (this one's services already know of their own writes).
        self._origin = secrets.token_hex(8)

    @property
    def where(self) -> str:
        return without_password(self.url)

    async def open(self) -> None:
        pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            self.url, min_size=1, max_size=self._size, configure=_configure, open=False, timeout=10.0
        )
        await pool.open(wait=True)
        self._pool = pool
        try:
            await self._migrate()
        except BaseException:
            await self.close()
            raise
        self._listening.clear()
        self._listener = asyncio.get_running_loop().create_task(self._listen())
        await self._listening.wait()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _open_pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        if self._pool is None:
            raise RuntimeError("database is not open")
        return self._pool

    @asynccontextmanager
    async def write(self, key: str | None = None) -> AsyncIterator[PgConnection]:
        """A write transaction. Without a key it holds ``WRITE_LOCK`` alone, as the only writer of every node; with
        one it holds ``WRITE_LOCK`` shared and the lock of its key, so the writes of different keys (the private
        syncs of different attendees) go at once, never beside a write without a key nor one of the same key."""
        # Unkeyed writes also queue on this node's own lock first, so that they wait here, not holding a connection.
        in_turn = self._write_lock if key is None else contextlib.nullcontext()
        async with in_turn, self._open_pool().connection() as conn, conn.transaction():
            if key is None:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            else:
                await conn.execute(
                    "SELECT pg_advisory_xact_lock_shared(%s), pg_advisory_xact_lock(%s, hashtext(%s))",
                    (WRITE_LOCK, KEYED_LOCK, key),
                )
            yield PgConnection(conn)
            await conn.execute("SELECT pg_notify(%s, %s)", (COMMIT_CHANNEL, self._origin))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PgConnection]:
        async with self._open_pool().connection() as conn:
            yield PgConnection(conn)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[PgConnection]:
        async with self._open_pool().connection() as conn:
            await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield PgConnection(conn)
            finally:
                await conn.execute("COMMIT")

    async def data_version(self) -> int:
        return self._version

    async def vacuum_full(self) -> None:
        """Rewrite every table without the old versions of deleted or changed rows, which PostgreSQL otherwise
        keeps in its files until space is reused (after erasing attendee data). Takes each table's lock in turn."""
        async with self._open_pool().connection() as conn:
            await conn.execute("VACUUM (FULL)")

    async def _listen(self) -> None:
        """Count the commits of every node, as they are notified; reconnect when the connection drops."""
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {COMMIT_CHANNEL}")
                    # Commits made while the listener was away are unknown: count one, so watchers look.
                    self._version += 1
                    self._listening.set()
                    failures = 0
                    async for notification in conn.notifies():
                        if notification.payload != self._origin:
                            self._version += 1
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._listening.set()
                failures += 1
                log.warning("lost the PostgreSQL notification connection (%s); reconnecting", error)
                await asyncio.sleep(min(5.0, 0.1 * 2**failures))

    async def _migrate(self) -> None:
        async with self._open_pool().connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            cursor = await conn.execute("SELECT version FROM schema_migrations")
            applied = {row[0] for row in await cursor.fetchall()}
            for version, name, sql in migration_files("postgresql"):
                if version in applied:
                    continue
                log.info("applying migration %s to PostgreSQL", name)
                await conn.execute(sql.encode())
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, kumpul_now())",
                    (version, name),
                )
