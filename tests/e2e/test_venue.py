"""The venue in real Chromium: the map and the Info pages offline after one visit, and floor plans in the console."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from tests.e2e import console_helpers as console
from tests.e2e.conftest import (
    DESKTOP,
    MOBILE,
    ContextFactory,
    Demo,
    RunningServer,
    axe_violations,
    describe_violations,
    h1,
    main,
    screenshot,
    wait_until_offline_ready,
)

#: Resolves once the app has kept the venue for offline use: the Info pages, the plans and every plan image.
VENUE_KEPT = """async () => {
  const venue = JSON.parse(localStorage.getItem("kumpul.venue") ?? "null");
  const pages = JSON.parse(localStorage.getItem("kumpul.infoPages") ?? "null");
  if (!venue || !pages || venue.plans.length === 0) return false;
  const cache = await caches.open("kumpul-floor-plans");
  return (await cache.keys()).length >= venue.plans.length;
}"""


def first_visit(page: Page) -> None:
    page.goto("/")
    wait_until_offline_ready(page)
    page.wait_for_function(VENUE_KEPT, timeout=15_000, polling=200)


def plan_figure(page: Page) -> Locator:
    return main(page).get_by_role("figure")


def room_pin(page: Page, name: str) -> Locator:
    return plan_figure(page).get_by_role("link", name=re.compile(rf"^{re.escape(name)}"))


def image_shown(image: Locator) -> bool:
    return bool(image.evaluate("img => img.complete && img.naturalWidth > 0"))


def test_the_map_works_offline_with_the_room_highlighted_and_named(
    new_context: ContextFactory, shared_server: RunningServer
) -> None:
    demo = Demo.load(shared_server)
    room = next(r for r in demo.data["rooms"] if r["floor"] == "Level 1")
    for viewport in (MOBILE, DESKTOP):
        for scheme in ("light", "dark"):
            browsing = new_context(shared_server, viewport=viewport, color_scheme=scheme)
            page = browsing.new_page()
            first_visit(page)
            browsing.context.set_offline(True)

            page.goto(f"/map?room={room['id']}")
            expect(h1(page, "Map")).to_be_visible()
            expect(main(page)).to_contain_text(f"{room['name']} is on Level 1.")
            expect(page.get_by_role("button", name="Level 1")).to_have_attribute("aria-pressed", "true")
            plan = plan_figure(page).get_by_role("img", name="Floor plan: Level 1")
            expect(plan).to_be_visible()
            assert image_shown(plan), "the floor plan image came from the device's cache"
            pin = room_pin(page, room["name"])
            expect(pin).to_have_attribute("aria-current", "location")
            expect(pin).to_be_visible()
            others = plan_figure(page).locator("[aria-current=location]")
            expect(others).to_have_count(1)
            screenshot(page, "map")

    # another floor, from the keyboard
    page.get_by_role("button", name="Ground floor").focus()
    page.keyboard.press("Enter")
    expect(plan_figure(page).get_by_role("img", name="Floor plan: Ground floor")).to_be_visible()
    hall = room_pin(page, demo.room_name("room-hall-a"))
    hall.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/map\?room=room-hall-a$"))
    expect(room_pin(page, demo.room_name("room-hall-a"))).to_have_attribute("aria-current", "location")


def test_the_text_alternative_lists_every_room_by_floor_with_its_accessibility_notes(
    new_context: ContextFactory, shared_server: RunningServer
) -> None:
    demo = Demo.load(shared_server)
    page = new_context(shared_server).new_page()
    page.goto("/map?room=room-kintamani")
    rooms = main(page).get_by_role("region", name="Rooms by floor")
    expect(rooms.get_by_role("heading", level=2, name="Rooms by floor")).to_be_visible()
    floors = rooms.get_by_role("heading", level=3)
    expect(floors).to_have_text(["Ground floor", "Level 1", "Level 2"])
    for room in demo.data["rooms"]:
        section = rooms.get_by_role("region", name=room["floor"], exact=True)
        item = section.get_by_role("listitem").filter(has=page.get_by_role("link", name=room["name"], exact=True))
        expect(item).to_contain_text(room["accessibility"][:40])
    current = rooms.locator("li[aria-current=location]")
    expect(current).to_have_count(1)
    expect(current).to_contain_text("Kintamani Room (selected)")
    violations = axe_violations(page)
    assert violations == [], describe_violations("map", violations)


def test_info_pages_and_the_session_map_link_work_offline(
    new_context: ContextFactory, shared_server: RunningServer
) -> None:
    demo = Demo.load(shared_server)
    session = demo.find(day=0, format="plenary")
    browsing = new_context(shared_server)
    page = browsing.new_page()
    first_visit(page)
    browsing.context.set_offline(True)

    page.goto("/info")
    pages = main(page).get_by_role("region", name="Information")
    for title in (
        "Code of conduct",
        "Safeguarding contact",
        "Emergency numbers",
        "Wifi",
        "Interpretation",
        "Accessibility",
    ):
        expect(pages.get_by_role("link", name=title, exact=True)).to_be_visible()
    pages.get_by_role("link", name="Safeguarding contact").click()
    expect(h1(page, "Safeguarding contact")).to_be_visible()
    expect(main(page)).to_contain_text("+62 811 3800 2024")
    expect(main(page)).to_contain_text("You do not have to give your name")
    screenshot(page, "info-safeguarding")
    violations = axe_violations(page)
    assert violations == [], describe_violations("info page", violations)
    page.go_back()
    main(page).get_by_role("link", name="Emergency numbers").click()
    expect(h1(page, "Emergency numbers")).to_be_visible()
    for number in ("112", "110 — police", "118 or 119 — ambulance"):
        expect(main(page)).to_contain_text(number)

    page.goto(f"/sessions/{session['id']}")
    main(page).get_by_role("link", name="Show on the map").click()
    expect(h1(page, "Map")).to_be_visible()
    expect(room_pin(page, demo.room_name(session["roomId"]))).to_have_attribute("aria-current", "location")


def png(size: tuple[int, int], colour: str = "#ffffff") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def upload(page: Page, floor: str, name: str, mime: str, data: bytes | Path) -> None:
    form = main(page).get_by_role("form", name="Upload a floor plan")
    form.get_by_label("Floor", exact=True).fill(floor)
    chosen = form.get_by_label("Floor plan image")
    if isinstance(data, Path):
        chosen.set_input_files(data)  # a large file goes by its path, not through the protocol
    else:
        chosen.set_input_files({"name": name, "mimeType": mime, "buffer": data})
    form.get_by_role("button", name="Upload").click()


def test_console_uploads_a_floor_plan_and_pins_a_room_by_clicking(
    new_context: ContextFactory, server: RunningServer
) -> None:
    editor = console.organiser(server, "editor")
    page = new_context(server, viewport=DESKTOP).new_page()
    console.sign_in(page, editor)
    console.nav(page).get_by_role("link", name="Floor plans").click()
    expect(console.h1(page, "Floor plans")).to_be_visible()

    upload(page, "Level 3", "level-3.png", "image/png", png((1600, 1000)))
    console.saved(page, "The plan of Level 3 is uploaded.")
    plan = main(page).get_by_role("region", name="Level 3")
    plan.get_by_label("Room to pin").select_option("room-kintamani")
    image = plan.get_by_role("img", name="Floor plan: Level 3")
    box = image.bounding_box()
    assert box is not None
    image.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
    console.saved(page, "Kintamani Room is pinned on Level 3.")
    expect(plan.get_by_role("button", name="Remove the pin of Kintamani Room")).to_be_visible()
    expect(plan.get_by_label("Across (%)")).to_have_value(re.compile(r"^2[45](\.\d)?$"))

    venue: dict[str, Any] = httpx.get(f"{server.url}/api/venue", timeout=10).json()
    level3 = next(p for p in venue["plans"] if p["floor"] == "Level 3")
    pin = next(p for p in venue["pins"] if p["roomId"] == "room-kintamani")
    assert pin["planId"] == level3["id"]
    assert abs(pin["x"] - 0.25) < 0.02
    assert abs(pin["y"] - 0.5) < 0.02

    # the same from the keyboard: type the place and save
    plan.get_by_label("Room to pin").select_option("room-besakih")
    plan.get_by_label("Across (%)").fill("75")
    plan.get_by_label("Down (%)").fill("20")
    plan.get_by_role("button", name="Save pin").click()
    console.saved(page, "Besakih Room is pinned on Level 3.")
    screenshot(page, "console-floor-plans")


def refused(page: Page, text: str | re.Pattern[str]) -> None:
    expect(main(page).get_by_role("alert")).to_contain_text(text)


def test_console_refuses_svg_other_files_and_plans_over_the_limit(
    new_context: ContextFactory, server: RunningServer, tmp_path: Path
) -> None:
    editor = console.organiser(server, "editor")
    page = new_context(server, viewport=DESKTOP).new_page()
    console.sign_in(page, editor, "/admin/floor-plans")
    expect(console.h1(page, "Floor plans")).to_be_visible()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    upload(page, "Roof", "roof.svg", "image/svg+xml", svg)
    refused(page, "SVG floor plans are not accepted")
    upload(page, "Roof", "roof.png", "image/png", b"%PDF-1.7 not an image at all")
    refused(page, "not a PNG, JPEG or WebP image")
    big = tmp_path / "roof.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(6 * 1024 * 1024))
    upload(page, "Roof", "roof.png", "image/png", big)
    refused(page, "over the limit of 5120 KB")
    venue = httpx.get(f"{server.url}/api/venue", timeout=10).json()
    assert "Roof" not in [p["floor"] for p in venue["plans"]]
