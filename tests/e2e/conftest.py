"""The real server as a subprocess on a free port, on its own SQLite file, and the PWA in Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.pwa_checks import CHROMIUM, CHROMIUM_ARGS, STORED_PROGRAMME

KUMPUL = [sys.executable, "-m", "server.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    url: str
    db: Path
    process: subprocess.Popen[bytes]

    def kumpul(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another ``kumpul`` command against the same database."""
        return subprocess.run(
            [*KUMPUL, *args, "--db", str(self.db)], capture_output=True, text=True, check=False, timeout=60
        )

    def organiser_token(self, role: str) -> str:
        result = self.kumpul("organiser", "add", f"{role}-{time.monotonic_ns()}", "--role", role)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]


class ServerProcess(subprocess.Popen[bytes]):
    """``kumpul serve`` in a process group of its own: a signal (terminate, kill -9) reaches its worker processes
    too, as it would under a service manager, so killing the server kills every process that serves."""

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)


def start_server(db: Path, *extra: str, env: dict[str, str] | None = None, port: int | None = None) -> RunningServer:
    port = port or free_port()
    # One worker process unless a test asks for more: it starts fastest and keeps the tests' servers small.
    workers = () if "--workers" in extra else ("--workers", "1")
    # The demo on its 2024 dates unless a test asks otherwise: the browser tests set the page's clock to them.
    if "--demo" in extra and "--demo-dates" not in extra:
        extra = (*extra, "--demo-dates", "original")
    with db.with_suffix(".log").open("ab") as log:
        process = ServerProcess(
            [*KUMPUL, "serve", "--port", str(port), "--db", str(db), *workers, *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {db.with_suffix('.log').read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return RunningServer(url, db, process)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start within 30 s")


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """``kumpul serve --demo`` on a fresh database."""
    running = start_server(tmp_path / "kumpul.db", "--demo")
    yield running
    stop_server(running)


# --- the attendee PWA in Debian's Chromium ------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
#: The build the server serves: pwa/dist unless KUMPUL_PWA_DIR says otherwise (the server reads it too).
PWA_INDEX = Path(os.environ.get("KUMPUL_PWA_DIR") or ROOT / "pwa" / "dist") / "index.html"
AXE_SCRIPT = ROOT / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
#: Axe rule sets the PWA must satisfy, and the impacts that fail a test.
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
AXE_FAILING_IMPACTS = {"serious", "critical"}
MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
#: How long assertions wait for the page: generous, because CI runs the suite on two cores next to the server.
expect.set_options(timeout=10_000)
#: Main navigation of the English interface, in order, as the app names it.
NAV_LINKS = ["Now & next", "Programme", "Speakers", "My agenda", "Announcements", "Info"]


def require_pwa_build() -> None:
    """Skip the browser tests when the PWA is not built (``make test`` always builds it first)."""
    if not PWA_INDEX.exists():
        pytest.skip(f"{PWA_INDEX.parent} is not built: run `make pwa` (make test builds it before pytest)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module (the sync Playwright API keeps an event loop running in this thread
    while it lives, which async tests in other modules must not meet); every test opens its own context."""
    require_pwa_build()
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """``kumpul serve --demo`` shared by the tests of one module that never write to the server."""
    running = start_server(tmp_path_factory.mktemp("kumpul") / "kumpul.db", "--demo")
    yield running
    stop_server(running)


def fetch_programme(server: RunningServer) -> dict[str, Any]:
    """The whole programme as the API serves it: the source of truth the UI is compared with."""
    response = httpx.get(f"{server.url}/api/programme", timeout=10)
    response.raise_for_status()
    programme: dict[str, Any] = response.json()
    return programme


@dataclass
class Browsing:
    """A browser context on the server's origin and every request it made (pages and service worker)."""

    context: BrowserContext
    origin: str
    requests: list[str] = field(default_factory=list)

    def new_page(self) -> Page:
        return self.context.new_page()

    def foreign_requests(self) -> list[str]:
        """Requests to any origin but the server's own (data: and blob: URLs never leave the device)."""
        own = urlsplit(self.origin)
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if (parts.scheme, parts.netloc) != (own.scheme, own.netloc):
                foreign.append(url)
        return foreign


class ContextFactory(Protocol):
    def __call__(
        self,
        server: RunningServer,
        *,
        viewport: dict[str, int] | None = None,
        color_scheme: Literal["light", "dark"] = "light",
        locale: str = "en-GB",
        timezone_id: str = "Asia/Makassar",
        at: datetime | None = None,
        reduced_motion: Literal["reduce", "no-preference"] = "no-preference",
    ) -> Browsing: ...


@pytest.fixture
def new_context(browser: Browser) -> Iterator[ContextFactory]:
    """Open browser contexts (360x740 by default) that record every request; all are closed after the test.

    ``at`` sets the page clock (it then runs on normally), e.g. to a moment during the event for Now & next.
    """
    opened: list[BrowserContext] = []

    def make(
        server: RunningServer,
        *,
        viewport: dict[str, int] | None = None,
        color_scheme: Literal["light", "dark"] = "light",
        locale: str = "en-GB",
        timezone_id: str = "Asia/Makassar",
        at: datetime | None = None,
        reduced_motion: Literal["reduce", "no-preference"] = "no-preference",
    ) -> Browsing:
        context = browser.new_context(
            base_url=server.url,
            viewport=cast(ViewportSize, viewport or MOBILE),
            color_scheme=color_scheme,
            locale=locale,
            timezone_id=timezone_id,
            reduced_motion=reduced_motion,
            service_workers="allow",
        )
        context.set_default_timeout(10_000)
        opened.append(context)
        browsing = Browsing(context, server.url)
        context.on("request", lambda request: browsing.requests.append(request.url))
        if at is not None:
            context.clock.install(time=at)
        return browsing

    yield make
    for context in opened:
        context.close()


@pytest.fixture
def browsing(new_context: ContextFactory, shared_server: RunningServer) -> Browsing:
    """A 360x740 light-mode context on the module's shared server."""
    return new_context(shared_server)


@pytest.fixture
def page(browsing: Browsing) -> Page:
    return browsing.new_page()


def wait_for_service_worker(page: Page) -> None:
    """Wait until a service worker controls ``page``, reloading once if it activated without claiming it."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    try:
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=5_000)
    except PlaywrightTimeoutError:
        page.reload()
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=10_000)


def wait_until_offline_ready(page: Page) -> None:
    """Wait until ``page`` is controlled by the service worker and the programme is stored in IndexedDB."""
    wait_for_service_worker(page)
    page.wait_for_function(STORED_PROGRAMME, timeout=10_000, polling=200)


def screenshot(page: Page, view: str) -> list[Path]:
    """Save what the viewport shows as ``test-artifacts/screenshots/<view>-<width>x<height>-<scheme>.png``.

    The whole scrolled page goes beside it with the suffix ``-full`` (fixed bars appear where the viewport ended).
    """
    size = page.viewport_size or MOBILE
    scheme = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = f"{view}-{size['width']}x{size['height']}-{scheme}"
    paths = [SCREENSHOTS / f"{stem}.png", SCREENSHOTS / f"{stem}-full.png"]
    for path, full_page in zip(paths, (False, True), strict=True):
        page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
    return paths


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (from the PWA's devDependencies, never a CDN) and return its serious and critical violations."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT.relative_to(ROOT)} is missing: add axe-core to pwa/package.json devDependencies")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the test, not added as an inline <script>, which the pages' Content-Security-Policy refuses.
        page.evaluate(AXE_SCRIPT.read_text() + "\n;true")
    results = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_RULES)
    return [v for v in results["violations"] if v.get("impact") in AXE_FAILING_IMPACTS]


def describe_violations(view: str, violations: list[dict[str, Any]]) -> str:
    """Axe violations as readable lines: view, rule id, impact, help and the offending nodes."""
    lines = []
    for violation in violations:
        lines.append(f"{view}: {violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"][:8]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more nodes")
    return "\n".join(lines)


def announce(server: RunningServer, title: str, priority: str = "normal") -> None:
    """Post an announcement to everyone, as an organiser with the announcer role."""
    response = httpx.post(
        f"{server.url}/api/admin/announcements",
        json={"title": title, "body": f"{title}: details for attendees.", "priority": priority},
        headers={"Authorization": f"Bearer {server.organiser_token('announcer')}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    time.sleep(0.05)  # distinct publication instants


@pytest.fixture(scope="module")
def announced(browser: Browser, shared_server: RunningServer) -> None:
    """Announcements on the module's shared server, so their view has content to check and show."""
    announce(shared_server, "Shuttle buses leave from the east gate at 17:30")
    announce(shared_server, "Hall B is closed, its sessions move to Hall A", "urgent")


# --- the demo programme as the API serves it, to choose what to look for on screen --------------


@dataclass
class Demo:
    """The programme from ``/api/programme`` with the look-ups the browser tests need."""

    data: dict[str, Any]

    @classmethod
    def load(cls, server: RunningServer) -> Demo:
        return cls(fetch_programme(server))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.data["event"]["timeZone"])

    @property
    def sessions(self) -> list[dict[str, Any]]:
        sessions: list[dict[str, Any]] = self.data["sessions"]
        return sessions

    def session(self, session_id: str) -> dict[str, Any]:
        return next(s for s in self.sessions if s["id"] == session_id)

    def speaker(self, speaker_id: str) -> dict[str, Any]:
        return next(s for s in self.data["speakers"] if s["id"] == speaker_id)

    def room_name(self, room_id: str) -> str:
        return str(next(r["name"] for r in self.data["rooms"] if r["id"] == room_id))

    def track(self, name: str) -> dict[str, Any]:
        return next(t for t in self.data["tracks"] if t["name"] == name)

    def start(self, session: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(session["start"]).astimezone(self.zone)

    def end(self, session: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(session["end"]).astimezone(self.zone)

    def day(self, session: dict[str, Any]) -> date:
        return self.start(session).date()

    def days(self) -> list[date]:
        return sorted({self.day(s) for s in self.sessions})

    def unambiguous(self, session: dict[str, Any]) -> bool:
        """No other session's title contains this one's, so a link named by it is found once."""
        title = session["title"].casefold()
        return all(title not in other["title"].casefold() for other in self.sessions if other is not session)

    def find(self, *, day: int | None = None, **wanted: Any) -> dict[str, Any]:
        """The first unambiguous scheduled session with speakers, on day ``day`` (0-based), with ``wanted`` fields."""
        for session in self.sessions:
            if not (session["speakerIds"] and session["status"] == "scheduled" and self.unambiguous(session)):
                continue
            if day is not None and self.day(session) != self.days()[day]:
                continue
            if all(session.get(key) == value for key, value in wanted.items()):
                return session
        raise LookupError(f"the demo has no session with {wanted} on day {day}")

    def during_the_event(self) -> datetime:
        """A moment when a streamed session is running and another starts within the hour (for Now & next)."""
        for session in self.sessions:
            if not session["streamUrl"]:
                continue
            moment = self.start(session) + timedelta(minutes=15)
            while moment < self.end(session):
                if any(moment < self.start(other) <= moment + timedelta(hours=1) for other in self.sessions):
                    return moment
                moment += timedelta(minutes=15)
        raise LookupError("no moment in the demo has sessions now and next")


def day_tab_name(day: date) -> str:
    """The accessible name of a day tab in the English interface, e.g. ``Tue 23 Jul``."""
    weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{weekdays[day.weekday()]} {day.day} {months[day.month - 1]}"


# --- walking the app's views ----------------------------------------------------------------------


def main(page: Page) -> Locator:
    return page.get_by_role("main")


def h1(page: Page, name: str) -> Locator:
    return page.get_by_role("heading", level=1, name=name, exact=True)


def session_link(page: Page, session: dict[str, Any]) -> Locator:
    """The link to a session in the main content, found by its title as assistive technology does."""
    return main(page).get_by_role("link", name=session["title"])


def nav_link(page: Page, name: str) -> Locator:
    """A main navigation link by its label (a count of unread items may share its name; the a11y tests check that)."""
    label = re.compile(rf"(^|\W){re.escape(name)}($|\W)")
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=label)


def bookmark(page: Page, session: dict[str, Any]) -> None:
    """Open a session, add it to my agenda, and wait until another page of the app sees it.

    The wait keeps tests of other things independent of how fast the app stores a bookmark;
    ``test_a_bookmark_is_stored_before_the_app_confirms_it`` checks that speed on its own.
    """
    page.goto(f"/sessions/{session['id']}")
    expect(h1(page, session["title"])).to_be_visible()
    page.get_by_role("button", name="Add to my agenda").click()
    expect(page.get_by_role("button", name="Remove from my agenda")).to_have_attribute("aria-pressed", "true")
    probe = page.context.new_page()
    try:
        deadline = time.monotonic() + 10
        while True:
            probe.goto("/agenda")
            expect(h1(probe, "My agenda")).to_be_visible()
            try:
                expect(session_link(probe, session)).to_be_visible(timeout=1_000)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
    finally:
        probe.close()


@dataclass(frozen=True)
class View:
    """One screen of the app: where it lives, its h1, and a link it shows or a text it says once loaded."""

    name: str
    path: str
    heading: str
    shows: str | None = None
    says: str | None = None


def every_view(demo: Demo) -> list[View]:
    """Every view of the app with demo content; the agenda view needs ``agenda_sessions`` bookmarked first."""
    session = demo.find(day=0, format="plenary")  # streamed, with interpretation channels
    off_the_record = demo.find(recording="off-the-record")
    speaker = demo.speaker(session["speakerIds"][0])
    anonymous = next(s for s in demo.data["speakers"] if s["anonymous"])
    announcements = demo.data.get("announcements") or []
    newest_announcement = max(announcements, key=lambda a: a["publishedAt"])["title"] if announcements else None
    first_now = next(s for s in demo.sessions if demo.start(s) <= demo.during_the_event() < demo.end(s))
    return [
        View("now-next", "/", "Now & next", first_now["title"]),
        View("programme", "/programme", "Programme", demo.sessions[0]["title"]),
        View("session", f"/sessions/{session['id']}", session["title"], speaker["name"]),
        View("session-off-the-record", f"/sessions/{off_the_record['id']}", off_the_record["title"]),
        View("speakers", "/speakers", "Speakers", speaker["name"]),
        View("speaker", f"/speakers/{speaker['id']}", speaker["name"], session["title"]),
        View("speaker-anonymous", f"/speakers/{anonymous['id']}", anonymous["name"]),
        View("agenda", "/agenda", "My agenda", agenda_sessions(demo)[0]["title"]),
        View("announcements", "/announcements", "Announcements", says=newest_announcement),
        View("info", "/info", "Info"),
    ]


def agenda_sessions(demo: Demo) -> list[dict[str, Any]]:
    """Two parallel sessions to bookmark, so the agenda shows an overlap."""
    first = demo.find(day=0, format="working-group")
    second = next(
        s
        for s in demo.sessions
        if s is not first and s["start"] == first["start"] and demo.unambiguous(s) and s["status"] == "scheduled"
    )
    return [first, second]


def open_view(page: Page, view: View) -> None:
    """Navigate to a view and wait until its heading and content are on screen."""
    page.goto(view.path)
    expect(h1(page, view.heading)).to_be_visible()
    if view.shows is not None:
        expect(main(page).get_by_role("link", name=view.shows).first).to_be_visible()
    if view.says is not None:
        expect(main(page)).to_contain_text(view.says)
