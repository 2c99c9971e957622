"""The noisy neighbour: one attendee hammering the largest documents the limits allow, 200 others making small edits.

One attendee fills its storage quota (5 MB: notes of ~240 KB of incompressible data each, the most a note's
encrypted log may hold) and then syncs as fast as its rate limit lets it, over several connections at once: each
request rewrites a note (a ~240 KB encrypted snapshot replacing its log) with a null cursor, so the server sends
back everything the attendee holds (5 MB), compressed with brotli if it will. Meanwhile 200 other attendees make
small edits to their 5 KB notes and sync, as bench/sync.py does. Reported: the others' p50/p99 without the noisy
neighbour, then with it, and the ratio of the two p99s. Target: the p99 with the noisy neighbour at most twice
the p99 without.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import importlib.util
import json
import random
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from common import (
    Server,
    add_common_args,
    build_request,
    need_sockets,
    read_response,
    run_main,
    serve_args,
    served,
    server_info,
    write_json,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pycrdt import Doc, Map, Text

# Take this folder off the path, so that ``sync`` is the project's package (bench/sync.py is loaded by path below).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

from sync import new_note_id  # noqa: E402 -- after the path is fixed


def _load_sync_bench() -> ModuleType:
    """bench/sync.py, whose devices and phases this benchmark reuses (its name would shadow the ``sync`` package)."""
    spec = importlib.util.spec_from_file_location("bench_sync", Path(__file__).resolve().parent / "sync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_sync"] = module
    spec.loader.exec_module(module)
    return module


bench_sync = _load_sync_bench()

QUOTA_BYTES = 5 * 1024 * 1024
#: Just under the 256 KB a note's whole state may hold.
BLOB_BYTES = 240 * 1024
NOISY_CONNECTIONS = 4


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attendees", type=int, default=None, help="benign attendees (default 200; quick 50)")
    parser.add_argument("--rounds", type=int, default=None, help="edit-and-sync rounds each, per phase (default 12)")
    parser.add_argument("--connections", type=int, default=None, help="their keep-alive connections (default 40)")
    parser.add_argument("--duration", type=float, default=120.0, help="most seconds per phase (default 120)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the edits (default 1)")
    add_common_args(parser)
    args = parser.parse_args(argv)
    args.attendees = args.attendees or (50 if args.quick else 200)
    args.rounds = args.rounds or (6 if args.quick else 12)
    args.connections = args.connections or (10 if args.quick else 40)
    if args.attendees < 1 or args.rounds < 1 or args.connections < 1 or args.duration <= 0:
        parser.error("--attendees, --rounds, --connections and --duration must be positive")
    # Upload + two phases must stay within the 30 syncs an attendee may make at once.
    if 2 * args.rounds + 1 > 29:
        parser.error("--rounds above 14 would run into the per-attendee sync limit (30 at once)")
    return args


class Noisy:
    """The noisy attendee: notes stuffed with incompressible data, rewritten and read back whole at the rate limit."""

    def __init__(self, token: str, rng: random.Random) -> None:
        self.token = token
        self.rng = rng
        self.key = AESGCM.generate_key(bit_length=256)
        self.notes: list[tuple[str, Doc[Any]]] = []
        #: The version each note's log reaches once the requests made so far are accepted.
        self.versions: dict[str, int] = {}
        self.statuses: Counter[str] = Counter()
        self.response_bytes = 0

    def _stuff(self, doc: Doc[Any]) -> None:
        blobs = doc.get("attachments", type=Map)
        with doc.transaction():
            for key in list(blobs.keys()):
                del blobs[key]
            blobs["blob"] = base64.b64encode(self.rng.randbytes(BLOB_BYTES * 3 // 4)).decode()

    def new_note(self) -> tuple[str, Doc[Any]]:
        doc: Doc[Any] = Doc()
        doc.get("title", type=Text).insert(0, "attachments")
        self._stuff(doc)
        return new_note_id(), doc

    def request(self, host: str, notes: list[tuple[str, Doc[Any]]], *, cursor: str | None = None) -> bytes:
        body = {"cursor": cursor, "keyId": 1, "logs": [self._log(note_id, doc) for note_id, doc in notes]}
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Accept-Encoding": "br",
        }
        return build_request("POST", host, "/api/me/sync", headers, json.dumps(body).encode())

    def _log(self, note_id: str, doc: Doc[Any]) -> dict[str, Any]:
        """A note's first upload, or a rewrite: a whole-state snapshot replacing the log, and a tiny update after it
        (so that the next rewrite has something new to compact), as a device compacting a big note does."""
        version = self.versions.get(note_id, 0)
        self.versions[note_id] = version + 1
        state = bench_sync.seal(self.key, note_id, doc.get_update(), "snapshot" if version else "update")
        if not version:
            return {"id": note_id, "since": 0, "append": [base64.b64encode(state).decode()]}
        tiny = bench_sync.seal(self.key, note_id, b"\x00\x00")
        return {
            "id": note_id,
            "since": version,
            "append": [base64.b64encode(tiny).decode()],
            "snapshot": {"upTo": version, "frame": base64.b64encode(state).decode()},
        }

    def rewrites(self, host: str, count: int) -> list[bytes]:
        """``count`` requests, each rewriting one note whole and asking for everything (prepared beforehand)."""
        prepared = []
        for index in range(count):
            note = self.notes[index % len(self.notes)]
            self._stuff(note[1])
            prepared.append(self.request(host, [note]))
        return prepared


async def exchange(port: int, request: bytes) -> tuple[int, int, float]:
    """One request on a new connection: status, body size and Retry-After (0 when absent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        response = await read_response(reader)
        return response.status, response.wire_bytes, float(response.header("retry-after") or 0)
    finally:
        writer.close()


async def fill_quota(server: Server, noisy: Noisy) -> None:
    """Upload notes two at a time until the quota refuses more."""
    host = f"127.0.0.1:{server.port}"
    while True:
        batch = [noisy.new_note(), noisy.new_note()]
        status, _, _ = await exchange(server.port, noisy.request(host, batch))
        noisy.statuses[f"fill {status}"] += 1
        if status != 200:
            break
        noisy.notes += batch
    if not noisy.notes:
        raise RuntimeError("the noisy attendee could not store anything")


async def hammer(server: Server, noisy: Noisy, requests: list[bytes], stop: asyncio.Event) -> None:
    """Send the prepared rewrites at the rate limit: as fast as accepted, waiting only as Retry-After says."""
    queue = list(reversed(requests))

    async def connection() -> None:
        host = f"127.0.0.1:{server.port}"
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            while not stop.is_set():
                request = queue.pop() if queue else noisy.request(host, [noisy.notes[0]])
                writer.write(request)
                response = await read_response(reader)
                noisy.statuses[str(response.status)] += 1
                noisy.response_bytes += response.wire_bytes
                if not response.keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                if response.status == 429:
                    retry = float(response.header("retry-after") or 1)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=retry)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(NOISY_CONNECTIONS)))


