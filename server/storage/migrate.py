"""Moving an event from its SQLite file to an empty PostgreSQL database (``kumpul migrate-db``).

Every row is copied as it is, in one PostgreSQL transaction: ids, change sequences, the feed's epoch (so every
app's cursor stays valid), the raters' key (so feedback stays one per attendee), privacy floors and speaker
numbers. The schema's triggers are switched off for the copy (``ALTER TABLE ... DISABLE TRIGGER USER``) and on
again before the commit: they would otherwise note every session as newly added, draw new speaker numbers and
stamp the copy's own time on what they write. A database owner may do that without being a superuser, unlike
``SET session_replication_role``; the foreign keys stay checked (they are not user triggers), so tables are filled
parents first. Before the commit each table's rows are compared with the file's (count and digest, in primary-key
order); after it, what the apps read from each database: the programme, every attendee's private documents, every
push subscription and the VAPID key.
"""

from __future__ import annotations

import contextlib
import graphlib
import hashlib
import hmac
import sqlite3
import struct
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec
import psycopg

from server.push.vapid import PRIVATE_KEY_FILE, VAPID_SECRET, keys_of, load_or_create_keys
from server.services.feed import etag_for
from server.storage import programme as programme_store
from server.storage import secrets
from server.storage.db import SqliteDatabase
from server.storage.postgres import PgConnection, PostgresDatabase, without_password
from sync import Cursor, build_snapshot

#: Rows written at a time, unless they hold more than :data:`BATCH_BYTES` (notes, floor plans) before that.
BATCH_ROWS = 1000
BATCH_BYTES = 16 * 1024 * 1024
#: Rows read from PostgreSQL at a time (SQLite's cursors read 64 at a time).
READ_ROWS = 100
#: The rows PostgreSQL's baseline puts in a new database, which the file's replace: the feed's epoch and the raters'
#: key. Each with the condition under which a row shows that the database already holds an event.
_SEEDED = {"feed_state": "seq <> 0 OR floor <> 0", "feedback_key": "1 = 0"}
#: Tables of the target that are not part of an event: the migrations applied, and secrets (checked on their own).
_NOT_EVENT = {"schema_migrations", "secrets"}
_TEXT_TYPES = {"text", "character varying", "character"}
_decoder = msgspec.json.Decoder(dict[str, Any])

SqliteOrPg = aiosqlite.Connection | PgConnection


class MigrationError(Exception):
    """The event was not moved, or the moved copy differs; the message says why."""


