"""Phone first: at 360x740 the next session and the programme are in the first screen, nothing overflows in any
interface language (or the longer pseudo-locale), and the element Tab focuses is never under the bottom bar."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    KUMPUL,
    ROOT,
    ContextFactory,
    Demo,
    RunningServer,
    bookmark,
    every_view,
    h1,
    main,
    session_link,
    start_server,
    stop_server,
    wait_until_offline_ready,
)

#: True once `el` lies wholly inside the viewport and nothing (bottom bar, toast) covers its middle.
FULLY_VISIBLE = """(el) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.top < 0 || box.left < 0) return false;
    if (box.bottom > innerHeight || box.right > innerWidth) return false;
    // Each line of the text is uncovered at its middle.
    return [...el.getClientRects()].every((line) => {
        const hit = document.elementFromPoint(line.left + line.width / 2, line.top + line.height / 2);
        return hit === el || el.contains(hit);
    });
}"""


@pytest.fixture(scope="module")
def demo(shared_server: RunningServer) -> Demo:
    return Demo.load(shared_server)


def starting_within_the_hour(demo: Demo) -> tuple[dict[str, Any], datetime]:
    """A session starting in 30 minutes, at the moment when the most other sessions run (the hardest case)."""

    def running(at: datetime) -> int:
        return sum(demo.start(s) <= at < demo.end(s) for s in demo.sessions)

    candidates = [s for s in demo.sessions if s["status"] == "scheduled" and s["speakerIds"] and demo.unambiguous(s)]
    session = max(candidates, key=lambda s: running(demo.start(s) - timedelta(minutes=30)))
    return session, demo.start(session) - timedelta(minutes=30)


def test_a_bookmarked_session_starting_within_the_hour_is_in_the_first_screen_within_1_s_offline(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    session, at = starting_within_the_hour(demo)
    browsing = new_context(shared_server, at=at)
    page = browsing.new_page()
    bookmark(page, session)
    wait_until_offline_ready(page)
    browsing.context.set_offline(True)
    start = browsing.new_page()
    # Timed by the test's own clock: the page's clock is set to the event, so its performance.now() is not real.
    began = time.monotonic()
    start.goto("/", wait_until="commit")
    # Any link with the session's title fully on screen (the first render may not know the bookmarks yet).
    start.wait_for_function(
        f"(title) => [...document.querySelectorAll('main a')]"
        f".some((a) => a.textContent === title && ({FULLY_VISIBLE})(a))",
        arg=session["title"],
        polling="raf",
    )
    elapsed = (time.monotonic() - began) * 1000
    assert elapsed <= 1_000, f"the next session was fully on screen {elapsed:.0f} ms after the offline start"
    card = main(start).get_by_role("region", name="Your next session")
    expect(card).to_contain_text(session["title"])
    expect(card).to_contain_text(demo.room_name(session["roomId"]))
    expect(card).to_contain_text(re.compile(r"starts in \d+ minutes?"))


def test_the_programme_shows_five_sessions_in_the_first_screen_with_filters_closed(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    browsing = new_context(shared_server, at=demo.during_the_event())
    first = browsing.new_page()
    first.goto("/programme")
    wait_until_offline_ready(first)
    page = browsing.new_page()  # past the first visit's "Ready to work offline" note
    page.goto("/programme")
    expect(h1(page, "Programme")).to_be_visible()
    expect(page.get_by_role("button", name="Filter")).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("combobox", name="Theme", exact=True)).to_be_hidden()
    links = main(page).locator("a[href^='/sessions/']")
    expect(links.first).to_be_visible()
    visible = links.evaluate_all(f"(links) => links.filter({FULLY_VISIBLE}).length")
    assert visible >= 5, f"only {visible} sessions are fully in the first screen"
    expect(main(page).get_by_text(re.compile(r"^Now · \d\d:\d\d$"))).to_be_visible()


def test_filters_open_from_one_button_that_counts_them(page: Page, demo: Demo) -> None:
    page.goto("/programme")
    button = page.get_by_role("button", name="Filter")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    theme = page.get_by_role("combobox", name="Theme", exact=True)
    theme.select_option(label="Survivor Inclusion")
    expect(page.get_by_role("button", name=re.compile(r"Filter.*1 filter on"))).to_be_visible()
    # Theme and Room share the first row of menus, at the same height.
    theme_box = theme.bounding_box()
    room_box = page.get_by_role("combobox", name="Room", exact=True).bounding_box()
    assert theme_box
    assert room_box
    assert abs(theme_box["y"] - room_box["y"]) <= 1, (theme_box, room_box)


def test_a_word_form_finds_the_session(page: Page, demo: Demo) -> None:
    page.goto("/programme")
    search = page.get_by_role("searchbox", name="Search the programme")
    search.press_sequentially("survivors", delay=20)
    with_word = [s for s in demo.sessions if "survivor" in (s["title"] + s.get("abstract", "")).lower()]
    assert with_word
    expect(session_link(page, with_word[0]).first).to_be_visible()


def test_the_session_page_shares_adds_to_a_calendar_and_offers_the_stream_only_while_live(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    session = demo.find(day=0, format="plenary")
    during = new_context(shared_server, at=demo.start(session) + timedelta(minutes=5)).new_page()
    during.goto(f"/sessions/{session['id']}")
    expect(h1(during, session["title"])).to_be_visible()
    content = main(during)
    expect(content.get_by_role("link", name="Watch live")).to_have_attribute("href", session["streamUrl"])
    expect(content.get_by_role("link", name="Add to calendar")).to_have_attribute(
        "href", f"/api/sessions/{session['id']}.ics"
    )
    expect(content.get_by_role("button", name="Share")).to_be_visible()

    later = new_context(shared_server, at=demo.end(session) + timedelta(days=1)).new_page()
    later.goto(f"/sessions/{session['id']}")
    expect(h1(later, session["title"])).to_be_visible()
    expect(main(later).get_by_role("button", name="Share")).to_be_visible()
    expect(main(later).get_by_role("link", name="Watch live")).to_have_count(0)


OVERFLOW = """() => {
    const problems = [];
    const width = document.documentElement.clientWidth;
    const page = document.documentElement.scrollWidth;
    if (page > width + 1) problems.push(`page ${page} > ${width}`);
    const scrollsSideways = (el) => el.closest('.day-tabs, .grid-scroll');
    const name = (el) => `${el.localName}.${el.className} "${el.textContent.trim().slice(0, 40)}"`;
    for (const el of document.querySelectorAll('body *')) {
        const style = getComputedStyle(el);
        if (style.display === 'none' || style.visibility === 'hidden') continue;
        if (style.position === 'absolute' && el.offsetWidth <= 1 && el.offsetHeight <= 1) continue;
        if (el.closest('.visually-hidden, .skip-link, svg')) continue;
        if (['option', 'select', 'input'].includes(el.localName)) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        const hasText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (hasText && el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'auto')
            problems.push(`${name(el)} clipped: ${el.scrollWidth} > ${el.clientWidth}`);
        if (!scrollsSideways(el) && (box.right > width + 1 || box.left < -1))
            problems.push(`${name(el)} outside: ${box.left}..${box.right}`);
    }
    return problems.slice(0, 12);
}"""


#: Labels of the bottom navigation that wrap inside a word: each place where the next letter starts a new line
#: must be a word boundary (Intl.Segmenter's, so Thai, written without spaces, is judged by its words too).
MID_WORD_BREAKS = """(language) => {
    const words = new Intl.Segmenter(language, { granularity: 'word' });
    const problems = [];
    for (const label of document.querySelectorAll('.main-nav .nav-label')) {
        if (!label.getClientRects().length) continue;
        const text = label.textContent;
        const boundaries = new Set([...words.segment(text)].map((part) => part.index));
        const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
        let offset = 0;
        let lineTop = null;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.length; i += 1) {
                const range = document.createRange();
                range.setStart(node, i);
                range.setEnd(node, i + 1);
                const box = range.getClientRects()[0];
                if (!box || box.width === 0) continue;
                if (lineTop !== null && box.top > lineTop + 2 && !boundaries.has(offset + i))
                    problems.push(`"${text}" breaks before "${text.slice(offset + i)}"`);
                lineTop = box.top;
            }
            offset += node.length;
        }
    }
    return [...new Set(problems)];
}"""


@pytest.mark.parametrize("language", ["en", "id", "th", "en-XA"])
def test_every_view_fits_a_360_px_phone_in_every_language(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo, language: str
) -> None:
    browsing = new_context(shared_server, at=demo.during_the_event())
    browsing.context.add_init_script(f"localStorage.setItem('kumpul.lang', {language!r})")
    page = browsing.new_page()
    problems: dict[str, list[str]] = {}
    for view in every_view(demo):
        page.goto(view.path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", language[:2])
        page.wait_for_load_state("networkidle")
        found = [*page.evaluate(OVERFLOW), *page.evaluate(MID_WORD_BREAKS, language)]
        if found:
            problems[view.name] = found
    assert problems == {}


def test_the_element_tab_focuses_is_never_under_the_bottom_bar(page: Page, demo: Demo) -> None:
    for path in ("/programme", "/"):
        page.goto(path)
        expect(main(page).locator("a[href^='/sessions/']").first).to_be_visible()
        hidden = []
        for _ in range(40):
            page.keyboard.press("Tab")
            state = page.evaluate(
                """() => {
                    const el = document.activeElement;
                    const nav = document.querySelector('nav.main-nav');
                    if (!el || !nav || nav.contains(el) || el === document.body) return null;
                    const box = el.getBoundingClientRect();
                    const bar = nav.getBoundingClientRect();
                    return box.bottom > bar.top + 1 && bar.top > 0 ? `${el.textContent.trim().slice(0, 40)}` : '';
                }"""
            )
            if state:
                hidden.append(state)
        assert hidden == [], f"{path}: focused under the bottom bar: {hidden}"


def test_the_pseudo_locale_makes_every_text_longer(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    browsing = new_context(shared_server, at=demo.during_the_event())
    browsing.context.add_init_script("localStorage.setItem('kumpul.lang', 'en-XA')")
    page = browsing.new_page()
    page.goto("/programme")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Prögrámmé")
    expect(page.get_by_role("combobox").filter(has=page.locator("option[value='en-XA']"))).to_have_count(0)


# --- a FOSDEM-sized programme: 1,000 sessions, 40 rooms (bench/programme_gen.py) ---------------------------


class Big:
    """The generated programme as served, and its second day (the one the tests open)."""

    def __init__(self, server: RunningServer, document: dict[str, Any]) -> None:
        self.server = server
        self.document = document
        self.zone = ZoneInfo(document["event"]["timeZone"])
        self.day = sorted({s["start"][:10] for s in document["sessions"]})[1]
        self.sessions = [s for s in document["sessions"] if s["start"][:10] == self.day]
        self.starts = sorted({s["start"] for s in self.sessions})
        positions = {room["id"]: room.get("position", 0) for room in document["rooms"]}
        self.rooms = sorted({s["roomId"] for s in self.sessions}, key=lambda room: positions[room])

    def at(self, clock: str) -> datetime:
        return datetime.fromisoformat(f"{self.day}T{clock}").replace(tzinfo=self.zone)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Big]:
    spec = importlib.util.spec_from_file_location("programme_gen", ROOT / "bench" / "programme_gen.py")
    assert spec
    assert spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    document = generator.generate(seed=1, sessions=1000)
    folder = tmp_path_factory.mktemp("big")
    source = Path(folder) / "programme.json"
    source.write_text(json.dumps(document))
    db = Path(folder) / "kumpul.db"
    subprocess.run([*KUMPUL, "import", str(source), "--db", str(db)], check=True, capture_output=True, cwd=ROOT)
    running = start_server(db)
    yield Big(running, document)
    stop_server(running)


#: Where the focused element stands in the grid: its row's aria-rowindex and its cell's aria-colindex.
FOCUSED_PLACE = """() => {
    const link = document.activeElement;
    if (!link || !link.closest('table')) return null;
    return [Number(link.closest('tr').getAttribute('aria-rowindex')),
            Number(link.closest('td').getAttribute('aria-colindex')), link.textContent];
}"""


def open_big_grid(new_context: ContextFactory, big: Big) -> Page:
    browsing = new_context(big.server, viewport={"width": 1366, "height": 900}, at=big.at("11:00"))
    page = browsing.new_page()
    page.goto(f"/programme?view=grid&day={big.day}")
    # The first visit loads the whole programme (about 2 MB of JSON) into the page: slow on a busy machine.
    expect(main(page).locator("td a").first).to_be_visible(timeout=60_000)
    return page


def test_the_room_grid_of_a_1000_session_day_renders_only_what_is_on_screen(
    new_context: ContextFactory, big: Big
) -> None:
    page = open_big_grid(new_context, big)
    table = main(page).get_by_role("table", name=re.compile("Sessions by room and start time"))
    expect(table.locator("td a").first).to_be_visible()
    # The table tells assistive technology its real size: every start time and room, plus the header row/column.
    expect(table).to_have_attribute("aria-rowcount", str(len(big.starts) + 1))
    expect(table).to_have_attribute("aria-colcount", str(len(big.rooms) + 1))
    whole = (len(big.starts) + 1) * (len(big.rooms) + 1)
    cells = table.locator("td, th").count()
    assert cells <= 300, f"{cells} cells in the page (the whole day has {whole})"
    # Headers stay real headers, and the row and column of each rendered cell are told.
    expect(table.get_by_role("columnheader").first).to_have_text("Time")
    assert table.locator("tbody tr[aria-rowindex] > th[scope=row]").count() >= 5
    # During the event it opens at the current time.
    expect(table.get_by_role("rowheader", name="11:00")).to_be_in_viewport()


def test_the_arrow_keys_reach_the_last_room_and_its_last_session_in_the_big_grid(
    new_context: ContextFactory, big: Big
) -> None:
    page = open_big_grid(new_context, big)
    table = main(page).get_by_role("table")
    expect(table.get_by_role("rowheader", name="11:00")).to_be_in_viewport()
    table.locator("td a").first.focus()
    expect(page.locator("td a:focus")).to_have_count(1)
    _, column, _ = page.evaluate(FOCUSED_PLACE)
    page.keyboard.press("ArrowRight")
    assert page.evaluate(FOCUSED_PLACE)[1] == column + 1
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(FOCUSED_PLACE)[1] == column
    for _ in range(len(big.rooms)):
        page.keyboard.press("ArrowRight")
    assert page.evaluate(FOCUSED_PLACE)[1] == len(big.rooms) + 1, "the last room is reachable with ArrowRight"
    last_room = big.rooms[-1]
    last = max((s for s in big.sessions if s["roomId"] == last_room), key=lambda s: s["start"])
    for _ in range(len(big.starts)):
        page.keyboard.press("ArrowDown")
    expect(page.locator(":focus")).to_have_text(last["title"])
    expect(page.locator(":focus")).to_be_in_viewport()
    assert page.evaluate(FOCUSED_PLACE)[0] == big.starts.index(last["start"]) + 2
    cells = table.locator("td, th").count()
    assert cells <= 300, f"{cells} cells in the page after moving across the grid"
    page.keyboard.press("ArrowUp")
    assert page.evaluate(FOCUSED_PLACE)[0] < big.starts.index(last["start"]) + 2


def test_scrolling_the_big_grid_shows_a_session_far_down_and_right(new_context: ContextFactory, big: Big) -> None:
    page = open_big_grid(new_context, big)
    table = main(page).get_by_role("table")
    expect(table.locator("td a").first).to_be_visible()
    last_room = big.rooms[-1]
    last = max((s for s in big.sessions if s["roomId"] == last_room), key=lambda s: s["start"])
    link = session_link(page, last)
    expect(link).to_have_count(0)
    # The page down to the grid's end, then the grid to its last room and to that session's time, as a wheel or a
    # finger would (the rows are evenly tall, so its time is that far down).
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    fraction = big.starts.index(last["start"]) / len(big.starts)
    page.locator(".grid-scroll").evaluate(
        "(box, fraction) => box.scrollTo(box.scrollWidth, fraction * box.scrollHeight - box.clientHeight / 3)", fraction
    )
    expect(link).to_be_in_viewport()
    expect(table.get_by_role("columnheader").last).to_be_in_viewport()