async def run(server: Server, tokens: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Upload the notes, fill the noisy attendee's quota, then the small edits without and with it."""
    rng = random.Random(args.seed)
    devices = [bench_sync.Device(token, new_note_id(), bench_sync.new_note(rng), rounds_left=1) for token in tokens[1:]]
    await bench_sync.run_phase("upload a 5 KB note", server, devices, args, edit=False)
    noisy = Noisy(tokens[0], rng)
    await fill_quota(server, noisy)
    prepared = noisy.rewrites(f"127.0.0.1:{server.port}", 60)
    rss_before = server.rss_kib()

    for device in devices:
        device.rounds_left = args.rounds
    quiet = await bench_sync.run_phase("small edits alone", server, devices, args, edit=True)

    # Let the noisy attendee's burst allowance refill, so it starts at full strength.
    await asyncio.sleep(15 if not args.quick else 5)
    for device in devices:
        device.rounds_left = args.rounds
    stop = asyncio.Event()
    attacker = asyncio.create_task(hammer(server, noisy, prepared, stop))
    noisy_phase = await bench_sync.run_phase("small edits beside the noisy neighbour", server, devices, args, edit=True)
    stop.set()
    await attacker
    alone, beside = quiet.figures(), noisy_phase.figures()
    return {
        "phases": {"alone": alone, "noisy": beside},
        "p99_ratio": round(beside["p99_ms"] / alone["p99_ms"], 2) if alone["p99_ms"] else None,
        "noisy": {
            "notes": len(noisy.notes),
            "statuses": dict(noisy.statuses),
            "response_mb": round(noisy.response_bytes / 1e6, 1),
        },
        "server_rss_mb": {"before": round(rss_before / 1024), "after": round(server.rss_kib() / 1024)},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the noisy neighbour against a fresh server whose database holds the attendees."""
    args = parse_args(argv)
    limit = need_sockets(args.connections + NOISY_CONNECTIONS + 8)
    tokens: list[str] = []

    def seed(db_path: Path) -> None:
        tokens.extend(bench_sync.create_attendees(db_path, args.attendees + 1))

    env = {"KUMPUL_ATTENDEE_QUOTA_BYTES": str(QUOTA_BYTES)}
    with served(args.kumpul, demo=False, nofile=limit, prepare_db=seed, env=env, extra_args=serve_args(args)) as server:
        info = server_info(server, args)
        result = asyncio.run(run(server, tokens, args))
    figures = {
        "benchmark": "abuse",
        "quick": args.quick,
        "server": info,
        "attendees": args.attendees,
        "rounds": args.rounds,
        "connections": args.connections,
        "quota_bytes": QUOTA_BYTES,
        **result,
    }
    for name, phase in result["phases"].items():
        print(
            f"others' small edits, {name:<6} {phase['ok']:>6} / {phase['requests']} ok  {phase['rps']:>7.1f} req/s"
            f"  p50 {phase['p50_ms']:.1f} ms  p99 {phase['p99_ms']:.1f} ms  {phase['statuses']}"
        )
    noisy = result["noisy"]
    print(
        f"noisy neighbour: {noisy['notes']} notes at the quota, {noisy['statuses']},"
        f" {noisy['response_mb']} MB received; p99 with / without: {result['p99_ratio']}x (target ≤ 2x);"
        f" server RSS {result['server_rss_mb']} MB"
    )
    if args.json_path:
        write_json(args.json_path, figures)
    return 0


if __name__ == "__main__":
    run_main(main)
