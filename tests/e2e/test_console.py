"""The organisers' console at /admin in Chromium: sign-in, editing the programme, warnings, announcements with their
delivery, roles, CSRF, the attendee service worker leaving the console alone, accessibility and screenshots."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, cast

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import (
    DESKTOP,
    PWA_INDEX,
    ContextFactory,
    Demo,
    RunningServer,
    axe_violations,
    describe_violations,
    free_port,
    main,
    screenshot,
    start_server,
    stop_server,
    wait_until_offline_ready,
)
from tests.e2e.console_helpers import (
    PASSWORD,
    Organiser,
    admin_token,
    create_organiser,
    h1,
    nav,
    organiser,
    saved,
    sign_in,
)
from tests.push_service import PushService

TABLET = {"width": 768, "height": 1024}


def wait_for_live_stream(page: Page) -> None:
    """Wait until the attendee app's EventSource has the server's hello (it marks <html data-live="open">)."""
    page.wait_for_selector("html[data-live=open]", state="attached", timeout=10_000)


def stored_session(server: RunningServer, session_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/sessions/{session_id}", timeout=10)
    response.raise_for_status()
    session: dict[str, Any] = response.json()
    return session


def local(moment: datetime) -> str:
    """A ``datetime-local`` value: the wall clock of the event's zone."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def other_room(demo: Demo, session: dict[str, Any]) -> dict[str, Any]:
    """A room whose name neither contains nor is contained in the session's room name."""
    old = demo.room_name(session["roomId"])
    return next(r for r in demo.data["rooms"] if r["name"] not in old and old not in r["name"])


# --- serving ----------------------------------------------------------------------------------------------------


def test_the_console_page_is_served_for_every_admin_path_and_never_framed(server: RunningServer) -> None:
    for path in ("/admin", "/admin/", "/admin/sessions/d1-registration", "/admin.html"):
        response = httpx.get(f"{server.url}{path}", timeout=10)
        assert response.status_code == 200, path
        assert 'id="console"' in response.text, f"{path} is not the console page"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # The attendee app's deep links still get the attendee shell, never the console.
    shell = httpx.get(f"{server.url}/sessions/d1-registration", timeout=10)
    assert 'id="app"' in shell.text
    assert 'id="console"' not in shell.text


# --- signing in ---------------------------------------------------------------------------------------------------


def test_the_first_sign_in_asks_for_an_own_password_which_then_signs_in(
    new_context: ContextFactory, server: RunningServer
) -> None:
    name, one_time = create_organiser(server, admin_token(server), "editor")
    page = new_context(server, viewport=DESKTOP).new_page()
    page.goto("/admin")
    expect(h1(page, "Sign in to the Kumpul console")).to_be_visible()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(one_time)
    page.get_by_role("button", name="Sign in").click()

    expect(h1(page, "Set your own password")).to_be_visible()
    expect(nav(page)).to_have_count(0)
    new_password = page.get_by_label("New password", exact=True)
    new_password.fill("too short")
    page.get_by_label("New password again").fill("too short")
    page.get_by_role("button", name="Set password").click()
    expect(new_password).to_have_attribute("aria-invalid", "true")
    expect(new_password).to_have_accessible_description(re.compile("Use at least 10 characters"))
    expect(new_password).to_be_focused()

    new_password.fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(h1(page, "Sessions")).to_be_visible()
    expect(h1(page, "Sessions")).to_be_focused()

    page.get_by_role("button", name="Sign out").click()
    expect(h1(page, "Sign in to the Kumpul console")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()

    # The one-time password is spent; the chosen one signs in, straight to the console.
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(one_time)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The name or password is wrong.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(h1(page, "Sessions")).to_be_visible()
    expect(h1(page, "Set your own password")).to_have_count(0)
    # The console's last read after loading is the translation counts of its navigation: waited for, so that the
    # click below makes the first request without the cookie (any request would lead to the sign-in).
    with page.expect_response(lambda response: "/api/admin/translations" in response.url):
        page.reload()
    expect(h1(page, "Sessions")).to_be_visible()

    # When the session ends (here: the cookie is gone), the next request leads back to the sign-in.
    page.context.clear_cookies()
    main(page).get_by_role("button", name=re.compile("^Cancel session")).first.click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel session").click()
    expect(h1(page, "Sign in to the Kumpul console")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Your session has ended")).to_be_visible()


def test_too_many_sign_in_attempts_say_how_long_to_wait(new_context: ContextFactory, server: RunningServer) -> None:
    name, _ = create_organiser(server, admin_token(server), "announcer")
    page = new_context(server, viewport=DESKTOP).new_page()
    page.goto("/admin")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill("another guess")
    # Used up just before the click: the limits refill one attempt every few seconds, which a slow page load outlasts.
    for _ in range(30):
        if httpx.post(f"{server.url}/api/admin/login", json={"name": name, "password": "guess"}).status_code == 429:
            break
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"Too many attempts\. Wait \d+ seconds? and try again\.")
    )


