"""A first visit to a FOSDEM-sized programme over a slow link: the download's progress shows, then the programme.

(That an interrupted download resumes is tested in pwa/tests/shared/resumable.test.ts: DevTools' link emulation
does not slow or cut a response already under way, so it cannot interrupt one here.)"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from bench.programme_gen import generate
from tests.e2e.conftest import KUMPUL, ContextFactory, RunningServer, h1, nav_link, start_server, stop_server

#: 1 Mbit/s with 150 ms of latency: the 1,000-session programme (about 560 KB) takes some seconds.
SLOW_LINK = {"offline": False, "latency": 150, "downloadThroughput": 125_000, "uploadThroughput": 125_000}
PROGRESS = re.compile(r"\d+ of \d+ KB received")
#: How long a slow first visit may take on the shared two-core machine.
SLOW_MS = 90_000


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("big")
    source = folder / "programme.json"
    source.write_text(json.dumps(generate(1, 1000)))
    db = folder / "kumpul.db"
    subprocess.run([*KUMPUL, "import", str(source), "--db", str(db)], check=True, capture_output=True)
    server = start_server(db)
    yield server
    stop_server(server)


def test_a_slow_first_visit_shows_the_download_progress_then_the_programme(
    new_context: ContextFactory, big_server: RunningServer
) -> None:
    page: Page = new_context(big_server).new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
    page.goto("/")

    expect(page.get_by_role("status").filter(has_text=PROGRESS)).to_be_visible(timeout=SLOW_MS)
    expect(page.get_by_text(PROGRESS)).to_have_count(0, timeout=SLOW_MS)
    nav_link(page, "Programme").click()
    expect(h1(page, "Programme")).to_be_visible()
    expect(page.get_by_role("tablist", name="Days").get_by_role("tab")).to_have_count(4, timeout=SLOW_MS)
