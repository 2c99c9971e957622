"""Shared fixtures: an app on a real database per test, loaded with the demo conference.

The database is a real SQLite file, or with ``KUMPUL_TEST_DATABASE=postgresql`` a database of its own in a private
PostgreSQL cluster the session starts (tests/postgres.py); ``make pytest`` runs the suite on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.app import create_app
from server.demo import demo_programme
from server.services.auth import AuthService, Role
from server.services.programme import ProgrammeService
from server.settings import Settings
from server.storage.db import Database, SqliteDatabase, open_database
from tests.asgi import AppClient, app_client
from tests.postgres import Cluster, NewDatabase, cluster

#: The engine the suite runs on: ``sqlite`` (the default) or ``postgresql``.
BACKEND = os.environ.get("KUMPUL_TEST_DATABASE", "sqlite")


@dataclass(frozen=True)
class Tokens:
    admin: str
    editor: str
    announcer: str
    volunteer: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A private PostgreSQL cluster for the whole session (started on first use)."""
    with cluster() as running:
        yield running


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh PostgreSQL database holding the schema when the suite runs on PostgreSQL; None on SQLite."""
    if BACKEND != "postgresql":
        yield None
        return
    running: Cluster = request.getfixturevalue("pg_cluster")
    url = running.new_database()
    yield url
    running.drop(url)


@pytest.fixture(scope="session")
def new_database(request: pytest.FixtureRequest) -> NewDatabase:
    """Makes databases besides a test's own, on the engine the suite runs on: for a second Kumpul to import an
    export into, or one for each example of a property test (Hypothesis runs every example in one call of the
    test, so the test's own database would carry over). On SQLite it gives None: the caller makes a file."""
    running: Cluster | None = request.getfixturevalue("pg_cluster") if BACKEND == "postgresql" else None

    @contextlib.contextmanager
    def new() -> Iterator[str | None]:
        if running is None:
            yield None
            return
        url = running.new_database()
        try:
            yield url
        finally:
            running.drop(url)

    return new


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file holding the migrated schema and nothing else, made once per session."""
    path = tmp_path_factory.mktemp("template") / "kumpul.db"

    async def migrate() -> None:
        async with SqliteDatabase(path):
            pass

    asyncio.run(migrate())
    return path


def migrated_file(template: Path, path: Path) -> None:
    """``path``, a copy of the migrated ``template`` with an epoch of its own, unless it exists: each test's
    database starts as a fresh one would, without applying every migration again (as PostgreSQL's test databases
    are copies of a migrated template)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE feed_state SET epoch = lower(hex(randomblob(6)))")


@pytest.fixture
def make_database(tmp_path: Path, database_url: str | None, sqlite_template: Path) -> Callable[..., Database]:
    """Makes the test's database, not yet opened: the SQLite file ``tmp_path/kumpul.db``, or on PostgreSQL the
    test's own database (each call, the same one)."""

    def make(readers: int = 4) -> Database:
        if database_url is None:
            migrated_file(sqlite_template, tmp_path / "kumpul.db")
        return open_database(tmp_path / "kumpul.db", database_url, readers=readers)

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, skip the tests of what only the SQLite file has (its backups, its write-ahead log)."""
    if BACKEND != "postgresql":
        return
    skip = pytest.mark.skip(reason="about the SQLite file; the suite runs on PostgreSQL")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, sqlite_template: Path) -> Settings:
    if database_url is None:
        migrated_file(sqlite_template, tmp_path / "kumpul.db")
    return Settings(db_path=tmp_path / "kumpul.db", database_url=database_url, change_poll_seconds=0.05)


@pytest.fixture
async def empty_client(settings: Settings) -> AsyncIterator[AppClient]:
    """A client of an app whose database holds nothing yet."""
    async with app_client(create_app(settings)) as client:
        yield client


@pytest.fixture
async def client(empty_client: AppClient) -> AppClient:
    """A client of an app serving the demo conference."""
    programme: ProgrammeService = empty_client.app.state.programme
    await programme.import_programme(demo_programme())
    return empty_client


@pytest.fixture
async def tokens(empty_client: AppClient) -> Tokens:
    auth: AuthService = empty_client.app.state.auth
    made = {role: (await auth.add_organiser(f"{role.value} organiser", role))[1] for role in Role}
    return Tokens(
        admin=made[Role.ADMIN],
        editor=made[Role.EDITOR],
        announcer=made[Role.ANNOUNCER],
        volunteer=made[Role.VOLUNTEER],
    )
