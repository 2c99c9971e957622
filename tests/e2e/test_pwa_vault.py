"""End-to-end encrypted notes in the attendee PWA against the real server: linked by the QR link's key, merged
offline, never on the server's disk in plaintext; links that cannot be phished; revocation; migration."""

from __future__ import annotations

import base64
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from pycrdt import Doc, Map, Text

from tests.e2e.conftest import (
    DESKTOP,
    ContextFactory,
    Demo,
    RunningServer,
    h1,
    main,
    screenshot,
    wait_until_offline_ready,
)
from tests.e2e.test_pwa_notes import CONVERGE_TIMEOUT_MS, OFFLINE, SYNCED, note_box, open_session, write_note
from tests.e2e.vault_checks import (
    InvalidTag,
    backup_files,
    follow_link,
    frame_key_id,
    identity,
    leaked,
    note_bodies,
    open_frame,
    private_value,
    server_answer,
    server_docs,
    show_link,
    vault_keys,
)

#: Words no demo text contains: found anywhere on the server's disk, a note leaked.
MARKERS = ["Quillfeather", "Zanzibarite", "Oxbowlantern", "Mirthwhistle", "Cobaltfinch"]


def synced(page: Page) -> None:
    expect(note_box(page)).to_have_accessible_description(SYNCED, timeout=CONVERGE_TIMEOUT_MS)


def device_with_note(new_context: ContextFactory, server: RunningServer, text: str) -> tuple[Page, dict[str, Any]]:
    """An attendee's first device: a plenary's page with ``text`` written in its note and synced."""
    session = Demo.load(server).find(day=0, format="plenary")
    page = new_context(server).new_page()
    open_session(page, session)
    write_note(page, text)
    synced(page)
    return page, session


def test_two_devices_linked_by_the_qr_link_merge_offline_and_no_word_reaches_the_disk(
    new_context: ContextFactory, server: RunningServer, tmp_path: Path
) -> None:
    phone, session = device_with_note(new_context, server, f"Shared {MARKERS[0]} note.")
    link = show_link(phone)

    laptop = new_context(server, viewport=DESKTOP).new_page()
    follow_link(laptop, link)
    assert identity(laptop)["attendeeId"] == identity(phone)["attendeeId"]
    assert vault_keys(laptop) == vault_keys(phone)
    for page in (phone, laptop):
        open_session(page, session)
        expect(note_box(page)).to_have_value(f"Shared {MARKERS[0]} note.", timeout=CONVERGE_TIMEOUT_MS)
        wait_until_offline_ready(page)

    for page in (phone, laptop):
        page.context.set_offline(True)
    write_note(phone, f"{MARKERS[1]} first. ", at_start=True)
    write_note(laptop, f" {MARKERS[2]} last.")
    for page in (phone, laptop):
        expect(note_box(page)).to_have_accessible_description(OFFLINE)
    for page in (phone, laptop):
        page.context.set_offline(False)
    merged = f"{MARKERS[1]} first. Shared {MARKERS[0]} note. {MARKERS[2]} last."
    for page in (phone, laptop):
        expect(note_box(page)).to_have_value(merged, timeout=CONVERGE_TIMEOUT_MS)
        synced(page)
    # A free-standing note with a title, too.
    phone.goto("/notes")
    phone.get_by_role("button", name="New note").click()
    phone.get_by_role("textbox", name="Title", exact=True).fill(f"Shelter {MARKERS[3]}")
    phone.get_by_role("textbox", name="Note", exact=True).fill(f"Address near {MARKERS[4]} street")
    expect(phone.get_by_role("textbox", name="Note", exact=True)).to_have_accessible_description(
        SYNCED, timeout=CONVERGE_TIMEOUT_MS
    )

    keys = vault_keys(phone)
    docs = server_docs(server, identity(phone)["token"], keys)
    assert sorted(note_bodies(docs)) == sorted([merged, f"Address near {MARKERS[4]} street"])
    answer = server_answer(server, identity(phone)["token"], max(keys))
    assert not [doc for doc in answer["docs"] if doc["id"].startswith("note:")]
    files = [server.db, Path(f"{server.db}-wal"), Path(f"{server.db}-shm"), *backup_files(server, tmp_path)]
    assert leaked(files, MARKERS) == {}


