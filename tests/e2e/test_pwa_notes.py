"""Private notes and bookmarks in the attendee PWA: written offline, merged across linked devices, exported, erased."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    DESKTOP,
    MOBILE,
    Browsing,
    ContextFactory,
    Demo,
    RunningServer,
    axe_violations,
    describe_violations,
    h1,
    main,
    nav_link,
    screenshot,
    session_link,
    wait_until_offline_ready,
)
from tests.e2e.vault_checks import (
    bookmarked,
    follow_link,
    identity,
    note_bodies,
    private_value,
    server_docs,
    vault_keys,
)

#: Both devices must show each other's offline work within a few seconds of reconnecting.
CONVERGE_TIMEOUT_MS = 15_000
SYNCED = re.compile(r"Synced$")
OFFLINE = re.compile(r"Saved on this device · Not synced — offline$")
LINK_CODE = re.compile(r"[0-9A-Z]{5}-[0-9A-Z]{5}")


def open_my_notes(page: Page) -> None:
    """My notes, as a phone reaches it: through My agenda."""
    nav_link(page, "My agenda").click()
    page.get_by_role("main").get_by_role("link", name="My notes", exact=True).click()


def note_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Note for this session")


def open_session(page: Page, session: dict[str, Any]) -> None:
    page.goto(f"/sessions/{session['id']}")
    expect(h1(page, session["title"])).to_be_visible()
    expect(note_box(page)).to_be_enabled()


def write_note(page: Page, text: str, *, at_start: bool = False) -> None:
    """Type into the session's note like a person: click, move to the start or end, type."""
    box = note_box(page)
    box.click()
    box.press("Control+Home" if at_start else "Control+End")
    box.press_sequentially(text, delay=15)


def show_link_code(page: Page) -> str:
    """On this device: My notes → Link another device → show a code; returns it as shown."""
    open_my_notes(page)
    expect(h1(page, "My notes")).to_be_visible()
    main(page).get_by_role("link", name="Link another device, export or erase my notes").click()
    expect(h1(page, "Devices and data")).to_be_visible()
    page.get_by_role("button", name="Show a link code").click()
    qr = page.get_by_role("img", name=re.compile(r"^QR code for the link code "))
    expect(qr).to_be_visible()
    label = qr.get_attribute("aria-label") or ""
    code = LINK_CODE.search(label)
    assert code, label
    expect(main(page)).to_contain_text(code.group(0))
    expect(main(page)).to_contain_text(re.compile(r"Expires in (10:00|9:\d\d)"))
    return code.group(0)


def linked_pair(new_context: ContextFactory, server: RunningServer, session: dict[str, Any]) -> tuple[Page, Page]:
    """Two browser contexts (phone and laptop) linked as one attendee, both on ``session`` with a synced note."""
    phone = new_context(server).new_page()
    open_session(phone, session)
    write_note(phone, "Shared note.")
    expect(note_box(phone)).to_have_accessible_description(SYNCED, timeout=CONVERGE_TIMEOUT_MS)
    show_link_code(phone)
    link = main(phone).locator(".link-code-url code").inner_text()

    laptop = new_context(server, viewport=DESKTOP).new_page()
    follow_link(laptop, link)
    assert identity(laptop)["attendeeId"] == identity(phone)["attendeeId"]
    assert identity(laptop)["token"] != identity(phone)["token"]
    open_session(laptop, session)
    expect(note_box(laptop)).to_have_value("Shared note.", timeout=CONVERGE_TIMEOUT_MS)
    for page in (phone, laptop):
        open_session(page, session)
        wait_until_offline_ready(page)
    return phone, laptop


def test_two_linked_devices_edit_offline_and_both_keep_every_word_and_bookmark(
    new_context: ContextFactory, server: RunningServer
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="plenary")
    other = demo.find(day=1)
    phone, laptop = linked_pair(new_context, server, session)

    for page in (phone, laptop):
        page.context.set_offline(True)
    write_note(phone, "Alpha first. ", at_start=True)
    write_note(laptop, " Bravo last.")
    for page in (phone, laptop):
        expect(note_box(page)).to_have_accessible_description(OFFLINE)
    phone.get_by_role("button", name="Add to my agenda").click()
    expect(phone.get_by_role("button", name="Remove from my agenda")).to_have_attribute("aria-pressed", "true")
    # The laptop bookmarks another session, reached offline through the service worker.
    laptop.goto(f"/sessions/{other['id']}")
    expect(h1(laptop, other["title"])).to_be_visible()
    laptop.get_by_role("button", name="Add to my agenda").click()
    expect(laptop.get_by_role("button", name="Remove from my agenda")).to_have_attribute("aria-pressed", "true")
    laptop.goto(f"/sessions/{session['id']}")
    expect(note_box(laptop)).to_have_value("Shared note. Bravo last.")

    for page in (phone, laptop):
        page.context.set_offline(False)
    merged = "Alpha first. Shared note. Bravo last."
    for page in (phone, laptop):
        expect(note_box(page)).to_have_value(merged, timeout=CONVERGE_TIMEOUT_MS)
        expect(note_box(page)).to_have_accessible_description(SYNCED, timeout=CONVERGE_TIMEOUT_MS)
    for page in (phone, laptop):
        nav_link(page, "My agenda").click()
        expect(h1(page, "My agenda")).to_be_visible()
        expect(session_link(page, session)).to_be_visible(timeout=CONVERGE_TIMEOUT_MS)
        expect(session_link(page, other)).to_be_visible(timeout=CONVERGE_TIMEOUT_MS)

    docs = server_docs(server, identity(phone)["token"], vault_keys(phone))
    assert note_bodies(docs) == [merged]
    assert bookmarked(docs) == {session["id"], other["id"]}


