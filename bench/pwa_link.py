"""A first visit to a FOSDEM-sized programme over congested wifi, during the event.

Serves the generated 1,000-session programme (bench/programme_gen.py) moved so that today, in its time zone, is its
second day, and opens the app in Debian's Chromium with DevTools' link emulation (400 kbit/s each way, 400 ms of
latency by default) in a fresh profile each run. Two ways, alternating run by run:

- ``today first``: the app as it is: today's part (``/api/programme/at/current/today``) then the whole;
- ``whole only``: the same app with today's part answered 404 (as outside the event), so it downloads the whole
  before showing anything, as before today's part existed.

For each: seconds from navigation until a session of today is visible on /programme, and until the whole
programme is stored in IndexedDB (the cursor written). As in bench/pwa.py, the service worker's precache is not
slowed by the page's emulation. Also the server's cost of a day's part: the first request
(the cut) and later ones (kept in memory), over loopback without emulation.

Wall-clock figures on a loaded machine are inflated: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from common import run_main
from playwright.sync_api import Browser, sync_playwright
from programme import find_kumpul, free_port, stop_server, wait_healthy  # bench/programme.py, beside this file
from programme_gen import TIME_ZONE, generate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.pwa_checks import CHROMIUM, CHROMIUM_ARGS

#: The issue's target: today's sessions visible within 6 s at 400 kbit/s on a first visit.
TODAY_BUDGET_S = 6.0
TIMEOUT_MS = 180_000
#: A session of today shown in the Programme's day list.
SESSION_LINK = "#day-panel a[href^='/sessions/']"
#: The stored cursor: only the whole programme writes it.
WHOLE_STORED = """async () => {
    if (!(await indexedDB.databases()).some((db) => db.name === "kumpul")) return false;
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("kumpul");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    try {
        if (!db.objectStoreNames.contains("meta")) return false;
        const cursor = await new Promise((resolve, reject) => {
            const request = db.transaction("meta").objectStore("meta").get("cursor");
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
        });
        return cursor !== undefined;
    } finally {
        db.close();
    }
}"""


@contextmanager
def served_today(kumpul: str, sessions: int) -> Iterator[tuple[str, set[str]]]:
    """Serve the generated programme with today as its second day; yield its URL and today's session addresses."""
    zone = ZoneInfo(TIME_ZONE)
    today = datetime.now(zone).date()
    document = generate(seed=1, sessions=sessions, first_day=today - timedelta(days=1))
    todays = {
        f"/sessions/{session['id']}"
        for session in document["sessions"]
        if datetime.fromisoformat(session["start"]).astimezone(zone).date() == today
    }
    with tempfile.TemporaryDirectory(prefix="kumpul-bench-pwa-link-") as tmp:
        source = Path(tmp) / "programme.json"
        source.write_text(json.dumps(document))
        db = Path(tmp) / "bench.db"
        imported = subprocess.run(
            [kumpul, "import", str(source), "--db", str(db)], capture_output=True, text=True, check=False
        )
        if imported.returncode != 0:
            raise SystemExit(f"kumpul import failed: {imported.stderr}")
        port = free_port()
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [kumpul, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db), "--workers", "1"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_healthy(base_url, proc, log_path)
            yield base_url, todays
        finally:
            stop_server(proc)


