"""Accessibility of every view: axe-core in light and dark mode, landmarks, reflow at 320 px and visible focus."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    NAV_LINKS,
    ContextFactory,
    Demo,
    RunningServer,
    agenda_sessions,
    axe_violations,
    bookmark,
    describe_violations,
    every_view,
    h1,
    main,
    nav_link,
    open_view,
    session_link,
)


@pytest.fixture(scope="module")
def demo(shared_server: RunningServer) -> Demo:
    return Demo.load(shared_server)


@pytest.mark.usefixtures("announced")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation_on_any_view(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo, scheme: Literal["light", "dark"]
) -> None:
    page = new_context(shared_server, color_scheme=scheme, at=demo.during_the_event()).new_page()
    for session in agenda_sessions(demo):
        bookmark(page, session)
    report = []
    for view in every_view(demo):
        open_view(page, view)
        violations = axe_violations(page)
        if violations:
            report.append(describe_violations(f"{view.name} ({scheme})", violations))
    assert not report, "axe found serious or critical violations:\n" + "\n".join(report)


def test_every_view_has_landmarks_one_h1_and_the_current_page_marked(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    page = new_context(shared_server, at=demo.during_the_event()).new_page()
    for session in agenda_sessions(demo):
        bookmark(page, session)
    current = dict(zip(["/", "/programme", "/speakers", "/agenda", "/announcements", "/info"], NAV_LINKS, strict=True))
    for view in every_view(demo):
        open_view(page, view)
        expect(page.get_by_role("banner")).to_have_count(1)
        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("navigation", name="Main")).to_have_count(1)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        for name in NAV_LINKS:
            expect(nav_link(page, name)).to_be_visible()
            expect(nav_link(page, name)).to_have_accessible_name(re.compile(rf"^{re.escape(name)}\b"))
        if view.path in current:
            expect(nav_link(page, current[view.path])).to_have_attribute("aria-current", "page")


def test_every_view_reflows_at_320_css_pixels_without_horizontal_scrolling(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    page = new_context(shared_server, viewport={"width": 320, "height": 640}, at=demo.during_the_event()).new_page()
    for session in agenda_sessions(demo):
        bookmark(page, session)
    wide = []
    for view in every_view(demo):
        open_view(page, view)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            wide.append(f"{view.name}: {width}px")
    assert not wide, f"views wider than the 320 px viewport: {wide}"


#: How the focused element and its nearest ancestors look (pseudo-elements included), optionally after blurring it:
#: a visible focus indicator is any difference between the two, wherever the app draws it (link, card, ::after).
_FOCUS_LOOK = """(blur) => {
    const element = blur ? window.kumpulFocused : (window.kumpulFocused = document.activeElement);
    if (!element || element === document.body) return null;
    if (blur) element.blur();
    const props = ["outlineStyle", "outlineWidth", "outlineColor", "boxShadow", "borderTopColor", "borderBottomColor",
                   "backgroundColor", "textDecorationLine", "color"];
    const looks = [];
    for (let node = element, depth = 0; node && depth < 4; node = node.parentElement, depth++) {
        for (const pseudo of [null, "::before", "::after"]) {
            const style = getComputedStyle(node, pseudo);
            looks.push(props.map((prop) => style[prop]).join("|"));
        }
    }
    return {name: `${element.tagName} ${(element.textContent || "").trim().slice(0, 40)}`, looks};
}"""


def test_the_app_works_from_the_keyboard_with_visible_focus(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    page = new_context(shared_server).new_page()
    open_view(page, every_view(demo)[1])
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(main(page)).to_be_focused()
    page.keyboard.press("Tab")
    search = page.get_by_role("searchbox", name="Search the programme")
    expect(search).to_be_focused()
    page.evaluate("new Promise((done) => requestAnimationFrame(() => setTimeout(done, 100)))")
    expect(search, "the skip link's jump must not pull focus back later").to_be_focused()

    unmarked = []
    for _ in range(20):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUS_LOOK, False)
        blurred = page.evaluate(_FOCUS_LOOK, True)
        if focused is not None and focused["looks"] == blurred["looks"]:
            unmarked.append(focused["name"])
    assert not unmarked, f"focused without a visible focus ring: {unmarked}"

    tabs = page.get_by_role("tablist", name="Days").get_by_role("tab")
    tabs.first.focus()
    page.keyboard.press("ArrowRight")
    expect(tabs.nth(1)).to_be_focused()
    expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")

    session = next(s for s in demo.sessions if demo.day(s) == demo.days()[1] and demo.unambiguous(s))
    session_link(page, session).focus()
    page.keyboard.press("Enter")
    expect(h1(page, session["title"])).to_be_focused()
    page.get_by_role("button", name="Add to my agenda").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Remove from my agenda")).to_have_attribute("aria-pressed", "true")


#: Elements that would animate or transition for longer than 100 ms (or forever), with what they would do.
_MOVING = """() => [...document.querySelectorAll("*")].flatMap((element) => {
    const style = getComputedStyle(element);
    const ms = (part) => parseFloat(part) * (part.trim().endsWith("ms") ? 1 : 1000);
    const longest = (value) => Math.max(...value.split(",").map(ms));
    const animated = style.animationName !== "none"
        && (longest(style.animationDuration) > 100 || style.animationIterationCount === "infinite");
    const found = [];
    if (animated) found.push(`${element.className}: animation ${style.animationName} ${style.animationDuration}`);
    if (longest(style.transitionDuration) > 100)
        found.push(`${element.className}: transition ${style.transitionProperty} ${style.transitionDuration}`);
    return found;
})"""


def test_nothing_moves_for_people_who_ask_for_reduced_motion(
    new_context: ContextFactory, shared_server: RunningServer, demo: Demo
) -> None:
    page = new_context(shared_server, reduced_motion="reduce", at=demo.during_the_event()).new_page()
    views = every_view(demo)
    open_view(page, views[-1])
    expect(page.get_by_text("Ready to work offline")).to_be_visible(timeout=15_000)
    moving = [f"{views[-1].name}: {found}" for found in page.evaluate(_MOVING)]
    for name, view in zip(NAV_LINKS, [views[i] for i in (0, 1, 4, 7, 8, 9)], strict=True):
        nav_link(page, name).click()
        expect(page.get_by_role("heading", level=1, name=view.heading, exact=True)).to_be_visible()
        moving += [f"{view.name}: {found}" for found in page.evaluate(_MOVING)]
    assert not moving, "animations despite prefers-reduced-motion:\n" + "\n".join(sorted(set(moving)))


_FOCUSED = """() => {
    const element = document.activeElement;
    const nav = document.querySelector("nav.main-nav");
    if (!element || element === document.body || !nav) return null;
    const rect = element.getBoundingClientRect();
    const label = (element.textContent || element.getAttribute("aria-label") || "").trim().slice(0, 60);
    return {
        name: `${element.tagName.toLowerCase()} ${label}`,
        top: rect.top,
        bottom: rect.bottom,
        inNav: nav.contains(element),
        navTop: nav.getBoundingClientRect().top,
    };
}"""


def test_what_tab_focuses_is_never_hidden_under_the_tab_bar(
    new_context: ContextFactory, shared_server: RunningServer
) -> None:
    """WCAG 2.4.11 on a phone: walk a long page with Tab; every focused element shows above the fixed tab bar."""
    page = new_context(shared_server).new_page()  # 360x740
    page.goto("/programme")
    expect(page.get_by_role("heading", level=1, name="Programme")).to_be_visible()
    expect(main(page).get_by_role("link").first).to_be_visible()
    hidden: list[str] = []
    below_the_fold = 0
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None or focused["inNav"]:
            continue
        if focused["top"] > 740 / 2:
            below_the_fold += 1
        if focused["bottom"] > focused["navTop"]:
            hidden.append(f"{focused['name']}: bottom {focused['bottom']:.0f} > tab bar {focused['navTop']:.0f}")
    assert below_the_fold > 0, "the walk reached the lower half of the screen, where the tab bar could hide things"
    assert hidden == [], "focused elements under the tab bar:\n" + "\n".join(hidden)