# --- the programme editor -----------------------------------------------------------------------------------------


def test_a_session_edited_in_the_console_reaches_an_open_attendee_page(
    new_context: ContextFactory, server: RunningServer
) -> None:
    token = admin_token(server)
    editor = organiser(server, "editor", token)
    demo = Demo.load(server)
    session = demo.find(day=0, format="workshop")
    room = other_room(demo, session)
    attendee = new_context(server).new_page()
    attendee.goto(f"/sessions/{session['id']}")
    expect(h1(attendee, session["title"])).to_be_visible()
    wait_for_live_stream(attendee)

    console = new_context(server, viewport=DESKTOP).new_page()
    refused: list[str] = []
    console.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    sign_in(console, editor)
    main(console).get_by_role("link", name=session["title"]).click()
    expect(h1(console, "Edit session")).to_be_visible()
    console.get_by_label("Title", exact=True).fill("Survivor-led advocacy: a workshop")
    console.get_by_label("Room", exact=True).select_option(label=room["name"])
    console.get_by_role("button", name="Save").click()
    saved(console)

    # No reload: the attendee's open page follows /api/live and /api/changes.
    expect(h1(attendee, "Survivor-led advocacy: a workshop")).to_be_visible(timeout=10_000)
    expect(main(attendee)).to_contain_text(room["name"])
    stored = stored_session(server, session["id"])
    assert (stored["title"], stored["roomId"]) == ("Survivor-led advocacy: a workshop", room["id"])
    # Only what changed was sent: the history names the two fields.
    history = httpx.get(f"{server.url}/api/admin/history", headers={"Authorization": f"Bearer {token}"}).json()
    change = next(entry for entry in history if entry["entityId"] == session["id"])
    assert (change["actor"], change["action"]) == (editor.name, "updated")
    assert change["summary"].endswith(": title, roomId")
    assert refused == [], "the console broke its own Content-Security-Policy"


def test_a_refused_save_shows_the_server_message_beside_the_field_and_focuses_it(
    new_context: ContextFactory, server: RunningServer
) -> None:
    editor = organiser(server, "editor")
    demo = Demo.load(server)
    session = demo.find(day=1, format="panel")
    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, editor, f"/admin/sessions/{session['id']}")
    expect(h1(page, "Edit session")).to_be_visible()
    starts = page.get_by_label("Starts")
    expect(starts).to_have_value(local(demo.start(session)))
    expect(starts).to_have_accessible_description(re.compile(r"Asia/Makassar \(UTC\+08:00\)"))

    ends = page.get_by_label("Ends")
    ends.fill(local(demo.start(session) - timedelta(hours=1)))
    page.get_by_role("button", name="Save").click()
    expect(ends).to_have_attribute("aria-invalid", "true")
    expect(ends).to_have_accessible_description(re.compile("must be after start"))
    expect(ends).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("must be after start")
    assert stored_session(server, session["id"])["end"] == session["end"]

    # Fixing it clears the message and saves.
    ends.fill(local(demo.end(session)))
    page.get_by_label("Title", exact=True).fill(f"{session['title']} (updated)")
    page.get_by_role("button", name="Save").click()
    saved(page)
    expect(ends).not_to_have_attribute("aria-invalid", "true")
    assert stored_session(server, session["id"])["title"] == f"{session['title']} (updated)"


