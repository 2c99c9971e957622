"""Requests per second of the programme snapshot and its 304 revalidation, beside nginx serving the same bytes.

Also measures the change feed (cursor up to date, and 20 organiser edits behind). The programme's gzip
body is fetched from Kumpul and written to a temporary folder that a loopback nginx serves as a static
pre-compressed file (``gzip_static``, strong ETag, the same Content-Type, Cache-Control and Vary), so
the ratio Kumpul/nginx for the same client, concurrency and bytes is measured in one run: a noisy
machine slows both. Without nginx the comparison rows are skipped and said so.

A third server answers the same requests: ``bench/bare_asgi.py``, an ASGI app that sends Kumpul's exact
headers and bytes from constants, on the same ASGI server with the same number of workers. It is the ceiling
for any Python app served that way, so its ratio to nginx says how much of the gap is left to Kumpul's code.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from common import (
    RESPONSE_TIMEOUT,
    Editor,
    add_common_args,
    build_request,
    find_kumpul,
    free_port,
    keepalive_load,
    percentile,
    run_main,
    serve_args,
    served,
    server_info,
    stop_process,
    tail,
    wait_healthy,
    write_json,
)

# bench/pwa.py takes its server helpers from here.
__all__ = ["find_kumpul", "free_port", "main", "stop_server", "wait_healthy"]
stop_server = stop_process

ACCEPT_ENCODING = "gzip, br"
PROGRAMME_ENCODING = "gzip"  # what nginx's gzip_static serves, so both send the same bytes
STALE_EDITS = 20
NGINX_START_TIMEOUT = 10.0
RATIO_TARGET = 0.5
RESULT_MARK = "KUMPUL_BENCH_RESULT "
THREAD_STOPPED = "KUMPUL_BENCH_THREAD_STOPPED"


@dataclass(frozen=True)
class Workload:
    """One request repeated under load: where to send it, what to send and which status counts as success."""

    name: str
    url: str
    path: str
    headers: dict[str, str]
    expected: int
    server: str = "kumpul"


@dataclass
class Result:
    """The figures of one workload run."""

    name: str
    server: str
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


# --- command line -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="base URL of a running server (default: start one on loopback)")
    parser.add_argument("--token", default=None, help="an editor's token for --url, to measure changes after 20 edits")
    parser.add_argument("--duration", type=float, default=None, help="seconds per workload (default 5; quick 1)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default 50)")
    parser.add_argument("--requests", type=int, default=0, help="request cap per workload (default: no cap)")
    parser.add_argument("--generator", choices=("auto", "wrk", "builtin"), default="auto", help="load generator")
    parser.add_argument("--threads", type=int, default=0, help="wrk threads (default: CPU count, at most connections)")
    parser.add_argument("--nginx", default=None, help="nginx executable (default: /usr/sbin/nginx, else on PATH)")
    parser.add_argument("--no-nginx", action="store_true", help="skip the comparison with nginx")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare ASGI app (bench/bare_asgi.py)")
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 1.0 if args.quick else 5.0
    if args.duration <= 0 or args.connections < 1 or args.requests < 0:
        parser.error("--duration and --connections must be positive, --requests not negative")
    return args


# --- workloads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeBytes:
    """The programme as Kumpul serves it: the plain JSON, its gzip form and that form's ETag."""

    identity: bytes
    gzip: bytes
    etag: str
    headers_200: list[tuple[str, str]] = field(default_factory=list)
    headers_304: list[tuple[str, str]] = field(default_factory=list)


