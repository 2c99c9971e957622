"""The ``kumpul`` command: serve, manage organisers, import and follow programmes, back up and restore."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import msgspec

from server import serving
from server.demo import demo_info_pages, demo_programme, today_at_the_event
from server.demo.plans import demo_plans
from server.errors import Invalid, KumpulError
from server.schemas.announcements import AnnouncementCreate
from server.schemas.imports import ImportReport
from server.schemas.venue import Pin
from server.services.announcements import AnnouncementService
from server.services.auth import AuthService, Role
from server.services.console import ConsoleService
from server.services.follow import SourceService
from server.services.importer import ImportService, entities_written
from server.services.programme import SYSTEM, ProgrammeService
from server.services.ratelimit import RateLimiter
from server.services.venue import VenueService
from server.settings import Settings, settings_from_env
from server.storage.backup import DATABASE_MEMBER, KEY_MEMBER, BackupError, backup, restore
from server.storage.db import Database, StorageError, open_database, storage_full, transient
from server.storage.migrate import MigrationError, migrate
from server.storage.postgres import without_password
from server.storage.programme import get_entity
from server.storage.purge import (
    AttendeeData,
    Reclaimed,
    count_attendee_data,
    count_plaintext_notes,
    purge_attendees,
    purge_plaintext_notes,
)

log = logging.getLogger("kumpul")


#: Far more worker processes than any machine running Kumpul has cores.
MAX_WORKERS = 1024


def _add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH", help="SQLite file (default: $KUMPUL_DB, else ./data/kumpul.db)", default=None
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL database to use instead of the SQLite file, postgresql://user:password@host:port/name"
        " (default: $KUMPUL_DATABASE_URL)",
        default=None,
    )


def _whole_number(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``minimum`` to ``maximum``, or an error naming the range."""

    def parse(text: str) -> int:
        try:
            value: int | None = int(text)
        except ValueError:  # not a number, or one of thousands of digits
            value = None
        if value is None or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected a whole number from {minimum} to {maximum}, got {text[:40]!r}")
        return value

    return parse


_UNITS = {"s": 1, "m": 60, "h": 3600}