def test_a_phishing_link_gets_none_of_the_victims_notes(new_context: ContextFactory, server: RunningServer) -> None:
    attacker, session = device_with_note(new_context, server, "bait")
    link = show_link(attacker)
    attacker_token = identity(attacker)["token"]
    attacker_keys = vault_keys(attacker)

    victim = new_context(server).new_page()
    open_session(victim, session)
    write_note(victim, f"Statement of {MARKERS[0]}")
    synced(victim)
    victim_identity = identity(victim)
    victim_keys = vault_keys(victim)

    def attacker_reads() -> list[str]:
        answer = server_answer(server, attacker_token, max(attacker_keys))
        assert not [doc for doc in answer["docs"] if doc["id"].startswith("note:")]
        return note_bodies(server_docs(server, attacker_token, attacker_keys))

    assert attacker_reads() == ["bait"]

    # Opening the link shows whose notebook this is, and the safe choice is the one in focus.
    victim.goto(link)
    confirm = victim.get_by_role("group", name="Link this device to this notebook?")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("This notebook belongs to 1 device")
    expect(confirm).to_contain_text("If you did not ask for this code yourself, don't link.")
    checkbox = confirm.get_by_role("checkbox", name="Also copy the notes already on this device into that notebook")
    expect(checkbox).not_to_be_checked()
    expect(confirm.get_by_role("button", name="Don't link")).to_be_focused()
    buttons = confirm.get_by_role("button").all_inner_texts()
    assert buttons[0] == "Don't link"
    victim.keyboard.press("Enter")
    expect(victim.get_by_role("status").filter(has_text="Not linked")).to_be_visible()
    assert identity(victim) == victim_identity
    assert attacker_reads() == ["bait"]

    # Tapping "Link this device" without ticking the box: the notes this device held do not move.
    victim.goto("/")
    victim.goto(link)
    confirm.get_by_role("button", name="Link this device").click()
    expect(victim.get_by_role("status").filter(has_text="This device is linked")).to_be_visible()
    open_session(victim, session)
    expect(note_box(victim)).to_have_value("bait", timeout=CONVERGE_TIMEOUT_MS)
    assert attacker_reads() == ["bait"]
    # They stay with the victim's own identity, which this device remembers (and erasing reaches).
    (former,) = private_value(victim, "formerIdentities")
    assert {key: former[key] for key in ("attendeeId", "token")} == victim_identity
    assert {int(key): bytes(raw) for key, raw in former["vault"]["keys"].items()} == victim_keys
    assert note_bodies(server_docs(server, victim_identity["token"], victim_keys)) == [f"Statement of {MARKERS[0]}"]


def test_a_revoked_device_is_refused_and_cannot_read_what_is_written_afterwards(
    new_context: ContextFactory, server: RunningServer
) -> None:
    phone, session = device_with_note(new_context, server, "Before the revocation.")
    link = show_link(phone)
    laptop = new_context(server, viewport=DESKTOP).new_page()
    follow_link(laptop, link)
    laptop_token = identity(laptop)["token"]
    laptop_keys = vault_keys(laptop)
    assert list(laptop_keys) == [1]

    phone.goto("/device")
    devices = phone.get_by_role("region", name="Linked devices")
    expect(devices.get_by_role("listitem")).to_have_count(2)
    expect(devices.get_by_role("listitem").filter(has_text="this device")).to_have_count(1)
    expect(devices).not_to_contain_text("not verified")
    devices.scroll_into_view_if_needed()
    screenshot(phone, "linked-devices")
    devices.get_by_role("button", name="Revoke").click()
    dialog = phone.get_by_role("dialog")
    dialog.get_by_role("button", name="Revoke").click()
    expect(phone.get_by_role("status").filter(has_text="is revoked")).to_be_visible(timeout=CONVERGE_TIMEOUT_MS)
    expect(devices.get_by_role("listitem")).to_have_count(1)

    response = httpx.post(
        f"{server.url}/api/me/sync",
        json={"cursor": None, "docs": [], "keyId": 1, "logs": []},
        headers={"Authorization": f"Bearer {laptop_token}"},
    )
    assert response.status_code == 401

    assert sorted(vault_keys(phone)) == [1, 2]
    open_session(phone, session)
    write_note(phone, f" After: {MARKERS[3]}.")
    synced(phone)
    phone_token = identity(phone)["token"]
    assert note_bodies(server_docs(server, phone_token, vault_keys(phone))) == [
        f"Before the revocation. After: {MARKERS[3]}."
    ]
    answer = server_answer(server, phone_token, 2)
    (note_id,) = answer["logs"]
    # What was typed after the revocation went in frames under the new key (one or several, as the sync
    # caught the typing), none of which the revoked device's key opens.
    after = [
        (entry["kind"], frame)
        for entry in answer["logs"][note_id]
        if frame_key_id(frame := base64.b64decode(entry["frame"])) == 2
    ]
    assert after
    for kind, frame in after:
        with pytest.raises(KeyError):
            open_frame(laptop_keys, note_id, kind, frame)
        with pytest.raises(InvalidTag):
            open_frame({2: laptop_keys[1]}, note_id, kind, frame)


