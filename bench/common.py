"""Shared helpers of the benchmarks: a server on a fresh database, raw HTTP, limits, percentiles, JSON output."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
HEALTH_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


# --- command line -------------------------------------------------------------------------------


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark of this folder shares: ``--json``, ``--quick`` and ``--kumpul``."""
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the figures as JSON to this path")
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run (fewer clients, fewer seconds): checks the harness only"
    )
    parser.add_argument("--kumpul", help="kumpul executable (default: next to this Python, else on PATH)")
    parser.add_argument("--workers", type=int, help="pass --workers N to `kumpul serve` (default: its own default)")
    parser.add_argument("--server", help="pass --server NAME to `kumpul serve` (default: its own default)")


def serve_args(args: argparse.Namespace) -> list[str]:
    """The extra ``kumpul serve`` options asked for on the command line (none: the server's defaults)."""
    extra = []
    if getattr(args, "workers", None) is not None:
        extra += ["--workers", str(args.workers)]
    if getattr(args, "server", None):
        extra += ["--server", args.server]
    return extra


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a benchmark's figures, stamped with when they were measured."""
    stamped = {**document, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stamped, indent=2) + "\n")


# --- figures ------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def spread(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of durations in seconds, rounded to the millisecond."""
    ordered = sorted(seconds)
    return {
        "p50_s": round(percentile(ordered, 0.50), 3),
        "p99_s": round(percentile(ordered, 0.99), 3),
        "max_s": round(ordered[-1], 3) if ordered else 0.0,
    }


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_kib(pid: int) -> int:
    """Resident memory of a process in KiB (``VmRSS`` of /proc/<pid>/status; 0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants (worker processes, helper processes), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree = [pid]
    for member in tree:
        tree += [child for child, parent in parents.items() if parent == member]
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live descendants."""
    total = 0.0
    for member in process_tree(pid):
        try:
            total += cpu_seconds(member)
        except (OSError, IndexError, ValueError):
            continue
    return total


