"""Every interface language at 360 px: no view clips or overflows text, no tab label of the bottom bar breaks
inside a word, the header's language link is on every view, axe finds nothing serious, the device's own fonts
draw every script (no empty boxes), and a language chosen offline still arrives (its catalogue is precached).

The languages come from the LANGUAGES table in pwa/src/app/i18n/index.ts, so a new language is checked at once.
With KUMPUL_SCREENSHOTS=1 every view of every language is saved under test-artifacts/screenshots/ to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    ContextFactory,
    Demo,
    RunningServer,
    agenda_sessions,
    axe_violations,
    bookmark,
    describe_violations,
    every_view,
    screenshot,
    wait_until_offline_ready,
)

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = (ROOT / "pwa" / "src" / "app" / "i18n" / "index.ts").read_text(encoding="utf-8")
#: (code, name in itself) of every interface language, in the order of the table.
LANGUAGES = re.findall(r'\{ code: "([\w-]+)", name: "([^"]+)"', REGISTRY)
CODES = [code for code, _ in LANGUAGES]
#: Views beyond the shared list: the changes, the notes and the device page (reached from Info).
EXTRA_PATHS = {"changes": "/changes", "notes": "/notes", "device": "/device"}
SCREENSHOTS = os.environ.get("KUMPUL_SCREENSHOTS") == "1"

#: Text that a box clips or that sticks out of the viewport sideways (the idea of test_pwa_phone.py's check,
#: plus text cut off at the bottom of a box that hides overflow: tall scripts stack marks above and below).
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
        if (['option', 'select', 'input', 'textarea'].includes(el.localName)) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        const hasText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (hasText && el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'auto')
            problems.push(`${name(el)} clipped: ${el.scrollWidth} > ${el.clientWidth}`);
        const hidesBelow = ['hidden', 'clip'].includes(style.overflowY) && style.webkitLineClamp === 'none';
        if (hasText && hidesBelow && el.scrollHeight > el.clientHeight + 1)
            problems.push(`${name(el)} cut off below: ${el.scrollHeight} > ${el.clientHeight}`);
        if (!scrollsSideways(el) && (box.right > width + 1 || box.left < -1))
            problems.push(`${name(el)} outside: ${box.left}..${box.right}`);
    }
    // The header's parts side by side, none drawn over another (the event's chip, the status, the zone, the globe).
    const parts = [...document.querySelectorAll('.header-row > *, .header-row .brand-event')]
        .filter((el) => el.getClientRects().length && !el.closest('.visually-hidden'));
    for (const [i, a] of parts.entries()) {
        for (const b of parts.slice(i + 1)) {
            if (a.contains(b) || b.contains(a)) continue;
            const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
            const overlap = Math.min(p.right, q.right) - Math.max(p.left, q.left);
            const rows = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
            if (overlap > 1 && rows > 1) problems.push(`${name(a)} overlaps ${name(b)} by ${overlap}px`);
        }
    }
    return problems.slice(0, 12);
}"""

#: Tab labels of the bottom bar that wrap anywhere but between words (Intl.Segmenter's word boundaries, which
#: know Thai and Khmer words without spaces) or at a break the catalogue marks with "|" (rendered as <wbr>).
BROKEN_LABELS = """() => {
    const problems = [];
    for (const label of document.querySelectorAll('nav.main-nav .nav-label')) {
        if (!label.getClientRects().length) continue;
        const lang = label.closest('[lang]')?.lang || 'en';
        const text = label.textContent;
        const pieces = [];
        const hinted = new Set();
        let offset = 0;
        const walk = (node) => {
            for (const child of node.childNodes) {
                if (child.nodeType === 3) { pieces.push({ node: child, start: offset }); offset += child.data.length; }
                else if (child.localName === 'wbr') hinted.add(offset);
                else walk(child);
            }
        };
        walk(label);
        const words = new Set([0, text.length]);
        for (const part of new Intl.Segmenter(lang, { granularity: 'word' }).segment(text)) words.add(part.index);
        let lastTop = null;
        for (const { node, start } of pieces) {
            for (const grapheme of new Intl.Segmenter(lang, { granularity: 'grapheme' }).segment(node.data)) {
                const range = document.createRange();
                range.setStart(node, grapheme.index);
                range.setEnd(node, grapheme.index + grapheme.segment.length);
                const rect = range.getClientRects()[0];
                if (!rect || rect.width === 0) continue;
                const at = start + grapheme.index;
                if (lastTop !== null && rect.top > lastTop + rect.height / 2 && !words.has(at) && !hinted.has(at))
                    problems.push(`"${text}" breaks inside a word before "${text.slice(at)}"`);
                lastTop = rect.top;
            }
        }
    }
    return problems;
}"""

#: How many characters of `text` the browser draws as the missing-glyph box: a character no installed font has
#: (a private-use code point) measures the box's width, and every missing character measures the same.
MISSING_GLYPHS = """([text, selector]) => {
    const el = document.querySelector(selector) || document.body;
    const canvas = document.createElement('canvas').getContext('2d');
    const style = getComputedStyle(el);
    canvas.font = `${style.fontSize} ${style.fontFamily}`;
    const box = canvas.measureText('\\uE000').width;
    const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)]
        .map((part) => part.segment).filter((g) => g.trim());
    const missing = graphemes.filter((g) => Math.abs(canvas.measureText(g).width - box * [...g].length) < 0.01);
    return { graphemes: graphemes.length, missing: missing.length };
}"""


