"""POST /api/me/sync under attack: whole-document caps, a per-attendee quota, hostile CRDT bytes, erasure races.

Notes are encrypted, so their caps count encrypted bytes; hostile CRDT bytes reach the server only in the profile.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from pycrdt import Doc, Map, Text

from server.app import create_app
from server.errors import Unauthorized
from server.services import private_sync
from server.services.private_sync import MAX_LOG_BYTES, MAX_NOTE_BYTES
from server.settings import Settings, settings_from_env
from sync import SyncRequest, merge
from tests.asgi import AppClient, app_client
from tests.sync_devices import Device, b64

#: A note state made by a device whose client id is 1372839419923: "hello world" edited, with a ``meta`` map.
NOTE_STATE = bytes.fromhex(
    "0105b7d692f9b681cc0400010104626f64790284b7d692f9b681cc0401016c84b7d692f9b681cc0402086c6f20776f726c6428010"
    "46d6574610178017c3f800000c4b7d692f9b681cc0402b7d692f9b681cc04030361626301b7d692f9b681cc04010002"
)
#: The same update with two bytes changed: it decodes, but applied on top of NOTE_STATE it makes the Rust CRDT
#: core panic (``called Option::unwrap() on a None value``) instead of raising an error.
PANICKING_UPDATE = bytes.fromhex(
    "0100b7d692f9b681cc0400010104626f64790284b7d692f9b681cc0401016c84b7d692f9b681cc0402086c6f20776f726c6428010"
    "46d6574610178017c3f800000c4b7d692f9b681cc0402b7d692f9b6817f04030361626301b7d692f9b681cc04010002"
)


def note_id() -> str:
    return f"note:{uuid.uuid4()}"


async def new_device(client: AppClient) -> Device:
    return Device((await client.post("/api/attendees")).json()["token"])


async def post(client: AppClient, device: Device) -> Any:
    await device.ready(client)
    return await client.post("/api/me/sync", json=device.request_body(), headers=device.headers)


async def sync(client: AppClient, device: Device) -> dict[str, Any]:
    response = await post(client, device)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    device.receive(body)
    return body


def stuff(device: Device, doc_id: str, size: int) -> None:
    """Put ``size`` bytes of incompressible data into a part of the note other than its title and body."""
    device.doc(doc_id).get("attachments", type=Map)[f"blob-{uuid.uuid4()}"] = base64.b64encode(
        os.urandom(size * 3 // 4)
    ).decode()
    device.edit(doc_id)


@pytest.fixture
async def small_quota_client(settings: Settings) -> AsyncIterator[AppClient]:
    """An app whose attendees may keep 600,000 bytes of documents each."""
    async with app_client(create_app(msgspec.structs.replace(settings, attendee_quota_bytes=600_000))) as client:
        yield client


async def test_a_note_is_capped_as_a_whole_not_only_its_title_and_body(empty_client: AppClient) -> None:
    phone = await new_device(empty_client)
    note = note_id()
    phone.text(note).insert(0, "a short note")
    stuff(phone, note, MAX_NOTE_BYTES + 1024)
    response = await post(empty_client, phone)
    assert response.status_code == 413
    assert note in response.json()["detail"]
    assert "256 KB" in response.json()["detail"]
    assert (await sync(empty_client, await_same_attendee(phone)))["docs"] == []


def await_same_attendee(device: Device) -> Device:
    """A fresh device holding the same token: it starts with nothing and gets what the server keeps."""
    return device.linked(device.headers["Authorization"].split()[1])


async def test_a_note_cannot_grow_past_its_cap_a_little_at_a_time(empty_client: AppClient) -> None:
    phone = await new_device(empty_client)
    note = note_id()
    refused = None
    for _ in range(8):
        stuff(phone, note, 60 * 1024)
        response = await post(empty_client, phone)
        if response.status_code == 413:
            refused = response.json()["detail"]
            break
        assert response.status_code == 200, response.text
        phone.receive(response.json())
    assert refused is not None
    assert "256 KB" in refused
    service = empty_client.app.state.private_sync
    async with (
        service.db.read() as conn,
        conn.execute(
            "SELECT max(size) FROM (SELECT sum(length(frame)) AS size FROM doc_log GROUP BY doc_id) AS logs"
        ) as cur,
    ):
        assert (await cur.fetchone())[0] <= MAX_LOG_BYTES


async def test_each_attendee_has_a_quota_and_others_are_not_affected(small_quota_client: AppClient) -> None:
    client = small_quota_client
    hog, neighbour = await new_device(client), await new_device(client)
    notes = [note_id() for _ in range(5)]
    for note in notes[:3]:
        stuff(hog, note, 150_000)
    await sync(client, hog)

    for note in notes[3:]:
        stuff(hog, note, 150_000)
    over = await post(client, hog)
    assert over.status_code == 413
    assert "quota of 600,000 bytes" in over.json()["detail"]
    kept = (await sync(client, await_same_attendee(hog)))["logs"]
    assert sorted(log["id"] for log in kept) == sorted(notes[:3])

    # Making room is always possible: a compaction that makes a document smaller is accepted even near the quota.
    hog.changed.clear()
    attachments = hog.doc(notes[0]).get("attachments", type=Map)
    for key in list(attachments.keys()):
        del attachments[key]
    await hog.compact(client, notes[0])

    mine = note_id()
    stuff(neighbour, mine, 150_000)
    await sync(client, neighbour)


def test_the_quota_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUMPUL_ATTENDEE_QUOTA_BYTES", "1048576")
    assert settings_from_env().attendee_quota_bytes == 1048576
    monkeypatch.setenv("KUMPUL_ATTENDEE_QUOTA_BYTES", "lots")
    with pytest.raises(ValueError, match="KUMPUL_ATTENDEE_QUOTA_BYTES"):
        settings_from_env()


async def test_an_update_that_makes_the_crdt_core_panic_is_400_naming_the_document(empty_client: AppClient) -> None:
    """The profile is merged by the server (notes are encrypted: the devices merge them)."""
    phone = await new_device(empty_client)
    note = "profile"
    body = {"docs": [{"id": note, "update": b64(NOTE_STATE)}]}
    assert (await empty_client.post("/api/me/sync", json=body, headers=phone.headers)).status_code == 200

    body = {"docs": [{"id": note, "update": b64(PANICKING_UPDATE)}]}
    response = await empty_client.post("/api/me/sync", json=body, headers=phone.headers)
    assert response.status_code == 400
    assert note in response.json()["detail"]

    reader = await_same_attendee(phone)
    await sync(empty_client, reader)
    unharmed: Doc[Any] = Doc()
    unharmed.apply_update(NOTE_STATE)
    assert str(reader.text(note)) == str(unharmed.get("body", type=Text)) != ""


async def test_a_sync_that_loses_the_race_with_erasure_is_refused_as_unauthorised(empty_client: AppClient) -> None:
    """The token was checked, then the attendee was erased before the sync wrote: 401, nothing written."""
    phone = await new_device(empty_client)
    attendees = empty_client.app.state.attendees
    me = await attendees.attendee_for(phone.headers["Authorization"])
    note = note_id()
    phone.text(note).insert(0, "written as the attendee is erased")
    phone.edit(note)
    assert (await empty_client.delete("/api/attendees/me", headers=phone.headers)).status_code == 204

    with pytest.raises(Unauthorized):
        await empty_client.app.state.private_sync.sync(me, _request(phone), "192.0.2.1")
    async with (
        empty_client.app.state.db.read() as conn,
        conn.execute("SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM doc_log)") as cur,
    ):
        assert (await cur.fetchone())[0] == 0


async def test_erasure_racing_syncs_gives_every_loser_401(empty_client: AppClient) -> None:
    phone = await new_device(empty_client)
    notes = [note_id() for _ in range(6)]
    bodies = []
    for note in notes:
        phone.text(note).insert(0, f"note {note}")
        phone.changed = {note}
        bodies.append(phone.request_body())
    syncs = [empty_client.post("/api/me/sync", json=body, headers=phone.headers) for body in bodies]
    erase = empty_client.delete("/api/attendees/me", headers=phone.headers)
    responses = await asyncio.gather(*syncs[:3], erase, *syncs[3:])
    assert responses[3].status_code == 204
    assert {response.status_code for response in responses[:3] + responses[4:]} <= {200, 401}


async def test_two_devices_merging_the_same_note_at_once_lose_no_word(empty_client: AppClient) -> None:
    first = (await empty_client.post("/api/attendees")).json()
    phone = Device(first["token"])
    code = (await empty_client.post("/api/attendees/me/link-code", headers=phone.headers)).json()["code"]
    laptop = phone.linked((await empty_client.post("/api/attendees/link", json={"code": code})).json()["token"])
    note = note_id()
    phone.text(note).insert(0, "from the phone. ")
    phone.edit(note)
    laptop.text(note).insert(0, "from the laptop. ")
    laptop.edit(note)
    answers = await asyncio.gather(post(empty_client, phone), post(empty_client, laptop))
    assert [answer.status_code for answer in answers] == [200, 200]
    reader = await_same_attendee(phone)
    await sync(empty_client, reader)
    assert "from the phone." in str(reader.text(note))
    assert "from the laptop." in str(reader.text(note))


def _request(device: Device) -> SyncRequest:
    return msgspec.json.decode(msgspec.json.encode(device.request_body()), type=SyncRequest)


async def test_answers_are_bounded_and_a_new_device_gets_everything_over_several(empty_client: AppClient) -> None:
    phone = await new_device(empty_client)
    notes = [note_id() for _ in range(8)]
    for start in range(0, len(notes), 2):
        for note in notes[start : start + 2]:
            stuff(phone, note, 200_000)
        await sync(empty_client, phone)

    laptop = await_same_attendee(phone)
    answers = []
    while True:
        response = await post(empty_client, laptop)
        assert response.status_code == 200, response.text
        answers.append(response.json())
        laptop.receive(answers[-1])
        if not answers[-1]["more"]:
            break
    assert len(answers) > 1
    for answer in answers:
        frames = [entry["frame"] for log in answer["logs"] for entry in log["entries"]]
        sizes = [len(base64.b64decode(item)) for item in [doc["update"] for doc in answer["docs"]] + frames]
        assert 0 < sum(sizes) <= 1024 * 1024
    assert sorted(doc_id for doc_id in laptop.docs) == sorted(notes)
    for note in notes:
        assert dict(laptop.doc(note).get("attachments", type=Map)) == dict(phone.doc(note).get("attachments", type=Map))


async def test_merging_runs_in_a_worker_thread_while_the_write_lock_is_free(
    empty_client: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another attendee's write never waits for this merge: it happens off the event loop and outside the lock."""
    db = empty_client.app.state.db
    seen: list[tuple[bool, bool]] = []
    # The sync's own write transactions, told apart from the server's background writes (which may run meanwhile)
    # by their key: the attendee whose documents they write.
    open_syncs = 0
    original = db.write

    @contextlib.asynccontextmanager
    async def counted(key: str | None = None) -> AsyncIterator[Any]:
        nonlocal open_syncs
        async with original(key=key) as conn:
            open_syncs += key is not None
            try:
                yield conn
            finally:
                open_syncs -= key is not None

    def watched_merge(state: bytes | None, update: bytes) -> bytes:
        seen.append((open_syncs > 0, threading.current_thread() is threading.main_thread()))
        return merge(state, update)

    monkeypatch.setattr(db, "write", counted)
    monkeypatch.setattr(private_sync, "merge", watched_merge)
    phone = await new_device(empty_client)
    stuff(phone, "profile", 200_000)
    await sync(empty_client, phone)
    assert seen == [(False, False)]