def test_moving_a_session_into_an_occupied_room_warns_in_the_list_and_the_form(
    new_context: ContextFactory, server: RunningServer
) -> None:
    editor = organiser(server, "editor")
    demo = Demo.load(server)
    occupant = demo.find(day=0, format="workshop")
    mover = next(
        s
        for s in demo.sessions
        if s["status"] == "scheduled"
        and s["roomId"] != occupant["roomId"]
        and demo.day(s) == demo.day(occupant)
        and demo.unambiguous(s)
        and s["format"] not in ("break", "meal")
    )
    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, editor)
    expect(page.get_by_role("heading", name=re.compile("scheduling warning"))).to_have_count(0)

    main(page).get_by_role("link", name=mover["title"]).click()
    expect(h1(page, "Edit session")).to_be_visible()
    page.get_by_label("Starts").fill(local(demo.start(occupant)))
    page.get_by_label("Ends").fill(local(demo.end(occupant)))
    page.get_by_label("Room", exact=True).select_option(label=demo.room_name(occupant["roomId"]))
    page.get_by_role("button", name="Save").click()
    saved(page)
    warning = page.get_by_role("region", name="Warnings for this session")
    expect(warning).to_contain_text("Room double-booked")
    expect(warning.get_by_role("link", name=occupant["title"])).to_be_visible()

    nav(page).get_by_role("link", name="Sessions").click()
    warnings = page.get_by_role("region", name=re.compile(r"scheduling warnings?$"))
    expect(warnings).to_contain_text("Room double-booked")
    for session in (occupant, mover):
        row = main(page).get_by_role("row").filter(has=page.get_by_role("link", name=session["title"], exact=True))
        expect(row.get_by_role("listitem")).to_contain_text(["Room double-booked"])


def test_rooms_are_created_and_deleted_and_a_room_in_use_says_why_it_stays(
    new_context: ContextFactory, server: RunningServer
) -> None:
    editor = organiser(server, "editor")
    demo = Demo.load(server)
    room = demo.data["rooms"][0]
    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, editor, "/admin/rooms")
    expect(h1(page, "Rooms")).to_be_visible()

    page.get_by_role("link", name="New room").click()
    expect(h1(page, "New room")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Quiet room")
    page.get_by_label("Capacity").fill("twelve")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_label("Capacity")).to_be_focused()
    expect(page.get_by_label("Capacity")).to_have_accessible_description(re.compile("whole number"))
    page.get_by_label("Capacity").fill("12")
    page.get_by_role("button", name="Create").click()
    expect(h1(page, "Edit room")).to_be_visible()
    saved(page)
    assert any(r["name"] == "Quiet room" and r["capacity"] == 12 for r in Demo.load(server).data["rooms"])
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(h1(page, "Rooms")).to_be_visible()
    expect(main(page).get_by_role("link", name="Quiet room")).to_have_count(0)

    page.get_by_role("button", name=f"Delete “{room['name']}”").click()
    dialog = page.get_by_role("dialog", name=f"Delete “{room['name']}”?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Go back")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("button", name=f"Delete “{room['name']}”")).to_be_focused()

    page.get_by_role("button", name=f"Delete “{room['name']}”").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert")).to_contain_text("still use room")
    assert any(r["id"] == room["id"] for r in Demo.load(server).data["rooms"])


def test_an_anonymous_speaker_is_offered_no_identifying_field(
    new_context: ContextFactory, server: RunningServer
) -> None:
    editor = organiser(server, "editor")
    demo = Demo.load(server)
    named = next(s for s in demo.data["speakers"] if not s["anonymous"] and s["organisation"])
    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, editor, f"/admin/speakers/{named['id']}")
    expect(page.get_by_label("Organisation")).to_have_value(named["organisation"])
    page.get_by_label("Anonymous speaker").check()
    for label in ("Organisation", "Role", "Country", "Photo URL"):
        expect(page.get_by_label(label, exact=False)).to_have_count(0)
    expect(page.get_by_role("note")).to_contain_text("never stored or shown")
    expect(page.get_by_role("note")).to_contain_text("Saving erases the organisation")
    page.get_by_label("Pseudonym").fill("Mawar")
    page.get_by_role("button", name="Save").click()
    saved(page)
    stored = httpx.get(f"{server.url}/api/speakers/{named['id']}", timeout=10).json()
    assert (stored["name"], stored["anonymous"], stored["organisation"], stored["links"]) == ("Mawar", True, "", [])


