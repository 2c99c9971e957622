"""POST /api/me/sync: CRDT documents merged without losing a word, scoped to one attendee, within limits."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import Doc, Text

from server.services.private_sync import MAX_DOCUMENTS
from server.storage.db import Database
from tests.asgi import AppClient
from tests.sync_devices import Device, b64, seal

Client = AppClient


def note_id() -> str:
    return f"note:{uuid.uuid4()}"


def received(reply: dict[str, Any]) -> list[str]:
    """The documents an answer brought: plaintext ones and encrypted logs with entries."""
    return [doc["id"] for doc in reply["docs"]] + [log["id"] for log in reply["logs"] if log["entries"]]


async def sync(client: Client, device: Device) -> dict[str, Any]:
    await device.ready(client)
    response = await client.post("/api/me/sync", json=device.request_body(), headers=device.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    device.receive(body)
    return body


async def linked_pair(client: Client) -> tuple[Device, Device]:
    first = (await client.post("/api/attendees")).json()
    phone = Device(first["token"])
    code = (await client.post("/api/attendees/me/link-code", headers=phone.headers)).json()["code"]
    laptop = phone.linked((await client.post("/api/attendees/link", json={"code": code})).json()["token"])
    return phone, laptop


async def test_concurrent_offline_edits_keep_every_word(empty_client: Client) -> None:
    phone, laptop = await linked_pair(empty_client)
    note = note_id()
    phone.text(note).insert(0, "Panel on fishing: traceability works.")
    phone.edit(note)
    await sync(empty_client, phone)
    await sync(empty_client, laptop)
    assert str(laptop.text(note)) == "Panel on fishing: traceability works."

    # both offline, both edit the same note
    phone.text(note).insert(0, "PHONE: ask about seafood buyers. ")
    phone.edit(note)
    body = laptop.text(note)
    body.insert(len(body), " LAPTOP: follow up with the AML speaker.")
    laptop.edit(note)

    await sync(empty_client, phone)
    await sync(empty_client, laptop)
    await sync(empty_client, phone)
    merged = str(phone.text(note))
    assert merged == str(laptop.text(note))
    for words in ("PHONE: ask about seafood buyers.", "traceability works.", "LAPTOP: follow up with the AML speaker."):
        assert words in merged


async def test_bookmarks_from_two_devices_merge(empty_client: Client) -> None:
    phone, laptop = await linked_pair(empty_client)
    phone.bookmarks()["plenary-aml"] = True
    phone.edit("profile")
    laptop.bookmarks()["wg-legal-1"] = True
    laptop.edit("profile")
    await sync(empty_client, phone)
    await sync(empty_client, laptop)
    await sync(empty_client, phone)
    assert dict(phone.bookmarks()) == dict(laptop.bookmarks()) == {"plenary-aml": True, "wg-legal-1": True}


async def test_first_sync_of_a_new_device_gets_everything_then_only_changes(empty_client: Client) -> None:
    phone, laptop = await linked_pair(empty_client)
    notes = [note_id() for _ in range(3)]
    for note in notes:
        phone.text(note).insert(0, f"text of {note}")
        phone.edit(note)
    await sync(empty_client, phone)
    first = await sync(empty_client, laptop)
    assert sorted(received(first)) == sorted(notes)
    assert received(await sync(empty_client, laptop)) == []
    phone.text(notes[1]).insert(0, "more ")
    phone.edit(notes[1])
    await sync(empty_client, phone)
    later = await sync(empty_client, laptop)
    assert received(later) == [notes[1]]
    assert str(laptop.text(notes[1])).startswith("more text of")


async def test_replaying_a_request_changes_nothing(empty_client: Client) -> None:
    phone, _ = await linked_pair(empty_client)
    note = note_id()
    phone.text(note).insert(0, "once")
    phone.edit(note)
    await phone.ready(empty_client)
    body = phone.request_body()
    first = await empty_client.post("/api/me/sync", json=body, headers=phone.headers)
    second = await empty_client.post("/api/me/sync", json=body, headers=phone.headers)
    assert first.json()["cursor"] == second.json()["cursor"]
    viewer = phone.linked(phone.headers["Authorization"].split()[1])
    await sync(empty_client, viewer)
    assert str(viewer.text(note)) == "once"


async def test_attendees_cannot_reach_each_others_documents(empty_client: Client) -> None:
    alice, _ = await linked_pair(empty_client)
    bob, _ = await linked_pair(empty_client)
    note = note_id()
    alice.text(note).insert(0, "Alice's private note")
    alice.edit(note)
    await sync(empty_client, alice)

    bob.edit(note)  # ask for the same id with an empty state
    reply = await sync(empty_client, bob)
    assert received(reply) == []
    bob.text(note).insert(0, "Bob writes here")
    bob.edit(note)
    await sync(empty_client, bob)

    fresh_alice = alice.linked(alice.headers["Authorization"].split()[1])
    await sync(empty_client, fresh_alice)
    assert str(fresh_alice.text(note)) == "Alice's private note"


async def test_an_acknowledged_sync_is_committed_before_the_answer(
    empty_client: Client, make_database: Callable[..., Database]
) -> None:
    """What a 200 acknowledges is committed already: another process (on PostgreSQL, another node) reads it at
    once, through connections of its own."""
    phone, _ = await linked_pair(empty_client)
    note = note_id()
    phone.text(note).insert(0, "acknowledged")
    phone.edit(note)
    phone.bookmarks()["plenary-aml"] = True
    phone.edit("profile")
    answer = await sync(empty_client, phone)
    async with make_database() as other, other.read() as conn:
        logs = await conn.execute_fetchall("SELECT seq FROM doc_log WHERE doc_id = ?", (note,))
        profiles = await conn.execute_fetchall("SELECT seq FROM documents WHERE doc_id = 'profile'")
    assert sorted(int(row[0]) for row in [*logs, *profiles]) == [1, 2]
    assert answer["cursor"].endswith(".2")


async def test_a_note_over_its_limit_is_refused_and_nothing_is_written(empty_client: Client) -> None:
    phone, laptop = await linked_pair(empty_client)
    small, big = note_id(), note_id()
    phone.text(small).insert(0, "fits")
    phone.text(big).insert(0, base64.b64encode(os.urandom(200 * 1024)).decode())
    phone.edit(small)
    phone.edit(big)
    await phone.ready(empty_client)
    response = await empty_client.post("/api/me/sync", json=phone.request_body(), headers=phone.headers)
    assert response.status_code == 413
    assert "256 KB" in response.json()["detail"]
    assert big in response.json()["detail"]
    assert received(await sync(empty_client, laptop)) == []


async def test_request_body_over_1_mb_is_413(empty_client: Client) -> None:
    phone, _ = await linked_pair(empty_client)
    body = {"logs": [{"id": note_id(), "append": ["A" * (1024 * 1024)]}]}
    response = await empty_client.post("/api/me/sync", json=body, headers=phone.headers)
    assert response.status_code == 413
    assert "1024 KB" in response.json()["detail"]


async def test_at_most_2000_documents(empty_client: Client) -> None:
    phone, _ = await linked_pair(empty_client)
    registered = await empty_client.post(
        "/api/attendees/me/keys", json={"keyId": 1, "previous": 0, "wrapped": []}, headers=phone.headers
    )
    assert registered.status_code == 200, registered.text

    def log() -> dict[str, Any]:
        doc_id = note_id()
        doc: Doc[Text] = Doc()
        doc["body"] = Text("n")
        return {"id": doc_id, "append": [b64(seal(phone.notebook, doc_id, "update", doc.get_update()))]}

    for start in range(0, MAX_DOCUMENTS, 500):
        body = {"keyId": 1, "logs": [log() for _ in range(500)]}
        assert (await empty_client.post("/api/me/sync", json=body, headers=phone.headers)).status_code == 200, start
    over = await empty_client.post("/api/me/sync", json={"keyId": 1, "logs": [log()]}, headers=phone.headers)
    assert over.status_code == 413
    assert "2000 documents" in over.json()["detail"]


@pytest.mark.parametrize(
    ("docs", "words"),
    [
        ([{"id": "secrets", "update": ""}], "unknown document id"),
        ([{"id": "note:../../etc", "update": ""}], "unknown document id"),
        ([{"id": f"note:{uuid.UUID(int=1)}", "update": ""}], "end-to-end encrypted"),
        ([{"id": "profile", "update": "not base64!"}], "base64"),
        ([{"id": "profile", "update": base64.b64encode(b"\xff" * 40).decode()}], "not a Yjs update"),
        ([{"id": "profile", "stateVector": base64.b64encode(b"\xff\xff\xff").decode()}], "not a Yjs state vector"),
        ([{"id": "profile"}, {"id": "profile"}], "listed twice"),
    ],
)
async def test_bad_documents_are_400(empty_client: Client, docs: list[dict[str, str]], words: str) -> None:
    phone, _ = await linked_pair(empty_client)
    response = await empty_client.post("/api/me/sync", json={"docs": docs}, headers=phone.headers)
    assert response.status_code == 400
    assert words in response.json()["detail"]


async def test_malformed_cursor_is_400(empty_client: Client) -> None:
    phone, _ = await linked_pair(empty_client)
    response = await empty_client.post("/api/me/sync", json={"cursor": "abc", "docs": []}, headers=phone.headers)
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


async def test_compacted_history_stays_mergeable_with_an_old_device(empty_client: Client) -> None:
    phone, laptop = await linked_pair(empty_client)
    note = note_id()
    phone.text(note).insert(0, "draft")
    phone.edit(note)
    await sync(empty_client, phone)
    await sync(empty_client, laptop)  # the laptop now goes offline holding this old state

    for i in range(200):
        text = phone.text(note)
        text.insert(len(text), f" word{i}")
        if i % 3 == 0:
            del text[0:3]
        phone.edit(note)
        if i % 10 == 9:
            await sync(empty_client, phone)
    # The phone compacts what it has into one snapshot; the laptop's old state still merges with it.
    await phone.compact(empty_client, note)
    service = empty_client.app.state.private_sync
    async with service.db.read() as conn, conn.execute("SELECT count(*), sum(snapshot) FROM doc_log") as cur:
        assert tuple(await cur.fetchone()) == (1, 1), "one snapshot stands for the whole log"

    laptop.text(note).insert(0, "offline edit: ")
    laptop.edit(note)
    await sync(empty_client, laptop)
    await sync(empty_client, phone)
    assert str(laptop.text(note)) == str(phone.text(note))
    assert "offline edit: " in str(phone.text(note))
    assert "word199" in str(laptop.text(note))
