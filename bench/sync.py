"""Private sync: ``POST /api/me/sync`` requests per second with 500 attendees editing 5 KB notes.

Each attendee is one device with a pycrdt note (title, 5 KB body, meta), as the PWA keeps it, and
speaks the real protocol (sync/PROTOCOL.md section 3): it encrypts the diff against the state it last
sent (AES-GCM under its notebook key, a fresh nonce each time), appends it to the note's log with the
version it has and its cursor, and applies what comes back. Also printed: the bytes on the wire of one
small edit to the 5 KB note, request and answer (the target is under 1 KB each way).

The attendees are created in the benchmark's fresh database through ``AttendeeService`` before the
server starts (the HTTP route allows 120 new attendees a minute per address, as it should). First each
attendee uploads its 5 KB note; then the measured phase: every attendee makes small edits (a few words
typed or deleted) and syncs, over and over, all interleaved over a pool of keep-alive connections. One
device never has two syncs in flight. Reported: requests per second and latency (p50, p99) of both
phases. On PostgreSQL with two nodes the connections alternate between the nodes (a device's syncs land on
either, as behind a load balancer without sticky sessions), and the small edit's second device syncs through the
other node (bench/engines.py); server CPU is the nodes' and the database's. The target is for two nodes on
PostgreSQL: at least 1.5x the requests per second of one SQLite node, p99 under 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
import httpx
from common import (
    add_common_args,
    build_request,
    need_sockets,
    percentile,
    read_response,
    run_main,
    serve_args,
    write_json,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from engines import Deployment, Engines, add_engine_args, each_engine, failed
from pycrdt import Doc, Map, Text

# This script is bench/sync.py: take its folder off the path, so that ``sync`` is the project's package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

from server.services.attendees import AttendeeService  # noqa: E402 -- after the path is fixed
from server.services.ratelimit import RateLimiter  # noqa: E402
from server.storage import vault  # noqa: E402
from server.storage.db import open_database  # noqa: E402
from sync import new_note_id  # noqa: E402

NOTE_BYTES = 5 * 1024
WORDS = [
    "programme",
    "session",
    "speaker",
    "venue",
    "panel",
    "hall",
    "break",
    "lunch",
    "question",
    "answer",
    "follow",
    "up",
    "contact",
    "slides",
]
DECODERS = {"br": brotli.decompress, "gzip": gzip.decompress}


@dataclass(slots=True)
class Device:
    """One attendee's device: its token, its note, what the server acknowledged, and its cursor."""

    token: str
    note_id: str
    doc: Doc[Any]
    rounds_left: int
    key: bytes = field(default_factory=lambda: AESGCM.generate_key(bit_length=256))
    synced_vector: bytes = b""
    sending_vector: bytes = b""
    version: int = 0
    cursor: str | None = None

    def body(self) -> bytes:
        """The JSON of the sync request for what changed since the last acknowledged state."""
        update = self.doc.get_update(self.synced_vector) if self.synced_vector else self.doc.get_update()
        self.sending_vector = self.doc.get_state()
        frame = seal(self.key, self.note_id, update)
        body = {
            "cursor": self.cursor,
            "keyId": 1,
            "logs": [{"id": self.note_id, "since": self.version, "append": [base64.b64encode(frame).decode()]}],
        }
        return json.dumps(body).encode()

    def request(self, host: str) -> bytes:
        """The sync request for what changed since the last acknowledged state."""
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Accept-Encoding": "gzip, br",
        }
        return build_request("POST", host, "/api/me/sync", headers, self.body())

    def receive(self, body: bytes) -> None:
        """Apply the server's answer; from now on the server has what this device sent."""
        answer = json.loads(body)
        for log in answer["logs"]:
            if log["id"] == self.note_id:
                for entry in log["entries"]:
                    self.doc.apply_update(
                        unseal(self.key, self.note_id, entry["kind"], base64.b64decode(entry["frame"]))
                    )
                self.version = max(self.version, log["version"])
        self.cursor = answer["cursor"]
        self.synced_vector = self.sending_vector