def test_only_an_admin_reveals_a_speaker_or_loosens_a_recording_policy_after_a_plain_warning(
    new_context: ContextFactory, server: RunningServer, tmp_path: Path
) -> None:
    demo = Demo.load(server)
    hidden = next(s for s in demo.data["speakers"] if s["anonymous"])
    session = next(s for s in demo.data["sessions"] if s["recording"] == "no-recording")

    # An editor cannot make an anonymous speaker public, nor offer a session a looser policy.
    editor_page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(editor_page, organiser(server, "editor"), f"/admin/speakers/{hidden['id']}")
    expect(editor_page.get_by_label("Anonymous speaker")).to_be_disabled()
    expect(editor_page.get_by_text("Only an admin can reveal")).to_be_visible()
    expect(editor_page.get_by_role("button", name="Reveal speaker…")).to_have_count(0)
    editor_page.goto(f"/admin/sessions/{session['id']}")
    recording = editor_page.get_by_label("Recording")
    expect(recording.locator("option")).to_have_text(["Not recorded", "Off the record (no recording, no quotes)"])
    expect(editor_page.get_by_role("button", name=re.compile("^Make it"))).to_have_count(0)

    # A file that would make them public is refused, and the check says which entry and why.
    programme = httpx.get(f"{server.url}/api/programme", timeout=10).json()
    stale = next(s for s in programme["speakers"] if s["id"] == hidden["id"])
    stale.update(anonymous=False, name="Real Name Zorblax")
    file = tmp_path / "stale.json"
    file.write_text(json.dumps(programme))
    editor_page.goto("/admin/import")
    editor_page.get_by_label("Programme file").set_input_files(file)
    editor_page.get_by_role("button", name="Check the file").click()
    report = editor_page.get_by_role("region", name="What the import changes")
    expect(report.get_by_role("alert")).to_contain_text("would reveal an anonymous speaker")
    expect(report.get_by_role("alert")).to_contain_text(f"{hidden['name']} ({hidden['id']})")
    expect(report).not_to_contain_text("Zorblax")
    expect(editor_page.get_by_role("button", name="Import", exact=True)).to_have_count(0)

    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, organiser(server, "admin"), f"/admin/speakers/{hidden['id']}")
    page.get_by_role("button", name="Reveal speaker…").click()
    dialog = page.get_by_role("dialog", name=f"Reveal {hidden['name']}?")
    expect(dialog).to_contain_text("will no longer be anonymous")
    expect(dialog).to_contain_text("Only do this if the speaker has asked for it")
    expect(dialog.get_by_role("button", name="Go back")).to_be_focused()
    page.keyboard.press("Escape")
    assert httpx.get(f"{server.url}/api/speakers/{hidden['id']}", timeout=10).json()["anonymous"] is True
    page.get_by_role("button", name="Reveal speaker…").click()
    dialog.get_by_role("button", name="Reveal speaker").click()
    saved(page, "is no longer anonymous")
    assert httpx.get(f"{server.url}/api/speakers/{hidden['id']}", timeout=10).json()["anonymous"] is False
    expect(page.get_by_label("Anonymous speaker")).not_to_be_checked()

    page.goto(f"/admin/sessions/{session['id']}")
    page.get_by_role("button", name="Make it “Recorded and shared”…").click()
    dialog = page.get_by_role("dialog", name=f"Loosen the recording policy of “{session['title']}”?")
    expect(dialog).to_contain_text("people may record, quote or share what is said")
    dialog.get_by_role("button", name="Loosen the policy").click()
    saved(page, "The recording policy is now")
    assert stored_session(server, session["id"])["recording"] == "public"
    headers = {"Authorization": f"Bearer {admin_token(server)}"}
    history = httpx.get(f"{server.url}/api/admin/history", headers=headers, timeout=10).json()
    actions = {entry["action"] for entry in history}
    assert {"revealed", "recording-changed"} <= actions


def test_an_import_shows_what_would_change_before_it_writes(
    new_context: ContextFactory, server: RunningServer, tmp_path: Path
) -> None:
    programme = httpx.get(f"{server.url}/api/programme", timeout=10).json()
    renamed = programme["sessions"][3]
    renamed["title"] = "Renamed by the import"
    dropped = programme["sessions"].pop(5)
    file = tmp_path / "programme.json"
    file.write_text(json.dumps(programme))
    editor = organiser(server, "editor")
    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, editor, "/admin/import")
    page.get_by_label("Programme file").set_input_files(file)
    page.get_by_role("button", name="Check the file").click()
    report = page.get_by_role("region", name="What the import changes")
    expect(report).to_contain_text("Kumpul JSON")
    expect(report).to_contain_text("Renamed by the import")
    expect(report).to_contain_text(dropped["title"])
    assert stored_session(server, renamed["id"])["title"] != "Renamed by the import", "a dry run writes nothing"

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("region", name="Imported")).to_be_visible()
    saved(page, "Imported")
    assert stored_session(server, renamed["id"])["title"] == "Renamed by the import"
    assert stored_session(server, dropped["id"])["status"] == "cancelled"

    # A broken file is refused with the server's reason, and nothing changes.
    broken = tmp_path / "broken.xml"
    broken.write_text("<schedule><conference><title>x</title>\n<day index='1'>\n</schedule>")
    page.get_by_role("button", name="Import another file").click()
    page.get_by_label("Programme file").set_input_files(broken)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("alert")).to_contain_text("The file was not imported")
    expect(page.get_by_role("alert")).to_contain_text("line")


