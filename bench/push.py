"""Web Push fan-out: messages/s and CPU per message for Kumpul's outbox, pywebpush and the bare cryptography.

One run measures, one after the other on the same subscriptions (distinct keys) and the same loopback receiver:

* Kumpul's whole path: an announcement posted to a real server, queued in its outbox for every subscription,
  claimed, encrypted, signed (one VAPID JWT per push service) and posted; timed until the receiver has every
  message, CPU of the server process (all its threads and child processes). ``--engines`` measures it on SQLite,
  on PostgreSQL with one node and with two (bench/engines.py): there the announcement is posted to node A and
  both nodes' outboxes send together, each message once (the receiver counts requests and distinct
  subscriptions), and the CPU is the nodes' and the database's.
* pywebpush doing the same sends (same payload and headers) from 64 threads in a child process.
* The bare cryptography a Web Push message needs, alone in a child process: an ECDH key pair and exchange,
  HKDF, AES-GCM and one ES256 signature per message, with ``cryptography``; measured just before and just
  after Kumpul on each engine and averaged, so both sides of the CPU ratio meet the same load on a shared
  machine.

The receiver (bench/push_receiver.py) runs in its own process and only answers 201, so it takes little CPU
from the sender measured; a few sampled messages are checked afterwards (they decrypt, the VAPID JWT verifies).
Machines are noisy: compare ratios within one run; ``--runs`` repeats and the summary is the median.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
from common import database_args, find_kumpul, process_tree
from cryptography.hazmat.primitives.asymmetric import ec
from engines import ENGINES, Deployment, Engines, add_engine_args, failure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.push_service import BrowserSubscription, b64url_decode, parse_vapid_header  # noqa: E402

PAYLOAD = {"type": "announcement", "id": "bench", "title": "Plenary moved to Hall B", "body": "Starts 10:30." * 10}
#: Kumpul's announcement carries translations; the subscriptions read these languages in turn ("vi" has no
#: translation, so it gets the original), so the fan-out sends each device the text in its own language.
TRANSLATIONS = {
    "id": {"title": "Pleno pindah ke Aula B", "body": "Mulai 10.30." * 10},
    "th": {"title": "ย้ายการประชุมใหญ่ไปห้องโถง B", "body": "เริ่ม 10:30 น." * 10},
}
SUBSCRIPTION_LANGUAGES = ["en", "id", "th", "vi"]


def language_of(sub_id: str) -> str:
    """The language the bench's subscription ``sub_id`` (its index) reads."""
    return SUBSCRIPTION_LANGUAGES[int(sub_id) % len(SUBSCRIPTION_LANGUAGES)] if sub_id.isdigit() else "en"


def expected_title(sub_id: str) -> str:
    return TRANSLATIONS.get(language_of(sub_id), PAYLOAD)["title"]


HEADERS = {"Urgency": "normal", "Topic": "bench-announcement"}


