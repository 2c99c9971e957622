"""A first visit during a FOSDEM-sized event over congested wifi: today's sessions show while the other days are
still downloading, and the other days' tabs once they have arrived."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from bench.programme_gen import TIME_ZONE, generate
from tests.e2e.conftest import KUMPUL, ContextFactory, RunningServer, h1, nav_link, start_server, stop_server

#: Congested wifi: 400 kbit/s with 400 ms of latency. The whole 1,000-session programme (about 560 KB) takes ~12 s
#: at best; today's part about a quarter of that.
CONGESTED = {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
STILL_LOADING = re.compile(r"Still loading the other days…")
#: How long a slow first visit may take on the shared two-core machine.
SLOW_MS = 120_000


@pytest.fixture(scope="module")
def programme() -> dict[str, Any]:
    """The generated programme with today (in its zone) as its second day."""
    today = datetime.now(ZoneInfo(TIME_ZONE)).date()
    return generate(1, 1000, first_day=today - timedelta(days=1))


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory, programme: dict[str, Any]) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("today-first")
    source = folder / "programme.json"
    source.write_text(json.dumps(programme))
    db = folder / "kumpul.db"
    subprocess.run([*KUMPUL, "import", str(source), "--db", str(db)], check=True, capture_output=True)
    server = start_server(db)
    yield server
    stop_server(server)


def todays_links(programme: dict[str, Any]) -> set[str]:
    """The addresses of the sessions that start today at the event."""
    zone = ZoneInfo(TIME_ZONE)
    today = datetime.now(zone).date()
    return {
        f"/sessions/{session['id']}"
        for session in programme["sessions"]
        if datetime.fromisoformat(session["start"]).astimezone(zone).date() == today
    }


def shown_sessions(page: Page) -> set[str]:
    """The addresses of the sessions the day's list shows."""
    links = page.locator("#day-panel").get_by_role("link")
    expect(links.first).to_be_visible()
    return {str(link.get_attribute("href")) for link in links.all()}


def test_today_shows_while_the_other_days_download_then_every_day(
    new_context: ContextFactory, big_server: RunningServer, programme: dict[str, Any]
) -> None:
    page: Page = new_context(big_server).new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", CONGESTED)
    page.goto("/")
    nav_link(page, "Programme").click()
    expect(h1(page, "Programme")).to_be_visible()

    still_loading = page.get_by_role("status").filter(has_text=STILL_LOADING)
    expect(still_loading).to_be_visible(timeout=SLOW_MS)
    shown = shown_sessions(page)
    assert shown, "sessions show"
    assert shown <= todays_links(programme), "today's sessions, and only those"
    days = page.get_by_role("tablist", name="Days").get_by_role("tab")
    expect(days).to_have_count(1)
    # Still before the whole has arrived: the status is there, and the device holds no snapshot yet.
    expect(still_loading).to_be_visible()
    assert page.evaluate(_STORED_CURSOR) is None, "today's part is never kept as the programme"

    expect(days).to_have_count(4, timeout=SLOW_MS)
    expect(still_loading).to_have_count(0)
    assert page.evaluate(_STORED_CURSOR) is not None


#: The cursor stored in IndexedDB: only the whole programme sets it.
_STORED_CURSOR = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("kumpul");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const get = open.result.transaction("meta").objectStore("meta").get("cursor");
    get.onsuccess = () => { resolve(get.result ?? null); open.result.close(); };
    get.onerror = () => reject(get.error);
  };
})"""