@dataclass
class Phase:
    """What one phase of syncing observed."""

    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    database_cpu_s: float | None = None

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        ok = self.statuses.get("200", 0)
        database: dict[str, float] = {}
        if self.database_cpu_s is not None and ordered:
            database["database_cpu_ms_per_request"] = round(self.database_cpu_s / len(ordered) * 1000, 2)
        return {
            "requests": len(ordered),
            "ok": ok,
            "statuses": dict(self.statuses),
            "seconds": round(self.seconds, 3),
            "rps": round(ok / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
            "server_cpu_ms_per_request": round(self.server_cpu_s / len(ordered) * 1000, 2) if ordered else 0.0,
            "client_cpu_ms_per_request": round(self.client_cpu_s / len(ordered) * 1000, 2) if ordered else 0.0,
            **database,
        }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attendees", type=int, default=None, help="attendees (default 500; quick 50)")
    parser.add_argument("--rounds", type=int, default=None, help="edit-and-sync rounds each (default 10; quick 4)")
    parser.add_argument("--connections", type=int, default=None, help="keep-alive connections (default 50; quick 10)")
    parser.add_argument("--duration", type=float, default=60.0, help="most seconds for the measured phase (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the edits (default 1)")
    add_common_args(parser)
    add_engine_args(parser)
    args = parser.parse_args(argv)
    quick = args.quick
    args.attendees = args.attendees or (50 if quick else 500)
    args.rounds = args.rounds or (4 if quick else 10)
    args.connections = args.connections or (10 if quick else 50)
    if args.attendees < 1 or args.rounds < 1 or args.connections < 1 or args.duration <= 0:
        parser.error("--attendees, --rounds, --connections and --duration must be positive")
    # The server allows 30 syncs at once per attendee, then 2 a second: stay within, as a real device would.
    if args.rounds > 29:
        parser.error("--rounds above 29 would run into the per-attendee sync limit (30 at once)")
    return args


# --- attendees and notes ------------------------------------------------------------------------


def create_attendees(db_path: Path, database_url: str | None, count: int) -> list[str]:
    """Create ``count`` attendees in a fresh database (the SQLite file, or PostgreSQL at ``database_url``) through
    the service layer, each with notebook key 1 registered (its id only: the key stays on the device); return their
    tokens."""

    async def create() -> list[str]:
        db = open_database(db_path, database_url)
        await db.open()
        try:
            service = AttendeeService(db, RateLimiter())
            # Each seeded attendee stands for a phone of its own, so each has its own address.
            tokens = []
            for i in range(count):
                attendee_id, token, _ = await service.create(f"bench-device-{i}")
                async with db.write() as conn:
                    await vault.set_key(conn, attendee_id, 1, None)
                tokens.append(token)
            return tokens
        finally:
            await db.close()

    return asyncio.run(create())


def seal(key: bytes, doc_id: str, plaintext: bytes, kind: str = "update") -> bytes:
    """One encrypted frame as the PWA makes it: format 1, key id 1, a fresh nonce, ciphertext and tag."""
    nonce = os.urandom(12)
    return b"\x01" + (1).to_bytes(4, "big") + nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(doc_id, kind))


def unseal(key: bytes, doc_id: str, kind: str, frame: bytes) -> bytes:
    return AESGCM(key).decrypt(frame[5:17], frame[17:], _aad(doc_id, kind))


def _aad(doc_id: str, kind: str) -> bytes:
    return f"kumpul-vault/1|{doc_id}|{kind}".encode()


def new_note(rng: random.Random) -> Doc[Any]:
    """A note with a title, a 5 KB body and its meta, as the PWA writes one."""
    doc: Doc[Any] = Doc()
    words: list[str] = []
    while sum(len(word) + 1 for word in words) < NOTE_BYTES:
        words.append(rng.choice(WORDS))
    with doc.transaction():
        doc.get("title", type=Text).insert(0, "Notes from the plenary")
        doc.get("body", type=Text).insert(0, " ".join(words)[:NOTE_BYTES])
        meta = doc.get("meta", type=Map)
        meta["createdAt"] = "2026-11-22T09:00:00Z"
        meta["deleted"] = False
    return doc


