"""Where a benchmark's server runs: one node on a SQLite file, or one or two nodes sharing a PostgreSQL database.

``--engines sqlite,pg1,pg2`` (the default: all three) names the cases a benchmark measures, one after the other
in the same run, so the JSON holds them side by side. A PostgreSQL case gets a fresh database in a private
cluster (tests/postgres.py: ``initdb`` in a temporary folder on this machine, shared by the benchmark's
PostgreSQL cases) and its nodes: each a ``kumpul serve --database-url URL --db <its own folder>/kumpul.db`` on
a port of its own, as behind a load balancer. The load generators spread their clients over the nodes round
robin (:meth:`Deployment.node_for`); with one node that is the one URL, as on SQLite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg
from common import ROOT, Server, find_kumpul, running, serve_args, served, tree_cpu_seconds

if TYPE_CHECKING:
    from tests.postgres import Cluster

#: Each case: its name on the command line and in the JSON, and its column heading.
ENGINES = {"sqlite": "SQLite", "pg1": "PostgreSQL, 1 node", "pg2": "PostgreSQL, 2 nodes"}
NODES = {"sqlite": 1, "pg1": 1, "pg2": 2}
#: Called before the server starts, with the (first) node's database path and the PostgreSQL URL (None on SQLite).
Prepare = Callable[[Path, str | None], None]


def engine_list(text: str) -> list[str]:
    """An argparse type: a comma-separated list of cases, each once, in the order given."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ENGINES]
    if unknown or not names or len(set(names)) < len(names):
        raise argparse.ArgumentTypeError(f"expected some of {','.join(ENGINES)}, each once; got {text!r}")
    return names


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    """The ``--engines`` option."""
    parser.add_argument(
        "--engines",
        type=engine_list,
        default=list(ENGINES),
        help=f"the cases to measure, in turn (default {','.join(ENGINES)}): SQLite, PostgreSQL with one node, two",
    )


@dataclass
class Deployment:
    """The server side of one case: its nodes, and the PostgreSQL database they share (if any)."""

    engine: str
    nodes: list[Server]
    database_url: str | None = None
    database_pid: int | None = None
    database: dict[str, str] | None = None

    @property
    def first(self) -> Server:
        """Node A: the one organisers and announcers talk to."""
        return self.nodes[0]

    def node_for(self, client: int) -> Server:
        """The node the load balancer gives the ``client``-th client (round robin)."""
        return self.nodes[client % len(self.nodes)]

    def organiser(self, name: str, role: str) -> str:
        """Add an organiser (through node A's database) and return their API token."""
        return self.first.organiser(name, role)

    def database_cpu_seconds(self) -> float:
        """CPU time used so far by the PostgreSQL cluster (0 on SQLite, whose work is in the server's process)."""
        return tree_cpu_seconds(self.database_pid) if self.database_pid else 0.0

    def cpu_seconds(self) -> float:
        """CPU time used so far by every node and the database: all the work of serving, on either engine."""
        return sum(node.cpu_seconds() for node in self.nodes) + self.database_cpu_seconds()

    def rss_kib(self) -> int:
        """Resident memory of every node (the database's does not grow with the clients)."""
        return sum(node.rss_kib() for node in self.nodes)

    def processes(self) -> int:
        """How many processes the nodes run together."""
        return sum(node.processes() for node in self.nodes)

    def info(self, args: argparse.Namespace) -> dict[str, Any]:
        """How the measured case ran: engine, nodes, the extra ``kumpul serve`` options and how many processes."""
        described: dict[str, Any] = {
            "engine": self.engine,
            "nodes": len(self.nodes),
            "serve_args": serve_args(args),
            "processes": self.processes(),
        }
        if self.database is not None:
            described["postgresql"] = self.database
        return described