def _duration(text: str) -> int:
    """An argparse type: ``30s``, ``5m``, ``1h`` or seconds, from 10 seconds to a week."""
    unit = _UNITS.get(text[-1:].lower(), 0)
    number = text[:-1] if unit else text
    if not number.isdigit() or not 10 <= int(number) * (unit or 1) <= 7 * 24 * 3600:
        raise argparse.ArgumentTypeError(f"expected an interval like 30s, 5m or 1h, from 10s to a week, got {text!r}")
    return int(number) * (unit or 1)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="kumpul", description="Kumpul, the offline-first conference companion.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API (and the PWA once built)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_whole_number(0, 65535), default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--demo", action="store_true", help="load the demo conference into an empty database")
    serve.add_argument(
        "--demo-dates",
        choices=["today", "original"],
        default="today",
        help="with --demo: move the demo so that today is its second day (default), or keep its 2024 dates",
    )
    serve.add_argument(
        "--workers",
        type=_whole_number(1, MAX_WORKERS),
        default=None,
        metavar="N",
        help=f"worker processes (default: one per CPU core, here {serving.default_workers()})",
    )
    serve.add_argument(
        "--server",
        choices=serving.SERVERS,
        default=serving.DEFAULT_SERVER,
        help=f"the ASGI server (default: {serving.DEFAULT_SERVER})",
    )
    _add_db_option(serve)

    organiser = commands.add_parser("organiser", help="manage organiser accounts")
    organiser_commands = organiser.add_subparsers(dest="organiser_command", required=True, metavar="ACTION")
    add = organiser_commands.add_parser("add", help="create an organiser and print its API token")
    add.add_argument("name", help="the organiser's name, unique")
    add.add_argument("--role", choices=[role.value for role in Role], required=True)
    _add_db_option(add)

    announce = commands.add_parser("announce", help="post an announcement to every app (and Web Push)")
    announce.add_argument("title", help="the headline, at most 140 characters")
    announce.add_argument("body", help="the text (plain; links become clickable in the app)")
    announce.add_argument("--urgent", action="store_true", help="pin it and notify with high urgency")
    announce.add_argument(
        "--audience", choices=["everyone", "onsite", "online", "session"], default="everyone", help="who hears it"
    )
    announce.add_argument("--session", metavar="ID", help="the related session (needed with --audience session)")
    _add_db_option(announce)

    importer = commands.add_parser(
        "import", help="import a programme: frab schedule.xml, C3VOC/pretalx schedule.json or Kumpul JSON"
    )
    importer.add_argument("file", type=Path, help="the file to import (its format is told from its content)")
    importer.add_argument("--dry-run", action="store_true", help="show what would change and write nothing")
    importer.add_argument(
        "--delete-missing",
        action="store_true",
        help="delete sessions the file lacks instead of cancelling them, and the speakers, rooms, tracks and "
        "formats the file lacks that no session uses",
    )
    _add_db_option(importer)

    follow = commands.add_parser(
        "follow",
        help="follow a pretalx or frab export as the source of record: pull it now, and a running server pulls it "
        "on schedule",
    )
    follow.add_argument("url", nargs="?", help="the schedule.xml or schedule.json address (https, public host)")
    follow.add_argument(
        "--every", type=_duration, default=300, metavar="INTERVAL", help="how often to pull: 30s, 5m, 1h (default 5m)"
    )
    follow.add_argument("--stop", action="store_true", help="stop following the source")
    _add_db_option(follow)

    purge = commands.add_parser("purge", help="after the event: remove data for good (asks first on a terminal)")
    what = purge.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--attendees",
        action="store_true",
        help="every attendee with their notes, agenda, devices, calendar feeds and push subscriptions; "
        "the programme, announcements and organisers stay",
    )
    what.add_argument(
        "--plaintext-notes",
        action="store_true",
        help="the notes still stored unencrypted from before notes were end-to-end encrypted (attendees whose "
        "devices never came back to encrypt them); everything else stays",
    )
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_db_option(purge)

    backup = commands.add_parser(
        "backup", help="copy the database and the VAPID key into one tar file, safely while the server runs"
    )
    backup.add_argument("path", type=Path, help="the tar file to write (see docs/operations.md to restore it)")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    _add_db_option(backup)

    restore = commands.add_parser(
        "restore", help="restore a backup as the database --db (never over an existing one) with its VAPID key"
    )
    restore.add_argument("backup", type=Path, help="a tar file written by kumpul backup")
    _add_db_option(restore)

    migrate_db = commands.add_parser(
        "migrate-db", help="move the event from its SQLite file to an empty PostgreSQL database, and verify the copy"
    )
    migrate_db.add_argument("--from", dest="source", type=Path, required=True, metavar="PATH", help="the SQLite file")
    migrate_db.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        help="the empty database, postgresql://user:password@host/name",
    )
    return parser


async def _no_listener(_: int) -> None:
    """Commands have no listeners; a running server notices their writes by itself."""


def _database(settings: Settings) -> Database:
    """The database ``settings`` name, for a command: PostgreSQL when a URL is set, else the SQLite file."""
    return open_database(settings.db_path, settings.database_url, readers=1)


async def _with_services(settings: Settings) -> tuple[Database, ProgrammeService, AuthService]:
    db = _database(settings)
    await db.open()
    return db, ProgrammeService(db, on_write=_no_listener), AuthService(db)


async def load_demo_if_empty(settings: Settings, *, dates: str = "original") -> bool:
    """Import the demo conference unless the database already holds an event.

    Args:
        settings: Where the database is.
        dates: ``today`` moves the demo by whole days so that it is on its second day today; ``original`` keeps
            its 2024 dates.

    Returns:
        True when the demo was loaded.
    """
    db, programme, _ = await _with_services(settings)
    try:
        async with db.read() as conn:
            if await get_entity(conn, "event", "event") is not None:
                return False
        await programme.import_programme(demo_programme(today_at_the_event() if dates == "today" else None))
        venue = VenueService(db)
        for page in demo_info_pages():
            await venue.create_page(page)
        for floor, image, pins in demo_plans():
            plan = await venue.upload_plan(floor, image)
            for room_id, (x, y) in pins.items():
                await venue.pin(plan.id, room_id, Pin(x=x, y=y))
        return True
    finally:
        await db.close()


async def _organiser_add(settings: Settings, name: str, role: str) -> tuple[str, str]:
    """Create an organiser; returns their API token and their one-time console password."""
    db = _database(settings)
    await db.open()
    try:
        _, token, password = await ConsoleService(db, RateLimiter()).create_organiser(name, Role(role), actor=SYSTEM)
        return token, password
    finally:
        await db.close()


