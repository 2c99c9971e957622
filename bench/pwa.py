"""Measure the attendee PWA in Chromium: first visit on slow 3G, the shell's size and an offline repeat visit.

Figures (the median of ``--runs`` runs, each in a fresh browser context):

- first visit: from the start of navigation until the programme is visible, with the page's network emulated at
  400 ms latency and 400 kbit/s both ways (DevTools' Network.emulateNetworkConditions). "Visible" means a link to a
  session is on screen: on /programme directly, and on the Now & next start page (/) with the page clock set to a
  moment during the event so that sessions are running;
- the bytes the page transferred on its whole first visit, until the programme is stored and the network is quiet
  (``Network.loadingFinished.encodedDataLength``, headers included), and the bytes the service worker fetched to
  precache the app, which the page's emulation does not slow;
- the shell: compressed bodies of index.html and the JS and CSS it names (what the first screen needs), as the
  first visit fetched them; other JS and CSS fetched before the programme was visible (dynamic imports started
  early, competing with /api/programme for the slow link) are reported beside it, and the rest of pwa/dist/assets
  as lazy chunks;
- repeat visit offline: after the service worker is installed and the programme stored, ``set_offline(True)``, a new
  page, and the time until the programme is visible;
- with a FOSDEM-sized programme (``--scale-sessions``, 1,000 by default; 0 skips it): the offline repeat visit,
  day-tab switch and search keystroke latency with the CPU throttled 4x, and the DOM nodes on screen
  (bench/pwa_scale.py).

Chromium only asks plain-HTTP servers for gzip, not brotli, so the compressed sizes are gzip's (a brotli-serving
HTTPS deployment sends less).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from common import run_main
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, sync_playwright
from programme import find_kumpul, free_port, stop_server, wait_healthy  # bench/programme.py, beside this file
from pwa_scale import INTERACTION_BUDGET_MS, measure_scale, served_big

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.pwa_checks import CHROMIUM, CHROMIUM_ARGS, STORED_PROGRAMME

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "pwa" / "dist"
#: A link to a session in the main content: the programme is visible.
PROGRAMME_VISIBLE = "main a[href^='/sessions/']"
SHELL_TYPES = {"Document", "Script", "Stylesheet"}
VISIBLE_TIMEOUT_MS = 60_000
READY_TIMEOUT_MS = 60_000
KB = 1000
#: Budgets from the issue: the shell in compressed bytes, visit times in seconds.
SHELL_BUDGET_BYTES = 60 * KB
FIRST_VISIT_BUDGET_S = 5.0
OFFLINE_REPEAT_BUDGET_S = 1.0


@dataclass
class Transfer:
    """One request of a page as DevTools saw it."""

    url: str
    kind: str
    started: float
    finished: float | None = None
    header_bytes: int = 0
    total_bytes: int = 0
    from_service_worker: bool = False

    @property
    def body_bytes(self) -> int:
        return max(0, self.total_bytes - self.header_bytes)


@dataclass
class NetworkLog:
    """The page's requests keyed by DevTools request id, recorded from a CDP session."""

    transfers: dict[str, Transfer] = field(default_factory=dict)

    def attach(self, cdp: CDPSession) -> None:
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.loadingFinished", self._finished)

    def _sent(self, event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        self.transfers[event["requestId"]] = Transfer(url, event.get("type", "Other"), event["timestamp"])

    def _received(self, event: dict[str, Any]) -> None:
        if transfer := self.transfers.get(event["requestId"]):
            transfer.header_bytes = int(event["response"].get("encodedDataLength", 0))
            transfer.from_service_worker = bool(event["response"].get("fromServiceWorker"))

    def _finished(self, event: dict[str, Any]) -> None:
        if transfer := self.transfers.get(event["requestId"]):
            transfer.finished = event["timestamp"]
            transfer.total_bytes = int(event["encodedDataLength"])

    def navigation_start(self) -> float:
        return min(t.started for t in self.transfers.values() if t.kind == "Document")


@dataclass
class FirstVisit:
    """What one throttled first visit measured."""

    document: str
    seconds: float
    page_bytes: int
    worker_bytes: int
    early: dict[str, int]

    def early_kb(self, static: set[str], *, in_shell: bool) -> float:
        """KB of the HTML, JS and CSS fetched before the programme showed: the static shell's, or the others'."""
        chosen = [size for path, size in self.early.items() if (path in static or path == self.document) == in_shell]
        return sum(chosen) / KB


@dataclass
class Figure:
    """One reported figure: the median of its runs, beside its budget."""

    name: str
    unit: str
    runs: list[float]
    budget: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def within_budget(self) -> bool | None:
        return None if self.budget is None else self.median <= self.budget


# --- command line and server --------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="base URL of a running server with the demo (default: start one on loopback)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    parser.add_argument("--latency", type=float, default=400.0, help="emulated round-trip latency in ms (default 400)")
    parser.add_argument("--kbps", type=float, default=400.0, help="emulated bandwidth in kbit/s each way (default 400)")
    parser.add_argument("--kumpul", help="kumpul executable (default: next to this Python, else on PATH)")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"Chromium executable (default {CHROMIUM})")
    parser.add_argument("--json", dest="json_path", type=Path, help="also write the figures as JSON to this path")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a figure exceeds its budget")
    parser.add_argument(
        "--scale-sessions",
        type=int,
        default=1000,
        help="sessions of the generated FOSDEM-sized programme (default 1000; 0 skips it)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.latency < 0 or args.kbps <= 0:
        parser.error("--runs and --kbps must be positive, --latency not negative")
    return args


@contextmanager
def served(kumpul: str) -> Iterator[str]:
    """Run ``kumpul serve --demo`` on a fresh database, serving pwa/dist, and yield its base URL."""
    with tempfile.TemporaryDirectory(prefix="kumpul-bench-pwa-") as tmp:
        port = free_port()
        log_path = Path(tmp) / "server.log"
        cmd = [kumpul, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(Path(tmp) / "bench.db")]
        with log_path.open("wb") as log:
            proc = subprocess.Popen([*cmd, "--demo"], stdout=log, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_healthy(base_url, proc, log_path)
            yield base_url
        finally:
            stop_server(proc)


def during_the_event(base_url: str) -> datetime:
    """A moment when a session runs and another starts within the hour, so Now & next lists sessions."""
    sessions = httpx.get(f"{base_url}/api/programme", timeout=30).raise_for_status().json()["sessions"]
    spans = [(datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])) for s in sessions]
    for start, end in spans:
        moment = start + timedelta(minutes=15)
        while moment < end:
            if any(moment < other <= moment + timedelta(hours=1) for other, _ in spans):
                return moment
            moment += timedelta(minutes=15)
    raise SystemExit("the programme has no moment with sessions now and next")


