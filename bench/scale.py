"""A FOSDEM-sized conference on one machine (issue 15): the demo beside a generated 1,000-session programme.

For each programme (the 69-session demo, and ``bench/programme_gen.py``'s 1,000 sessions moved so that
today is its second day) one ``kumpul serve`` runs with its default workers, and this script measures:

- **build**: after each organiser edit, the time until a new phone's ``GET /api/programme`` (brotli) returns
  the edited programme (p50/p99 over the edits), and the server's CPU seconds per edit on an otherwise quiet
  server (the edit, the one build shared by every worker, and a few reads from each worker);
- **bytes**: the programme's compressed sizes (brotli, the resumable gzip bytes) in all and per session, and
  the physical limit of a first visit over bad wifi: ``bytes * 8 / bandwidth + round trips`` at 400 kbit/s
  with 400 ms RTT and at 150 kbit/s (computed, not measured through an emulated link);
- **live**: apps resuming ``/api/live`` with a ``Last-Event-ID`` from before an import, beside the same number
  resuming with a current one: the time until all got their ``programme`` event;
- **import**: a re-import of the whole programme (every session retitled) while another organiser edits a
  session every 50 ms and an announcer posts an announcement every 50 ms: the import's wall time, the slowest
  concurrent write, any 503, and the longest the write lock was held (a probe process takes the write lock
  every 10 ms; its longest wait bounds how long anyone held it);
- **arrival** (once, on the demo server): 8,000 new attendees from one address, as fast as 64 connections
  go: how long until all started, and how many were refused.

Writes ``--json`` for bench/report.py. ``--quick`` runs fewer edits, apps and attendees (harness check only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from common import (
    ROOT,
    Server,
    add_common_args,
    build_request,
    find_kumpul,
    need_sockets,
    percentile,
    run_main,
    serve_args,
    served,
    write_json,
)

sys.path.insert(0, str(ROOT))
from bench.programme_gen import generate

TARGET_FIRST_PHONE_P99_S = 0.5
TARGET_CPU_PER_EDIT_S = 1.0
TARGET_LIVE_RATIO = 1.5
TARGET_IMPORT_LOCK_S = 0.5
TARGET_ARRIVAL_S = 60.0
TARGET_FIRST_VIEW_S = 6.0
#: Bad-wifi links of the issue: (name, bits per second, round-trip seconds).
LINKS = (("400 kbit/s, 400 ms RTT", 400_000, 0.4), ("150 kbit/s, 1 % loss", 150_000, 0.1))
#: What this script measures (``--only`` picks some).
MEASURES = ("bytes", "build", "live", "import", "arrival")
#: Round trips of a first visit before the programme's bytes flow: TCP, the page, the redirect, the bytes.
FIRST_VISIT_ROUND_TRIPS = 4


def _today_programme(sessions: int) -> dict[str, Any]:
    return generate(1, sessions, first_day=date.today() - timedelta(days=1))


#: What ``kumpul import`` logs about its publication (server/services/importer.py).
_PUBLISHED = re.compile(r"import published: \d+ writes in ([0-9.]+) s")


def _import(server_kumpul: str, db: Path, document: dict[str, Any], log: list[str] | None = None) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(document, file)
        path = file.name
    started = time.perf_counter()
    done = subprocess.run([server_kumpul, "import", path, "--db", str(db)], check=True, capture_output=True, text=True)
    Path(path).unlink()
    if log is not None:
        log.extend(done.stderr.splitlines())
    return time.perf_counter() - started


#: What Chromium sends: a phone that accepts brotli accepts gzip too.
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd"


def _programme(client: httpx.Client) -> httpx.Response:
    return client.get("/api/programme", headers={"Accept-Encoding": BROWSER_ACCEPT_ENCODING}).raise_for_status()


def measure_build(server: Server, token: str, edits: int) -> dict[str, Any]:
    """Edit, then poll as a new phone would until the edited programme arrives; CPU per edit when quiet."""
    waits: list[float] = []
    first_encodings: dict[str, int] = {}
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        programme = client.get("/api/programme").raise_for_status().json()
        sessions = programme["sessions"]
        _programme(client)
        time.sleep(1.0)
        cpu_before = server.cpu_seconds()
        for n in range(edits):
            session = sessions[n * 7 % len(sessions)]
            title = f"{session['title'][:80]} (edit {n})"
            client.patch(
                f"/api/admin/sessions/{session['id']}",
                json={"title": title},
                headers={"Authorization": f"Bearer {token}"},
            ).raise_for_status()
            started = time.perf_counter()
            while True:
                with httpx.Client(base_url=server.base_url, timeout=60) as phone:  # a new phone: a new connection
                    response = _programme(phone)
                if title.encode() in _decoded(response):
                    break
            waits.append(time.perf_counter() - started)
            encoding = response.headers.get("content-encoding", "identity")
            first_encodings[encoding] = first_encodings.get(encoding, 0) + 1
            for _ in range(4):  # more phones, on whichever worker: they share the bytes
                with httpx.Client(base_url=server.base_url, timeout=60) as phone:
                    _programme(phone)
        cpu = server.cpu_seconds() - cpu_before
    waits.sort()
    return {
        "edits": edits,
        "first_phone_p50_s": percentile(waits, 0.5),
        "first_phone_p99_s": percentile(waits, 0.99),
        "first_phone_max_s": waits[-1],
        "first_phone_encodings": first_encodings,
        "cpu_s_per_edit": cpu / edits,
    }


def _decoded(response: httpx.Response) -> bytes:
    return response.content  # httpx decodes brotli when the brotli module is installed


def measure_bytes(server: Server) -> dict[str, Any]:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        plain = client.get("/api/programme", headers={"Accept-Encoding": "identity"}).raise_for_status()
        br = client.get("/api/programme", headers={"Accept-Encoding": "br"})
        brotli_bytes = int(br.headers.get("content-length") or len(br.content))
        gz = client.get("/api/programme/at/current", follow_redirects=True).raise_for_status()
        assert "content-encoding" not in gz.headers
    sessions = len(plain.json()["sessions"])
    links = {}
    for name, bits, rtt in LINKS:
        links[name] = {
            "physical_limit_s": len(gz.content) * 8 / bits + FIRST_VISIT_ROUND_TRIPS * rtt,
        }
    return {
        "sessions": sessions,
        "identity_bytes": len(plain.content),
        "brotli_bytes": brotli_bytes,
        "gzip_bytes": len(gz.content),
        "brotli_bytes_per_session": brotli_bytes / max(1, sessions),
        "gzip_bytes_per_session": len(gz.content) / max(1, sessions),
        "links": links,
    }


async def _resume(server: Server, last_event_id: str, until: bytes) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    started = time.perf_counter()
    writer.write(
        build_request(
            "GET",
            f"127.0.0.1:{server.port}",
            "/api/live",
            {"Accept": "text/event-stream", "Last-Event-ID": last_event_id},
        )
    )
    await writer.drain()
    try:
        while True:
            line = await asyncio.wait_for(reader.readline(), 60)
            if not line:
                raise ConnectionError("the stream ended before its programme event")
            if line.startswith(until):
                return time.perf_counter() - started
    finally:
        writer.close()


async def _resume_all(server: Server, last_event_id: str, apps: int, until: bytes) -> float:
    """Until every app is caught up: the ``programme`` event after its backlog, or ``hello`` when it was current."""
    started = time.perf_counter()
    await asyncio.gather(*(_resume(server, last_event_id, until) for _ in range(apps)))
    return time.perf_counter() - started


def measure_live(server: Server, document: dict[str, Any], apps: int) -> dict[str, Any]:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        old = client.get("/healthz").raise_for_status().json()["cursor"]
        retitled = {**document, "sessions": [{**s, "title": s["title"] + " (live)"} for s in document["sessions"]]}
        _import(server.kumpul, server.db, retitled)
        deadline = time.monotonic() + 30
        while client.get("/healthz").json()["cursor"] == old and time.monotonic() < deadline:
            time.sleep(0.1)
        current = client.get("/healthz").raise_for_status().json()["cursor"]
        _programme(client)
    # Interleaved, best of two each, so a busy moment of the shared machine does not land on one side only.
    current_runs, stale_runs = [], []
    for _ in range(2):
        current_runs.append(asyncio.run(_resume_all(server, current, apps, b"event: hello")))
        stale_runs.append(asyncio.run(_resume_all(server, old, apps, b"event: programme")))
    stale_s, current_s = min(stale_runs), min(current_runs)
    return {"apps": apps, "old_id_s": stale_s, "current_id_s": current_s, "ratio": stale_s / current_s}


def _lock_probe(db: Path, stop: threading.Event, waits: list[float]) -> None:
    """Take the database's write lock every 10 ms and note how long each try waited for it."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=60)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            waits.append(time.perf_counter() - started)
            conn.execute("COMMIT")
            stop.wait(0.01)
    finally:
        conn.close()


