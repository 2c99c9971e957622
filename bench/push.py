"""Web Push fan-out: messages/s and CPU per message for Kumpul's outbox, and for pywebpush doing the same work."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.push_service import BrowserSubscription, PushService  # noqa: E402 -- after the path is set

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAYLOAD = {"type": "announcement", "id": "bench", "title": "Plenary moved to Hall B", "body": "Starts 10:30." * 10}


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def bench_kumpul(service: PushService, subs: list[BrowserSubscription], workdir: Path) -> dict[str, Any]:
    """Post one announcement to a real server holding ``subs``; time until the push service has them all."""
    db = workdir / "kumpul.db"
    port = free_port()
    env = {**os.environ, "KUMPUL_ALLOW_INSECURE_PUSH": "1"}
    kumpul = [sys.executable, "-m", "server.cli"]
    with (workdir / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [*kumpul, "serve", "--port", str(port), "--db", str(db)], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        token = subprocess.run(
            [*kumpul, "organiser", "add", "bench", "--role", "announcer", "--db", str(db)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
        with sqlite3.connect(db) as conn:
            conn.executemany(
                "INSERT INTO push_subscriptions (endpoint, p256dh, auth, created_at, updated_at)"
                " VALUES (?, ?, ?, datetime('now'), datetime('now'))",
                [(s.endpoint, s.p256dh, s.auth) for s in subs],
            )
        service.vapid_public_key = httpx.get(f"{url}/api/push/key").json()["publicKey"]
        service.reset()
        cpu_before = process_cpu_seconds(proc.pid)
        started = time.monotonic()
        httpx.post(
            f"{url}/api/admin/announcements",
            json={"title": PAYLOAD["title"], "body": PAYLOAD["body"]},
            headers={"Authorization": f"Bearer {token}"},
        ).raise_for_status()
        service.wait_for_sync(len(subs), timeout=600)
        seconds = time.monotonic() - started
        cpu = process_cpu_seconds(proc.pid) - cpu_before
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return result("kumpul outbox", len(subs), seconds, cpu, service)


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
        response = webpush(sub, data, vapid_private_key=vapid, vapid_claims=claims, ttl=3600, timeout=30)
        return int(getattr(response, "status_code", 0))

    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(send, spec["subs"]))
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "ok": sum(200 <= s < 300 for s in statuses)}))


def bench_pywebpush(service: PushService, subs: list[BrowserSubscription], workdir: Path) -> dict[str, Any] | None:
    try:
        import pywebpush  # noqa: F401
    except ImportError:
        print("pywebpush is not installed (pip install -e '.[bench]'); skipping the comparison", file=sys.stderr)
        return None
    spec = workdir / "subs.json"
    spec.write_text(json.dumps({"subs": [s.as_json() for s in subs]}))
    service.vapid_public_key = None  # pywebpush signs with its own key
    service.reset()
    out = subprocess.run(
        [sys.executable, __file__, "--pywebpush-worker", str(spec)], capture_output=True, text=True, check=True
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    service.wait_for_sync(len(subs), timeout=60)
    return result("pywebpush (64 threads)", len(subs), figures["seconds"], figures["cpu"], service)


def result(name: str, count: int, seconds: float, cpu: float, service: PushService) -> dict[str, Any]:
    return {
        "sender": name,
        "messages": count,
        "delivered": service.delivered,
        "seconds": round(seconds, 3),
        "messages_per_second": round(count / seconds, 1),
        "cpu_us_per_message": round(cpu / count * 1e6, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=1000, help="how many loopback subscriptions")
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the figures as JSON")
    parser.add_argument("--pywebpush-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pywebpush_worker:
        pywebpush_worker(args.pywebpush_worker)
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="kumpul-push-bench-") as tmp, PushService(vapid_public_key=None) as service:
        subs = service.subscriptions(args.subscriptions)
        rows.append(bench_kumpul(service, subs, Path(tmp)))
        compared = bench_pywebpush(service, subs, Path(tmp))
        if compared:
            rows.append(compared)
    print(f"{'sender':<24} {'messages':>8} {'seconds':>8} {'msg/s':>9} {'CPU µs/msg':>11}")
    for row in rows:
        print(
            f"{row['sender']:<24} {row['messages']:>8} {row['seconds']:>8.2f} "
            f"{row['messages_per_second']:>9.1f} {row['cpu_us_per_message']:>11.1f}"
        )
    if len(rows) == 2:
        print(f"kumpul / pywebpush: {rows[0]['messages_per_second'] / rows[1]['messages_per_second']:.2f}x msg/s")
    if args.json_path:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        args.json_path.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
