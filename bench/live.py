"""Live fan-out: one announcement reaches thousands of open ``/api/live`` Server-Sent Events connections.

5,000 connections (by default) are opened to one server with the demo and each waits for the stream's
``hello`` event; then an announcer posts an announcement (``POST /api/admin/announcements``) and every
connection watches its stream for the announcement's title. Reported: connection setup time, the time
from the post until each connection got the announcement (p50, p99, max; the target is all within
2 s), and the server's resident memory (VmRSS) before and after connecting, per connection.

One client process holds every connection with plain asyncio protocols (a few fields per connection);
its own event loop is part of the measured delay, so the figures are an upper bound for the server.

On PostgreSQL with two nodes the connections alternate between the nodes and the announcement is posted to node A:
the other node hears of it through the database (bench/engines.py). Memory is the nodes' together; CPU the nodes'
and the database's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx
from common import (
    add_common_args,
    build_request,
    need_sockets,
    run_main,
    serve_args,
    spread,
    write_json,
)
from engines import Deployment, Engines, add_engine_args, each_engine, failed

TARGET_ALL_S = 2.0
SETTLE_S = 1.0


class Fanout:
    """Counts arrivals of the announcement and wakes the waiter when every connection has it."""

    def __init__(self) -> None:
        self.expected = 0
        self.got = 0
        self.done = asyncio.Event()

    def arrived(self) -> None:
        self.got += 1
        if self.got >= self.expected:
            self.done.set()


class LiveClient(asyncio.Protocol):
    """One open app: reads its event stream and notes when ``hello`` and the announcement arrived."""

    __slots__ = ("announced", "error", "fanout", "hello", "marker", "request", "started", "tail", "transport", "waiter")

    def __init__(self, request: bytes, marker: bytes, waiter: asyncio.Future[None], fanout: Fanout) -> None:
        self.request = request
        self.fanout = fanout
        self.marker = marker
        self.waiter: asyncio.Future[None] | None = waiter
        self.tail = b""
        self.started = time.perf_counter()
        self.hello = 0.0
        self.announced = 0.0
        self.error: str | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        seen = self.tail + data
        if not self.hello:
            if not seen.startswith(b"HTTP/1.1 200") and not self.tail:
                self.fail(f"HTTP {seen[9:12].decode('latin-1', 'replace')}")
                return
            if b"event: hello" in seen:
                self.hello = time.perf_counter()
                self.settle()
        if not self.announced and self.marker in seen:
            self.announced = time.perf_counter()
            self.fanout.arrived()
        self.tail = seen[-len(self.marker) :]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.announced and self.error is None:
            self.error = "closed" if exc is None else type(exc).__name__
        self.settle()

    def fail(self, reason: str) -> None:
        self.error = reason
        if self.transport is not None:
            self.transport.close()
        self.settle()

    def settle(self) -> None:
        """Tell the opener that this connection is set up (or failed)."""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        self.waiter = None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=None, help="SSE connections (default 5000; quick 500)")
    parser.add_argument("--opening", type=int, default=200, help="connections being set up at once (default 200)")
    parser.add_argument("--wait", type=float, default=15.0, help="seconds to wait for the announcement (default 15)")
    add_common_args(parser)
    add_engine_args(parser)
    args = parser.parse_args(argv)
    if args.connections is None:
        args.connections = 500 if args.quick else 5000
    if args.connections < 1 or args.opening < 1 or args.wait <= 0:
        parser.error("--connections, --opening and --wait must be positive")
    return args


async def open_one(port: int, client: LiveClient, gate: asyncio.Semaphore, patience: float) -> None:
    """Connect one client and wait for its ``hello``, at most ``opening`` at a time."""
    async with gate:
        loop = asyncio.get_running_loop()
        client.started = time.perf_counter()
        try:
            await loop.create_connection(lambda: client, "127.0.0.1", port)
            assert client.waiter is not None
            await asyncio.wait_for(asyncio.shield(client.waiter), patience)
        except (OSError, TimeoutError) as error:
            client.fail(type(error).__name__)


async def announce(base_url: str, token: str, title: str) -> float:
    """Post the announcement; return when it was sent."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        sent = time.perf_counter()
        response = await http.post(
            "/api/admin/announcements",
            json={"title": title, "body": "The plenary moves to Hall B."},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
    return sent


async def run(deployment: Deployment, token: str, args: argparse.Namespace) -> dict[str, Any]:
    """Open the connections (spread over the nodes), post the announcement to node A and time its arrival
    everywhere."""
    loop = asyncio.get_running_loop()
    title = f"Room change {secrets.token_hex(6)}"
    marker = title.encode()
    requests = {
        node.port: build_request("GET", f"127.0.0.1:{node.port}", "/api/live", {"Accept": "text/event-stream"})
        for node in deployment.nodes
    }
    ports = [deployment.node_for(number).port for number in range(args.connections)]
    fanout = Fanout()
    clients = [LiveClient(requests[port], marker, loop.create_future(), fanout) for port in ports]

    await asyncio.sleep(SETTLE_S)
    rss_before = deployment.rss_kib()
    gate = asyncio.Semaphore(args.opening)
    opening = time.perf_counter()
    await asyncio.gather(
        *(open_one(port, client, gate, args.wait) for port, client in zip(ports, clients, strict=True))
    )
    opened = time.perf_counter() - opening
    await asyncio.sleep(SETTLE_S)
    rss_after = deployment.rss_kib()
    connected = [client for client in clients if client.hello and client.error is None]

    fanout.expected = len(connected)
    server_cpu = deployment.cpu_seconds()
    sent = await announce(deployment.first.base_url, token, title)
    if fanout.got < fanout.expected:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fanout.done.wait(), args.wait)
    server_cpu = deployment.cpu_seconds() - server_cpu
    rss_announced = deployment.rss_kib()
    for client in clients:
        if client.transport is not None:
            client.transport.close()

    got = [client.announced - sent for client in connected if client.announced]
    per_connection = (rss_after - rss_before) / len(connected) if connected else 0.0
    delivery = spread(got)
    return {
        "benchmark": "live",
        "quick": args.quick,
        "server": deployment.info(args),
        "connections": args.connections,
        "connected": len(connected),
        "failed": dict(Counter(client.error for client in clients if client.error and not client.announced)),
        "setup": {"all_s": round(opened, 3), **spread([client.hello - client.started for client in connected])},
        "received": len(got),
        "delivery": delivery,
        "server_cpu_s": round(server_cpu, 2),
        "rss_kib": {"before": rss_before, "after_connecting": rss_after, "after_announcement": rss_announced},
        "rss_kib_per_connection": round(per_connection, 2),
        "target_all_s": TARGET_ALL_S,
        "met": len(got) == args.connections and delivery["max_s"] <= TARGET_ALL_S,
    }