class Engines:
    """The cases of one benchmark run, and the private PostgreSQL cluster they share (started when first needed)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self._stack = ExitStack()
        self._cluster: Cluster | None = None

    def __enter__(self) -> Engines:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stack.close()

    def cluster(self) -> Cluster:
        """The private cluster, started on first use with the migrated template database."""
        if self._cluster is None:
            sys.path.insert(0, str(ROOT))
            from tests.postgres import cluster

            self._cluster = self._stack.enter_context(cluster())
        return self._cluster

    @contextmanager
    def deploy(
        self,
        engine: str,
        kumpul: str | None = None,
        *,
        demo: bool = True,
        nofile: int | None = None,
        prepare: Prepare | None = None,
        env: dict[str, str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> Iterator[Deployment]:
        """Start ``engine``'s nodes on a fresh database and yield them once every one is healthy.

        Args:
            engine: One of :data:`ENGINES`.
            kumpul: The executable (default: next to this Python, else on PATH).
            demo: Load the demo conference (through node A, before the others start).
            nofile: Open-file limit of each node (for thousands of sockets).
            prepare: Seeds the database before any node starts.
            env: Extra environment variables for every node.
            extra_args: More ``kumpul serve`` options for every node (``--workers 2``).
        """
        if engine == "sqlite":
            seed = None if prepare is None else lambda db: prepare(db, None)
            with served(kumpul, demo=demo, nofile=nofile, prepare_db=seed, env=env, extra_args=extra_args) as server:
                yield Deployment(engine, [server])
            return
        cluster = self.cluster()
        url = cluster.new_database()
        executable = find_kumpul(kumpul)
        try:
            with tempfile.TemporaryDirectory(prefix="kumpul-bench-") as tmp, ExitStack() as nodes:
                folders = [Path(tmp) / f"node{number + 1}" for number in range(NODES[engine])]
                for folder in folders:
                    folder.mkdir()
                if prepare is not None:
                    prepare(folders[0] / "kumpul.db", url)
                started = [
                    nodes.enter_context(
                        running(
                            executable,
                            folder,
                            folder / "kumpul.db",
                            database_url=url,
                            demo=demo and number == 0,
                            nofile=nofile,
                            env=env,
                            extra_args=extra_args,
                            name=f"{ENGINES[engine]}, node {number + 1}",
                        )
                    )
                    for number, folder in enumerate(folders)
                ]
                yield Deployment(engine, started, url, postmaster_pid(cluster), described(url))
        finally:
            cluster.drop(url)


def postmaster_pid(cluster: Cluster) -> int:
    """The cluster's main process (its first line of ``postmaster.pid``); its children do the queries."""
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


def described(url: str) -> dict[str, str]:
    """The PostgreSQL version and the durability settings the figures were measured with."""
    with psycopg.connect(url) as conn:
        return {
            setting: str(conn.execute(f"SHOW {setting}").fetchone()[0])  # type: ignore[index] -- SHOW always answers a row
            for setting in ("server_version", "fsync", "synchronous_commit")
        }


def each_engine(names: Sequence[str], measure: Callable[[Engines, str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``measure`` every case in turn; a case that fails is kept as its error and the next one still runs."""
    results: dict[str, dict[str, Any]] = {}
    with Engines(names) as engines:
        for name in names:
            print(f"--- {ENGINES[name]}", flush=True)
            try:
                results[name] = measure(engines, name)
            except (Exception, SystemExit) as error:
                results[name] = {"error": failure(error)}
                print(f"{ENGINES[name]}: failed", file=sys.stderr)
                traceback.print_exception(error, file=sys.stderr)
    return results


def failure(error: BaseException) -> str:
    """One line saying why a case failed, for the JSON and the table: the message's first line and, when it
    quotes a log, the log's last line (a traceback's exception)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = " … ".join(dict.fromkeys(lines[:1] + lines[-1:]))
    return f"{type(error).__name__}: {text}"[:400]


def failed(results: dict[str, dict[str, Any]]) -> bool:
    """Whether any case failed."""
    return any("error" in figures for figures in results.values())
