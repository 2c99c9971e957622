"""Screenshots of every view on a phone and a desktop, light and dark, saved in test-artifacts/screenshots."""

from __future__ import annotations

from typing import Literal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DESKTOP,
    MOBILE,
    ContextFactory,
    Demo,
    RunningServer,
    agenda_sessions,
    bookmark,
    every_view,
    open_view,
    screenshot,
)


@pytest.mark.usefixtures("announced")
@pytest.mark.parametrize(
    ("viewport", "scheme"), [(MOBILE, "light"), (DESKTOP, "light"), (MOBILE, "dark")], ids=["mobile", "desktop", "dark"]
)
def test_screenshots_of_every_view(
    new_context: ContextFactory,
    shared_server: RunningServer,
    viewport: dict[str, int],
    scheme: Literal["light", "dark"],
) -> None:
    demo = Demo.load(shared_server)
    browsing = new_context(shared_server, viewport=viewport, color_scheme=scheme, at=demo.during_the_event())
    page = browsing.new_page()
    for session in agenda_sessions(demo):
        bookmark(page, session)
    saved = []
    for view in every_view(demo):
        open_view(page, view)
        saved += screenshot(page, view.name)
    assert all(path.stat().st_size > 0 for path in saved)
    assert browsing.foreign_requests() == []


@pytest.mark.parametrize("locale", ["th-TH", "id-ID"])
def test_screenshots_in_thai_and_indonesian(
    new_context: ContextFactory, shared_server: RunningServer, locale: str
) -> None:
    demo = Demo.load(shared_server)
    page = new_context(shared_server, locale=locale, at=demo.during_the_event()).new_page()
    session = demo.find(day=0, format="plenary")
    for name, path in [("now-next", "/"), ("programme", "/programme"), ("session", f"/sessions/{session['id']}")]:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", locale[:2])
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("main").get_by_role("link").first).to_be_visible()
        screenshot(page, f"{name}-{locale[:2]}")