@dataclass(frozen=True, slots=True)
class Table:
    """A table to copy: its columns, its primary key (every column when it has none) and which key columns
    PostgreSQL holds as text."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    text_key: frozenset[str]

    def select(self, *, postgresql: bool) -> str:
        """Every row in primary-key order, the same order on both engines: text compared byte by byte (SQLite's
        ``BINARY``, PostgreSQL's ``"C"`` whatever the database's collation), NULLs first."""
        order = ", ".join(
            _quoted(column) + (' COLLATE "C" NULLS FIRST' if column in self.text_key else " NULLS FIRST")
            if postgresql
            else _quoted(column)
            for column in self.key
        )
        columns = ", ".join(map(_quoted, self.columns))
        return f"SELECT {columns} FROM {_quoted(self.name)} ORDER BY {order}"


@dataclass(frozen=True, slots=True)
class Migrated:
    """What ``migrate`` moved and checked."""

    #: ``(table, rows)`` in the order they were copied.
    tables: list[tuple[str, int]]
    schema_version: int
    #: The VAPID key file beside the SQLite file, now in the database's secrets (None: there is none).
    vapid_key: Path | None
    seconds: float
    #: What was found alike in both databases after the commit (every table's rows were, before it).
    verified: list[str]

    @property
    def rows(self) -> int:
        return sum(rows for _, rows in self.tables)


async def migrate(source: Path, url: str) -> Migrated:
    """Copy the event in the SQLite file ``source`` into the empty PostgreSQL database at ``url``, and check it.

    Raises:
        MigrationError: Nothing was written (no such file, the database holds an event already, a newer schema, a
            different VAPID key, PostgreSQL refused a row, or the copy differed before the commit); or, said so in
            the message, the committed copy reads differently from the file.
    """
    started = time.monotonic()
    _check_source(source)
    key_file = source.parent / PRIVATE_KEY_FILE
    vapid_pem = key_file.read_bytes() if key_file.is_file() else None
    where = without_password(url)
    sqlite_db = SqliteDatabase(source, readers=1)
    async with sqlite_db, _opened(url, source) as pg_db:
        try:
            async with pg_db.write() as target:
                tables, version = await _plan(sqlite_db, target, vapid_pem)
                copied = await _copy(sqlite_db, target, tables)
                if vapid_pem is not None:
                    await _put_vapid_key(target, vapid_pem)
                mismatches = await _compare_tables(sqlite_db, target, tables)
                if mismatches:
                    raise MigrationError(
                        "the copy differs from the file, so nothing was committed: " + "; ".join(mismatches)
                    )
        except psycopg.Error as error:
            raise MigrationError(f"{where} refused the copy, so nothing was written: {error}") from None
        verified = await _compare_served(sqlite_db, pg_db, vapid_pem is not None)
    return Migrated(copied, version, key_file if vapid_pem else None, time.monotonic() - started, verified)


def _check_source(source: Path) -> None:
    """Refuse a path that is no Kumpul SQLite database, before anything is opened (opening would make one)."""
    if not source.is_file():
        raise MigrationError(f"there is no SQLite database at {source}")
    try:
        with contextlib.closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").fetchone()
    except sqlite3.DatabaseError as error:
        raise MigrationError(f"{source} is not an SQLite database ({error})") from None
    if found is None:
        raise MigrationError(f"{source} is not a Kumpul database (it has no schema_migrations table)")


@contextlib.asynccontextmanager
async def _opened(url: str, local: Path) -> AsyncIterator[PostgresDatabase]:
    """The target, opened (which applies PostgreSQL's migrations), with a message when it cannot be reached."""
    db = PostgresDatabase(url, local=local, connections=2)
    try:
        await db.open()
    except psycopg.Error as error:
        raise MigrationError(f"could not open {without_password(url)}: {error}") from None
    try:
        yield db
    finally:
        await db.close()


async def _plan(sqlite_db: SqliteDatabase, target: PgConnection, vapid_pem: bytes | None) -> tuple[list[Table], int]:
    """The tables to copy, parents first, and the file's schema version; refuses what the copy cannot take."""
    async with sqlite_db.snapshot() as source:
        version = await _schema_version(source)
        names = [
            row[0]
            for row in await source.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations'"
                " AND substr(name, 1, 7) <> 'sqlite_' ORDER BY name"
            )
        ]
        columns: dict[str, list[tuple[str, int]]] = {}
        parents: dict[str, set[str]] = {}
        for name in names:
            info = await source.execute_fetchall("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", (name,))
            columns[name] = [(row[0], int(row[1])) for row in info]
            keys = await source.execute_fetchall('SELECT "table" FROM pragma_foreign_key_list(?)', (name,))
            parents[name] = {row[0] for row in keys} - {name}
    target_version = await _schema_version(target)
    if version > target_version:
        raise MigrationError(
            f"the SQLite file's schema (version {version}) is newer than this Kumpul's PostgreSQL schema (version"
            f" {target_version}): migrate with the Kumpul that last served the file; nothing was written"
        )
    types = await _target_types(target)
    tables = [_table(name, columns[name], types) for name in graphlib.TopologicalSorter(parents).static_order()]
    await _check_empty(target, types)
    if vapid_pem is not None:
        async with target.execute("SELECT value FROM secrets WHERE name = ?", (VAPID_SECRET,)) as cursor:
            row = await cursor.fetchone()
        if row is not None and bytes(row[0]) != vapid_pem:
            raise MigrationError(
                "the PostgreSQL database already has another VAPID key (a server started on it made one); the push"
                f" subscriptions of the file need the key in {PRIVATE_KEY_FILE}: migrate into a new, empty database;"
                " nothing was written"
            )
    return tables, version