def plaintext_note(text: str) -> bytes:
    doc: Doc[Any] = Doc()
    doc["title"] = Text()
    doc["body"] = Text(text)
    doc["meta"] = Map({"createdAt": 1_700_000_000_000.0})
    return doc.get_update()


def test_plaintext_notes_synced_by_the_old_protocol_are_encrypted_and_gone_from_the_disk(
    new_context: ContextFactory, server: RunningServer
) -> None:
    created = httpx.post(f"{server.url}/api/attendees", json={}).json()
    note_id = f"note:{uuid.uuid4()}"
    with sqlite3.connect(server.db, timeout=10) as conn:
        seq = conn.execute("SELECT doc_seq + 1 FROM attendees WHERE id = ?", (created["attendeeId"],)).fetchone()[0]
        conn.execute(
            "INSERT INTO documents (attendee_id, doc_id, state, seq, updated_at) VALUES (?, ?, ?, ?, ?)",
            (
                created["attendeeId"],
                note_id,
                plaintext_note(f"Old plaintext {MARKERS[0]}"),
                seq,
                datetime.now(UTC).isoformat(),
            ),
        )
        conn.execute("UPDATE attendees SET doc_seq = ? WHERE id = ?", (seq, created["attendeeId"]))
    assert MARKERS[0].encode() in server.db.read_bytes() + Path(f"{server.db}-wal").read_bytes()

    # The device that synced it by the old protocol: its identity in IndexedDB, as the previous version left it.
    page = new_context(server).new_page()
    page.goto("/notes")
    expect(main(page)).to_contain_text("No notes yet")  # the app's database is there
    page.evaluate(
        """async (identity) => {
            const db = await new Promise((resolve, reject) => {
                const request = indexedDB.open("kumpul");
                request.onsuccess = () => resolve(request.result);
                request.onerror = () => reject(request.error);
            });
            await new Promise((resolve, reject) => {
                const tx = db.transaction("private", "readwrite");
                tx.objectStore("private").put(identity, "identity");
                tx.objectStore("private").put(null, "cursor");
                tx.oncomplete = resolve;
                tx.onerror = () => reject(tx.error);
            });
            db.close();
        }""",
        {"attendeeId": created["attendeeId"], "token": created["token"]},
    )
    page.reload()
    page.goto("/notes")
    expect(h1(page, "My notes")).to_be_visible()
    expect(main(page)).to_contain_text(f"Old plaintext {MARKERS[0]}", timeout=CONVERGE_TIMEOUT_MS)
    expect(main(page).get_by_text("Synced", exact=True)).to_have_count(1, timeout=CONVERGE_TIMEOUT_MS)

    keys = vault_keys(page)
    assert list(keys) == [1]
    answer = server_answer(server, created["token"], 1)
    assert [doc["id"] for doc in answer["docs"] if doc["id"].startswith("note:")] == []
    assert note_bodies(server_docs(server, created["token"], keys)) == [f"Old plaintext {MARKERS[0]}"]
    files = [server.db, Path(f"{server.db}-wal")]
    assert leaked(files, [MARKERS[0]]) == {}


