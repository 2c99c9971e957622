"""The PWA and the console never contact another origin: every request of a walk through both, the service
worker's included, goes to the server itself, and the pages run under their Content-Security-Policy untouched."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, expect

from tests.e2e.conftest import (
    DESKTOP,
    MOBILE,
    Demo,
    RunningServer,
    announce,
    h1,
    main,
    nav_link,
    session_link,
    wait_until_offline_ready,
)
from tests.e2e.console_helpers import organiser, sign_in

#: Reports each Content-Security-Policy violation of a page to the test (added to every page before its scripts).
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => {
    const refused = event.blockedURI || "inline";
    window.kumpulPolicyViolation(`${event.effectiveDirective} refused ${refused} on ${event.documentURI}`);
});"""


@dataclass
class Recording:
    """Every request a browser context made (pages and service worker) and what its policies refused."""

    context: BrowserContext
    origin: str
    requests: list[str] = field(default_factory=list)
    #: The requests the service worker made itself (precaching, answering navigations).
    by_worker: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def record(self, request: Request) -> None:
        self.requests.append(request.url)
        if request.service_worker is not None:
            self.by_worker.append(request.url)

    def violation(self, report: str) -> None:
        self.violations.append(report)

    def console(self, message: ConsoleMessage) -> None:
        if re.search("Content Security Policy|Permissions-Policy", message.text):
            self.warnings.append(message.text)

    def watch(self, page: Page) -> Page:
        page.on("request", self.record)
        page.on("console", self.console)
        return page

    def new_page(self) -> Page:
        return self.watch(self.context.new_page())

    def foreign(self) -> list[str]:
        """Requests to any origin but the server's (data: and blob: URLs never leave the device)."""
        own = urlsplit(self.origin)
        return sorted(
            {
                url
                for url in self.requests
                if urlsplit(url).scheme not in ("data", "blob")
                and (urlsplit(url).scheme, urlsplit(url).netloc) != (own.scheme, own.netloc)
            }
        )


@pytest.fixture
def recording(browser: Browser, shared_server: RunningServer) -> Iterator[Recording]:
    """A phone-sized context on the shared server, with its service worker, recording requests and violations."""
    context = browser.new_context(
        base_url=shared_server.url,
        viewport=MOBILE,  # type: ignore[arg-type]
        locale="en-GB",
        timezone_id="Asia/Makassar",
        service_workers="allow",
    )
    context.set_default_timeout(10_000)
    recorded = Recording(context, shared_server.url)
    context.on("request", recorded.record)
    context.on("console", recorded.console)
    context.expose_function("kumpulPolicyViolation", recorded.violation)
    context.add_init_script(REPORT_VIOLATIONS)
    try:
        yield recorded
    finally:
        context.close()