def fetch_programme(client: httpx.Client) -> ProgrammeBytes:
    """Download the programme plain and gzip-encoded (the compressed bytes exactly as sent)."""
    identity = client.get("/api/programme", headers={"Accept-Encoding": "identity"}).raise_for_status().content
    with client.stream("GET", "/api/programme", headers={"Accept-Encoding": PROGRAMME_ENCODING}) as response:
        response.raise_for_status()
        if response.headers.get("content-encoding") != PROGRAMME_ENCODING:
            raise SystemExit(f"GET /api/programme did not answer {PROGRAMME_ENCODING}-encoded")
        etag = response.headers.get("etag")
        body = b"".join(response.iter_raw())
    if not etag:
        raise SystemExit("GET /api/programme sent no ETag header")
    revalidated = client.get("/api/programme", headers={"Accept-Encoding": PROGRAMME_ENCODING, "If-None-Match": etag})
    return ProgrammeBytes(identity, body, etag, _own_headers(response.headers), _own_headers(revalidated.headers))


def _own_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    """The headers the app itself sent (the ASGI server adds its date and name)."""
    return [(name, value) for name, value in headers.multi_items() if name.lower() not in ("date", "server")]


def probe(client: httpx.Client, work: Workload) -> None:
    """Send a workload's request once and check its status."""
    status = client.get(work.url + work.path, headers=work.headers).status_code
    if status != work.expected:
        raise SystemExit(f"{work.name}: expected {work.expected}, the probe got {status}")


def prepare(base_url: str, token: str | None) -> tuple[list[Workload], ProgrammeBytes]:
    """Build Kumpul's workloads, checking each once, and return the programme's bytes for nginx.

    With an organiser token, 20 sessions are edited first, so a workload can ask for the changes
    after the cursor from before the edits, as every phone does when the wifi comes back.
    """
    compressed = {"Accept-Encoding": ACCEPT_ENCODING}
    gzip_only = {"Accept-Encoding": PROGRAMME_ENCODING}
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        stale_cursor = client.get("/api/programme").json()["cursor"]
        if token:
            Editor(client, token).edit(STALE_EDITS)
        programme = fetch_programme(client)
        cursor = client.get("/api/programme").json()["cursor"]
        changes = f"/api/changes?since={quote(cursor, safe='')}"
        workloads = [
            Workload("programme 200", base_url, "/api/programme", gzip_only, 200),
            Workload("programme 304", base_url, "/api/programme", {**gzip_only, "If-None-Match": programme.etag}, 304),
            Workload("changes (up to date)", base_url, changes, compressed, 200),
        ]
        if token:
            path = f"/api/changes?since={quote(stale_cursor, safe='')}"
            workloads.append(Workload(f"changes ({STALE_EDITS} edits behind)", base_url, path, compressed, 200))
        for work in workloads:
            probe(client, work)
    return workloads, programme


# --- nginx serving the same bytes ---------------------------------------------------------------

NGINX_CONF = """\
{user}worker_processes auto;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {tmp}/www;
        location = /api/programme {{
            default_type application/json;
            gzip_static on;
            gzip_vary on;
            etag on;
            add_header Cache-Control no-cache;
        }}
    }}
}}
"""


@dataclass
class Nginx:
    """The loopback nginx of this run, or why there is none."""

    url: str | None = None
    version: str | None = None
    skipped: str | None = None


def find_nginx(explicit: str | None) -> str | None:
    """The nginx executable, or None."""
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    if os.access("/usr/sbin/nginx", os.X_OK):
        return "/usr/sbin/nginx"
    return shutil.which("nginx")


def nginx_config(tmp: Path, port: int) -> str:
    """A non-root nginx configuration: pid, logs and temporary files in ``tmp``, in the foreground."""
    # Run as root, nginx would switch its workers to ``nobody``, who cannot read the temporary folder.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    return NGINX_CONF.format(user=user, tmp=tmp, port=port)


def wait_nginx(url: str, proc: subprocess.Popen[bytes], log: Path) -> str | None:
    """Wait until nginx answers; return what went wrong if it exits or stays silent."""
    deadline = time.monotonic() + NGINX_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"nginx exited with {proc.returncode}: {tail(log, 5)}"
        try:
            httpx.get(url + "/api/programme", timeout=1.0)
            return None
        except httpx.TransportError:
            time.sleep(0.05)
    return f"nginx did not answer within {NGINX_START_TIMEOUT:.0f} s: {tail(log, 5)}"