def test_the_link_confirmation_on_a_phone(new_context: ContextFactory, server: RunningServer) -> None:
    owner, session = device_with_note(new_context, server, "mine")
    link = show_link(owner)
    other = new_context(server).new_page()
    open_session(other, session)
    write_note(other, "also mine")
    synced(other)
    # The code typed by hand carries no key: the device says so instead of linking into notes it cannot read.
    other.goto("/device")
    code = link.split("code=")[1].split("#")[0]
    other.get_by_role("textbox", name="Link code or link").fill(code)
    other.get_by_role("button", name="Link this device").click()
    expect(other.get_by_role("status").filter(has_text="does not carry the key to your notes")).to_be_visible()
    expect(other.get_by_role("group", name="Link this device to this notebook?")).to_have_count(0)

    other.goto(link)
    confirm = other.get_by_role("group", name="Link this device to this notebook?")
    expect(confirm).to_be_visible()
    screenshot(other, "link-confirmation")
    width = other.evaluate("document.documentElement.scrollWidth")
    assert width <= 360


def test_a_device_linked_after_a_revocation_reads_notes_written_under_the_older_key(
    new_context: ContextFactory, server: RunningServer
) -> None:
    phone, session = device_with_note(new_context, server, f"Under key one: {MARKERS[0]}.")
    follow_link(new_context(server).new_page(), show_link(phone))

    phone.goto("/device")
    devices = phone.get_by_role("region", name="Linked devices")
    devices.get_by_role("button", name="Revoke").click()
    phone.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(phone.get_by_role("status").filter(has_text="is revoked")).to_be_visible(timeout=CONVERGE_TIMEOUT_MS)
    assert sorted(vault_keys(phone)) == [1, 2]

    # The link carries key 2 only; the keyring from the server gives the new device key 1 as well.
    tablet = new_context(server).new_page()
    follow_link(tablet, show_link(phone))
    open_session(tablet, session)
    expect(note_box(tablet)).to_have_value(f"Under key one: {MARKERS[0]}.", timeout=CONVERGE_TIMEOUT_MS)
    assert vault_keys(tablet) == vault_keys(phone)


#: Replace values of the app's IndexedDB "private" store, and mark every document unsent.
_PUT_PRIVATE = """async (values) => {
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("kumpul");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    await new Promise((resolve, reject) => {
        const tx = db.transaction(["private", "docs"], "readwrite");
        for (const [key, value] of Object.entries(values)) tx.objectStore("private").put(value, key);
        // Every document counts as never sent, as on a device that synced by the old protocol.
        const docs = tx.objectStore("docs");
        docs.getAll().onsuccess = (event) => {
            for (const record of event.target.result) docs.put({ ...record, syncedRev: -1, syncedVector: null });
        };
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
    });
    db.close();
}"""


def test_a_device_without_the_notebook_key_keeps_its_notes_and_asks_to_be_linked_again(
    new_context: ContextFactory, server: RunningServer
) -> None:
    owner, _ = device_with_note(new_context, server, "The owner's note.")
    owner_identity = identity(owner)

    # A device of the same attendee from before encryption: it holds the credentials and a note, but no key.
    old = new_context(server).new_page()
    old.goto("/notes")
    old.get_by_role("button", name="New note").click()
    old.get_by_role("textbox", name="Note", exact=True).fill(f"Only here: {MARKERS[1]}")
    expect(old.get_by_role("textbox", name="Note", exact=True)).to_have_accessible_description(
        SYNCED, timeout=CONVERGE_TIMEOUT_MS
    )
    old.context.set_offline(True)
    old.evaluate(_PUT_PRIVATE, {"identity": owner_identity, "vault": None, "cursor": None, "vaultLocked": False})
    old.reload()
    old.context.set_offline(False)
    old.goto("/notes")
    notice = old.get_by_role("note").filter(has_text="Link this device again to read your notes")
    expect(notice).to_be_visible(timeout=CONVERGE_TIMEOUT_MS)
    expect(notice.get_by_role("link", name="Link this device again")).to_be_visible()
    expect(main(old)).to_contain_text(f"Only here: {MARKERS[1]}")
    # Nothing of it went to the owner's notebook, in any form.
    answer = server_answer(server, owner_identity["token"], 1)
    assert len(answer["logs"]) == 1
    assert note_bodies(server_docs(server, owner_identity["token"], vault_keys(owner))) == ["The owner's note."]