@pytest.fixture(scope="module")
def demo(shared_server: RunningServer) -> Demo:
    return Demo.load(shared_server)


def test_the_table_lists_every_language_named_in_itself() -> None:
    assert dict(LANGUAGES) == {
        "en": "English",
        "id": "Bahasa Indonesia",
        "th": "ไทย",
        "ms": "Bahasa Melayu",
        "fil": "Filipino",
        "vi": "Tiếng Việt",
        "km": "ភាសាខ្មែរ",
        "ne": "नेपाली",
        "bn": "বাংলা",
        "mn": "Монгол",
        "hi": "हिन्दी",
    }


def views(demo: Demo) -> list[tuple[str, str]]:
    return [(view.name, view.path) for view in every_view(demo)] + list(EXTRA_PATHS.items())


@pytest.mark.usefixtures("announced")
@pytest.mark.parametrize("language", CODES)
def test_every_view_fits_360_px_reaches_the_language_menu_and_passes_axe(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo, language: str
) -> None:
    browsing = new_context(shared_server, at=demo.during_the_event())
    page = browsing.new_page()
    for session in agenda_sessions(demo):  # the agenda then shows two overlapping sessions
        bookmark(page, session)
    browsing.context.add_init_script(f"localStorage.setItem('kumpul.lang', {language!r})")
    name = dict(LANGUAGES)[language]
    problems: dict[str, list[str]] = {}
    report: list[str] = []
    for view, path in views(demo):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        found = page.evaluate(OVERFLOW) + page.evaluate(BROKEN_LABELS)
        # The language menu is one tap away on every view, named in the language itself, inside the screen.
        link = page.get_by_role("banner").get_by_role("link", name=name, exact=True)
        expect(link).to_have_attribute("href", "/info#settings")
        link.scroll_into_view_if_needed()  # views that open scrolled (the programme jumps to now) scroll back up
        box = link.bounding_box()
        if not box or box["x"] < 0 or box["x"] + box["width"] > 360:
            found.append(f"language link not on screen: {box}")
        if found:
            problems[view] = found
        violations = axe_violations(page)
        if violations:
            report.append(describe_violations(f"{view} ({language})", violations))
        if SCREENSHOTS:
            screenshot(page, f"lang-{language}-{view}")
    assert problems == {}, "\n".join(f"{view}: {found}" for view, found in problems.items())
    assert not report, "axe found serious or critical violations:\n" + "\n".join(report)


@pytest.mark.parametrize("language", CODES)
def test_the_devices_fonts_draw_every_script(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo, language: str
) -> None:
    browsing = new_context(shared_server, at=demo.during_the_event())
    browsing.context.add_init_script(f"localStorage.setItem('kumpul.lang', {language!r})")
    page = browsing.new_page()
    page.goto("/info")
    expect(page.locator("html")).to_have_attribute("lang", language)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_be_visible()
    # The check finds missing glyphs when there are some …
    control = page.evaluate(MISSING_GLYPHS, ["\ue000\ue001\ue002", "h1"])
    assert control == {"graphemes": 3, "missing": 3}
    # … and there are none in the interface's own text or in the language's name.
    sample = " ".join([heading.inner_text(), page.locator("nav.main-nav").inner_text(), dict(LANGUAGES)[language]])
    for selector in ("h1", "nav.main-nav a"):
        result = page.evaluate(MISSING_GLYPHS, [sample, selector])
        assert result["graphemes"] > 5
        assert result["missing"] <= result["graphemes"] // 10, (
            f"{language}: {result} drawn as empty boxes in {sample!r}"
        )


def test_the_picker_switches_language_at_once_and_offline(page: Page) -> None:
    page.goto("/")
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    page.get_by_role("banner").get_by_role("link", name="English", exact=True).click()
    menu = page.get_by_role("combobox", name="Language")
    expect(menu).to_be_visible()
    options = menu.locator("option")
    expect(options).to_have_text([name for _, name in LANGUAGES])
    for code, _ in LANGUAGES:
        expect(menu.locator(f"option[value='{code}']")).to_have_attribute("lang", code)
    # Khmer was never loaded in this page: its catalogue comes from the service worker's precache.
    menu.select_option("km")
    expect(page.locator("html")).to_have_attribute("lang", "km")
    expect(page.get_by_role("heading", level=1)).to_have_text("ព័ត៌មាន")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("ព័ត៌មាន")
    expect(page.get_by_role("combobox", name="ភាសា")).to_have_value("km")


def test_the_console_switches_to_indonesian_and_remembers_it(page: Page) -> None:
    page.goto("/admin")
    expect(page.get_by_role("heading", level=1, name="Sign in to the Kumpul console")).to_be_visible()
    switch = page.get_by_role("combobox", name="Language of the console")
    expect(switch.locator("option")).to_have_text(["English", "Bahasa Indonesia"])
    switch.select_option(label="Bahasa Indonesia")
    expect(page.get_by_role("heading", level=1, name="Masuk ke konsol Kumpul")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", level=1, name="Masuk ke konsol Kumpul")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe_violations("console sign-in (id)", violations)
