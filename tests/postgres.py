"""A private PostgreSQL cluster for the tests: ``initdb`` in a temporary folder, started on a free port, stopped at
the end, with nothing left running and no system service used.

The binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``; ``.ci/run`` installs
it). PostgreSQL refuses to run as root, so under root (CI) the cluster runs as the ``postgres`` user the package
creates. Each test gets its own database, copied from a template that holds the migrated schema, so tests never
see each other's rows and do not pay for the migrations each time.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import psycopg

#: Makes a new database, dropped when the block ends: its PostgreSQL URL, or None on SQLite (the caller makes a file).
NewDatabase = Callable[[], AbstractContextManager[str | None]]

USER = "kumpul"
TEMPLATE = "kumpul_template"


def binaries() -> Path:
    """The folder of ``initdb``, ``pg_ctl`` and ``postgres``: the newest Debian-packaged version, else the PATH."""
    packaged = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name), reverse=True
    )
    if packaged:
        return packaged[0].parent
    found = shutil.which("initdb")
    if found is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (see .ci/run)")
    return Path(found).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """One private cluster: ``url(name)`` addresses a database in it over TCP on loopback."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.bin = binaries()
        self._as: list[str] = []
        self._numbers = itertools.count(1)

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, cwd=self.folder)

    def start(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER, "--no-sync", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.encode())

    def new_database(self, template: str | None = TEMPLATE) -> str:
        """A new empty database (copied from ``template``, which holds the migrated schema); its URL."""
        name = f"test_{os.getpid()}_{next(self._numbers)}"
        self.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """A started cluster with the migrated template database, stopped and removed at the end."""
    with tempfile.TemporaryDirectory(prefix="kumpul-pg-") as folder:
        running = Cluster(Path(folder))
        running.start()
        try:
            running.execute(f"CREATE DATABASE {TEMPLATE}")
            _migrate(running.url(TEMPLATE), Path(folder))
            yield running
        finally:
            running.stop()


def _migrate(url: str, folder: Path) -> None:
    import asyncio

    from server.storage.postgres import PostgresDatabase

    async def migrate() -> None:
        async with PostgresDatabase(url, local=folder / "template.db"):
            pass

    asyncio.run(migrate())