def small_edit(doc: Doc[Any], rng: random.Random) -> None:
    """Type a word somewhere in the body, and now and then delete a few characters."""
    body = doc.get("body", type=Text)
    with doc.transaction():
        body.insert(rng.randrange(len(body) + 1), f" {rng.choice(WORDS)}")
        if rng.random() < 0.3 and len(body) > 20:
            start = rng.randrange(len(body) - 10)
            del body[start : start + rng.randint(1, 8)]


# --- load ---------------------------------------------------------------------------------------


async def worker(
    port: int, queue: asyncio.Queue[Device], phase: Phase, deadline: float, rng: random.Random, edit: bool
) -> None:
    """One keep-alive connection: take a device, let it edit and sync once, put it back if it has rounds left."""
    host = f"127.0.0.1:{port}"
    writer: asyncio.StreamWriter | None = None
    try:
        while not queue.empty() and time.perf_counter() < deadline:
            device = queue.get_nowait()
            if edit:
                small_edit(device.doc, rng)
            request = device.request(host)
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                started = time.perf_counter()
                writer.write(request)
                response = await read_response(reader, keep_body=True)
                phase.latencies.append(time.perf_counter() - started)
                phase.statuses[str(response.status)] += 1
                if response.status == 200:
                    encoding = response.header("content-encoding")
                    device.receive(DECODERS[encoding](response.body) if encoding else response.body)
                if not response.keep_alive:
                    writer.close()
                    writer = None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
                phase.statuses[type(error).__name__] += 1
                if writer is not None:
                    writer.close()
                writer = None
            device.rounds_left -= 1
            if device.rounds_left > 0:
                queue.put_nowait(device)
    finally:
        if writer is not None:
            writer.close()


async def run_phase(
    name: str, deployment: Deployment, devices: list[Device], args: argparse.Namespace, *, edit: bool
) -> Phase:
    """Sync every device ``rounds_left`` times over ``connections`` connections, spread over the nodes."""
    queue: asyncio.Queue[Device] = asyncio.Queue()
    for device in devices:
        queue.put_nowait(device)
    phase = Phase(name)
    rng = random.Random(args.seed)
    cpu, client_cpu, database_cpu = deployment.cpu_seconds(), time.process_time(), deployment.database_cpu_seconds()
    started = time.perf_counter()
    deadline = started + args.duration
    connections = [deployment.node_for(number).port for number in range(args.connections)]
    await asyncio.gather(*(worker(port, queue, phase, deadline, rng, edit) for port in connections))
    phase.seconds = time.perf_counter() - started
    phase.server_cpu_s = deployment.cpu_seconds() - cpu
    phase.client_cpu_s = time.process_time() - client_cpu
    if deployment.database_url is not None:  # the server CPU includes it; on SQLite it is the server's own
        phase.database_cpu_s = deployment.database_cpu_seconds() - database_cpu
    return phase


async def run(
    deployment: Deployment, tokens: list[str], args: argparse.Namespace
) -> tuple[list[Phase], dict[str, int]]:
    """Upload every note, then edit and sync; then the bytes of one small edit on the wire."""
    rng = random.Random(args.seed)
    devices = [Device(token, new_note_id(), new_note(rng), rounds_left=1) for token in tokens]
    upload = await run_phase("upload a 5 KB note", deployment, devices, args, edit=False)
    for device in devices:
        device.rounds_left = args.rounds
    edits = await run_phase("small edits", deployment, devices, args, edit=True)
    return [upload, edits], await wire_bytes(deployment, devices[0], rng)