async def _schema_version(conn: SqliteOrPg) -> int:
    async with conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _target_types(target: PgConnection) -> dict[str, dict[str, str]]:
    """PostgreSQL's base tables, each with its columns' types."""
    found: dict[str, dict[str, str]] = {}
    rows = await target.execute_fetchall(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
    )
    for table, column, data_type in rows:
        found.setdefault(table, {})[column] = data_type
    return found


def _table(name: str, columns: list[tuple[str, int]], types: dict[str, dict[str, str]]) -> Table:
    target = types.get(name)
    if target is None:
        raise MigrationError(
            f"PostgreSQL has no table {name}: its schema is older than the file's; nothing was written"
        )
    missing = [column for column, _ in columns if column not in target]
    if missing:
        raise MigrationError(
            f"PostgreSQL's {name} has no column {', '.join(missing)}: its schema is older than the file's;"
            " nothing was written"
        )
    key = tuple(column for column, position in sorted(columns, key=lambda item: item[1]) if position)
    key = key or tuple(column for column, _ in columns)
    text = frozenset(column for column in key if target[column] in _TEXT_TYPES)
    return Table(name, tuple(column for column, _ in columns), key, text)


async def _check_empty(target: PgConnection, types: dict[str, dict[str, str]]) -> None:
    """Refuse a database that holds any row of an event (beyond the rows its baseline seeds)."""
    holding = []
    for table in sorted(set(types) - _NOT_EVENT):
        condition = _SEEDED.get(table, "1 = 1")
        async with target.execute(f"SELECT EXISTS (SELECT 1 FROM {_quoted(table)} WHERE {condition})") as cursor:
            row = await cursor.fetchone()
        if row is not None and row[0]:
            holding.append(table)
    if holding:
        raise MigrationError(
            f"the PostgreSQL database already holds an event (rows in {', '.join(holding)}); migrate-db only fills"
            " an empty database; nothing was written"
        )


async def _copy(sqlite_db: SqliteDatabase, target: PgConnection, tables: list[Table]) -> list[tuple[str, int]]:
    """Copy every table, parents first, with the triggers off; then move each identity past the highest id."""
    for table in tables:
        await target.execute(f"ALTER TABLE {_quoted(table.name)} DISABLE TRIGGER USER")
    for seeded in _SEEDED:
        await target.execute(f"DELETE FROM {_quoted(seeded)}")
    copied = []
    async with sqlite_db.snapshot() as source:
        for table in tables:
            copied.append((table.name, await _copy_table(source, target, table)))
    await _advance_identities(target, [table.name for table in tables])
    for table in tables:
        await target.execute(f"ALTER TABLE {_quoted(table.name)} ENABLE TRIGGER USER")
    return copied


async def _copy_table(source: aiosqlite.Connection, target: PgConnection, table: Table) -> int:
    columns = ", ".join(map(_quoted, table.columns))
    placeholders = ", ".join("?" for _ in table.columns)
    # OVERRIDING SYSTEM VALUE: identity columns take the file's ids as they are.
    insert = f"INSERT INTO {_quoted(table.name)} ({columns}) OVERRIDING SYSTEM VALUE VALUES ({placeholders})"
    copied = 0
    batch: list[tuple[Any, ...]] = []
    size = 0
    async for row in _rows(source, f"SELECT {columns} FROM {_quoted(table.name)}"):
        batch.append(row)
        size += sum(len(value) for value in row if isinstance(value, str | bytes))
        if len(batch) == BATCH_ROWS or size >= BATCH_BYTES:
            await target.executemany(insert, batch)
            copied, batch, size = copied + len(batch), [], 0
    if batch:
        await target.executemany(insert, batch)
    return copied + len(batch)


