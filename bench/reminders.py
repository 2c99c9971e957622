"""Reminders at scale: 10,000 devices with the same session bookmarked, each reminded within 60 s of the due time.

A real server (``kumpul serve --demo``) holds 10,000 push subscriptions (distinct keys) that follow one session
and want reminders 10 minutes ahead. The session is moved to start 10 minutes and a few seconds from now, so its
reminders fall due a few seconds later by the server's own clock; the bench times from that due moment until
the loopback receiver (bench/push_receiver.py, its own process) has a message for every subscription. A few
sampled messages are decrypted afterwards and checked to be the reminder.

``--merged`` subscribes the devices before the session moves, so each also has a change alert waiting: the
reminder that goes says the session moved, and the alert is merged into it (one message each, still).

    .venv/bin/python bench/reminders.py [--subscriptions 10000] [--workers N] [--merged]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.push import Receiver, free_port, process_tree_cpu_seconds, wait_healthy  # noqa: E402
from tests.push_service import BrowserSubscription  # noqa: E402

LEAD = timedelta(minutes=10)
#: How far after the move the reminders fall due: time for the subscriptions to be stored first.
DUE_IN = timedelta(seconds=8)
DEADLINE_S = 60.0


def subscribe(db: Path, subs: list[BrowserSubscription], session_id: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO push_subscriptions (endpoint, p256dh, auth, alert_sessions, reminder_minutes,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, 10, strftime('%Y-%m-%dT%H:%M:%fZ'),"
            " strftime('%Y-%m-%dT%H:%M:%fZ'))",
            [(s.endpoint, s.p256dh, s.auth, json.dumps([session_id])) for s in subs],
        )


def settled(db: Path, session_id: str) -> dict[str, int]:
    """The outbox's rows about the session by kind and state, once every answer is recorded."""
    deadline = time.monotonic() + 30
    while True:
        with sqlite3.connect(db) as conn:
            states = dict(
                conn.execute(
                    "SELECT kind || ':' || state, count(*) FROM push_outbox WHERE ref = ? GROUP BY kind, state",
                    (session_id,),
                ).fetchall()
            )
        if "reminder:sending" not in states or time.monotonic() > deadline:
            return states
        time.sleep(0.1)


def run(
    receiver: Receiver, subs: list[BrowserSubscription], workdir: Path, workers: int | None, merged: bool
) -> dict[str, Any]:
    db = workdir / "kumpul.db"
    port = free_port()
    env = {**os.environ, "KUMPUL_ALLOW_INSECURE_PUSH": "1"}
    kumpul = [sys.executable, "-m", "server.cli"]
    token = subprocess.run(
        [*kumpul, "organiser", "add", "bench", "--role", "admin", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    with (workdir / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [*kumpul, "serve", "--demo", "--port", str(port), "--db", str(db)]
            + (["--workers", str(workers)] if workers else []),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        session = httpx.get(f"{url}/api/sessions").json()[20]
        if merged:
            subscribe(db, subs, session["id"])
        receiver.reset()
        load_before = os.getloadavg()
        start = (datetime.now(UTC) + LEAD + DUE_IN).replace(microsecond=0)
        due_wall = (start - LEAD).timestamp()
        response = httpx.patch(
            f"{url}/api/admin/sessions/{session['id']}",
            json={"start": start.isoformat(), "end": (start + timedelta(minutes=45)).isoformat()},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        if not merged:
            subscribe(db, subs, session["id"])
        cpu_before = process_tree_cpu_seconds(proc.pid)
        figures = receiver.wait_for(len(subs), DEADLINE_S + DUE_IN.total_seconds() + 30)
        delivered_at = time.time()
        cpu = process_tree_cpu_seconds(proc.pid) - cpu_before
        load_after = os.getloadavg()
        states = settled(db, session["id"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if figures["distinct"] < len(subs):
        raise SystemExit(f"{figures['distinct']} of {len(subs)} devices were reminded; states {states}")
    by_id = {s.sub_id: s for s in subs}
    for sub_id, sample in figures["samples"].items():
        message = json.loads(by_id[sub_id].decrypt(base64.b64decode(sample["body"])))
        assert message["type"] == "reminder", message
        assert message["sessionId"] == session["id"], message
        assert message["changed"] is merged, message
    return {
        "subscriptions": len(subs),
        "seconds_after_due": round(delivered_at - due_wall, 2),
        "requests": figures["requests"],
        "server_cpu_seconds": round(cpu, 2),
        "outbox": states,
        "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in load_after],
        "checked_samples": len(figures["samples"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, help="worker processes of the Kumpul server (default: its own)")
    parser.add_argument("--merged", action="store_true", help="each device also has a change alert waiting")
    args = parser.parse_args()
    receiver = Receiver()
    try:
        subs = [BrowserSubscription(f"{receiver.url}/push/{i}", str(i)) for i in range(args.subscriptions)]
        with tempfile.TemporaryDirectory(prefix="kumpul-reminder-bench-") as tmp:
            figures = run(receiver, subs, Path(tmp), args.workers, args.merged)
    finally:
        receiver.close()
    print(json.dumps(figures, indent=2))
    within = figures["seconds_after_due"] <= DEADLINE_S
    print(
        f"{figures['subscriptions']} devices reminded {figures['seconds_after_due']} s after the due time"
        f" ({'within' if within else 'NOT within'} {DEADLINE_S:.0f} s)"
    )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