# --- announcements ------------------------------------------------------------------------------------------------


@pytest.fixture
def push_server(tmp_path: Path) -> Iterator[RunningServer]:
    """The demo server, allowed to push to loopback push services."""
    running = start_server(tmp_path / "kumpul.db", "--demo", env={"KUMPUL_ALLOW_INSECURE_PUSH": "1"})
    yield running
    stop_server(running)


def test_an_announcement_sent_in_the_console_shows_its_delivery_live(
    new_context: ContextFactory, push_server: RunningServer
) -> None:
    key = httpx.get(f"{push_server.url}/api/push/key", timeout=10).json()["publicKey"]
    with PushService(vapid_public_key=key) as service:
        subscriptions = service.subscriptions(3)
        for subscription in subscriptions:
            response = httpx.post(f"{push_server.url}/api/push/subscriptions", json=subscription.as_json(), timeout=10)
            assert response.status_code == 201, response.text
        announcer = organiser(push_server, "announcer")
        page = new_context(push_server, viewport=DESKTOP).new_page()
        sign_in(page, announcer)
        expect(h1(page, "Announcements")).to_be_visible()

        title = "Plenary moved to Hall B"
        body = "The closing plenary starts at 16:00 in Hall B.\nInterpretation channels stay the same."
        # Exact names: the form also has a title and a message in each of the event's other languages.
        page.get_by_label("Title", exact=True).fill(title)
        page.get_by_label("Message (optional)", exact=True).fill(body)
        preview = page.get_by_role("region", name="Preview on a phone")
        expect(preview).to_contain_text(title)
        expect(preview).to_contain_text("The closing plenary starts at 16:00 in Hall B. Interpretation")
        page.get_by_role("button", name="Send").click()
        saved(page, f"“{title}” is sent.")

        report = page.get_by_role("region", name=f"Delivery of “{title}”")
        progress = report.get_by_role("progressbar", name="Delivery progress")
        expect(progress).to_have_attribute("aria-valuemax", "3")
        expect(progress).to_have_attribute("aria-valuenow", "3", timeout=15_000)
        expect(progress).to_have_attribute("aria-valuetext", "3 of 3 devices handled")
        expect(report).to_contain_text(re.compile(r"Sent\s*3"))
        expect(report).to_contain_text(re.compile(r"Waiting\s*0"))
        expect(report).to_contain_text("Delivery finished.")
        delivered = service.wait_for_sync(3)
        assert sorted(d.sub_id for d in delivered) == sorted(s.sub_id for s in subscriptions)
        assert {d.json()["title"] for d in delivered} == {title}

        # Correct it, then retract it: both after a confirmation, both in the list.
        item = main(page).get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))
        item.get_by_role("button", name=f"Correct “{title}”").click()
        dialog = page.get_by_role("dialog", name="Correct the announcement")
        dialog.get_by_label("Message", exact=True).fill("The closing plenary starts at 16:30 in Hall B.")
        dialog.get_by_role("button", name="Send correction").click()
        saved(page, "Correction sent")
        expect(item).to_contain_text("16:30")
        service.wait_for_sync(6)
        item.get_by_role("button", name=f"Retract “{title}”").click()
        page.get_by_role("dialog").get_by_role("button", name="Retract").click()
        expect(item.get_by_text("Retracted", exact=True)).to_be_visible()


# --- roles and CSRF -----------------------------------------------------------------------------------------------