async def wire_bytes(deployment: Deployment, phone: Device, rng: random.Random) -> dict[str, int]:
    """What one small edit to the 5 KB note costs: the phone's request, and the answer its second device gets
    (from the last node, so with two nodes the edit crosses from one to the other)."""
    phone_url, laptop_url = deployment.first.base_url, deployment.nodes[-1].base_url
    async with (
        httpx.AsyncClient(base_url=phone_url, timeout=30) as client,
        httpx.AsyncClient(base_url=laptop_url, timeout=30) as other,
    ):
        auth = {"Authorization": f"Bearer {phone.token}"}
        code = (await client.post("/api/attendees/me/link-code", headers=auth)).json()["code"]
        token = (await other.post("/api/attendees/link", json={"code": code})).json()["token"]
        laptop = Device(token, phone.note_id, Doc(), rounds_left=0, key=phone.key)
        laptop_auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        first = await other.post("/api/me/sync", content=json.dumps({"keyId": 1}), headers=laptop_auth)
        laptop.receive(first.content)
        small_edit(phone.doc, rng)
        request = phone.body()
        sent = await client.post("/api/me/sync", content=request, headers={**auth, "Content-Type": "application/json"})
        phone.receive(sent.content)
        asked = json.dumps({"cursor": laptop.cursor, "keyId": 1}).encode()
        plain = await other.post("/api/me/sync", content=asked, headers={**laptop_auth, "Accept-Encoding": "identity"})
        packed = await other.post("/api/me/sync", content=asked, headers={**laptop_auth, "Accept-Encoding": "br"})
        laptop.receive(plain.content)
        if str(laptop.doc.get("body", type=Text)) != str(phone.doc.get("body", type=Text)):
            raise RuntimeError("the second device did not get the edit")
        return {
            "request_body_bytes": len(request),
            "answer_body_bytes": len(plain.content),
            "answer_body_bytes_br": int(packed.headers.get("content-length", len(packed.content))),
        }


def measure(engines: Engines, engine: str, args: argparse.Namespace, limit: int) -> dict[str, Any]:
    """Run both phases against ``engine``'s fresh nodes, their database holding the attendees."""
    tokens: list[str] = []

    def seed(db_path: Path, database_url: str | None) -> None:
        tokens.extend(create_attendees(db_path, database_url, args.attendees))

    with engines.deploy(
        engine, args.kumpul, demo=False, nofile=limit, prepare=seed, extra_args=serve_args(args)
    ) as deployment:
        info = deployment.info(args)
        phases, wire = asyncio.run(run(deployment, tokens, args))
    figures = {
        "benchmark": "sync",
        "quick": args.quick,
        "server": info,
        "attendees": args.attendees,
        "rounds": args.rounds,
        "connections": args.connections,
        "note_bytes": NOTE_BYTES,
        "phases": {phase.name: phase.figures() for phase in phases},
        "small_edit_wire": wire,
    }
    for name, phase in figures["phases"].items():
        print(
            f"{name:<20} {phase['ok']:>6} / {phase['requests']} ok  {phase['rps']:>7.1f} req/s"
            f"  p50 {phase['p50_ms']:.1f} ms  p99 {phase['p99_ms']:.1f} ms"
            f"  CPU per request: server {phase['server_cpu_ms_per_request']:.2f} ms,"
            f" client {phase['client_cpu_ms_per_request']:.2f} ms"
            + (
                f" (database {phase['database_cpu_ms_per_request']:.2f} ms)"
                if "database_cpu_ms_per_request" in phase
                else ""
            )
            + f"  {phase['statuses']}"
        )
    print(
        f"one small edit to the 5 KB note: request {wire['request_body_bytes']} bytes, the other device's answer"
        f" {wire['answer_body_bytes']} bytes ({wire['answer_body_bytes_br']} with brotli)"
    )
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Run the private sync on each engine in turn."""
    args = parse_args(argv)
    limit = need_sockets(args.connections)
    results = each_engine(args.engines, lambda engines, engine: measure(engines, engine, args, limit))
    if args.json_path:
        write_json(args.json_path, {"benchmark": "sync", "quick": args.quick, "engines": results})
    return 1 if failed(results) else 0


if __name__ == "__main__":
    run_main(main)