# --- file descriptor limits ---------------------------------------------------------------------


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted``; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(wanted, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def nofile_preexec(wanted: int) -> Callable[[], None]:
    """A ``preexec_fn`` giving the child process an open-file limit of ``wanted`` (or the hard limit)."""

    def apply() -> None:
        raise_nofile(wanted)

    return apply


def need_sockets(count: int) -> int:
    """Raise the limit for ``count`` sockets plus headroom, or stop with a clear message."""
    wanted = count + 1024
    got = raise_nofile(wanted)
    if got < wanted:
        raise SystemExit(
            f"need {wanted} open files for {count} sockets but the limit is {got}: raise it (ulimit -n {wanted})"
        )
    return got


# --- server lifecycle ---------------------------------------------------------------------------


def free_port() -> int:
    """Ask the kernel for a free loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_kumpul(explicit: str | None) -> str:
    """Locate the ``kumpul`` executable."""
    if explicit:
        return explicit
    sibling = Path(sys.executable).parent / "kumpul"
    if sibling.exists():
        return str(sibling)
    found = shutil.which("kumpul")
    if found is None:
        raise SystemExit("cannot find the kumpul executable; install the project or pass --kumpul")
    return found


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    """Poll ``/healthz`` until it answers 200, failing early if the server exits."""
    deadline = time.monotonic() + HEALTH_TIMEOUT
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}:\n{tail(log_path)}")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise SystemExit(f"server not healthy after {HEALTH_TIMEOUT:.0f}s:\n{tail(log_path)}")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a process, killing it if it does not stop in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Server:
    """A ``kumpul serve`` process on loopback with its own database."""

    kumpul: str
    base_url: str
    port: int
    db: Path
    workdir: Path
    log: Path
    proc: subprocess.Popen[bytes]
    database_url: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def organiser(self, name: str, role: str) -> str:
        """Add an organiser with ``kumpul organiser add`` and return their API token."""
        added = subprocess.run(
            [self.kumpul, "organiser", "add", name, "--role", role, *database_args(self.db, self.database_url)],
            capture_output=True,
            text=True,
            check=True,
        )
        return added.stdout.strip().splitlines()[-1]

    def rss_kib(self) -> int:
        """Resident memory of the server and its worker processes in KiB."""
        return sum(rss_kib(pid) for pid in process_tree(self.pid))

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its worker processes."""
        return tree_cpu_seconds(self.pid)

    def processes(self) -> int:
        """How many processes the server runs (a supervisor, workers, helpers)."""
        return len(process_tree(self.pid))


def database_args(db: Path, database_url: str | None) -> list[str]:
    """The options naming a server's database: the SQLite file, or PostgreSQL (the file's folder is then the node's)."""
    return ["--db", str(db), *(["--database-url", database_url] if database_url else [])]


@contextmanager
def served(
    kumpul: str | None = None,
    *,
    demo: bool = True,
    nofile: int | None = None,
    prepare_db: Callable[[Path], None] | None = None,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[Server]:
    """Run ``kumpul serve`` on a fresh database in a temporary folder and yield it once healthy.

    Args:
        kumpul: The executable (default: next to this Python, else on PATH).
        demo: Load the demo conference.
        nofile: Open-file limit of the server process (for thousands of sockets).
        prepare_db: Called with the database path before the server starts (to seed data).
        env: Extra environment variables for the server.
        extra_args: More ``kumpul serve`` options (``--workers 2``).
    """
    executable = find_kumpul(kumpul)
    with tempfile.TemporaryDirectory(prefix="kumpul-bench-") as tmp:
        workdir = Path(tmp)
        db = workdir / "bench.db"
        if prepare_db is not None:
            prepare_db(db)
        with running(executable, workdir, db, demo=demo, nofile=nofile, env=env, extra_args=extra_args) as server:
            yield server


@contextmanager
def running(
    executable: str,
    workdir: Path,
    db: Path,
    *,
    database_url: str | None = None,
    demo: bool = True,
    nofile: int | None = None,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
    name: str = "the server",
) -> Iterator[Server]:
    """Start ``kumpul serve`` on ``db`` (or on PostgreSQL at ``database_url``, ``db``'s folder its own), logging to
    ``workdir``; yield it once healthy, stop it at the end and print what it logged as errors (as ``name``)."""
    port = free_port()
    log_path = workdir / "server.log"
    cmd = [executable, "serve", "--host", "127.0.0.1", "--port", str(port), *database_args(db, database_url)]
    if demo:
        cmd.append("--demo")
    cmd += extra_args
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            preexec_fn=nofile_preexec(nofile) if nofile else None,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(base_url, proc, log_path)
        yield Server(executable, base_url, port, db, workdir, log_path, proc, database_url)
    finally:
        stop_process(proc)
        report_server_errors(log_path, name)


def report_server_errors(log_path: Path, name: str = "the server") -> None:
    """Print the server's logged errors (a 500 is a bug to look at, not a figure)."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return
    errors = [i for i, line in enumerate(lines) if line.startswith(("ERROR", "CRITICAL")) or "Traceback" in line]
    if errors:
        print(f"{name} logged {len(errors)} error line(s); the first:", file=sys.stderr)
        print("\n".join(lines[errors[0] : errors[0] + 40]), file=sys.stderr)


def server_info(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    """How the measured server ran: the extra ``kumpul serve`` options and how many processes it had."""
    return {"serve_args": serve_args(args), "processes": server.processes()}


# --- organiser edits ----------------------------------------------------------------------------


def edit_session(client: httpx.Client, token: str, session: dict[str, Any], rooms: Sequence[str], n: int) -> None:
    """One organiser edit of one session, as during the event: even ``n`` moves it to another room, odd retitles it."""
    if n % 2 == 0 and len(rooms) > 1:
        current = session.get("roomId")
        others = [room for room in rooms if room != current]
        change: dict[str, Any] = {"roomId": others[n // 2 % len(others)]}
    else:
        change = {"title": f"{session['title'][:100]} (updated {n})"}
    response = client.patch(
        f"/api/admin/sessions/{session['id']}", json=change, headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()


class Editor:
    """An organiser making edits to distinct sessions, one after the other."""

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client = client
        self.token = token
        programme = client.get("/api/programme").raise_for_status().json()
        self.sessions: list[dict[str, Any]] = programme["sessions"]
        self.rooms = [room["id"] for room in programme["rooms"]]
        self.made = 0

    def edit(self, count: int = 1) -> None:
        """Make ``count`` edits, each to the next session."""
        for _ in range(count):
            session = self.sessions[self.made % len(self.sessions)]
            edit_session(self.client, self.token, session, self.rooms, self.made)
            self.made += 1

    def cursor(self) -> str:
        """The programme's current cursor."""
        cursor: str = self.client.get("/healthz").raise_for_status().json()["cursor"]
        return cursor


# --- raw HTTP/1.1 -------------------------------------------------------------------------------


def build_request(method: str, host: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """A raw HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: kumpul-bench", "Accept: */*"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(slots=True)
class RawResponse:
    """One response read off a socket: status, head, body (when kept) and size on the wire."""

    status: int
    head: bytes
    body: bytes
    wire_bytes: int
    keep_alive: bool

    def header(self, name: str) -> str | None:
        """The value of a header (case-insensitive), or None."""
        wanted = name.lower().encode("latin-1") + b":"
        for line in self.head.split(b"\r\n")[1:]:
            if line.lower().startswith(wanted):
                return line[len(wanted) :].strip().decode("latin-1")
        return None


async def _read_chunked(reader: asyncio.StreamReader, keep: bool) -> tuple[int, bytes]:
    """Read a chunked body; return its size on the wire and (when kept) the body."""
    size = 0
    parts: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        length = int(line.split(b";", 1)[0], 16)
        size += len(line)
        if length == 0:
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                size += len(line)
            return size + 2, b"".join(parts)
        chunk = await reader.readexactly(length + 2)
        if keep:
            parts.append(chunk[:-2])
        size += length + 2


async def read_response(reader: asyncio.StreamReader, *, keep_body: bool = False) -> RawResponse:
    """Read one HTTP/1.1 response (Content-Length, chunked, or until close)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    keep_alive = b"\r\nconnection: close" not in lower
    start = lower.find(b"\r\ncontent-length:")
    if start >= 0:
        length = int(lower[start + 17 : lower.index(b"\r\n", start + 2)])
        body = await reader.readexactly(length) if length else b""
        return RawResponse(status, head, body if keep_body else b"", len(head) + length, keep_alive)
    if b"\r\ntransfer-encoding: chunked" in lower:
        size, body = await _read_chunked(reader, keep_body)
        return RawResponse(status, head, body, len(head) + size, keep_alive)
    if status in (204, 304) or 100 <= status < 200:
        return RawResponse(status, head, b"", len(head), keep_alive)
    body = await reader.read()
    return RawResponse(status, head, body if keep_body else b"", len(head) + len(body), False)


# --- keep-alive load generator (when wrk is not installed) ---------------------------------------

RESPONSE_TIMEOUT = 10.0


@dataclass
class Budget:
    """Shared stop condition of the built-in generator: a deadline and a request cap."""

    deadline: float
    cap: int
    issued: int = 0

    def take(self) -> bool:
        """Claim one request if time and the cap allow it."""
        if (self.cap and self.issued >= self.cap) or time.perf_counter() >= self.deadline:
            return False
        self.issued += 1
        return True


@dataclass
class Tally:
    """What the built-in generator's connections observed."""

    expected: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    wire_bytes: int = 0

    def record(self, status: int, seconds: float, size: int) -> None:
        """Count one complete response."""
        self.latencies.append(seconds)
        self.statuses[status] += 1
        self.wire_bytes += size

    @property
    def errors(self) -> int:
        """Transport failures plus responses with an unexpected status."""
        return self.failures + sum(n for code, n in self.statuses.items() if code != self.expected)


async def connection_loop(url: str, request: bytes, budget: Budget, tally: Tally) -> None:
    """Drive one keep-alive connection until the budget runs out, reconnecting after failures."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    writer: asyncio.StreamWriter | None = None
    try:
        while budget.take():
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(parts.hostname, port, ssl=parts.scheme == "https")
                started = time.perf_counter()
                writer.write(request)
                response = await read_response(reader)
                tally.record(response.status, time.perf_counter() - started, response.wire_bytes)
                keep_alive = response.keep_alive
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                tally.failures += 1
                keep_alive = False
                await asyncio.sleep(0.01)
            if not keep_alive and writer is not None:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def keepalive_load(
    url: str, request: bytes, expected: int, connections: int, duration: float, cap: int
) -> tuple[Tally, float]:
    """Send ``request`` over ``connections`` keep-alive connections until ``duration`` seconds or ``cap`` requests.

    Returns:
        What was observed, and the seconds elapsed.
    """
    tally = Tally(expected)
    started = time.perf_counter()
    budget = Budget(started + duration, cap)
    tasks = [asyncio.create_task(connection_loop(url, request, budget, tally)) for _ in range(connections)]
    _, pending = await asyncio.wait(tasks, timeout=duration + RESPONSE_TIMEOUT)
    for task in pending:
        task.cancel()
    tally.failures += len(pending)
    await asyncio.gather(*pending, return_exceptions=True)
    return tally, time.perf_counter() - started


def run_main(main: Callable[[], int]) -> None:
    """Run a benchmark's ``main`` as a script: its return is the exit status; Ctrl-C ends it quietly (130)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