def test_each_role_sees_only_what_it_may_do(new_context: ContextFactory, server: RunningServer) -> None:
    token = admin_token(server)
    announcer = organiser(server, "announcer", token)
    editor = organiser(server, "editor", token)

    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, announcer)
    expect(h1(page, "Announcements")).to_be_visible()
    expect(nav(page).get_by_role("link")).to_have_text(["Announcements", "History"])
    page.goto("/admin/sessions")
    expect(h1(page, "Not available to your role")).to_be_visible()
    expect(page.get_by_role("link", name="New session")).to_have_count(0)
    page.goto("/admin/organisers")
    expect(h1(page, "Not available to your role")).to_be_visible()
    expect(page.get_by_role("button", name="Add organiser")).to_have_count(0)
    page.goto("/admin/source")
    expect(h1(page, "Not available to your role")).to_be_visible()
    page.goto("/admin/feedback")
    expect(h1(page, "Not available to your role")).to_be_visible()

    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, editor)
    expect(h1(page, "Sessions")).to_be_visible()
    expect(nav(page).get_by_role("link")).to_have_text(
        [
            "Sessions",
            "Speakers",
            "Rooms",
            "Tracks",
            "Floor plans",
            "Info pages",
            "Translations",
            "Import",
            "Source of record",
            "Feedback",
            "History",
        ]
    )
    page.goto("/admin/source")
    expect(h1(page, "Source of record")).to_be_visible()
    page.goto("/admin/announcements")
    expect(h1(page, "Not available to your role")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_have_count(0)
    expect(page.get_by_role("heading", name="New announcement")).to_have_count(0)

    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, organiser(server, "admin", token))
    expect(nav(page).get_by_role("link")).to_have_text(
        [
            "Sessions",
            "Speakers",
            "Rooms",
            "Tracks",
            "Floor plans",
            "Info pages",
            "Translations",
            "Import",
            "Source of record",
            "Announcements",
            "Room status",
            "Feedback",
            "History",
            "Organisers",
        ]
    )


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A static web server on another port, reached as http://localhost:PORT: another site than 127.0.0.1."""
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://localhost:{port}"
    httpd.shutdown()
    httpd.server_close()


def test_another_site_cannot_change_the_programme_with_the_console_cookie(
    new_context: ContextFactory, server: RunningServer, other_site: tuple[Path, str]
) -> None:
    editor = organiser(server, "editor")
    demo = Demo.load(server)
    session = demo.sessions[2]
    browsing = new_context(server, viewport=DESKTOP)
    page = browsing.new_page()
    sign_in(page, editor)

    # Same origin with the cookie but without X-CSRF-Token: refused.
    refused = page.evaluate(
        """async (id) => {
            const response = await fetch(`/api/admin/sessions/${id}`, {method: "PATCH", credentials: "same-origin",
                headers: {"Content-Type": "application/json"}, body: JSON.stringify({title: "No token"})});
            return {status: response.status, detail: (await response.json()).detail};
        }""",
        session["id"],
    )
    assert refused["status"] == 403
    assert "CSRF" in refused["detail"]

    # A page of another site tries a credentialed fetch and a form post (text/plain JSON) with the signed-in cookie.
    root, origin = other_site
    forged = {
        "title": "Forged",
        "start": session["start"],
        "end": session["end"],
        "roomId": session["roomId"],
        "format": session["format"],
    }
    prefix = json.dumps(forged)[:-1] + ', "subtitle": "'
    (root / "forge.html").write_text(
        f"""<!doctype html><html lang="en"><head><title>Win a prize</title></head><body>
<iframe name="sink" title="sink"></iframe>
<form id="forge" method="POST" enctype="text/plain" target="sink" action="{server.url}/api/admin/sessions">
<input type="hidden" name='{prefix}' value='"}}'></form>
<script>
window.outcome = {{}};
fetch("{server.url}/api/admin/sessions/{session["id"]}", {{method: "PATCH", credentials: "include",
  headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{title: "Forged"}})}})
  .then((r) => {{ outcome.patch = r.status; }}, () => {{ outcome.patch = "blocked"; }});
fetch("{server.url}/api/admin/sessions", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}}, body: {json.dumps(json.dumps(forged))}}})
  .then(() => {{ outcome.post = "sent"; }}, () => {{ outcome.post = "blocked"; }});
document.querySelector("iframe").addEventListener("load", () => {{ outcome.form = "sent"; }});
document.getElementById("forge").submit();
</script></body></html>"""
    )
    attacker = browsing.new_page()
    attacker.goto(f"{origin}/forge.html")
    attacker.wait_for_function("outcome.patch && outcome.post && outcome.form", timeout=10_000)
    assert attacker.evaluate("outcome.patch") == "blocked", "the cross-site PATCH must fail its CORS preflight"
    time.sleep(0.5)
    sessions = httpx.get(f"{server.url}/api/sessions", timeout=10).json()
    assert all(s["title"] != "Forged" for s in sessions), "a session was created from another site"
    assert stored_session(server, session["id"])["title"] == session["title"]

    # The console itself still works: its own requests carry the token.
    page.goto(f"/admin/sessions/{session['id']}")
    page.get_by_label("Title", exact=True).fill("Changed in the console")
    page.get_by_role("button", name="Save").click()
    saved(page)
    assert stored_session(server, session["id"])["title"] == "Changed in the console"