# --- measurements -------------------------------------------------------------------------------


def new_context(browser: Browser, base_url: str, moment: datetime) -> BrowserContext:
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740}, locale="en-GB")
    context.clock.install(time=moment)
    return context


def throttle(page: Page, latency_ms: float, kbps: float) -> CDPSession:
    """Emulate a slow network for the page's own requests (not its service worker's)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    throughput = kbps * 1000 / 8
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": throughput, "uploadThroughput": throughput},
    )
    return cdp


def wait_visible(page: Page, path: str) -> float:
    """Navigate to ``path`` and return the seconds until a session link is on screen."""
    started = time.perf_counter()
    page.goto(path, wait_until="commit", timeout=VISIBLE_TIMEOUT_MS)
    page.locator(PROGRAMME_VISIBLE).first.wait_for(state="visible", timeout=VISIBLE_TIMEOUT_MS)
    return time.perf_counter() - started


def first_visit(context: BrowserContext, path: str, latency_ms: float, kbps: float) -> tuple[Page, FirstVisit]:
    """A first visit to ``path`` on the emulated slow network, in a context with empty caches."""
    worker_bytes = 0

    def count_worker(request: Any) -> None:
        nonlocal worker_bytes
        if request.service_worker is not None:
            sizes = request.sizes()
            worker_bytes += sizes["responseBodySize"] + sizes["responseHeadersSize"]

    context.on("requestfinished", count_worker)
    page = context.new_page()
    log = NetworkLog()
    log.attach(throttle(page, latency_ms, kbps))
    seconds = wait_visible(page, path)
    visible_at = log.navigation_start() + seconds
    settle(page)
    early: dict[str, int] = {}
    for transfer in list(log.transfers.values()):
        parts = urlsplit(transfer.url)
        if transfer.kind not in SHELL_TYPES or parts.path.startswith("/api/") or transfer.from_service_worker:
            continue
        if transfer.finished is not None and transfer.finished <= visible_at:
            early[parts.path] = transfer.body_bytes
    page_bytes = sum(t.total_bytes for t in log.transfers.values())
    return page, FirstVisit(path, seconds, page_bytes, worker_bytes, early)


def settle(page: Page) -> None:
    """Wait until the first visit is over: worker installed, programme stored, network quiet."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(STORED_PROGRAMME, timeout=READY_TIMEOUT_MS, polling=250)
    page.wait_for_load_state("networkidle", timeout=READY_TIMEOUT_MS)


