"""Reconnect storm: thousands of phones with stale cursors ask ``/api/changes`` at once, right after an edit.

When the venue wifi comes back, every phone reconnects and asks for the changes after its cursor. Here
2,000 clients (by default) each hold a cursor from before one of the last organiser edits; the last
edit is made, and at that moment all are released together (a barrier): each opens a new connection,
sends one ``GET /api/changes?since=…`` with ``Accept-Encoding: br, gzip``, reads the answer and closes.
Reported: how many got 200, latency from the release to the complete response (p50, p99), the time
until the last response, and the compressed body bytes per response. On PostgreSQL with two nodes the edits are
made on node A and the clients are spread over both nodes (bench/engines.py); the CPU is the nodes' and the
database's.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import brotli
import httpx
from common import (
    Editor,
    add_common_args,
    build_request,
    need_sockets,
    read_response,
    run_main,
    serve_args,
    spread,
    write_json,
)
from engines import Deployment, Engines, add_engine_args, each_engine, failed

TARGET_P99_S = 1.0
TARGET_ALL_S = 3.0
ACCEPT_ENCODING = "br, gzip"
DECODERS = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}


@dataclass(slots=True)
class Outcome:
    """What one client saw."""

    cursor: int
    seconds: float = 0.0
    status: int = 0
    body_bytes: int = 0
    encoding: str | None = None
    body: bytes = b""
    error: str | None = None


@dataclass
class Storm:
    """Everything the clients saw, and when the barrier fell."""

    outcomes: list[Outcome] = field(default_factory=list)
    released: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=None, help="clients released at once (default 2000; quick 200)")
    parser.add_argument(
        "--behind", type=int, default=10, help="the clients' cursors spread over this many last edits (default 10)"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a client waits at most (default 30)")
    add_common_args(parser)
    add_engine_args(parser)
    args = parser.parse_args(argv)
    if args.clients is None:
        args.clients = 200 if args.quick else 2000
    if args.clients < 1 or args.behind < 1 or args.timeout <= 0:
        parser.error("--clients, --behind and --timeout must be positive")
    return args


async def client(port: int, request: bytes, go: asyncio.Event, storm: Storm, outcome: Outcome, patience: float) -> None:
    """One reconnecting phone: wait for the barrier, connect, ask once, read the answer, hang up."""
    await go.wait()
    writer = None
    try:
        async with asyncio.timeout(patience):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            response = await read_response(reader, keep_body=True)
        outcome.seconds = time.perf_counter() - storm.released
        outcome.status = response.status
        outcome.body = response.body
        outcome.body_bytes = int(response.header("content-length") or len(response.body))
        outcome.encoding = response.header("content-encoding")
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
        outcome.seconds = time.perf_counter() - storm.released
        outcome.error = type(error).__name__
    finally:
        if writer is not None:
            writer.close()


async def run_storm(deployment: Deployment, token: str, args: argparse.Namespace) -> Storm:
    """Make the edits on node A, line the clients up behind the barrier (spread over the nodes), make the last edit
    and release them."""
    editor = await asyncio.to_thread(
        lambda: Editor(httpx.Client(base_url=deployment.first.base_url, timeout=30.0), token)
    )
    cursors = []
    for _ in range(args.behind - 1):
        cursors.append(await asyncio.to_thread(editor.cursor))
        await asyncio.to_thread(editor.edit)
    cursors.append(await asyncio.to_thread(editor.cursor))
    headers = {"Accept-Encoding": ACCEPT_ENCODING}
    paths = [f"/api/changes?since={quote(cursor, safe='')}" for cursor in cursors]
    storm = Storm(outcomes=[Outcome(cursor=i % len(cursors)) for i in range(args.clients)])
    go = asyncio.Event()
    tasks = []
    for number, outcome in enumerate(storm.outcomes):
        port = deployment.node_for(number).port
        request = build_request("GET", f"127.0.0.1:{port}", paths[outcome.cursor], headers)
        tasks.append(asyncio.create_task(client(port, request, go, storm, outcome, args.timeout)))
    await asyncio.sleep(0.2)  # every client is waiting at the barrier
    await asyncio.to_thread(editor.edit)  # the organiser's edit that every phone now has to fetch
    server_cpu, client_cpu = deployment.cpu_seconds(), time.process_time()
    storm.released = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    storm.server_cpu_s = deployment.cpu_seconds() - server_cpu
    storm.client_cpu_s = time.process_time() - client_cpu
    editor.client.close()
    return storm


def check_bodies(storm: Storm) -> int:
    """Decode every 200 response and check it is a page of changes; return how many were not."""
    bad = 0
    for outcome in storm.outcomes:
        if outcome.status != 200:
            continue
        try:
            page = json.loads(DECODERS[outcome.encoding](outcome.body))
            if not page["changes"] or not isinstance(page["cursor"], str):
                bad += 1
        except (KeyError, ValueError, brotli.error):
            bad += 1
        outcome.body = b""
    return bad


def summarise(storm: Storm, args: argparse.Namespace, server: dict[str, Any]) -> dict[str, Any]:
    """The figures of one storm."""
    outcomes = storm.outcomes
    ok = [o for o in outcomes if o.status == 200]
    bad_bodies = check_bodies(storm)
    seconds = spread([o.seconds for o in ok])
    sizes = [o.body_bytes for o in ok]
    failures = Counter(o.error or f"HTTP {o.status}" for o in outcomes if o.status != 200)
    last = max((o.seconds for o in outcomes), default=0.0)
    all_ok = len(ok) == len(outcomes) and not bad_bodies
    return {
        "benchmark": "storm",
        "quick": args.quick,
        "server": server,
        "clients": len(outcomes),
        "distinct_cursors": args.behind,
        "succeeded": len(ok),
        "failed": dict(failures),
        "bad_bodies": bad_bodies,
        "latency": seconds,
        "last_response_s": round(last, 3),
        "bytes_per_response": {
            "mean": round(sum(sizes) / len(sizes), 1) if sizes else 0.0,
            "min": min(sizes, default=0),
            "max": max(sizes, default=0),
        },
        "encodings": dict(Counter(str(o.encoding) for o in ok)),
        "cpu_s": {"server": round(storm.server_cpu_s, 2), "client": round(storm.client_cpu_s, 2)},
        "targets": {"p99_s": TARGET_P99_S, "all_within_s": TARGET_ALL_S},
        "met": {
            "all_succeeded": all_ok,
            "p99": all_ok and seconds["p99_s"] <= TARGET_P99_S,
            "all_within": all_ok and last <= TARGET_ALL_S,
        },
    }


def print_summary(figures: dict[str, Any]) -> None:
    """Print the storm's figures."""
    latency, size = figures["latency"], figures["bytes_per_response"]
    clients, behind = figures["clients"], figures["distinct_cursors"]
    print(f"reconnect storm: {clients} clients, cursors spread over the last {behind} edits")
    print(f"  succeeded        {figures['succeeded']} / {figures['clients']}  failed: {figures['failed'] or 'none'}")
    print(f"  latency          p50 {latency['p50_s']:.3f} s  p99 {latency['p99_s']:.3f} s (target ≤ {TARGET_P99_S} s)")
    print(f"  last response    {figures['last_response_s']:.3f} s after the release (target ≤ {TARGET_ALL_S} s)")
    print(f"  CPU during storm server {figures['cpu_s']['server']} s, client {figures['cpu_s']['client']} s")
    print(f"  compressed body  mean {size['mean']:.0f} B (min {size['min']}, max {size['max']}) {figures['encodings']}")


def measure(engines: Engines, engine: str, args: argparse.Namespace, limit: int) -> dict[str, Any]:
    """Run the storm against ``engine``'s fresh nodes with the demo."""
    with engines.deploy(engine, args.kumpul, nofile=limit, extra_args=serve_args(args)) as deployment:
        token = deployment.organiser("storm", "editor")
        info = deployment.info(args)
        storm = asyncio.run(run_storm(deployment, token, args))
    figures = summarise(storm, args, info)
    print_summary(figures)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Run the storm on each engine in turn."""
    args = parse_args(argv)
    limit = need_sockets(args.clients)
    results = each_engine(args.engines, lambda engines, engine: measure(engines, engine, args, limit))
    if args.json_path:
        write_json(args.json_path, {"benchmark": "storm", "quick": args.quick, "engines": results})
    return 1 if failed(results) else 0


if __name__ == "__main__":
    run_main(main)