class Receiver:
    """The loopback receiver process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "push_receiver.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"
        self.client = httpx.Client(timeout=10)

    def stats(self) -> dict[str, Any]:
        figures: dict[str, Any] = self.client.get(f"{self.url}/stats").json()
        return figures

    def reset(self) -> None:
        self.client.post(f"{self.url}/reset")

    def wait_for(self, count: int, seconds: float) -> dict[str, Any]:
        """Poll until ``count`` distinct subscriptions got a message; the stats then."""
        deadline = time.monotonic() + seconds
        while True:
            figures = self.stats()
            if figures["distinct"] >= count or time.monotonic() > deadline:
                return figures
            time.sleep(0.02)

    def close(self) -> None:
        self.client.close()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def check_samples(
    figures: dict[str, Any], subs: dict[str, BrowserSubscription], origin: str, key: str | None, *, by_language: bool
) -> int:
    """Decrypt the sampled messages (each in its subscription's language when ``by_language``) and verify their
    VAPID JWT; returns how many were checked."""
    samples = figures["samples"]
    for sub_id, sample in samples.items():
        sub = subs[sub_id]
        plaintext = json.loads(sub.decrypt(base64.b64decode(sample["body"])))
        assert plaintext["title"] == (expected_title(sub_id) if by_language else PAYLOAD["title"]), plaintext
        assert sample["content-encoding"] == "aes128gcm", sample
        assert int(sample["ttl"]) > 0, sample
        assert sample.get("urgency"), f"Urgency is sent: {sample}"
        assert sample.get("topic"), f"Topic is sent: {sample}"
        token, k = parse_vapid_header(sample["authorization"])
        assert key is None or k == key, "signed with the server's VAPID key"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(k))
        jwt.decode(token, public, algorithms=["ES256"], audience=origin)
    if not samples:
        raise SystemExit("no sampled messages to check")
    return len(samples)


def insert_subscriptions(db: Path, database_url: str | None, subs: list[BrowserSubscription]) -> None:
    """Store the subscriptions straight into the database (SQLite file or PostgreSQL), each in its language."""
    rows = [(s.endpoint, s.p256dh, s.auth, language_of(s.sub_id)) for s in subs]
    if database_url is None:
        with sqlite3.connect(db) as conn:
            conn.executemany(
                "INSERT INTO push_subscriptions (endpoint, p256dh, auth, lang, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, datetime('now'), datetime('now'))",
                rows,
            )
        return
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, lang, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, kumpul_now(), kumpul_now())",
            rows,
        )


def sent_by_node(deployment: Deployment) -> list[int]:
    """How many messages each node's outbox workers sent, from the outbox (a claim names its worker's process)."""
    query = "SELECT claimed_by, count(*) FROM push_outbox WHERE state = 'sent' GROUP BY claimed_by"
    if deployment.database_url is None:
        with closing(sqlite3.connect(deployment.first.db)) as conn:
            owners = conn.execute(query).fetchall()
    else:
        with psycopg.connect(deployment.database_url) as pg:
            owners = pg.execute(query).fetchall()
    trees = [set(process_tree(node.pid)) for node in deployment.nodes]
    counts = [0] * len(trees)
    for owner, count in owners:
        pid = int(owner.split("/")[-2]) if owner else 0
        for number, tree in enumerate(trees):
            if pid in tree:
                counts[number] += count
    return counts


def bench_kumpul(
    receiver: Receiver, subs: list[BrowserSubscription], engines: Engines, engine: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Post one announcement to node A of ``engine``'s nodes holding ``subs`` (their outboxes send it together);
    time until the receiver has them all."""
    env = {"KUMPUL_ALLOW_INSECURE_PUSH": "1"}
    kumpul = find_kumpul(None)
    tokens: list[str] = []

    def seed(db: Path, database_url: str | None) -> None:
        # The subscriptions are there when the server starts, as after a restart during a conference: the
        # organiser's token is made by the command line, which creates the database.
        added = subprocess.run(
            [kumpul, "organiser", "add", "bench", "--role", "admin", *database_args(db, database_url)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env},
        )
        tokens.append(added.stdout.strip().splitlines()[-1])
        insert_subscriptions(db, database_url, subs)

    workers = ["--workers", str(args.workers)] if args.workers else []
    with engines.deploy(engine, kumpul, demo=False, prepare=seed, env=env, extra_args=workers) as deployment:
        url = deployment.first.base_url
        auth = {"Authorization": f"Bearer {tokens[0]}"}
        key = httpx.get(f"{url}/api/push/key").json()["publicKey"]
        event = {"name": "Bench", "timeZone": "Asia/Makassar", "startDate": "2026-07-22", "endDate": "2026-07-24"}
        httpx.put(
            f"{url}/api/admin/event",
            json={**event, "language": "en", "languages": ["en", *TRANSLATIONS]},
            headers=auth,
        ).raise_for_status()
        receiver.reset()
        time.sleep(0.2)  # let the server settle after start-up before measuring
        receiver_cpu = receiver.stats()["cpu"]
        cpu_before = deployment.cpu_seconds()
        started = time.monotonic()
        response = httpx.post(
            f"{url}/api/admin/announcements",
            json={"title": PAYLOAD["title"], "body": PAYLOAD["body"], "translations": TRANSLATIONS},
            headers=auth,
        )
        response.raise_for_status()
        figures = receiver.wait_for(len(subs), args.timeout)
        seconds = time.monotonic() - started
        cpu = deployment.cpu_seconds() - cpu_before
        report = httpx.get(f"{url}/api/admin/announcements/{response.json()['id']}/delivery", headers=auth).json()
        info = {**deployment.info(args), "sent_by_node": sent_by_node(deployment)}
    if figures["distinct"] < len(subs):
        raise SystemExit(f"Kumpul delivered {figures['distinct']} of {len(subs)} within {args.timeout} s")
    checked = check_samples(figures, {s.sub_id: s for s in subs}, receiver.url, key, by_language=True)
    row = result("kumpul outbox", len(subs), seconds, cpu, figures, receiver_cpu, checked, report)
    return {**row, "server": info}


