"""Translated content kept honest: an organiser renames a session (or rewrites an Info page) in the console; an
attendee reading in Indonesian is told at once that the Indonesian text may be out of date (and can open the
original), the console lists the translation as out of date, and once the organiser updates the Indonesian text
the attendee reads it with no marker."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, ContextFactory, RunningServer, axe_violations, describe_violations, main
from tests.e2e.console_helpers import h1, organiser, saved, sign_in

#: The issue's promise: a change reaches an open app within 2 s.
LIVE_DEADLINE_MS = 2_000
SESSION = "plenary-opening"
RENAMED = "Opening plenary: one roadmap for the whole region"
INDONESIAN = "Pleno pembukaan: satu peta jalan untuk seluruh kawasan"
#: The app's marker in Indonesian, and its way to the original.
STALE_ID = "Terjemahan ini mungkin sudah tidak mutakhir"


def stored_session(server: RunningServer) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/sessions/{SESSION}", timeout=10)
    response.raise_for_status()
    session: dict[str, Any] = response.json()
    return session


def wait_for_live_stream(page: Page) -> None:
    page.wait_for_selector("html[data-live=open]", state="attached", timeout=10_000)


def test_a_renamed_session_marks_its_translation_stale_until_the_translation_is_updated(
    new_context: ContextFactory, server: RunningServer
) -> None:
    before = stored_session(server)
    old_indonesian = before["translations"]["id"]["title"]

    attendee = new_context(server, locale="id-ID").new_page()
    attendee.goto(f"/sessions/{SESSION}")
    expect(h1(attendee, old_indonesian)).to_be_visible()
    expect(main(attendee).get_by_text(STALE_ID)).to_have_count(0)
    wait_for_live_stream(attendee)

    console = new_context(server, viewport=DESKTOP).new_page()
    sign_in(console, organiser(server, "editor"), f"/admin/sessions/{SESSION}")
    expect(h1(console, "Edit session")).to_be_visible()
    console.get_by_label("Title", exact=True).fill(RENAMED)
    console.get_by_role("button", name="Save").click()
    saved(console)

    # The attendee keeps the Indonesian title, marked, and can open the English original.
    marker = main(attendee).get_by_text(STALE_ID)
    expect(marker).to_be_visible(timeout=LIVE_DEADLINE_MS)
    expect(h1(attendee, old_indonesian)).to_be_visible()
    main(attendee).locator("summary", has_text=STALE_ID).click()
    expect(main(attendee).get_by_text(RENAMED, exact=True)).to_be_visible()
    expect(main(attendee).get_by_text(RENAMED, exact=True)).to_have_attribute("lang", "en")

    # The console counts it and lists it among the out-of-date translations.
    translations = console.get_by_role("navigation", name="Console").get_by_role(
        "link", name=re.compile("^Translations")
    )
    expect(translations).to_have_accessible_name(re.compile(r"\b2 out of date"))
    translations.click()
    expect(h1(console, "Translations")).to_be_visible()
    expect(main(console)).to_contain_text("Indonesian: ")
    console.get_by_label("Language", exact=True).select_option(label="Indonesian")
    console.get_by_label("State", exact=True).select_option(label="Out of date")
    row = main(console).get_by_role("row").filter(has_text=RENAMED)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Out of date")
    expect(row).to_contain_text("Title")

    # The organiser translates the new title beside its English original.
    row.get_by_role("link", name=re.compile("^Translate")).click()
    expect(h1(console, "Translate")).to_be_visible()
    field = console.get_by_label("Title in Indonesian", exact=True)
    expect(field).to_be_focused()
    expect(field).to_have_value(old_indonesian)
    expect(field).to_have_accessible_description(re.compile("Out of date"))
    field.fill(INDONESIAN)
    console.get_by_role("button", name="Save").click()
    saved(console, "Translations saved")

    expect(h1(attendee, INDONESIAN)).to_be_visible(timeout=LIVE_DEADLINE_MS)
    expect(main(attendee).get_by_text(STALE_ID)).to_have_count(0)
    stored = stored_session(server)
    assert stored["translations"]["id"]["title"] == INDONESIAN
    assert "stale" not in stored["translations"]["id"]
    assert stored["translations"]["th"]["stale"] == ["title"]

    console.get_by_role("link", name="Back to translations").click()
    console.get_by_label("Language", exact=True).select_option(label="Indonesian")
    console.get_by_label("State", exact=True).select_option(label="Out of date")
    expect(main(console).get_by_role("row").filter(has_text=RENAMED)).to_have_count(0)


def test_the_event_can_show_the_original_instead_of_a_stale_translation(
    new_context: ContextFactory, server: RunningServer
) -> None:
    editor = {"Authorization": f"Bearer {server.organiser_token('editor')}"}
    event = httpx.get(f"{server.url}/api/event", timeout=10).json()
    answer = httpx.put(f"{server.url}/api/admin/event", json={**event, "staleTranslations": "original"}, headers=editor)
    assert answer.status_code == 200, answer.text
    old_indonesian = stored_session(server)["translations"]["id"]["title"]

    attendee = new_context(server, locale="id-ID").new_page()
    attendee.goto(f"/sessions/{SESSION}")
    expect(h1(attendee, old_indonesian)).to_be_visible()
    wait_for_live_stream(attendee)
    answer = httpx.patch(f"{server.url}/api/admin/sessions/{SESSION}", json={"title": RENAMED}, headers=editor)
    assert answer.status_code == 200, answer.text

    title = h1(attendee, RENAMED)
    expect(title).to_be_visible(timeout=LIVE_DEADLINE_MS)
    expect(title).to_have_attribute("lang", "en")
    expect(main(attendee).get_by_text(STALE_ID)).to_have_count(0)


PAGE = "emergency"
PAGE_TITLE = "Emergency numbers"
PAGE_BODY_EN = "Dial 112 from any phone, even without a SIM card.\n\nVenue security: any staff member in a blue shirt."
PAGE_BODY_ID = "Tekan 112 dari telepon apa pun, bahkan tanpa kartu SIM.\n\nKeamanan gedung: staf berbaju biru."


def stored_page(server: RunningServer) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/info-pages", timeout=10)
    response.raise_for_status()
    page: dict[str, Any] = next(item for item in response.json() if item["slug"] == PAGE)
    return page


def test_an_info_page_changed_in_english_is_marked_in_indonesian_until_its_translation_is_updated(
    new_context: ContextFactory, server: RunningServer
) -> None:
    before = stored_page(server)
    indonesian_title = before["translations"]["id"]["title"]
    old_indonesian = before["translations"]["id"]["body"]
    first_paragraph = old_indonesian.split("\n\n")[0]

    attendee = new_context(server, locale="id-ID").new_page()
    attendee.goto(f"/info/{PAGE}")
    expect(h1(attendee, indonesian_title)).to_be_visible()
    expect(main(attendee).get_by_text(first_paragraph.split("\n")[0])).to_be_visible()
    expect(main(attendee).get_by_text(STALE_ID)).to_have_count(0)
    wait_for_live_stream(attendee)

    # The organiser rewrites the English text in the Info pages editor.
    console = new_context(server, viewport=DESKTOP).new_page()
    sign_in(console, organiser(server, "editor"), "/admin/info-pages")
    expect(h1(console, "Info pages")).to_be_visible()
    console.get_by_role("button", name=f"Edit {PAGE_TITLE}").click()
    console.get_by_label("Text", exact=True).fill(PAGE_BODY_EN)
    console.get_by_role("button", name="Save").click()
    saved(console, f"{PAGE_TITLE} is saved.")

    # The attendee keeps the Indonesian page, marked, and can open the English original.
    marker = main(attendee).get_by_text(STALE_ID)
    expect(marker).to_be_visible(timeout=LIVE_DEADLINE_MS)
    expect(h1(attendee, indonesian_title)).to_be_visible()
    main(attendee).locator("summary", has_text=STALE_ID).click()
    original = main(attendee).locator("details p", has_text="Dial 112 from any phone")
    expect(original).to_be_visible()
    expect(original).to_have_attribute("lang", "en")
    violations = axe_violations(attendee)
    assert violations == [], describe_violations("stale Info page", violations)

    # The Info pages editor says a translation is out of date and leads to it; the list has it too.
    expect(main(console)).to_contain_text("1 translation out of date")
    translations = console.get_by_role("navigation", name="Console").get_by_role(
        "link", name=re.compile("^Translations")
    )
    expect(translations).to_have_accessible_name(re.compile(r"\b1 out of date"))
    violations = axe_violations(console)
    assert violations == [], describe_violations("console Info pages", violations)
    translations.click()
    console.get_by_label("Kind", exact=True).select_option(label="Info page")
    console.get_by_label("State", exact=True).select_option(label="Out of date")
    row = main(console).get_by_role("row").filter(has_text=PAGE_TITLE)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Indonesian")
    expect(row).to_contain_text("Text")
    console.go_back()
    expect(h1(console, "Info pages")).to_be_visible()
    console.get_by_role("link", name=f"Translations of {PAGE_TITLE}").click()
    expect(h1(console, "Translate")).to_be_visible()

    # Side by side with the English original, the organiser updates the Indonesian text.
    indonesian = main(console).get_by_role("group", name="Indonesian")
    expect(indonesian.get_by_text("Dial 112 from any phone")).to_have_attribute("lang", "en")
    field = indonesian.get_by_label("Text in Indonesian", exact=True)
    expect(field).to_have_value(old_indonesian)
    expect(field).to_have_accessible_description(re.compile("Out of date"))
    expect(indonesian.get_by_label("Title in Indonesian", exact=True)).to_have_value(indonesian_title)
    violations = axe_violations(console)
    assert violations == [], describe_violations("console Info page translations", violations)
    field.fill(PAGE_BODY_ID)
    console.get_by_role("button", name="Save").click()
    saved(console, "Translations saved")

    expect(main(attendee).get_by_text(PAGE_BODY_ID.split("\n\n")[0], exact=True)).to_be_visible(
        timeout=LIVE_DEADLINE_MS
    )
    expect(main(attendee).get_by_text(STALE_ID)).to_have_count(0)
    stored = stored_page(server)
    assert stored["translations"]["id"]["body"] == PAGE_BODY_ID
    assert "stale" not in stored["translations"]["id"]


def test_the_event_can_show_an_info_pages_original_instead_of_its_stale_translation(
    new_context: ContextFactory, server: RunningServer
) -> None:
    editor = {"Authorization": f"Bearer {server.organiser_token('editor')}"}
    event = httpx.get(f"{server.url}/api/event", timeout=10).json()
    answer = httpx.put(f"{server.url}/api/admin/event", json={**event, "staleTranslations": "original"}, headers=editor)
    assert answer.status_code == 200, answer.text
    page = stored_page(server)

    attendee = new_context(server, locale="id-ID").new_page()
    attendee.goto(f"/info/{PAGE}")
    expect(h1(attendee, page["translations"]["id"]["title"])).to_be_visible()
    wait_for_live_stream(attendee)
    answer = httpx.patch(
        f"{server.url}/api/admin/info-pages/{page['id']}", json={"body": PAGE_BODY_EN}, headers=editor, timeout=10
    )
    assert answer.status_code == 200, answer.text

    body = main(attendee).get_by_text("Dial 112 from any phone, even without a SIM card.", exact=True)
    expect(body).to_be_visible(timeout=LIVE_DEADLINE_MS)
    expect(main(attendee).locator(".info-page")).to_have_attribute("lang", "en")
    expect(h1(attendee, page["translations"]["id"]["title"])).to_be_visible()  # the title did not change
    expect(main(attendee).get_by_text(STALE_ID)).to_have_count(0)