def check_nginx(url: str, programme: ProgrammeBytes) -> str:
    """Check that nginx sends the same gzip bytes with the headers that matter; return its ETag."""
    with httpx.stream("GET", url + "/api/programme", headers={"Accept-Encoding": PROGRAMME_ENCODING}) as response:
        body = b"".join(response.iter_raw())
        headers = response.headers
    problems = []
    if response.status_code != 200 or body != programme.gzip:
        problems.append(f"status {response.status_code}, {len(body)} bytes, not the {len(programme.gzip)} expected")
    for name, value in (("content-encoding", "gzip"), ("content-type", "application/json")):
        if headers.get(name) != value:
            problems.append(f"{name}: {headers.get(name)!r}")
    etag = headers.get("etag", "")
    if not etag.startswith('"'):
        problems.append(f"no strong ETag ({etag!r})")
    if problems:
        raise SystemExit("nginx does not serve the programme as Kumpul does: " + "; ".join(problems))
    return etag


@contextmanager
def nginx_serving(programme: ProgrammeBytes, args: argparse.Namespace) -> Iterator[Nginx]:
    """Serve the programme's bytes with nginx on loopback (or yield why not)."""
    executable = None if args.no_nginx else find_nginx(args.nginx)
    if executable is None:
        reason = "--no-nginx" if args.no_nginx else f"nginx not found ({args.nginx or 'apt-get install nginx'})"
        print(f"skipping the nginx comparison: {reason}", file=sys.stderr)
        yield Nginx(skipped=reason)
        return
    version = subprocess.run([executable, "-v"], capture_output=True, text=True, check=False).stderr.strip()
    with tempfile.TemporaryDirectory(prefix="kumpul-bench-nginx-") as name:
        tmp = Path(name)
        tmp.chmod(0o755)
        (tmp / "www" / "api").mkdir(parents=True)
        (tmp / "www" / "api" / "programme").write_bytes(programme.identity)
        (tmp / "www" / "api" / "programme.gz").write_bytes(programme.gzip)
        port = free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(nginx_config(tmp, port))
        log = tmp / "error.log"
        with (tmp / "stdout.log").open("wb") as out:
            proc = subprocess.Popen(
                [executable, "-p", str(tmp), "-c", str(conf), "-e", str(log)], stdout=out, stderr=subprocess.STDOUT
            )
        url = f"http://127.0.0.1:{port}"
        version = version.removeprefix("nginx version: ")
        try:
            problem = wait_nginx(url, proc, log)
            if problem:
                print(f"skipping the nginx comparison: {problem}", file=sys.stderr)
            yield Nginx(version=version, skipped=problem) if problem else Nginx(url=url, version=version)
        finally:
            stop_process(proc)


def nginx_workloads(nginx: Nginx, programme: ProgrammeBytes) -> list[Workload]:
    """The programme workloads against nginx: the same requests, nginx's own ETag."""
    assert nginx.url is not None
    etag = check_nginx(nginx.url, programme)
    gzip_only = {"Accept-Encoding": PROGRAMME_ENCODING}
    workloads = [
        Workload("nginx: programme 200", nginx.url, "/api/programme", gzip_only, 200, "nginx"),
        Workload(
            "nginx: programme 304", nginx.url, "/api/programme", {**gzip_only, "If-None-Match": etag}, 304, "nginx"
        ),
    ]
    with httpx.Client(timeout=10.0) as client:
        for work in workloads:
            probe(client, work)
    return workloads


# --- a bare ASGI app on the same server ------------------------------------------------------------


