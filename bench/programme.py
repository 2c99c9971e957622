"""Measure requests per second of the programme snapshot, its 304 revalidation and the change feed."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx

ACCEPT_ENCODING = "gzip, br"
STALE_EDITS = 20
HEALTH_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
RESPONSE_TIMEOUT = 10.0
RESULT_MARK = "KUMPUL_BENCH_RESULT "
THREAD_STOPPED = "KUMPUL_BENCH_THREAD_STOPPED"


@dataclass(frozen=True)
class Workload:
    """One request repeated under load: what to send and which status counts as success."""

    name: str
    path: str
    headers: dict[str, str]
    expected: int


@dataclass
class Result:
    """The figures of one workload run."""

    name: str
    generator: str
    connections: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    bytes_per_response: float
    client_cpu_percent: float
    statuses: dict[str, int] = field(default_factory=dict)


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


# --- command line -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="base URL of a running server (default: start one on loopback)")
    parser.add_argument("--token", default=None, help="an editor's token for --url, to measure changes after 20 edits")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per workload (default 5)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default 50)")
    parser.add_argument("--requests", type=int, default=0, help="request cap per workload (default: no cap)")
    parser.add_argument("--generator", choices=("auto", "wrk", "builtin"), default="auto", help="load generator")
    parser.add_argument("--threads", type=int, default=0, help="wrk threads (default: CPU count, at most connections)")
    parser.add_argument("--kumpul", help="kumpul executable (default: next to this Python, else on PATH)")
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the figures as JSON to this path")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.connections < 1 or args.requests < 0:
        parser.error("--duration and --connections must be positive, --requests not negative")
    return args


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


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server, killing it if it does not stop in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def served(kumpul: str) -> Iterator[tuple[str, str]]:
    """Run ``kumpul serve --demo`` on a fresh database; yield its base URL and an editor's token."""
    with tempfile.TemporaryDirectory(prefix="kumpul-bench-") as tmp:
        port = free_port()
        log_path = Path(tmp) / "server.log"
        db = str(Path(tmp) / "bench.db")
        cmd = [kumpul, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db]
        with log_path.open("wb") as log:
            proc = subprocess.Popen([*cmd, "--demo"], stdout=log, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_healthy(base_url, proc, log_path)
            added = subprocess.run(
                [kumpul, "organiser", "add", "bench", "--role", "editor", "--db", db],
                capture_output=True,
                text=True,
                check=True,
            )
            yield base_url, added.stdout.strip().splitlines()[-1]
        finally:
            stop_server(proc)


# --- workloads ----------------------------------------------------------------------------------


def edit_sessions(client: httpx.Client, token: str, count: int) -> None:
    """Make ``count`` organiser edits, as a programme change during the event would."""
    sessions = client.get("/api/sessions").json()[:count]
    for session in sessions:
        response = client.patch(
            f"/api/admin/sessions/{session['id']}",
            json={"capacity": (session.get("capacity") or 0) + 1},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()


def prepare(base_url: str, token: str | None) -> list[Workload]:
    """Learn the programme's ETag and cursor, and check each workload's status.

    With an organiser token, 20 sessions are edited first, so a workload can ask for the changes
    after the cursor from before the edits, as every phone does when the wifi comes back.
    """
    compressed = {"Accept-Encoding": ACCEPT_ENCODING}
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        stale_cursor = client.get("/api/programme").json()["cursor"]
        if token:
            edit_sessions(client, token, STALE_EDITS)
        first = client.get("/api/programme", headers=compressed)
        first.raise_for_status()
        etag = first.headers.get("etag")
        if not etag:
            raise SystemExit("GET /api/programme sent no ETag header")
        if "content-encoding" not in first.headers:
            print("warning: GET /api/programme answered uncompressed", file=sys.stderr)
        cursor = first.json().get("cursor")
        if not isinstance(cursor, str):
            raise SystemExit("the programme JSON has no string `cursor` field")
        workloads = [
            Workload("programme 200", "/api/programme", compressed, 200),
            Workload("programme 304", "/api/programme", {**compressed, "If-None-Match": etag}, 304),
            Workload("changes (up to date)", f"/api/changes?since={quote(cursor, safe='')}", compressed, 200),
        ]
        if token:
            path = f"/api/changes?since={quote(stale_cursor, safe='')}"
            workloads.append(Workload(f"changes ({STALE_EDITS} edits behind)", path, compressed, 200))
        for work in workloads:
            status = client.get(work.path, headers=work.headers).status_code
            if status != work.expected:
                raise SystemExit(f"{work.name}: expected {work.expected}, the probe got {status}")
    return workloads


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


# --- built-in generator -------------------------------------------------------------------------


def build_request(base_url: str, work: Workload) -> bytes:
    """The raw keep-alive HTTP/1.1 request of a workload."""
    host = urlsplit(base_url).netloc
    lines = [f"GET {work.path} HTTP/1.1", f"Host: {host}", "User-Agent: kumpul-bench", "Accept: */*"]
    lines += [f"{name}: {value}" for name, value in work.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_chunked(reader: asyncio.StreamReader) -> int:
    """Skip a chunked body and return its size on the wire."""
    size = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        length = int(line.split(b";", 1)[0], 16)
        size += len(line)
        if length == 0:
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                size += len(line)
            return size + 2
        await reader.readexactly(length + 2)
        size += length + 2


async def read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """Read one response; return its status, wire size and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    keep_alive = b"\r\nconnection: close" not in lower
    start = lower.find(b"\r\ncontent-length:")
    if start >= 0:
        length = int(lower[start + 17 : lower.index(b"\r\n", start + 2)])
        if length:
            await reader.readexactly(length)
        return status, len(head) + length, keep_alive
    if b"\r\ntransfer-encoding: chunked" in lower:
        return status, len(head) + await read_chunked(reader), keep_alive
    if status in (204, 304) or 100 <= status < 200:
        return status, len(head), keep_alive
    return status, len(head) + len(await reader.read()), False


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
                status, size, keep_alive = await read_response(reader)
                tally.record(status, time.perf_counter() - started, size)
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


async def builtin_load(url: str, work: Workload, connections: int, duration: float, cap: int) -> tuple[Tally, float]:
    """Run the workload over ``connections`` keep-alive connections; return the tally and elapsed seconds."""
    request = build_request(url, work)
    tally = Tally(work.expected)
    started = time.perf_counter()
    budget = Budget(started + duration, cap)
    tasks = [asyncio.create_task(connection_loop(url, request, budget, tally)) for _ in range(connections)]
    _, pending = await asyncio.wait(tasks, timeout=duration + RESPONSE_TIMEOUT)
    for task in pending:
        task.cancel()
    tally.failures += len(pending)
    await asyncio.gather(*pending, return_exceptions=True)
    return tally, time.perf_counter() - started


def run_builtin(url: str, work: Workload, connections: int, duration: float, cap: int) -> Result:
    """Measure a workload with the asyncio generator."""
    cpu_before = time.process_time()
    tally, seconds = asyncio.run(builtin_load(url, work, connections, duration, cap))
    cpu = time.process_time() - cpu_before
    latencies = sorted(tally.latencies)
    count = len(latencies)
    return Result(
        name=work.name,
        generator="builtin",
        connections=connections,
        requests=count,
        seconds=round(seconds, 3),
        rps=round(count / seconds, 1) if seconds else 0.0,
        p50_ms=round(percentile(latencies, 0.50) * 1000, 2),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 2),
        errors=tally.errors,
        bytes_per_response=round(tally.wire_bytes / count, 1) if count else 0.0,
        client_cpu_percent=round(100 * cpu / seconds, 1) if seconds else 0.0,
        statuses={str(code): n for code, n in sorted(tally.statuses.items())},
    )


# --- wrk ----------------------------------------------------------------------------------------

WRK_SCRIPT = """
local expected = %(expected)d
local shares = {%(shares)s}
local threads = {}
bad = 0
seen = 0
cap = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("cap", shares[#threads] or 0)
end

function response(status, headers, body)
  seen = seen + 1
  if status ~= expected then bad = bad + 1 end
  if cap > 0 and seen >= cap then
    io.stdout:write("%(stopped)s\\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local unexpected = 0
  for _, thread in ipairs(threads) do unexpected = unexpected + thread:get("bad") end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"bytes":%%d,"p50_us":%%d,"p99_us":%%d,' ..
    '"socket_errors":%%d,"unexpected":%%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, unexpected))
end
"""


def wrk_threads(requested: int, connections: int, cap: int) -> int:
    """How many wrk threads to use: a divisor of connections (wrk splits them evenly), and no more than the cap."""
    threads = max(1, min(requested or os.cpu_count() or 1, connections, cap or connections))
    while connections % threads:
        threads -= 1
    return threads


def cap_shares(cap: int, threads: int) -> list[int]:
    """Split the request cap over wrk threads (all zero when there is no cap)."""
    return [cap // threads + (i < cap % threads) for i in range(threads)]


def wrk_command(wrk: str, url: str, work: Workload, threads: int, connections: int, duration: float) -> list[str]:
    """The wrk command line of a workload, without the Lua script."""
    cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s"]
    cmd += ["--timeout", f"{RESPONSE_TIMEOUT:.0f}s"]
    for name, value in work.headers.items():
        cmd += ["-H", f"{name}: {value}"]
    return [*cmd, url.rstrip("/") + work.path]


def run_wrk_process(cmd: list[str], threads: int, capped: bool, timeout: float) -> str:
    """Run wrk and return its output; once every thread reached its cap, interrupt it so it reports at once."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    lines: list[str] = []
    stopped = 0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            stopped += line.startswith(THREAD_STOPPED)
            if capped and stopped == threads:
                proc.send_signal(signal.SIGINT)
        returncode = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(lines)
    if returncode != 0:
        raise RuntimeError(f"wrk failed ({returncode}):\n{output}")
    return output


def parse_wrk(output: str) -> dict[str, int]:
    """Extract the JSON line the Lua ``done`` hook prints."""
    for line in output.splitlines():
        if line.startswith(RESULT_MARK):
            figures: dict[str, int] = json.loads(line[len(RESULT_MARK) :])
            return figures
    raise RuntimeError(f"wrk printed no result line:\n{output}")


def run_wrk(wrk: str, url: str, work: Workload, connections: int, duration: float, cap: int, threads: int) -> Result:
    """Measure a workload with wrk, stopping each thread at its share of the request cap."""
    threads = wrk_threads(threads, connections, cap)
    shares = ", ".join(map(str, cap_shares(cap, threads)))
    lua = WRK_SCRIPT % {"expected": work.expected, "shares": shares, "mark": RESULT_MARK, "stopped": THREAD_STOPPED}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="kumpul-bench-") as script:
        script.write(lua)
        script.flush()
        cmd = [*wrk_command(wrk, url, work, threads, connections, duration), "-s", script.name]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = run_wrk_process(cmd, threads, cap > 0, duration + 60)
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = parse_wrk(output)
    seconds = figures["duration_us"] / 1e6
    count = figures["requests"]
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return Result(
        name=work.name,
        generator=f"wrk ({threads} threads)",
        connections=connections,
        requests=count,
        seconds=round(seconds, 3),
        rps=round(count / seconds, 1) if seconds else 0.0,
        p50_ms=round(figures["p50_us"] / 1000, 2),
        p99_ms=round(figures["p99_us"] / 1000, 2),
        errors=figures["socket_errors"] + figures["unexpected"],
        bytes_per_response=round(figures["bytes"] / count, 1) if count else 0.0,
        client_cpu_percent=round(100 * cpu / seconds, 1) if seconds else 0.0,
    )


# --- output -------------------------------------------------------------------------------------

COLUMNS = (
    ("workload", "name", "<"),
    ("generator", "generator", "<"),
    ("conns", "connections", ">"),
    ("requests", "requests", ">"),
    ("seconds", "seconds", ">"),
    ("req/s", "rps", ">"),
    ("p50 ms", "p50_ms", ">"),
    ("p99 ms", "p99_ms", ">"),
    ("errors", "errors", ">"),
    ("bytes/resp", "bytes_per_response", ">"),
    ("client cpu%", "client_cpu_percent", ">"),
)


def format_table(results: Sequence[Result]) -> str:
    """Render the results as a plain aligned table."""
    rows = [[title for title, _, _ in COLUMNS]]
    rows += [[str(getattr(result, attr)) for _, attr, _ in COLUMNS] for result in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for row in rows:
        cells = [f"{cell:{align}{width}}" for cell, width, (_, _, align) in zip(row, widths, COLUMNS, strict=True)]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def write_json(path: Path, base_url: str, started: bool, results: Sequence[Result]) -> None:
    """Write the figures for later collection."""
    document = {
        "benchmark": "programme",
        "url": base_url,
        "started_server": started,
        "results": [asdict(result) for result in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


# --- main ---------------------------------------------------------------------------------------


def choose_wrk(generator: str) -> str | None:
    """The wrk executable to use, or None for the built-in generator."""
    if generator == "builtin":
        return None
    wrk = shutil.which("wrk")
    if wrk is None and generator == "wrk":
        raise SystemExit("--generator wrk: wrk is not on PATH")
    return wrk


def measure(base_url: str, token: str | None, args: argparse.Namespace) -> list[Result]:
    """Run every workload against ``base_url``."""
    wrk = choose_wrk(args.generator)
    results = []
    for work in prepare(base_url, token):
        if wrk:
            result = run_wrk(wrk, base_url, work, args.connections, args.duration, args.requests, args.threads)
        else:
            result = run_builtin(base_url, work, args.connections, args.duration, args.requests)
        results.append(result)
        print(f"  {work.name}: {result.rps} req/s", file=sys.stderr, flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Benchmark the programme endpoints and print a table."""
    args = parse_args(argv)
    if args.url:
        base_url = args.url.rstrip("/")
        results = measure(base_url, args.token, args)
    else:
        with served(find_kumpul(args.kumpul)) as (base_url, token):
            results = measure(base_url, token, args)
    print(format_table(results))
    if any(result.errors for result in results):
        print("errors: non-expected statuses or transport failures occurred", file=sys.stderr)
    if args.json_path:
        write_json(args.json_path, base_url, not args.url, results)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