def test_a_walk_through_the_whole_pwa_and_the_console_stays_on_the_server(
    recording: Recording, shared_server: RunningServer
) -> None:
    demo = Demo.load(shared_server)
    session = demo.find(day=0, format="plenary")
    speaker = demo.speaker(session["speakerIds"][0])
    announce(shared_server, "Registration desk moves to the lobby")
    page = recording.new_page()

    # First visit: the app installs its service worker, which precaches the app.
    page.goto("/")
    expect(h1(page, "Now & next")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Ready to work offline").first).to_be_visible(timeout=15_000)
    wait_until_offline_ready(page)

    nav_link(page, "Programme").click()
    expect(h1(page, "Programme")).to_be_visible()
    session_link(page, session).click()
    expect(h1(page, session["title"])).to_be_visible()
    page.get_by_role("button", name="Add to my agenda").click()
    expect(page.get_by_role("button", name="Remove from my agenda")).to_have_attribute("aria-pressed", "true")
    note = page.get_by_role("textbox", name="Note for this session")
    note.fill("Ask about the hotline poster.")
    expect(note).to_have_accessible_description(re.compile(r"Synced$"), timeout=15_000)

    main(page).get_by_role("link", name=speaker["name"], exact=True).click()
    expect(h1(page, speaker["name"])).to_be_visible()
    nav_link(page, "Speakers").click()
    expect(h1(page, "Speakers")).to_be_visible()
    expect(main(page).get_by_role("link", name=speaker["name"], exact=True)).to_be_visible()

    nav_link(page, "My agenda").click()
    expect(h1(page, "My agenda")).to_be_visible()
    expect(session_link(page, session)).to_be_visible()
    main(page).get_by_role("link", name="My notes", exact=True).click()
    expect(h1(page, "My notes")).to_be_visible()
    expect(main(page)).to_contain_text("Ask about the hotline poster.")

    nav_link(page, "Announcements").click()
    expect(h1(page, "Announcements")).to_be_visible()
    main(page).get_by_role("link", name="Registration desk moves to the lobby").click()
    expect(h1(page, "Registration desk moves to the lobby")).to_be_visible()

    nav_link(page, "Info").click()
    expect(h1(page, "Info")).to_be_visible()
    main(page).get_by_role("combobox", name="Language").select_option(label="Bahasa Indonesia")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^id"))
    main(page).get_by_role("combobox", name="Bahasa").select_option(label="English")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^en"))

    # Offline: the reload is answered by the service worker.
    recording.context.set_offline(True)
    page.reload()
    expect(h1(page, "Info")).to_be_visible()
    recording.context.set_offline(False)

    console = recording.new_page()
    console.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    sign_in(console, organiser(shared_server, "admin"))
    expect(h1(console, "Sessions")).to_be_visible()
    main(console).get_by_role("link", name=session["title"]).click()
    expect(h1(console, "Edit session")).to_be_visible()
    for path, heading in (
        ("/admin/speakers", "Speakers"),
        ("/admin/rooms", "Rooms"),
        ("/admin/announcements", "Announcements"),
        ("/admin/history", "History"),
        ("/admin/organisers", "Organisers"),
    ):
        console.goto(path)
        expect(h1(console, heading)).to_be_visible()

    paths = {urlsplit(url).path for url in recording.requests}
    assert {"/", "/sw.js", "/manifest.webmanifest", "/api/programme", "/admin"} <= paths, sorted(paths)
    assert any(path.startswith("/assets/") for path in paths)
    assert recording.by_worker, "no request of the service worker was recorded"
    assert recording.foreign() == []
    assert recording.violations == [], "a page broke its Content-Security-Policy"
    assert recording.warnings == [], "the browser warned about a security header"


def test_a_script_that_tries_to_reach_another_origin_is_refused_by_the_policy(recording: Recording) -> None:
    page = recording.new_page()
    page.goto("/")
    expect(h1(page, "Now & next")).to_be_visible()
    outcome = page.evaluate(
        """async () => {
            const violation = new Promise((resolve) => document.addEventListener(
                "securitypolicyviolation", (event) => resolve(`${event.effectiveDirective} ${event.blockedURI}`),
                { once: true },
            ));
            let fetched = true;
            try {
                await fetch("https://cdn.kumpul.invalid/tracker.js", { mode: "no-cors" });
            } catch {
                fetched = false;
            }
            return { fetched, violation: await violation };
        }"""
    )
    assert outcome == {"fetched": False, "violation": "connect-src https://cdn.kumpul.invalid/tracker.js"}
    assert recording.foreign() == [], "the refused request still left the page"
    # The walk's recorder hears of violations too (its reports arrive in order, so this one comes last).
    page.evaluate("() => window.kumpulPolicyViolation('end of the test')")
    assert recording.violations == [
        f"connect-src refused https://cdn.kumpul.invalid/tracker.js on {page.url}",
        "end of the test",
    ]


@pytest.mark.parametrize("path", ["/", "/admin", "/sw.js", "/api/programme", "/api/no-such-thing"])
def test_the_served_server_sends_its_security_headers(shared_server: RunningServer, path: str) -> None:
    response = httpx.get(f"{shared_server.url}{path}", timeout=10)
    headers = response.headers
    policy = headers.get_list("content-security-policy")
    assert len(policy) == 1, policy
    assert "frame-ancestors 'none'" in policy[0]
    assert "unsafe-inline" not in policy[0]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert "strict-transport-security" not in headers  # plain http