def server_cost(base_url: str, repeats: int = 20) -> dict[str, Any]:
    """Seconds for the first request of today's part (which cuts it from the whole) and the median of later ones
    (kept in memory); the sizes."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        whole = client.get("/api/programme/at/current", follow_redirects=True)
        started = time.perf_counter()
        first = client.get("/api/programme/at/current/today")
        cut = time.perf_counter() - started
        later = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.get("/api/programme/at/current/today")
            later.append(time.perf_counter() - started)
    return {
        "address": first.headers["content-location"],
        "part_bytes": len(first.content),
        "whole_bytes": len(whole.content),
        "first_request_s": cut,
        "later_request_median_s": statistics.median(later),
    }


def one_visit(
    browser: Browser, base_url: str, todays: set[str], args: argparse.Namespace, *, part: bool
) -> tuple[float, float]:
    """Seconds until a session of today is visible on /programme, and until the whole programme is stored."""
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="en-GB")
    try:
        if not part:
            context.route(
                "**/api/programme/at/*/today",
                lambda route: route.fulfill(status=404, json={"detail": "measured without today's part"}),
            )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        throughput = args.kbps * 1000 / 8
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": args.latency,
                "downloadThroughput": throughput,
                "uploadThroughput": throughput,
            },
        )
        started = time.perf_counter()
        page.goto("/programme", wait_until="commit")
        page.locator(SESSION_LINK).first.wait_for(state="visible", timeout=TIMEOUT_MS)
        visible = time.perf_counter() - started
        href = page.locator(SESSION_LINK).first.get_attribute("href")
        if href not in todays:
            raise SystemExit(f"the first session shown, {href}, is not one of today's")
        while not page.evaluate(WHOLE_STORED):  # an async check: wait_for_function would not await it
            if time.perf_counter() - started > TIMEOUT_MS / 1000:
                raise SystemExit("the whole programme was not stored in time")
            page.wait_for_timeout(100)
        stored = time.perf_counter() - started
        return visible, stored
    finally:
        context.close()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="first visits each way; the median is reported")
    parser.add_argument("--sessions", type=int, default=1000, help="sessions in the generated programme")
    parser.add_argument("--latency", type=float, default=400.0, help="emulated round-trip latency in ms (default 400)")
    parser.add_argument("--kbps", type=float, default=400.0, help="emulated bandwidth in kbit/s each way (default 400)")
    parser.add_argument("--kumpul", help="kumpul executable (default: next to this Python, else on PATH)")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"Chromium executable (default {CHROMIUM})")
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the figures as JSON to this path")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when today takes over {TODAY_BUDGET_S:g} s")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    kumpul = find_kumpul(args.kumpul)
    load_before = os.getloadavg()
    found: dict[str, dict[str, list[float]]] = {
        "today first": {"visible": [], "stored": []},
        "whole only": {"visible": [], "stored": []},
    }
    with served_today(kumpul, args.sessions) as (base_url, todays), sync_playwright() as playwright:
        cost = server_cost(base_url)
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            for run in range(args.runs):
                for way in ("today first", "whole only"):
                    visible, stored = one_visit(browser, base_url, todays, args, part=way == "today first")
                    found[way]["visible"].append(visible)
                    found[way]["stored"].append(stored)
                    print(
                        f"  run {run + 1} {way}: today visible {visible:.2f} s, whole stored {stored:.2f} s "
                        f"(load {os.getloadavg()[0]:.1f})",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            browser.close()
    load_after = os.getloadavg()
    print(f"{args.sessions} sessions, first visit at {args.kbps:g} kbit/s and {args.latency:g} ms, during the event")
    print(
        f"today's part {cost['part_bytes'] / 1000:.0f} KB, the whole {cost['whole_bytes'] / 1000:.0f} KB (gzip); "
        f"server: first request of the part (the cut) {cost['first_request_s'] * 1000:.0f} ms, "
        f"later ones {cost['later_request_median_s'] * 1000:.1f} ms (median of 20)"
    )
    for way, figures in found.items():
        runs_visible = " ".join(f"{value:.2f}" for value in figures["visible"])
        runs_stored = " ".join(f"{value:.2f}" for value in figures["stored"])
        print(
            f"{way:>12}: today visible {statistics.median(figures['visible']):.2f} s ({runs_visible}); "
            f"whole stored {statistics.median(figures['stored']):.2f} s ({runs_stored})"
        )
    print(f"load average (1, 5, 15 min): before {load_before!r}, after {load_after!r}")
    if args.json_path:
        args.json_path.write_text(
            json.dumps({"figures": found, "server": cost, "load_before": load_before, "load_after": load_after})
        )
    over = statistics.median(found["today first"]["visible"]) > TODAY_BUDGET_S
    return 1 if args.check and over else 0


if __name__ == "__main__":
    run_main(main)