# --- the attendee service worker ------------------------------------------------------------------------------------


def console_files() -> set[str]:
    """The console's page and the files only it loads, from Vite's build manifest."""
    manifest = json.loads((PWA_INDEX.parent / ".vite" / "manifest.json").read_text())

    def reach(key: str, files: set[str]) -> set[str]:
        chunk = manifest.get(key)
        if chunk is None or chunk["file"] in files:
            return files
        files |= {chunk["file"], *chunk.get("css", []), *chunk.get("assets", [])}
        for other in [*chunk.get("imports", []), *chunk.get("dynamicImports", [])]:
            reach(other, files)
        return files

    return {"admin.html"} | (reach("admin.html", set()) - reach("index.html", set()))


CACHED_URLS = """async () => {
    const urls = [];
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) urls.push(request.url);
    }
    return urls;
}"""


def test_the_attendee_service_worker_never_caches_or_answers_the_console(
    new_context: ContextFactory, server: RunningServer
) -> None:
    browsing = new_context(server)
    page = browsing.new_page()
    page.goto("/")
    wait_until_offline_ready(page)

    response = page.goto("/admin")
    assert response is not None
    assert not response.from_service_worker, "the worker answered a console navigation"
    expect(h1(page, "Sign in to the Kumpul console")).to_be_visible()

    paths = {re.sub(r"^https?://[^/]+/", "", url).split("?")[0] for url in page.evaluate(CACHED_URLS)}
    assert "index.html" in paths, paths
    assert not paths & console_files(), f"console files in the caches: {paths & console_files()}"
    assert not any("admin" in path for path in paths), paths

    browsing.context.set_offline(True)
    for path in ("/admin", "/admin/sessions"):
        with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
            page.goto(path)
    # The attendee app itself still opens offline, from the same worker.
    attendee = browsing.new_page()
    attendee.goto("/programme")
    expect(h1(attendee, "Programme")).to_be_visible()


# --- accessibility and screenshots --------------------------------------------------------------------------------


def _prepare_showcase(server: RunningServer, token: str) -> dict[str, Any]:
    """State worth looking at: a room double-booking, an announcement, a programme file to import."""
    demo = Demo.load(server)
    occupant = demo.find(day=0, format="workshop")
    mover = next(
        s
        for s in demo.sessions
        if s["roomId"] != occupant["roomId"] and demo.day(s) == demo.day(occupant) and s["format"] == "panel"
    )
    headers = {"Authorization": f"Bearer {token}"}
    moved = httpx.patch(
        f"{server.url}/api/admin/sessions/{mover['id']}",
        json={"roomId": occupant["roomId"], "start": occupant["start"], "end": occupant["end"]},
        headers=headers,
        timeout=10,
    )
    assert moved.status_code == 200, moved.text
    posted = httpx.post(
        f"{server.url}/api/admin/announcements",
        json={"title": "Shuttle buses leave from the east gate at 17:30", "body": "Look for the ARAT signs."},
        headers=headers,
        timeout=10,
    )
    assert posted.status_code == 201, posted.text
    anonymous = next(s for s in demo.data["speakers"] if s["anonymous"])
    return {"mover": mover, "anonymous": anonymous, "room": demo.data["rooms"][0]}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_console_views_pass_axe_and_are_photographed(
    browser: Browser, server: RunningServer, tmp_path: Path, scheme: Literal["light", "dark"]
) -> None:
    token = admin_token(server)
    showcase = _prepare_showcase(server, token)
    programme = httpx.get(f"{server.url}/api/programme", timeout=10).json()
    programme["sessions"][4]["title"] = "Renamed by the import"
    del programme["sessions"][6]
    programme_file = tmp_path / "programme.json"
    programme_file.write_text(json.dumps(programme))
    admin = organiser(server, "admin", token)
    viewports = [DESKTOP, TABLET] if scheme == "light" else [DESKTOP]
    report: list[str] = []
    shots: list[Path] = []

    def check(page: Page, view: str) -> None:
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        expect(page.get_by_role("main")).to_have_count(1)
        violations = axe_violations(page)
        if violations:
            report.append(describe_violations(f"{view} ({scheme}, {page.viewport_size})", violations))
        shots.extend(screenshot(page, f"console-{view}"))

    for viewport in viewports:
        context = browser.new_context(
            base_url=server.url,
            viewport=cast(ViewportSize, viewport),
            color_scheme=scheme,
            locale="en-GB",
            timezone_id="Asia/Makassar",
        )
        try:
            _walk_console(context.new_page(), server, token, admin, showcase, programme_file, check)
        finally:
            context.close()

    assert not report, "axe found serious or critical violations:\n" + "\n".join(report)
    assert all(path.stat().st_size > 0 for path in shots)