async def _advance_identities(target: PgConnection, tables: list[str]) -> None:
    """Set each identity's sequence to the highest copied id, so the next row gets the one after it."""
    identities = await target.execute_fetchall(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL"
    )
    for table, column in identities:
        if table in tables:
            await target.execute(
                f"SELECT setval(pg_get_serial_sequence(quote_ident(?), ?), max({_quoted(column)}))"
                f" FROM {_quoted(table)} HAVING max({_quoted(column)}) IS NOT NULL",
                (table, column),
            )


async def _put_vapid_key(target: PgConnection, pem: bytes) -> None:
    if not hmac.compare_digest(await secrets.get_or_put(target, VAPID_SECRET, pem), pem):
        raise MigrationError("the PostgreSQL database has another VAPID key; nothing was written")


async def _compare_tables(sqlite_db: SqliteDatabase, target: PgConnection, tables: list[Table]) -> list[str]:
    """Per table, how the rows PostgreSQL now holds differ from the file's (read afresh): nothing when equal."""
    mismatches = []
    async with sqlite_db.snapshot() as source:
        for table in tables:
            expected = await _digest(_rows(source, table.select(postgresql=False)))
            found = await _digest(_rows(target, table.select(postgresql=True)))
            if expected.rows != found.rows:
                mismatches.append(f"{table.name} has {expected.rows} rows in the file and {found.rows} in PostgreSQL")
            elif expected.value != found.value:
                mismatches.append(f"{table.name}: {await _first_difference(source, target, table)}")
    return mismatches


async def _first_difference(source: aiosqlite.Connection, target: PgConnection, table: Table) -> str:
    """The first row, in key order, that PostgreSQL holds otherwise than the file, and the columns that differ."""
    async with (
        contextlib.aclosing(_rows(source, table.select(postgresql=False))) as expected,
        contextlib.aclosing(_rows(target, table.select(postgresql=True))) as found,
    ):
        async for row in expected:
            other = await anext(found)
            if [_canonical(value) for value in row] != [_canonical(value) for value in other]:
                differ = [
                    name for name, a, b in zip(table.columns, row, other, strict=True) if _canonical(a) != _canonical(b)
                ]
                key = ", ".join(f"{name}={_shown(row[table.columns.index(name)])}" for name in table.key)
                return f"the row {key} differs in {', '.join(differ)}"
    return "the rows differ"


@dataclass(frozen=True, slots=True)
class _Digest:
    rows: int
    value: bytes


async def _digest(rows: AsyncIterator[tuple[Any, ...]]) -> _Digest:
    digest = hashlib.sha256()
    count = 0
    async for row in rows:
        count += 1
        for value in row:
            digest.update(_canonical(value))
    return _Digest(count, digest.digest())


def _canonical(value: Any) -> bytes:
    """A value as typed bytes, alike from either engine: a tag, the length, the content."""
    if value is None:
        tag, data = b"N", b""
    elif isinstance(value, int):
        tag, data = b"I", str(int(value)).encode()
    elif isinstance(value, float):
        tag, data = b"R", struct.pack(">d", value)
    elif isinstance(value, str):
        tag, data = b"T", value.encode()
    elif isinstance(value, bytes | bytearray | memoryview):
        tag, data = b"B", bytes(value)
    else:
        tag, data = b"?", repr(value).encode()
    return tag + len(data).to_bytes(8, "big") + data