def test_a_device_whose_attendee_was_erased_elsewhere_keeps_its_notes_and_can_start_fresh(
    new_context: ContextFactory, server: RunningServer
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="plenary")
    phone, laptop = linked_pair(new_context, server, session)
    old_token = identity(laptop)["token"]

    phone.goto("/device")
    phone.get_by_role("button", name="Erase my data").click()
    dialog = phone.get_by_role("dialog", name="Erase all your data?")
    expect(dialog).to_contain_text("on the server and on this device")
    dialog.get_by_role("button", name="Erase everything").click()
    expect(phone.get_by_role("status").filter(has_text="Your data is erased")).to_be_visible()

    write_note(laptop, " Written after the erase.")
    notice = laptop.get_by_role("note").filter(has_text="no longer sync")
    expect(notice).to_be_visible(timeout=CONVERGE_TIMEOUT_MS)
    expect(note_box(laptop)).to_have_value("Shared note. Written after the erase.")
    notice.get_by_role("button", name="Start fresh and sync this device again").click()
    expect(notice).to_be_hidden(timeout=CONVERGE_TIMEOUT_MS)
    expect(note_box(laptop)).to_have_accessible_description(SYNCED, timeout=CONVERGE_TIMEOUT_MS)
    fresh = identity(laptop)["token"]
    assert fresh != old_token
    assert note_bodies(server_docs(server, fresh, vault_keys(laptop))) == ["Shared note. Written after the erase."]


def test_a_note_typed_offline_survives_a_reload_offline_and_syncs_later(
    new_context: ContextFactory, server: RunningServer
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="working-group")
    browsing = new_context(server)
    page = browsing.new_page()
    open_session(page, session)
    wait_until_offline_ready(page)

    browsing.context.set_offline(True)
    write_note(page, "Typed with no network, every word kept.")
    expect(note_box(page)).to_have_accessible_description(OFFLINE)
    page.reload()
    expect(h1(page, session["title"])).to_be_visible()
    expect(note_box(page)).to_have_value("Typed with no network, every word kept.")

    # A free-standing note, offline too.
    open_my_notes(page)
    expect(session_link(page, session)).to_be_visible()
    page.get_by_role("button", name="New note").click()
    expect(h1(page, "Note")).to_be_visible()
    page.get_by_role("textbox", name="Title", exact=True).fill("Questions for the coffee break")
    page.get_by_role("textbox", name="Note", exact=True).press_sequentially("Ask about the hotline.", delay=10)
    expect(page.get_by_role("textbox", name="Note", exact=True)).to_have_accessible_description(OFFLINE)
    page.reload()
    expect(page.get_by_role("textbox", name="Title", exact=True)).to_have_value("Questions for the coffee break")
    expect(page.get_by_role("textbox", name="Note", exact=True)).to_have_value("Ask about the hotline.")

    browsing.context.set_offline(False)
    expect(page.get_by_role("textbox", name="Note", exact=True)).to_have_accessible_description(
        SYNCED, timeout=CONVERGE_TIMEOUT_MS
    )
    open_my_notes(page)
    expect(main(page).get_by_role("link", name="Questions for the coffee break")).to_be_visible()
    expect(main(page).get_by_text("Synced", exact=True)).to_have_count(2, timeout=CONVERGE_TIMEOUT_MS)
    bodies = note_bodies(server_docs(server, identity(page)["token"], vault_keys(page)))
    assert sorted(bodies) == ["Ask about the hotline.", "Typed with no network, every word kept."]


