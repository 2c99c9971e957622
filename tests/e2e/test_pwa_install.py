"""The attendee PWA is installable, says when it works offline and offers new versions ("Update available")."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
from playwright.sync_api import FloatRect, expect

from tests.e2e.conftest import (
    PWA_INDEX,
    ContextFactory,
    RunningServer,
    h1,
    require_pwa_build,
    start_server,
    stop_server,
    wait_for_service_worker,
)


def test_the_app_is_installable_and_says_when_it_works_offline(
    new_context: ContextFactory, shared_server: RunningServer
) -> None:
    browsing = new_context(shared_server)
    page = browsing.new_page()
    page.goto("/")
    expect(h1(page, "Now & next")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Ready to work offline").first).to_be_visible(timeout=15_000)

    wait_for_service_worker(page)
    registration = page.evaluate(
        """async () => {
            const registration = await navigator.serviceWorker.getRegistration();
            return registration && {scope: registration.scope, script: registration.active?.scriptURL};
        }"""
    )
    assert registration is not None
    assert registration["scope"] == f"{shared_server.url}/"
    assert registration["script"].startswith(f"{shared_server.url}/")

    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href is not None, "index.html links no web app manifest"
    manifest_url = urljoin(page.url, href)
    assert manifest_url == f"{shared_server.url}/manifest.webmanifest"
    response = page.request.get(manifest_url)
    assert response.ok
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"]
    assert manifest["short_name"]
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"]
    assert manifest["start_url"]
    icons = manifest["icons"]
    assert any("maskable" in icon.get("purpose", "").split() for icon in icons), icons
    sizes = [token for icon in icons for token in icon.get("sizes", "").split()]
    assert "any" in sizes or max(int(token.split("x")[0]) for token in sizes) >= 512, sizes
    for icon in icons:
        image = page.request.get(urljoin(manifest_url, icon["src"]))
        assert image.ok, icon
        assert image.headers["content-type"].startswith("image/"), icon

    page.reload()
    expect(h1(page, "Now & next")).to_be_visible()
    page.wait_for_timeout(2_000)
    expect(page.get_by_text("Ready to work offline")).to_have_count(0)
    assert browsing.foreign_requests() == []


@pytest.fixture
def server_of_a_copy(tmp_path: Path) -> Iterator[tuple[RunningServer, Path]]:
    """``kumpul serve --demo`` serving a copy of the PWA build that the test may change."""
    require_pwa_build()
    build = tmp_path / "dist"
    shutil.copytree(PWA_INDEX.parent, build)
    running = start_server(tmp_path / "kumpul.db", "--demo", env={"KUMPUL_PWA_DIR": str(build)})
    yield running, build
    stop_server(running)


def test_a_new_version_is_offered_and_applied_on_reload(
    new_context: ContextFactory, server_of_a_copy: tuple[RunningServer, Path]
) -> None:
    server, build = server_of_a_copy
    page = new_context(server).new_page()
    page.goto("/programme")
    expect(h1(page, "Programme")).to_be_visible()
    wait_for_service_worker(page)
    first = page.evaluate("navigator.serviceWorker.controller.scriptURL")

    worker = build / "sw.js"
    worker.write_text(worker.read_text() + "\n// a new version of Kumpul\n")
    page.reload()
    expect(h1(page, "Programme")).to_be_visible()
    update = page.get_by_role("status").filter(has_text="Update available")
    expect(update.first).to_be_visible(timeout=15_000)
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !!r.waiting)")

    with page.expect_event("load", timeout=15_000):
        update.first.get_by_role("button", name="Reload").click()
    expect(h1(page, "Programme")).to_be_visible()
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !r.waiting && !!r.active)")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == first
    expect(page.get_by_text("Update available")).to_have_count(0)


def _overlap(a: FloatRect | None, b: FloatRect | None) -> bool:
    assert a is not None
    assert b is not None
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_ready_to_work_offline_is_brief_and_covers_neither_the_content_nor_the_tab_bar(
    new_context: ContextFactory, shared_server: RunningServer
) -> None:
    page = new_context(shared_server).new_page()
    page.goto("/")
    expect(h1(page, "Now & next")).to_be_visible()
    toast = page.locator(".toast").filter(has_text="Ready to work offline")
    expect(toast).to_be_visible(timeout=15_000)
    box = toast.bounding_box()
    assert not _overlap(box, page.get_by_role("navigation", name="Main").bounding_box()), "the tab bar stays free"
    assert not _overlap(box, page.get_by_role("main").bounding_box()), "the content stays free"
    # It goes by itself after a few seconds (it said so ten seconds long before), or at once when dismissed.
    expect(toast).to_have_count(0, timeout=6_000)