def _shown(value: Any) -> str:
    """A key value for a message: bytes (hashes) by their length only."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return repr(value)


async def _rows(conn: SqliteOrPg, query: str) -> AsyncGenerator[tuple[Any, ...], None]:
    """The rows of ``query``, read a few at a time (PostgreSQL: a server-side cursor, inside a transaction)."""
    if isinstance(conn, PgConnection):
        async with conn.raw.cursor(name="kumpul_migrate_rows") as cursor:
            cursor.itersize = READ_ROWS
            await cursor.execute(query.encode())
            async for row in cursor:
                yield tuple(row)
        return
    async with conn.execute(query) as cursor:
        async for row in cursor:
            yield tuple(row)


# -- after the commit: what the apps read ------------------------------------------------------------------------


async def _compare_served(sqlite_db: SqliteDatabase, pg_db: PostgresDatabase, vapid_key: bool) -> list[str]:
    """Compare what an app reads from each database now: the programme document and its ETag, every attendee's
    private documents, every push subscription and the VAPID public key."""
    expected = await _served(sqlite_db)
    found = await _served(pg_db)
    mismatches = []
    for what, items in expected.items():
        others = found[what]
        differing = sorted(key for key in items.keys() | others.keys() if items.get(key) != others.get(key))
        if differing:
            mismatches.append(f"{what}: {len(differing)} of {len(items)} differ (first: {differing[0]})")
    if vapid_key:
        folder = sqlite_db.path.parent
        if load_or_create_keys(folder).application_server_key != (await keys_of(pg_db, folder)).application_server_key:
            mismatches.append("the VAPID public key differs")
    if mismatches:
        raise MigrationError(
            "the copy was committed to PostgreSQL, but apps read it otherwise than the file (did a server write to"
            f" either meanwhile?): {'; '.join(mismatches)}. Empty the PostgreSQL database before migrating again."
        )
    attendees, subscriptions = len(expected["private documents"]), len(expected["push subscriptions"])
    return [
        "the programme and its ETag",
        f"the private documents of {attendees} attendee{'s' if attendees != 1 else ''}",
        f"{subscriptions} push subscription{'s' if subscriptions != 1 else ''}",
        *(["the VAPID public key"] if vapid_key else []),
    ]


async def _served(db: SqliteDatabase | PostgresDatabase) -> dict[str, dict[str, bytes]]:
    """Per kind of thing an app serves, a digest of each: the programme (``document``, ``ETag``), private documents
    (by attendee), push subscriptions (by id)."""
    async with db.snapshot() as conn:
        state = await programme_store.feed_state(conn)
        entities = await programme_store.all_entities(conn)
        private = await _grouped(
            conn,
            "SELECT id, 'key', key_id, keyring FROM attendees",
            "SELECT attendee_id, 'doc', doc_id, state, seq FROM documents",
            "SELECT attendee_id, 'log', doc_id, version, snapshot, frame, seq FROM doc_log",
            "SELECT attendee_id, 'wrapped', device_id, key_id, wrapped FROM wrapped_keys",
        )
        subscriptions = await _grouped(
            conn,
            "SELECT id, endpoint, p256dh, auth, attendee_id, participation, alert_sessions, lang, reminder_minutes,"
            " change_alerts, created_at, updated_at FROM push_subscriptions",
        )
    cursor = Cursor(state.epoch, state.seq).encode()
    event = None
    collections = []
    for kind, data in entities:
        if kind == "event":
            event = _decoder.decode(data)
        else:
            collections.append((kind, _decoder.decode(data)))
    document = msgspec.json.encode(build_snapshot(cursor, event, collections))
    programme = {"document": hashlib.sha256(document).digest(), "ETag": etag_for(cursor).encode()}
    return {"programme": programme, "private documents": private, "push subscriptions": subscriptions}


async def _grouped(conn: SqliteOrPg, *queries: str) -> dict[str, bytes]:
    """A digest per value of the first column, over every row the queries give for it, in whatever order."""
    rows: dict[str, list[bytes]] = {}
    for query in queries:
        async for row in _rows(conn, query):
            rows.setdefault(str(row[0]), []).append(hashlib.sha256(b"".join(map(_canonical, row))).digest())
    return {key: hashlib.sha256(b"".join(sorted(digests))).digest() for key, digests in rows.items()}


def _quoted(name: str) -> str:
    """An identifier, quoted for either engine."""
    return '"' + name.replace('"', '""') + '"'