def _walk_console(
    page: Page,
    server: RunningServer,
    token: str,
    admin: Organiser,
    showcase: dict[str, Any],
    programme_file: Path,
    check: Callable[[Page, str], None],
) -> None:
    """Every view of the console with content worth checking, ``check`` run on each."""
    page.goto("/admin")
    expect(h1(page, "Sign in to the Kumpul console")).to_be_visible()
    check(page, "sign-in")

    name, one_time = create_organiser(server, token, "editor")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(one_time)
    page.get_by_role("button", name="Sign in").click()
    expect(h1(page, "Set your own password")).to_be_visible()
    check(page, "set-password")
    page.get_by_role("button", name="Sign out").click()
    expect(h1(page, "Sign in to the Kumpul console")).to_be_visible()

    sign_in(page, admin)
    expect(page.get_by_role("region", name=re.compile("scheduling warning"))).to_be_visible()
    check(page, "sessions")
    page.goto(f"/admin/sessions/{showcase['mover']['id']}")
    expect(page.get_by_role("region", name="Warnings for this session")).to_be_visible()
    check(page, "session-form")
    page.goto(f"/admin/speakers/{showcase['anonymous']['id']}")
    expect(page.get_by_role("note")).to_be_visible()
    check(page, "speaker-form-anonymous")
    page.goto("/admin/speakers")
    expect(h1(page, "Speakers")).to_be_visible()
    check(page, "speakers")
    page.goto("/admin/rooms")
    expect(h1(page, "Rooms")).to_be_visible()
    page.get_by_role("button", name=f"Delete “{showcase['room']['name']}”").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    check(page, "rooms-confirm-delete")
    page.get_by_role("dialog").get_by_role("button", name="Go back").click()
    page.goto("/admin/import")
    page.get_by_label("Programme file").set_input_files(programme_file)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("region", name="What the import changes")).to_be_visible()
    check(page, "import-report")
    page.goto("/admin/announcements")
    page.get_by_label("Title", exact=True).fill("Lunch is served on the terrace until 13:30")
    page.get_by_label("Message (optional)", exact=True).fill(
        "Vegetarian and halal options are marked. " * 6 + "\nMap: https://arat.example/2024/venue"
    )
    page.get_by_role("button", name="Delivery report").first.click()
    expect(page.get_by_role("region", name=re.compile("^Delivery of"))).to_contain_text("No device")
    check(page, "announcements")
    page.goto("/admin/history")
    expect(main(page).get_by_role("table")).to_be_visible()
    check(page, "history")
    page.goto("/admin/organisers")
    page.get_by_label("Name").fill(f"helper-{time.monotonic_ns()}")
    page.get_by_role("button", name="Add organiser").click()
    expect(page.get_by_role("region", name=re.compile("is added$"))).to_be_visible()
    check(page, "organisers-added")


def test_the_history_says_who_did_what_when_and_pages_back(new_context: ContextFactory, server: RunningServer) -> None:
    token = admin_token(server)
    editor = organiser(server, "editor", token)
    demo = Demo.load(server)
    session = demo.sessions[0]
    httpx.patch(
        f"{server.url}/api/admin/sessions/{session['id']}",
        json={"title": "Registration opens early"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).raise_for_status()
    page = new_context(server, viewport=DESKTOP).new_page()
    sign_in(page, editor)
    nav(page).get_by_role("link", name="History").click()
    expect(h1(page, "History")).to_be_visible()
    rows = main(page).get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(51)  # the header and the newest 50
    newest = rows.nth(1)
    expect(newest.get_by_role("cell").nth(1)).to_have_text(re.compile(r"^admin-\d+$"))  # who: the token's admin
    expect(newest).to_contain_text("changed session")
    expect(newest.get_by_role("link", name=re.compile("^Registration opens early: title"))).to_be_visible()
    when = newest.locator("time")
    expect(when).to_have_text("just now")
    expect(when).to_have_attribute("title", re.compile(r"^\d{1,2} \w{3} \d{4}, \d{2}:\d{2}:\d{2} \(Asia/Makassar\)$"))

    page.get_by_role("button", name="Older").click()
    expect(rows).not_to_have_count(51)
    assert rows.count() > 51
    expect(rows.nth(51)).to_be_focused()