def measure_import(server: Server, token: str, announcer: str, document: dict[str, Any]) -> dict[str, Any]:
    """Re-import everything while an organiser edits a session and an announcer posts, each every 50 ms."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop = threading.Event()
    lock_waits: list[float] = []

    def announce() -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            n = 0
            while not stop.is_set():
                started = time.perf_counter()
                response = client.post(
                    "/api/admin/announcements",
                    json={"title": f"Update {n}", "body": "Coffee in the hall."},
                    headers={"Authorization": f"Bearer {announcer}"},
                )
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                n += 1
                stop.wait(0.05)

    def editor() -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            session = client.get("/api/programme").json()["sessions"][0]
            n = 0
            while not stop.is_set():
                started = time.perf_counter()
                response = client.patch(
                    f"/api/admin/sessions/{session['id']}",
                    json={"capacity": 10 + n % 50},
                    headers={"Authorization": f"Bearer {token}"},
                )
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                n += 1
                stop.wait(0.05)

    threads = [
        threading.Thread(target=editor),
        threading.Thread(target=announce),
        threading.Thread(target=_lock_probe, args=(server.db, stop, lock_waits)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    retitled = {**document, "sessions": [{**s, "title": s["title"] + " (again)"} for s in document["sessions"]]}
    lines: list[str] = []
    wall = _import(server.kumpul, server.db, retitled, lines)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "import_wall_s": wall,
        "longest_write_lock_wait_s": max(lock_waits, default=None),
        "publish_transaction_s": [float(m.group(1)) for line in lines if (m := _PUBLISHED.search(line))],
        "started_over": sum("starting over" in line for line in lines),
        "worked_out_under_the_lock": any("inside the write transaction: the programme kept" in line for line in lines),
        "concurrent_writes": len(latencies),
        "slowest_concurrent_write_s": latencies[-1] if latencies else None,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "edits_503": statuses.get(503, 0),
    }


async def _arrive(server: Server, people: int, connections: int) -> tuple[float, dict[int, int]]:
    statuses: dict[int, int] = {}
    queue = iter(range(people))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in queue:
            response = await client.post("/api/attendees")
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    return time.perf_counter() - started, statuses


def measure_arrival(server: Server, people: int) -> dict[str, Any]:
    elapsed, statuses = asyncio.run(_arrive(server, people, 64))
    return {
        "people": people,
        "all_started_s": elapsed,
        "created": statuses.get(201, 0),
        "refused": sum(count for code, count in statuses.items() if code != 201),
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
    }


def run_programme(
    name: str, args: argparse.Namespace, document: dict[str, Any] | None, *, arrival: int = 0
) -> dict[str, Any]:
    def prepare(db: Path) -> None:
        if document is not None:
            _import(find_kumpul(args.kumpul), db, document)

    edits = 5 if args.quick else 20
    apps = 100 if args.quick else 1000
    need_sockets(apps * 2 + 200)
    with served(args.kumpul, demo=document is None, prepare_db=prepare, extra_args=serve_args(args)) as server:
        token = server.organiser("bench-editor", "editor")
        announcer = server.organiser("bench-announcer", "announcer")
        if document is None:
            with httpx.Client(base_url=server.base_url, timeout=60) as client:
                raw = client.get("/api/programme").raise_for_status().json()
            base = {key: raw[key] for key in ("event", "rooms", "tracks", "formats", "speakers", "sessions")}
        else:
            base = document
        result: dict[str, Any] = {"name": name}
        only = set(args.only or MEASURES)
        if "bytes" in only:
            result["bytes"] = measure_bytes(server)
            print(f"{name}: bytes {result['bytes']}", file=sys.stderr)
        if "build" in only:
            result["build"] = measure_build(server, token, edits)
            print(f"{name}: build {result['build']}", file=sys.stderr)
        if "live" in only:
            result["live"] = measure_live(server, base, apps)
            print(f"{name}: live {result['live']}", file=sys.stderr)
        if "import" in only:
            result["import"] = measure_import(server, token, announcer, base)
            print(f"{name}: import {result['import']}", file=sys.stderr)
        if arrival and "arrival" in only:
            result["arrival"] = measure_arrival(server, arrival)
            print(f"{name}: arrival {result['arrival']}", file=sys.stderr)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_common_args(parser)
    parser.add_argument("--sessions", type=int, default=1000, help="sessions in the generated programme")
    parser.add_argument("--only", nargs="+", choices=MEASURES, help="measure only these (the report needs all of them)")
    parser.add_argument("--big-only", action="store_true", help="skip the demo programme")
    args = parser.parse_args(argv)
    big = _today_programme(200 if args.quick else args.sessions)
    runs: list[tuple[str, dict[str, Any] | None, int]] = [
        ("demo", None, 500 if args.quick else 8000),
        (f"generated {len(big['sessions'])} sessions", big, 0),
    ]
    if args.big_only:
        runs = runs[1:]
    results = [run_programme(name, args, document, arrival=arrival) for name, document, arrival in runs]
    document = {
        "programmes": results,
        "targets": {
            "first_phone_p99_s": TARGET_FIRST_PHONE_P99_S,
            "cpu_s_per_edit": TARGET_CPU_PER_EDIT_S,
            "live_ratio": TARGET_LIVE_RATIO,
            "import_lock_s": TARGET_IMPORT_LOCK_S,
            "arrival_s": TARGET_ARRIVAL_S,
            "first_view_s": TARGET_FIRST_VIEW_S,
        },
        "quick": args.quick,
    }
    print(json.dumps(document, indent=2))
    if args.json_path:
        write_json(args.json_path, document)
    return 0


if __name__ == "__main__":
    run_main(main)