#: Resolves once the app's stored documents with these ids exist and the server acknowledged their every change
#: (read again every 200 ms, in the page).
_SYNCED = """async ([ids, timeoutMs]) => {
    const synced = async () => {
        const db = await new Promise((resolve, reject) => {
            const request = indexedDB.open("kumpul");
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
        });
        try {
            const store = db.transaction("docs").objectStore("docs");
            const records = await Promise.all(ids.map((id) => new Promise((resolve) => {
                const request = store.get(id);
                request.onsuccess = () => resolve(request.result);
            })));
            return records.every((record) => record && record.rev <= record.syncedRev);
        } finally {
            db.close();
        }
    };
    const deadline = Date.now() + timeoutMs;
    while (!(await synced())) {
        if (Date.now() > deadline) throw new Error(`not synced: ${ids}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return true;
}"""


def wait_synced(page: Page, *ids: str) -> None:
    page.evaluate(_SYNCED, [list(ids), CONVERGE_TIMEOUT_MS])


def agenda_on_server(server: RunningServer, token: str, keys: dict[int, bytes]) -> tuple[set[str], set[str]]:
    """The bookmarks the server can read (the profile's), and those only the attendee's devices can (the agenda's)."""
    docs = server_docs(server, token, keys)
    found = []
    for doc_id in ("profile", "agenda"):
        doc = docs.get(doc_id)
        found.append({key for key, value in doc.get("bookmarks", type=Map).items() if value} if doc else set())
    return found[0], found[1]


def server_holds(server: RunningServer, token: str, page: Page, expected: tuple[set[str], set[str]]) -> None:
    """Wait until the server holds ``expected`` (readable bookmarks, encrypted ones): the device's records say
    synced once its last sync ended, and the change of the switch may still be on its way in the next one."""
    deadline = time.monotonic() + CONVERGE_TIMEOUT_MS / 1000
    found = agenda_on_server(server, token, vault_keys(page))
    while found != expected and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        found = agenda_on_server(server, token, vault_keys(page))
    assert found == expected


def test_the_agenda_kept_from_the_server_is_encrypted_and_has_no_calendar_feed(
    new_context: ContextFactory, server: RunningServer
) -> None:
    demo = Demo.load(server)
    session = demo.find(day=0, format="plenary")
    page = new_context(server).new_page()
    open_session(page, session)
    page.get_by_role("button", name="Add to my agenda").click()
    expect(page.get_by_role("button", name="Remove from my agenda")).to_have_attribute("aria-pressed", "true")
    wait_synced(page, "profile")
    token = identity(page)["token"]
    feed = httpx.post(f"{server.url}/api/attendees/me/calendar", headers={"Authorization": f"Bearer {token}"}).json()
    assert httpx.get(feed["url"]).status_code == 200

    page.goto("/device")
    region = page.get_by_role("region", name="My agenda and the server")
    switch = region.get_by_role(
        "checkbox", name="Use my agenda on the server (calendar feed, change alerts, reminders)"
    )
    expect(switch).to_be_checked()
    expect(region).to_contain_text("the server can see which sessions you saved")
    switch.uncheck()
    expect(region).to_contain_text("the server cannot see them")
    expect(switch).to_be_enabled()  # the switch is busy until the calendar feed is off
    wait_synced(page, "profile", "agenda")
    server_holds(server, token, page, (set(), {session["id"]}))
    assert httpx.get(feed["url"]).status_code == 404
    open_session(page, session)
    expect(page.get_by_role("button", name="Remove from my agenda")).to_have_attribute("aria-pressed", "true")