def test_export_downloads_markdown_and_erase_leaves_the_old_token_refused(
    new_context: ContextFactory, server: RunningServer
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="plenary")
    page = new_context(server).new_page()
    open_session(page, session)
    write_note(page, "Follow the money: ask banks for red flags.")
    expect(note_box(page)).to_have_accessible_description(SYNCED, timeout=CONVERGE_TIMEOUT_MS)
    page.get_by_role("button", name="Add to my agenda").click()
    token = identity(page)["token"]

    open_my_notes(page)
    main(page).get_by_role("link", name="Link another device, export or erase my notes").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export my notes").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".md")
    markdown = download.path().read_text(encoding="utf-8")
    assert markdown.startswith("# My notes")
    assert f"## {session['title']} — " in markdown
    assert "Follow the money: ask banks for red flags." in markdown

    page.get_by_role("button", name="Erase my data").click()
    dialog = page.get_by_role("dialog", name="Erase all your data?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert httpx.post(
        f"{server.url}/api/me/sync", json={"cursor": None, "docs": []}, headers={"Authorization": f"Bearer {token}"}
    ).is_success

    page.get_by_role("button", name="Erase my data").click()
    dialog.get_by_role("button", name="Erase everything").click()
    expect(page.get_by_role("status").filter(has_text="Your data is erased")).to_be_visible()
    response = httpx.post(
        f"{server.url}/api/me/sync", json={"cursor": None, "docs": []}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert private_value(page, "identity") is None
    open_session(page, session)
    expect(note_box(page)).to_have_value("")
    expect(page.get_by_role("button", name="Add to my agenda")).to_have_attribute("aria-pressed", "false")


def notes_views(page: Page, session: dict[str, Any]) -> list[tuple[str, Any]]:
    """The notes screens with content, each opened and ready: (screenshot name, how to open it)."""

    def editor() -> None:
        open_session(page, session)
        note_box(page).scroll_into_view_if_needed()
        page.get_by_role("heading", level=2, name="Notes", exact=True).evaluate("(h) => h.scrollIntoView()")

    def my_notes() -> None:
        page.goto("/notes")
        expect(main(page).get_by_role("link", name=session["title"])).to_be_visible()

    def note() -> None:
        page.goto("/notes")
        main(page).get_by_role("link", name="Ideas to take home").click()
        expect(page.get_by_role("textbox", name="Title", exact=True)).to_have_value("Ideas to take home")

    def device() -> None:
        page.goto("/device")
        expect(h1(page, "Devices and data")).to_be_visible()
        page.get_by_role("button", name="Show a link code").click()
        expect(page.get_by_role("img", name=re.compile("^QR code"))).to_be_visible()

    return [("notes-editor", editor), ("my-notes", my_notes), ("note", note), ("device", device)]


def prepare_notes(page: Page, session: dict[str, Any]) -> None:
    open_session(page, session)
    write_note(page, "Key point: banks can flag suspicious transfers.\nAsk Siti for the indicator list.")
    expect(note_box(page)).to_have_accessible_description(SYNCED, timeout=CONVERGE_TIMEOUT_MS)
    page.goto("/notes")
    page.get_by_role("button", name="New note").click()
    page.get_by_role("textbox", name="Title", exact=True).fill("Ideas to take home")
    page.get_by_role("textbox", name="Note", exact=True).fill(
        "Hotline poster for our shelter.\nShare the safeguarding policy."
    )
    expect(page.get_by_role("textbox", name="Note", exact=True)).to_have_accessible_description(
        SYNCED, timeout=CONVERGE_TIMEOUT_MS
    )


def test_notes_views_are_accessible_and_photographed_on_phone_and_desktop(
    new_context: ContextFactory, server: RunningServer
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="plenary")
    problems = []
    for viewport, scheme in ((MOBILE, "light"), (MOBILE, "dark"), (DESKTOP, "light")):
        browsing: Browsing = new_context(server, viewport=viewport, color_scheme=scheme)
        page = browsing.new_page()
        prepare_notes(page, session)
        for name, open_view in notes_views(page, session):
            open_view()
            page.wait_for_timeout(300)
            screenshot(page, name)
            violations = axe_violations(page)
            if violations:
                problems.append(describe_violations(f"{name} {viewport['width']} {scheme}", violations))
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{name} scrolls sideways at {viewport['width']} px"
        assert browsing.foreign_requests() == []
    assert not problems, "\n".join(problems)


def test_the_notes_list_shows_a_note_as_it_reads_not_its_markdown(
    new_context: ContextFactory, server: RunningServer
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="working-group")
    page = new_context(server).new_page()
    open_session(page, session)
    write_note(page, "**Bitung** shelter: ask _Ibu Sari_ about [the hotline](https://example.org/hotline)")
    open_my_notes(page)
    expect(main(page).locator(".note-preview")).to_have_text("Bitung shelter: ask Ibu Sari about the hotline")


def test_the_link_code_countdown_holds_on_a_phone_whose_clock_is_an_hour_ahead(
    new_context: ContextFactory, server: RunningServer
) -> None:
    page = new_context(server, at=datetime.now(UTC) + timedelta(hours=1)).new_page()
    page.goto("/")
    show_link_code(page)  # "Expires in 10:00" or 9:xx: the server's ten minutes, not "expired"
    expect(main(page).get_by_text("This code has expired")).to_have_count(0)