def wait_offline_ready(page: Page) -> None:
    """Wait until a service worker controls the page and the programme is in IndexedDB."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload(timeout=READY_TIMEOUT_MS)
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=READY_TIMEOUT_MS)
    page.wait_for_function(STORED_PROGRAMME, timeout=READY_TIMEOUT_MS, polling=250)


def offline_repeat(context: BrowserContext, path: str) -> float:
    """Seconds until the programme is visible in a new page with the network off."""
    context.set_offline(True)
    page = context.new_page()
    try:
        return wait_visible(page, path)
    finally:
        page.close()
        context.set_offline(False)


def compressed_size(client: httpx.Client, path: str) -> int:
    """Bytes of ``path`` on the wire when gzip is accepted, as Chromium asks over plain HTTP."""
    with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
        response.raise_for_status()
        return sum(len(chunk) for chunk in response.iter_raw())


def referenced_by_index() -> set[str]:
    """The scripts, stylesheets and module preloads that pwa/dist/index.html names: the static shell."""
    html = (DIST / "index.html").read_text()
    return set(re.findall(r"""(?:src|href)=["'](/assets/[^"']+\.(?:js|css))["']""", html))


def lazy_chunks(base_url: str, shell: set[str]) -> dict[str, int]:
    """JS and CSS of pwa/dist/assets that the first screen did not need, with their compressed sizes."""
    paths = sorted(
        f"/assets/{file.name}"
        for file in (DIST / "assets").glob("*")
        if file.suffix in (".js", ".css") and f"/assets/{file.name}" not in shell
    )
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return {path: compressed_size(client, path) for path in paths}


def measure(base_url: str, args: argparse.Namespace) -> tuple[list[Figure], dict[str, Any]]:
    """Run every measurement ``args.runs`` times in Debian's Chromium."""
    moment = during_the_event(base_url)
    visits: dict[str, list[FirstVisit]] = {"/programme": [], "/": []}
    offline: dict[str, list[float]] = {"/programme": [], "/": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            for run in range(args.runs):
                for path in ("/programme", "/"):
                    context = new_context(browser, base_url, moment)
                    try:
                        page, visit = first_visit(context, path, args.latency, args.kbps)
                        visits[path].append(visit)
                        wait_offline_ready(page)
                        page.close()
                        offline[path].append(offline_repeat(context, path))
                    finally:
                        context.close()
                    print(
                        f"  run {run + 1}: {path} first visit {visits[path][-1].seconds:.2f} s, "
                        f"offline repeat {offline[path][-1]:.3f} s",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            browser.close()
    direct = visits["/programme"]
    static = referenced_by_index()
    lazy = lazy_chunks(base_url, set().union(static, *(v.early for v in direct)))
    figures = [
        Figure("first visit, /programme visible", "s", [v.seconds for v in direct], FIRST_VISIT_BUDGET_S),
        Figure("first visit, / (Now & next) visible", "s", [v.seconds for v in visits["/"]], FIRST_VISIT_BUDGET_S),
        Figure("first visit, bytes the page transferred in all", "KB", [v.page_bytes / KB for v in direct]),
        Figure("first visit, bytes the service worker precached", "KB", [v.worker_bytes / KB for v in direct]),
        Figure(
            "shell (index.html and the JS+CSS it loads)",
            "KB",
            [v.early_kb(static, in_shell=True) for v in direct],
            SHELL_BUDGET_BYTES / KB,
        ),
        Figure(
            "chunks also fetched before the programme showed",
            "KB",
            [v.early_kb(static, in_shell=False) for v in direct],
        ),
        Figure("lazy chunks (JS+CSS loaded later)", "KB", [sum(lazy.values()) / KB]),
        Figure("offline repeat, /programme visible", "s", offline["/programme"], OFFLINE_REPEAT_BUDGET_S),
        Figure("offline repeat, / (Now & next) visible", "s", offline["/"], OFFLINE_REPEAT_BUDGET_S),
    ]
    details = {
        "static_shell": sorted(static),
        "fetched_before_programme": statistics_by_path([v.early for v in direct]),
        "lazy_chunks": lazy,
        "clock": moment.isoformat(),
    }
    return figures, details


def measure_big(kumpul: str, args: argparse.Namespace) -> list[Figure]:
    """The figures of the FOSDEM-sized programme (bench/pwa_scale.py)."""
    with served_big(kumpul, args.scale_sessions) as (base_url, moment), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            found = measure_scale(browser, base_url, moment, args.runs)
        finally:
            browser.close()
    n = args.scale_sessions
    return [
        Figure(f"{n} sessions: offline repeat, /programme visible", "s", found["offline"], OFFLINE_REPEAT_BUDGET_S),
        Figure(f"{n} sessions: day-tab switch, CPU 4x slower", "ms", found["tab"], INTERACTION_BUDGET_MS),
        Figure(f"{n} sessions: search keystroke, CPU 4x slower", "ms", found["keystroke"], INTERACTION_BUDGET_MS),
        Figure(f"{n} sessions: day-tab switch, main-thread CPU time, CPU 4x slower", "ms", found["tab_cpu"]),
        Figure(f"{n} sessions: search keystroke, main-thread CPU time, CPU 4x slower", "ms", found["keystroke_cpu"]),
        Figure(f"{n} sessions: elements in <main> on /programme", "", found["main_nodes"]),
        Figure(f"{n} sessions: elements in the document on /programme", "", found["all_nodes"]),
    ]


def statistics_by_path(runs: list[dict[str, int]]) -> dict[str, dict[str, int]]:
    """Each file's median size over the runs that fetched it before the programme was visible, and how many did."""
    paths = sorted(set().union(*runs))
    sizes = {path: [run[path] for run in runs if path in run] for path in paths}
    return {path: {"bytes": int(statistics.median(found)), "runs": len(found)} for path, found in sizes.items()}


# --- output -------------------------------------------------------------------------------------


def format_table(figures: Sequence[Figure], details: dict[str, Any]) -> str:
    """The figures beside their budgets, then the files of the shell and the lazy chunks."""
    rows = [("figure", "median", "runs", "budget", "")]
    for figure in figures:
        decimals = 3 if figure.unit == "s" and figure.median < 1 else 2 if figure.unit == "s" else 1
        runs = " ".join(f"{value:.{decimals}f}" for value in figure.runs)
        budget = "" if figure.budget is None else f"≤ {figure.budget:g} {figure.unit}"
        verdict = {None: "", True: "ok", False: "OVER"}[figure.within_budget]
        rows.append((figure.name, f"{figure.median:.{decimals}f} {figure.unit}", runs, budget, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.append("")
    early = details["fetched_before_programme"]
    runs = max((entry["runs"] for entry in early.values()), default=0)
    lines.append(
        "HTML, JS and CSS fetched before the programme showed (compressed body bytes, median; in how many runs;"
    )
    lines.append("* = the static shell, named by index.html):")
    for path, entry in early.items():
        mark = "*" if path in details["static_shell"] or not path.startswith("/assets/") else " "
        lines.append(f"  {mark} {path}  {entry['bytes']}  {entry['runs']}/{runs}")
    lines.append("lazy chunks (compressed bytes):")
    lines += [f"  {path}  {size}" for path, size in details["lazy_chunks"].items()] or ["  (none)"]
    return "\n".join(lines)


def write_json(
    path: Path, base_url: str, args: argparse.Namespace, figures: Sequence[Figure], details: dict[str, Any]
) -> None:
    """Write the figures for later collection."""
    document = {
        "benchmark": "pwa",
        "url": base_url,
        "started_server": not args.url,
        "network": {"latency_ms": args.latency, "kbps": args.kbps},
        "runs": args.runs,
        "figures": [{**asdict(f), "median": f.median, "within_budget": f.within_budget} for f in figures],
        **details,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Benchmark the PWA and print a table."""
    args = parse_args(argv)
    if not args.url and not (DIST / "index.html").exists():
        raise SystemExit("pwa/dist is not built: run `make pwa` (or `npm ci && npm run build` in pwa/)")
    if args.url:
        base_url = args.url.rstrip("/")
        figures, details = measure(base_url, args)
    else:
        with served(find_kumpul(args.kumpul)) as base_url:
            figures, details = measure(base_url, args)
    if args.scale_sessions > 0:
        figures += measure_big(find_kumpul(args.kumpul), args)
    print(format_table(figures, details))
    if args.json_path:
        write_json(args.json_path, base_url, args, figures, details)
    over = [f.name for f in figures if f.within_budget is False]
    if over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
    return 1 if args.check and over else 0


if __name__ == "__main__":
    run_main(main)
