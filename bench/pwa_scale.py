"""The attendee PWA with a FOSDEM-sized programme (bench/programme_gen.py, 1,000 sessions by default).

Measured in Debian's Chromium at 360x740, with the page clock on the event's second day at 11:00:

- offline repeat visit: the programme visible in a new page with the network off (as bench/pwa.py measures it);
- day-tab switch and search keystroke latency with the CPU throttled 4x (DevTools' Emulation.setCPUThrottlingRate):
  from the click or the keystroke until the frame after the update (a requestAnimationFrame and a task later);
- the same two as main-thread CPU time per action, from a DevTools trace (the thread time of the renderer's
  tasks during the actions, divided by their number): on a loaded machine the latencies include time spent
  waiting for a core, the CPU time much less so;
- DOM nodes: elements inside <main> and in the whole document once /programme shows.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page
from programme import free_port, stop_server, wait_healthy
from programme_gen import generate

#: Budgets from the issue: a keystroke or a tab switch within 50 ms at 4x throttling.
INTERACTION_BUDGET_MS = 50.0
CPU_THROTTLING = 4
#: What the CPU-time figures trace: the renderer's tasks with their thread time.
TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline"]
#: Typed one character at a time into the search box.
QUERY = "kernel"

#: Milliseconds from an action until the frame after the app's update. `act` runs in the page.
TIMED = """async (act) => {
    const started = performance.now();
    (new Function(act))();
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    return performance.now() - started;
}"""


@contextmanager
def served_big(kumpul: str, sessions: int) -> Iterator[tuple[str, datetime]]:
    """Import the generated programme into a fresh database, serve it, and yield its URL and a moment during it."""
    with tempfile.TemporaryDirectory(prefix="kumpul-bench-pwa-scale-") as tmp:
        document = generate(seed=1, sessions=sessions)
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
                [kumpul, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_healthy(base_url, proc, log_path)
            event = document["event"]
            day = sorted({s["start"][:10] for s in document["sessions"]})[1]
            yield base_url, datetime.fromisoformat(f"{day}T11:00:00").replace(tzinfo=ZoneInfo(event["timeZone"]))
        finally:
            stop_server(proc)


def _timed(page: Page, act: str) -> float:
    return float(page.evaluate(TIMED, act))


def main_thread_cpu_ms(trace: bytes) -> float:
    """Thread CPU time of the renderer main thread's tasks in a trace, in milliseconds."""
    data = json.loads(trace)
    events = data["traceEvents"] if isinstance(data, dict) else data
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    return float(
        sum(
            e.get("tdur", 0) / 1000
            for e in events
            if e.get("ph") == "X" and e.get("name") == "RunTask" and (e.get("pid"), e.get("tid")) in main
        )
    )


def measure_scale(browser: Browser, base_url: str, moment: datetime, runs: int) -> dict[str, list[float]]:
    """Offline repeat, tab switch and keystroke latencies, and DOM node counts, ``runs`` times each."""
    figures: dict[str, list[float]] = {
        "offline": [],
        "tab": [],
        "keystroke": [],
        "tab_cpu": [],
        "keystroke_cpu": [],
        "main_nodes": [],
        "all_nodes": [],
    }
    for run in range(runs):
        context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="en-GB")
        context.clock.install(time=moment)
        try:
            page = context.new_page()
            page.goto("/programme")
            page.locator("main a[href^='/sessions/']").first.wait_for(state="visible", timeout=60_000)
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=60_000)
            page.close()
            context.set_offline(True)
            page = context.new_page()
            started = time.perf_counter()
            page.goto("/programme", wait_until="commit")
            page.locator("main a[href^='/sessions/']").first.wait_for(state="visible", timeout=60_000)
            figures["offline"].append(time.perf_counter() - started)
            page.wait_for_timeout(1_000)  # the search index is built in idle time after the list shows
            figures["main_nodes"].append(page.evaluate("document.querySelectorAll('main *').length"))
            figures["all_nodes"].append(page.evaluate("document.getElementsByTagName('*').length"))

            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_THROTTLING})
            tabs = page.locator("[role=tab]").count()
            browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
            for index in [*range(1, tabs), 0]:
                figures["tab"].append(_timed(page, f"document.querySelectorAll('[role=tab]')[{index}].click()"))
            figures["tab_cpu"].append(main_thread_cpu_ms(browser.stop_tracing()) / tabs)
            page.get_by_role("searchbox").focus()
            browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
            for length in range(1, len(QUERY) + 1):
                act = (
                    "const box = document.querySelector('input[type=search]');"
                    f"box.value = {QUERY[:length]!r}; box.dispatchEvent(new InputEvent('input', {{bubbles: true}}));"
                )
                figures["keystroke"].append(_timed(page, act))
            figures["keystroke_cpu"].append(main_thread_cpu_ms(browser.stop_tracing()) / len(QUERY))
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            print(
                f"  scale run {run + 1}: offline {figures['offline'][-1]:.3f} s, "
                f"tab median {statistics.median(figures['tab'][-tabs:]):.1f} ms, "
                f"keystroke median {statistics.median(figures['keystroke'][-len(QUERY) :]):.1f} ms, "
                f"main-thread CPU per tab switch {figures['tab_cpu'][-1]:.1f} ms, "
                f"per keystroke {figures['keystroke_cpu'][-1]:.1f} ms",
                file=sys.stderr,
                flush=True,
            )
        finally:
            context.close()
    return figures