@contextmanager
def bare_serving(programme: ProgrammeBytes, args: argparse.Namespace) -> Iterator[str | None]:
    """Serve Kumpul's exact programme answers from constants with granian, as Kumpul is served; yield its URL."""
    if args.no_bare or args.url or (args.server or "granian") != "granian":
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="kumpul-bench-bare-") as name:
        tmp = Path(name)
        (tmp / "body").write_bytes(programme.gzip)
        spec = {
            "headers_200": programme.headers_200,
            "headers_304": programme.headers_304,
            "body_file": str(tmp / "body"),
        }
        (tmp / "spec.json").write_text(json.dumps(spec))
        port = free_port()
        workers = args.workers or os.cpu_count() or 1
        cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "asyncio", "--workers", str(workers)]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--backlog", "4096", "--no-ws", "bare_asgi:app"]
        log = tmp / "bare.log"
        env = {**os.environ, "KUMPUL_BARE_ASGI": str(tmp / "spec.json")}
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=Path(__file__).parent, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, log)
            yield url
        finally:
            stop_process(proc)


def bare_workloads(url: str, programme: ProgrammeBytes) -> list[Workload]:
    """The programme workloads against the bare ASGI app."""
    gzip_only = {"Accept-Encoding": PROGRAMME_ENCODING}
    revalidate = {**gzip_only, "If-None-Match": programme.etag}
    workloads = [
        Workload("bare ASGI: programme 200", url, "/api/programme", gzip_only, 200, "bare-asgi"),
        Workload("bare ASGI: programme 304", url, "/api/programme", revalidate, 304, "bare-asgi"),
    ]
    with httpx.Client(timeout=10.0) as client:
        for work in workloads:
            probe(client, work)
    return workloads


# --- built-in generator -------------------------------------------------------------------------