def print_summary(figures: dict[str, Any]) -> None:
    """Print the fan-out's figures."""
    setup, delivery, rss = figures["setup"], figures["delivery"], figures["rss_kib"]
    print(f"live fan-out: {figures['connections']} SSE connections, {figures['connected']} connected")
    print(
        f"  setup            all in {setup['all_s']:.2f} s; per connection p50 {setup['p50_s']:.3f} s,"
        f" p99 {setup['p99_s']:.3f} s"
    )
    print(
        f"  announcement     {figures['received']} / {figures['connections']} got it; p50 {delivery['p50_s']:.3f} s,"
        f" p99 {delivery['p99_s']:.3f} s, last {delivery['max_s']:.3f} s (target ≤ {TARGET_ALL_S} s)"
    )
    print(
        f"  server RSS       {rss['before'] / 1024:.1f} MiB before, {rss['after_connecting'] / 1024:.1f} MiB"
        f" connected ({figures['rss_kib_per_connection']:.1f} KiB per connection),"
        f" {rss['after_announcement'] / 1024:.1f} MiB after the announcement"
    )
    print(f"  server CPU       {figures['server_cpu_s']} s from the post until the last arrival")
    if figures["failed"]:
        print(f"  failed           {figures['failed']}")


def measure(engines: Engines, engine: str, args: argparse.Namespace, limit: int) -> dict[str, Any]:
    """Run the fan-out against ``engine``'s fresh nodes with the demo."""
    # Every connection comes from this one machine: let one address hold them all (the server caps streams per
    # address, 1,500 by default).
    env = {"KUMPUL_LIVE_MAX_PER_ADDRESS": str(args.connections + 100)}
    with engines.deploy(engine, args.kumpul, nofile=limit, extra_args=serve_args(args), env=env) as deployment:
        token = deployment.organiser("live", "announcer")
        figures = asyncio.run(run(deployment, token, args))
    print_summary(figures)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fan-out on each engine in turn."""
    args = parse_args(argv)
    limit = need_sockets(args.connections)
    results = each_engine(args.engines, lambda engines, engine: measure(engines, engine, args, limit))
    if args.json_path:
        write_json(args.json_path, {"benchmark": "live", "quick": args.quick, "engines": results})
    return 1 if failed(results) else 0


if __name__ == "__main__":
    run_main(main)