async def _announce(settings: Settings, args: argparse.Namespace) -> str:
    fields = {
        "title": args.title,
        "body": args.body,
        "priority": "urgent" if args.urgent else "normal",
        "audience": args.audience,
        "sessionId": args.session,
    }
    try:
        data = msgspec.convert(fields, AnnouncementCreate)
    except msgspec.ValidationError as error:
        raise Invalid(f"the announcement is not valid: {error}") from None
    db = _database(settings)
    await db.open()
    try:
        service = AnnouncementService(db, on_write=_no_listener, wake_outbox=lambda: None)
        record = await service.create(data, "command line")
    finally:
        await db.close()
    return record.id


class _ProgressBar:
    """A one-line progress bar on a terminal, redrawn when the percentage moves."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent == self.shown:
            return
        self.shown = percent
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\rimporting [{bar}] {percent:3d}% ({done}/{total})")
        self.stream.flush()

    def finish(self) -> None:
        if self.shown >= 0:
            self.stream.write("\n")
            self.stream.flush()


async def _import(settings: Settings, args: argparse.Namespace) -> ImportReport:
    data = await asyncio.to_thread(args.file.read_bytes)
    db, programme, _ = await _with_services(settings)
    bar = _ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        return await ImportService(programme).import_file(
            data, dry_run=args.dry_run, missing="delete" if args.delete_missing else "cancel", progress=bar
        )
    finally:
        if bar is not None:
            bar.finish()
        await db.close()


def _describe_import(report: ImportReport) -> str:
    """Per kind: how many entities are (or would be) added, changed and removed, and which."""
    lines = []
    for kind in report.kinds:
        lines += [f"refused {kind.kind} {item.label} ({item.id}): {item.reason}" for item in kind.refused]
        if not (kind.added or kind.changed or kind.removed):
            continue
        removed = "cancelled" if kind.kind == "session" and report.missing == "cancel" else "deleted"
        noun = "event" if kind.kind == "event" else f"{kind.kind}s"
        lines.append(f"{noun}: {len(kind.added)} added, {len(kind.changed)} changed, {len(kind.removed)} {removed}")
        for mark, items in (("+", kind.added), ("~", kind.changed), ("-", kind.removed)):
            lines += [f"  {mark} {item.label} ({item.id})" for item in items]
    return "\n".join(lines or ["nothing to change"]) + "\n"


async def _follow(settings: Settings, args: argparse.Namespace) -> int:
    """``kumpul follow``: configure the source and pull it once now; ``--stop``; without a URL, show the status."""
    db, programme, _ = await _with_services(settings)
    source = SourceService(
        db,
        programme,
        allow_insecure_loopback=settings.allow_insecure_source,
        timeout=settings.source_timeout_seconds,
        retry_seconds=settings.source_retry_seconds,
    )
    try:
        if args.stop:
            await source.remove(SYSTEM)
            print("stopped following the source of record", file=sys.stderr)
            return 0
        if args.url:
            await source.configure(args.url, args.every, SYSTEM)
        status = await source.status()
        if status is None:
            raise Invalid("no source of record is configured: kumpul follow URL [--every 5m]")
        print(f"following {status.url} every {status.every_seconds}s")
        print(f"last pull: {status.last_pull_at or 'never'}: {status.last_result or '-'} {status.last_detail}".rstrip())
        print(f"next pull: {status.next_pull_at} (by a running kumpul serve)")
        return 1 if status.last_result == "failed" else 0
    finally:
        await db.close()


async def _attendee_data(settings: Settings) -> AttendeeData:
    db = _database(settings)
    await db.open()
    try:
        async with db.read() as conn:
            return await count_attendee_data(conn)
    finally:
        await db.close()


async def _purge_attendees(settings: Settings) -> tuple[AttendeeData, Reclaimed]:
    db = _database(settings)
    await db.open()
    try:
        return await purge_attendees(db)
    finally:
        await db.close()


def _purge_plaintext(settings: Settings, args: argparse.Namespace) -> int:
    """``kumpul purge --plaintext-notes``: confirm on a terminal (unless ``--yes``), remove, report the count."""

    async def count() -> int:
        async with _database(settings) as db:
            return await count_plaintext_notes(db)

    async def purge() -> tuple[int, Reclaimed]:
        async with _database(settings) as db:
            return await purge_plaintext_notes(db)

    found = asyncio.run(count())
    if found and not args.yes:
        if not sys.stdin.isatty():
            raise Invalid("purge asks for confirmation: run it on a terminal, or pass --yes")
        print(
            f"{_where(settings)} holds {found} unencrypted notes of attendees whose devices have not synced since"
            " notes were encrypted. Remove them for good? [y/N] ",
            end="",
            file=sys.stderr,
        )
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            print("nothing was removed", file=sys.stderr)
            return 1
    try:
        removed, reclaimed = asyncio.run(purge())
    except StorageError as error:
        raise Invalid(f"the purge did not finish ({error}); run it again") from None
    print(f"plaintext notes: {removed}")
    if not reclaimed.wal_emptied:
        print(
            "a running server holds the write-ahead log open: it still has old pages until the server's next"
            " checkpoint; run the purge again with the server stopped to empty it now",
            file=sys.stderr,
        )
    print("backups made before now still hold the removed notes", file=sys.stderr)
    return 0


def _where(settings: Settings) -> str:
    """Where the data of ``settings`` lives, for a message: the SQLite file or the PostgreSQL address."""
    return without_password(settings.database_url) if settings.database_url else str(settings.db_path)


def _sqlite_only(settings: Settings, command: str) -> None:
    """Refuse a command that works on the SQLite file when the data is in PostgreSQL, saying what to use."""
    if settings.database_url:
        raise Invalid(
            f"kumpul {command} works on the SQLite file; the data is in PostgreSQL ({_where(settings)}):"
            " use pg_dump and pg_restore (docs/deployment.md)"
        )


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    """``kumpul purge --attendees``: confirm on a terminal (unless ``--yes``), remove, report the counts."""
    if not settings.database_url and not settings.db_path.exists():
        raise Invalid(f"there is no database at {settings.db_path}")
    if args.plaintext_notes:
        return _purge_plaintext(settings, args)
    found = asyncio.run(_attendee_data(settings))
    if found.total() and not args.yes:
        if not sys.stdin.isatty():
            raise Invalid("purge asks for confirmation: run it on a terminal, or pass --yes")
        print(f"{_where(settings)} holds this attendee data:", file=sys.stderr)
        for kind, count in found.items():
            print(f"  {kind}: {count}", file=sys.stderr)
        print("The programme, announcements and organisers stay. Remove it for good? [y/N] ", end="", file=sys.stderr)
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            print("nothing was removed", file=sys.stderr)
            return 1
    try:
        removed, reclaimed = asyncio.run(_purge_attendees(settings))
    except StorageError as error:
        raise Invalid(f"the purge did not finish ({error}); run it again") from None
    for kind, count in removed.items():
        print(f"{kind}: {count}")
    rewritten = "" if settings.database_url else " and rewrote the file without it"
    print(f"removed the attendee data from {_where(settings)}{rewritten}", file=sys.stderr)
    if not reclaimed.wal_emptied:
        print(
            "a running server holds the write-ahead log open: it still has old pages until the server's next"
            " checkpoint; run the purge again with the server stopped to empty it now",
            file=sys.stderr,
        )
    print("backups made before now still hold the removed data", file=sys.stderr)
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    """``kumpul backup PATH``: write the backup, say what it holds and how to restore it."""
    _sqlite_only(settings, "backup")
    try:
        report = backup(settings.db_path, args.path, force=args.force)
    except BackupError as error:
        raise Invalid(str(error)) from None
    key = f"and {KEY_MEMBER}" if report.key_included else f"(no {KEY_MEMBER} yet: no server has started on it)"
    size = f"{report.database_bytes:,} bytes, schema {report.schema_version}"
    print(f"wrote {report.path}: {DATABASE_MEMBER} ({size}) {key}")
    print(
        f"to restore: kumpul restore {report.path} --db <new database path> (docs/operations.md)",
        file=sys.stderr,
    )
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    """``kumpul restore BACKUP``: put the backup in place as the SQLite file, say what was written."""
    _sqlite_only(settings, "restore")
    try:
        report = restore(args.backup, settings.db_path)
    except BackupError as error:
        raise Invalid(str(error)) from None
    key = f"with {KEY_MEMBER}" if report.key_restored else f"without writing {KEY_MEMBER}"
    print(f"restored {args.backup} as {report.db_path} (schema {report.schema_version}) {key}")
    print(f"start the server on it: kumpul serve --db {report.db_path}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings = settings_from_env(args.db, args.database_url)
    workers = serving.default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise Invalid("--workers must be at least 1", field="workers")
    asyncio.run(serving.prepare(settings))
    if args.demo and asyncio.run(load_demo_if_empty(settings, dates=args.demo_dates)):
        print(f"loaded the demo conference into {_where(settings)}", file=sys.stderr)
    processes = f"{workers} worker process{'es' if workers > 1 else ''}"
    where = f"http://{args.host}:{args.port}"
    print(f"Kumpul serving {_where(settings)} at {where} ({args.server}, {processes})", file=sys.stderr)
    serving.run(settings, host=args.host, port=args.port, workers=workers, server=args.server)
    return 0


def _migrate_db(args: argparse.Namespace) -> int:
    """``kumpul migrate-db``: copy the event into PostgreSQL, say what moved and what was found alike."""
    if not args.target.startswith(("postgresql://", "postgres://")):
        raise Invalid("--to must be a PostgreSQL database: postgresql://user:password@host:port/name", field="to")
    try:
        moved = asyncio.run(migrate(args.source, args.target))
    except MigrationError as error:
        raise Invalid(str(error)) from None
    width = max(len(table) for table, _ in moved.tables)
    for table, rows in moved.tables:
        print(f"{table:<{width}} {rows:>9,}")
    print(
        f"moved {moved.rows:,} rows in {len(moved.tables)} tables (schema {moved.schema_version}) from {args.source}"
        f" to {without_password(args.target)} in {moved.seconds:.1f} s"
    )
    if moved.vapid_key is not None:
        print(f"{moved.vapid_key} is now the database's VAPID key: push subscriptions keep working")
    else:
        print(f"no VAPID key beside {args.source}: the first server on PostgreSQL makes one")
    print(f"verified: every table's rows, {', '.join(moved.verified)}")
    print(f"serve it: kumpul serve --database-url {without_password(args.target)}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "migrate-db":
            return _migrate_db(args)
        settings = settings_from_env(args.db, args.database_url)
        if args.command == "organiser":
            token, password = asyncio.run(_organiser_add(settings, args.name, args.role))
            print(f"created organiser {args.name!r} ({args.role}); their API token, shown once:", file=sys.stderr)
            print(token)
            print(
                f"one-time password: {password} (sign in at /admin with this one-time password;"
                " you will choose your own)",
                file=sys.stderr,
            )
            return 0
        if args.command == "announce":
            announcement_id = asyncio.run(_announce(settings, args))
            print(f"announced {announcement_id}; a running server delivers it within seconds", file=sys.stderr)
            print(announcement_id)
            return 0
        if args.command == "import":
            if args.dry_run and not settings.database_url and not settings.db_path.exists():
                raise Invalid(
                    f"there is no database at {settings.db_path}: a dry run compares the file with one, and makes none"
                )
            report = asyncio.run(_import(settings, args))
            print(_describe_import(report), end="")
            written, source = entities_written(report), f"{args.file} ({report.format})"
            if report.dry_run:
                print(f"dry run of {source}: {written} entities would change; nothing was written", file=sys.stderr)
            else:
                print(f"imported {source}: {written} entities written to {_where(settings)}", file=sys.stderr)
            return 0
        if args.command == "follow":
            return asyncio.run(_follow(settings, args))
        if args.command == "purge":
            return _purge(settings, args)
        if args.command == "backup":
            return _backup(settings, args)
        if args.command == "restore":
            return _restore(settings, args)
    except KumpulError as error:
        print(f"kumpul: {error.detail}", file=sys.stderr)
        return 1
    except msgspec.ValidationError as error:
        print(f"kumpul: the file is not a valid programme: {error}", file=sys.stderr)
        return 1
    except msgspec.DecodeError as error:
        print(f"kumpul: the file is not valid JSON: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"kumpul: {error}", file=sys.stderr)
        return 1
    except StorageError as error:
        if not transient(error):
            raise
        why = "the disk is full" if storage_full(error) else "another process holds the database locked"
        print(f"kumpul: {why} ({error}); nothing was changed, run it again later", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