def run_builtin(work: Workload, connections: int, duration: float, cap: int) -> Result:
    """Measure a workload with the asyncio generator."""
    cpu_before = time.process_time()
    request = build_request("GET", urlsplit(work.url).netloc, work.path, work.headers)
    tally, seconds = asyncio.run(keepalive_load(work.url, request, work.expected, connections, duration, cap))
    cpu = time.process_time() - cpu_before
    latencies = sorted(tally.latencies)
    count = len(latencies)
    return Result(
        name=work.name,
        server=work.server,
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


def wrk_command(wrk: str, work: Workload, threads: int, connections: int, duration: float) -> list[str]:
    """The wrk command line of a workload, without the Lua script."""
    cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s"]
    cmd += ["--timeout", f"{RESPONSE_TIMEOUT:.0f}s"]
    for name, value in work.headers.items():
        cmd += ["-H", f"{name}: {value}"]
    return [*cmd, work.url.rstrip("/") + work.path]


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


def run_wrk(wrk: str, work: Workload, connections: int, duration: float, cap: int, threads: int) -> Result:
    """Measure a workload with wrk, stopping each thread at its share of the request cap."""
    threads = wrk_threads(threads, connections, cap)
    shares = ", ".join(map(str, cap_shares(cap, threads)))
    lua = WRK_SCRIPT % {"expected": work.expected, "shares": shares, "mark": RESULT_MARK, "stopped": THREAD_STOPPED}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="kumpul-bench-") as script:
        script.write(lua)
        script.flush()
        cmd = [*wrk_command(wrk, work, threads, connections, duration), "-s", script.name]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = run_wrk_process(cmd, threads, cap > 0, duration + 60)
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = parse_wrk(output)
    seconds = figures["duration_us"] / 1e6
    count = figures["requests"]
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return Result(
        name=work.name,
        server=work.server,
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


def programme_ratios(results: Sequence[Result], ours: str = "", theirs: str = "nginx: ") -> dict[str, float]:
    """Requests/s of one server over another's for the same workload (by default Kumpul's over nginx's)."""
    by_name = {result.name: result for result in results}
    ratios = {}
    for name in ("programme 200", "programme 304"):
        mine, other = by_name.get(f"{ours}{name}"), by_name.get(f"{theirs}{name}")
        if mine and other and other.rps:
            ratios[name] = round(mine.rps / other.rps, 3)
    return ratios


# --- main ---------------------------------------------------------------------------------------


def choose_wrk(generator: str) -> str | None:
    """The wrk executable to use, or None for the built-in generator."""
    if generator == "builtin":
        return None
    wrk = shutil.which("wrk")
    if wrk is None and generator == "wrk":
        raise SystemExit("--generator wrk: wrk is not on PATH")
    return wrk


def interleave(ours: list[Workload], theirs: list[Workload]) -> list[Workload]:
    """Each other server's workload right after Kumpul's of the same name, so all see the same moment of the
    machine."""
    ordered = []
    for work in ours:
        ordered.append(work)
        ordered += [other for other in theirs if other.name.endswith(f": {work.name}")]
    return ordered


def measure(workloads: Sequence[Workload], args: argparse.Namespace) -> list[Result]:
    """Run every workload."""
    wrk = choose_wrk(args.generator)
    results = []
    for work in workloads:
        if wrk:
            result = run_wrk(wrk, work, args.connections, args.duration, args.requests, args.threads)
        else:
            result = run_builtin(work, args.connections, args.duration, args.requests)
        results.append(result)
        print(f"  {work.name}: {result.rps} req/s", file=sys.stderr, flush=True)
    return results


def run_all(base_url: str, token: str | None, args: argparse.Namespace, server: dict[str, Any]) -> dict[str, Any]:
    """Measure Kumpul's workloads and nginx's beside them; return the JSON document."""
    workloads, programme = prepare(base_url, token)
    with nginx_serving(programme, args) as nginx, bare_serving(programme, args) as bare_url:
        others = nginx_workloads(nginx, programme) if nginx.url else []
        if bare_url:
            others += bare_workloads(bare_url, programme)
        results = measure(interleave(workloads, others), args)
    ratios = programme_ratios(results)
    return {
        "benchmark": "programme",
        "quick": args.quick,
        "url": base_url,
        "started_server": not args.url,
        "server": server,
        "encoding": PROGRAMME_ENCODING,
        "programme_bytes": {"identity": len(programme.identity), PROGRAMME_ENCODING: len(programme.gzip)},
        "nginx": asdict(nginx),
        "ratios_vs_nginx": ratios,
        "ratios_bare_asgi_vs_nginx": programme_ratios(results, "bare ASGI: "),
        "ratios_vs_bare_asgi": programme_ratios(results, "", "bare ASGI: "),
        "ratio_target": RATIO_TARGET,
        "results": [asdict(result) for result in results],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Benchmark the programme endpoints and print a table."""
    args = parse_args(argv)
    if args.url:
        document = run_all(args.url.rstrip("/"), args.token, args, {"url": args.url})
    else:
        with served(args.kumpul, extra_args=serve_args(args)) as server:
            info = server_info(server, args)
            document = run_all(server.base_url, server.organiser("bench", "editor"), args, info)
    results = [Result(**result) for result in document["results"]]
    print(format_table(results))
    for name, ratio in document["ratios_vs_nginx"].items():
        verdict = "meets" if ratio >= RATIO_TARGET else "misses"
        print(f"{name}: Kumpul at {ratio:.0%} of nginx's requests/s ({verdict} the {RATIO_TARGET:.0%} target)")
    for name, ratio in document["ratios_bare_asgi_vs_nginx"].items():
        share = document["ratios_vs_bare_asgi"].get(name, 0.0)
        print(f"{name}: a bare ASGI app on the same server at {ratio:.0%} of nginx; Kumpul at {share:.0%} of it")
    if document["nginx"]["skipped"]:
        print(f"nginx comparison skipped: {document['nginx']['skipped']}")
    if any(result.errors for result in results):
        print("errors: non-expected statuses or transport failures occurred", file=sys.stderr)
    if args.json_path:
        write_json(args.json_path, document)
    return 0


if __name__ == "__main__":
    run_main(main)