def pywebpush_worker(spec_path: str) -> None:
    """Run in a child process: pywebpush sends to every subscription, 64 at a time, and reports time and CPU."""
    from py_vapid import Vapid02
    from pywebpush import webpush

    spec = json.loads(Path(spec_path).read_text())
    vapid = Vapid02()
    vapid.generate_keys()
    data = json.dumps(PAYLOAD)

    def send(sub: dict[str, Any]) -> int:
        claims = {"sub": "mailto:bench@kumpul.invalid"}
        response = webpush(
            sub, data, vapid_private_key=vapid, vapid_claims=claims, ttl=3600, headers=dict(HEADERS), timeout=30
        )
        return int(getattr(response, "status_code", 0))

    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(send, spec["subs"]))
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "ok": sum(200 <= s < 300 for s in statuses)}))


def bench_pywebpush(
    receiver: Receiver, subs: list[BrowserSubscription], workdir: Path, limit: float
) -> dict[str, Any] | None:
    try:
        import pywebpush  # noqa: F401
    except ImportError:
        print("pywebpush is not installed (pip install -e '.[bench]'); skipping the comparison", file=sys.stderr)
        return None
    spec = workdir / "subs.json"
    spec.write_text(json.dumps({"subs": [s.as_json() for s in subs]}))
    receiver.reset()
    receiver_cpu = receiver.stats()["cpu"]
    out = subprocess.run(
        [sys.executable, __file__, "--pywebpush-worker", str(spec)],
        capture_output=True,
        text=True,
        check=True,
        timeout=limit,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    stats = receiver.wait_for(len(subs), 10)
    checked = check_samples(stats, {s.sub_id: s for s in subs}, receiver.url, None, by_language=False)
    return result("pywebpush (64 threads)", len(subs), figures["seconds"], figures["cpu"], stats, receiver_cpu, checked)


def crypto_worker(spec_path: str) -> None:
    """Run in a child process: per message ECDH (new key pair + exchange), HKDF, AES-GCM and one ES256 signature."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    spec = json.loads(Path(spec_path).read_text())
    keys = [(b64url_decode(s["keys"]["p256dh"]), b64url_decode(s["keys"]["auth"])) for s in spec["subs"]]
    payload = json.dumps(PAYLOAD).encode() + b"\x02"
    vapid = ec.generate_private_key(ec.SECP256R1())
    signing_input = b"eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5vcmcifQ"
    curve = ec.SECP256R1()
    started, cpu = time.monotonic(), time.process_time()
    size = 0
    for receiver, auth in keys:
        receiver_key = ec.EllipticCurvePublicKey.from_encoded_point(curve, receiver)
        sender = ec.generate_private_key(curve)
        sender_public = sender.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        shared = sender.exchange(ec.ECDH(), receiver_key)
        salt = os.urandom(16)
        ikm = HKDF(hashes.SHA256(), 32, auth, b"WebPush: info\x00" + receiver + sender_public).derive(shared)
        cek = HKDF(hashes.SHA256(), 16, salt, b"Content-Encoding: aes128gcm\x00").derive(ikm)
        nonce = HKDF(hashes.SHA256(), 12, salt, b"Content-Encoding: nonce\x00").derive(ikm)
        size += len(AESGCM(cek).encrypt(nonce, payload, None))
        size += len(vapid.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    cpu = time.process_time() - cpu
    print(json.dumps({"seconds": time.monotonic() - started, "cpu": cpu, "bytes": size}))


def bench_crypto(subs: list[BrowserSubscription], workdir: Path, limit: float) -> dict[str, Any]:
    spec = workdir / "subs.json"
    spec.write_text(json.dumps({"subs": [s.as_json() for s in subs]}))
    out = subprocess.run(
        [sys.executable, __file__, "--crypto-worker", str(spec)],
        capture_output=True,
        text=True,
        check=True,
        timeout=limit,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return result("bare crypto (1 core)", len(subs), figures["seconds"], figures["cpu"])


def bracket(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The bare cryptography measured just before and just after Kumpul, averaged: load on a shared machine
    changes from one minute to the next, and this way both sides of the ratio see the same on average."""
    seconds = (before["seconds"] + after["seconds"]) / 2
    cpu = (before["cpu_us_per_message"] + after["cpu_us_per_message"]) / 2 * before["messages"] / 1e6
    row = result("bare crypto (1 core)", before["messages"], seconds, cpu)
    row["cpu_us_per_message_before_after"] = [before["cpu_us_per_message"], after["cpu_us_per_message"]]
    return row


def result(
    name: str,
    count: int,
    seconds: float,
    cpu: float,
    stats: dict[str, Any] | None = None,
    receiver_cpu: float | None = None,
    checked: int = 0,
    report: dict[str, int] | None = None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sender": name,
        "messages": count,
        "seconds": round(seconds, 3),
        "messages_per_second": round(count / seconds, 1),
        "cpu_us_per_message": round(cpu / count * 1e6, 1),
    }
    if stats is not None:
        row["delivered"] = stats["distinct"]
        row["requests"] = stats["requests"]
        row["connections"] = stats["connections"]
        row["samples_verified"] = checked
        if receiver_cpu is not None:
            row["receiver_cpu_us_per_message"] = round((stats["cpu"] - receiver_cpu) / count * 1e6, 1)
    if report is not None:
        row["delivery_report"] = report
    return row


def ratios(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    kumpul, crypto = rows["kumpul"], rows["crypto"]
    figures = {"cpu_vs_bare_crypto": round(kumpul["cpu_us_per_message"] / crypto["cpu_us_per_message"], 2)}
    if "pywebpush" in rows:
        speed = kumpul["messages_per_second"] / rows["pywebpush"]["messages_per_second"]
        figures["messages_per_second_vs_pywebpush"] = round(speed, 2)
    return figures


def print_run(number: int, engine: str, rows: dict[str, dict[str, Any]], figures: dict[str, float]) -> None:
    print(f"run {number}, {ENGINES[engine]}")
    print(f"  {'sender':<24} {'messages':>8} {'seconds':>8} {'msg/s':>9} {'CPU µs/msg':>11} {'receiver µs/msg':>16}")
    for row in rows.values():
        receiver = row.get("receiver_cpu_us_per_message")
        print(
            f"  {row['sender']:<24} {row['messages']:>8} {row['seconds']:>8.2f} {row['messages_per_second']:>9.1f}"
            f" {row['cpu_us_per_message']:>11.1f} {'' if receiver is None else f'{receiver:.1f}':>16}"
        )
    line = f"  kumpul CPU / bare crypto CPU: {figures['cpu_vs_bare_crypto']:.2f}x"
    if "messages_per_second_vs_pywebpush" in figures:
        line += f"; kumpul / pywebpush: {figures['messages_per_second_vs_pywebpush']:.2f}x msg/s"
    print(line, flush=True)


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each sender's and ratio's median over the runs."""
    median: dict[str, Any] = {}
    for name in runs[0]["rows"]:
        median[name] = {
            key: statistics.median(run["rows"][name][key] for run in runs)
            for key in ("messages_per_second", "cpu_us_per_message")
        }
    median["ratios"] = {key: statistics.median(run["ratios"][key] for run in runs) for key in runs[0]["ratios"]}
    return median


def measure_run(
    receiver: Receiver, subs: list[BrowserSubscription], engines: Engines, workdir: Path, args: argparse.Namespace
) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, str]]:
    """One run: on each engine Kumpul between two measurements of the bare cryptography, then pywebpush once.

    Returns:
        Each engine's senders, and why each engine that failed failed.
    """
    measured: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    errors: dict[str, str] = {}
    for engine in engines.names:
        try:
            before = bench_crypto(subs, workdir, args.timeout)
            kumpul = bench_kumpul(receiver, subs, engines, engine, args)
            after = bench_crypto(subs, workdir, args.timeout)
            measured[engine] = (kumpul, bracket(before, after))
        except (Exception, SystemExit) as error:
            errors[engine] = failure(error)
            print(f"{ENGINES[engine]}: failed", file=sys.stderr)
            traceback.print_exception(error, file=sys.stderr)
    compared = None if args.no_pywebpush else bench_pywebpush(receiver, subs, workdir, args.timeout)
    senders = {
        engine: {"kumpul": kumpul, **({"pywebpush": compared} if compared else {}), "crypto": crypto}
        for engine, (kumpul, crypto) in measured.items()
    }
    return senders, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=10_000, help="subscriptions (distinct keys)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the summary is the median of each figure")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds each sender may take before giving up")
    parser.add_argument("--no-pywebpush", action="store_true", help="skip the pywebpush comparison")
    parser.add_argument("--workers", type=int, help="worker processes of each Kumpul node (default: its own)")
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the figures as JSON")
    add_engine_args(parser)
    parser.add_argument("--pywebpush-worker", help=argparse.SUPPRESS)
    parser.add_argument("--crypto-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pywebpush_worker:
        pywebpush_worker(args.pywebpush_worker)
        return 0
    if args.crypto_worker:
        crypto_worker(args.crypto_worker)
        return 0
    receiver = Receiver()
    runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in args.engines}
    errors: dict[str, list[str]] = {engine: [] for engine in args.engines}
    try:
        subs = [BrowserSubscription(f"{receiver.url}/push/{i}", str(i)) for i in range(args.subscriptions)]
        with tempfile.TemporaryDirectory(prefix="kumpul-push-bench-") as tmp, Engines(args.engines) as engines:
            for number in range(1, args.runs + 1):
                workdir = Path(tmp) / f"run{number}"
                workdir.mkdir()
                senders, failed = measure_run(receiver, subs, engines, workdir, args)
                for engine, rows in senders.items():
                    figures = ratios(rows)
                    print_run(number, engine, rows, figures)
                    runs[engine].append({"rows": rows, "ratios": figures})
                for engine, reason in failed.items():
                    errors[engine].append(reason)
    finally:
        receiver.close()
    results: dict[str, dict[str, Any]] = {}
    for engine in args.engines:
        if not runs[engine]:
            results[engine] = {"error": errors[engine][0]}
            continue
        median = median_of(runs[engine])
        results[engine] = {
            "runs": runs[engine],
            "median": median,
            **({"errors": errors[engine]} if errors[engine] else {}),
        }
        print(f"{ENGINES[engine]}: median of {len(runs[engine])} run(s), {args.subscriptions} subscriptions:")
        for name, figures in median.items():
            print(f"  {name:<10} " + ", ".join(f"{key} {value}" for key, value in figures.items()))
    if args.json_path:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        document = {"benchmark": "push", "subscriptions": args.subscriptions, "engines": results}
        args.json_path.write_text(json.dumps(document, indent=2))
    return 1 if any(errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
