"""Encrypted documents (sync/PROTOCOL.md section 3): per-document logs of frames, versions, compaction under
concurrency, notebook keys, devices and revocation, and plaintext notes from before encryption going away."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text

from server.app import create_app
from server.services.private_sync import MAX_FRAMES_PER_REQUEST
from server.settings import Settings
from tests.asgi import AppClient, app_client
from tests.sync_devices import Device, Notebook, b64, open_frame, seal

Client = AppClient
KEY_1 = {"keyId": 1, "previous": 0, "keyring": None, "wrapped": []}


def note_id() -> str:
    return f"note:{uuid.uuid4()}"


async def new_attendee(client: Client, **device: Any) -> tuple[Device, dict[str, Any]]:
    created = await client.post("/api/attendees", json=device or None)
    assert created.status_code == 201, created.text
    body = created.json()
    return Device(body["token"]), body


async def register(client: Client, device: Device) -> None:
    response = await client.post("/api/attendees/me/keys", json=KEY_1, headers=device.headers)
    assert response.status_code == 200, response.text
    device.notebook.registered = True


async def link(client: Client, device: Device, **extra: Any) -> tuple[Device, dict[str, Any]]:
    code = (await client.post("/api/attendees/me/link-code", headers=device.headers)).json()["code"]
    linked = await client.post("/api/attendees/link", json={"code": code, **extra})
    assert linked.status_code == 201, linked.text
    return device.linked(linked.json()["token"]), linked.json()


async def sync(client: Client, device: Device) -> dict[str, Any]:
    await device.ready(client)
    response = await client.post("/api/me/sync", json=device.request_body(), headers=device.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    device.receive(body)
    return body


async def post_logs(client: Client, device: Device, logs: list[dict[str, Any]], key_id: int = 1) -> Any:
    return await client.post("/api/me/sync", json={"keyId": key_id, "logs": logs}, headers=device.headers)


def write(device: Device, doc_id: str, words: str) -> None:
    text = device.text(doc_id)
    text.insert(len(text), words)
    device.edit(doc_id)


async def stored_log(client: Client, doc_id: str) -> list[tuple[int, int]]:
    """``(version, snapshot)`` of every stored entry of a document, in order."""
    async with client.app.state.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT version, snapshot FROM doc_log WHERE doc_id = ? ORDER BY version", (doc_id,)
        )
    return [(int(row[0]), int(row[1])) for row in rows]


async def test_appends_get_versions_and_a_device_gets_only_what_it_lacks(empty_client: Client) -> None:
    phone, _ = await new_attendee(empty_client)
    laptop, _ = await link(empty_client, phone)
    note = note_id()
    for word in ("one ", "two ", "three "):
        write(phone, note, word)
        reply = await sync(empty_client, phone)
        assert reply["logs"] == [{"id": note, "version": phone.versions[note], "entries": []}], "not its own"
    assert await stored_log(empty_client, note) == [(1, 0), (2, 0), (3, 0)]
    first = await sync(empty_client, laptop)
    assert [entry["version"] for log in first["logs"] for entry in log["entries"]] == [1, 2, 3]
    assert str(laptop.text(note)) == "one two three "

    write(laptop, note, "four")
    write(phone, note, "five ")
    await sync(empty_client, phone)
    reply = await sync(empty_client, laptop)
    assert [entry["version"] for entry in reply["logs"][0]["entries"]] == [4], "what the phone wrote meanwhile"
    assert reply["logs"][0]["version"] == 5
    await sync(empty_client, phone)
    assert str(phone.text(note)) == str(laptop.text(note))
    assert "four" in str(phone.text(note))
    assert "five" in str(phone.text(note))


async def test_a_replayed_request_appends_nothing_twice(empty_client: Client) -> None:
    phone, _ = await new_attendee(empty_client)
    await register(empty_client, phone)
    note = note_id()
    write(phone, note, "once")
    body = phone.request_body()
    for _ in range(3):
        response = await empty_client.post("/api/me/sync", json=body, headers=phone.headers)
        assert response.status_code == 200, response.text
    assert await stored_log(empty_client, note) == [(1, 0)]


async def test_a_snapshot_replaces_the_prefix_it_covers_and_keeps_what_came_after(empty_client: Client) -> None:
    phone, _ = await new_attendee(empty_client)
    laptop, _ = await link(empty_client, phone)
    note = note_id()
    for word in ("a ", "b ", "c "):
        write(phone, note, word)
        await sync(empty_client, phone)
    await sync(empty_client, laptop)
    # The laptop appends while the phone, which has seen only up to version 3, compacts.
    write(laptop, note, "from the laptop ")
    await sync(empty_client, laptop)
    await phone.compact(empty_client, note)
    assert await stored_log(empty_client, note) == [(3, 1), (4, 0)]
    assert "from the laptop" in str(phone.text(note))

    fresh = phone.linked(phone.token)
    await sync(empty_client, fresh)
    assert str(fresh.text(note)) == str(phone.text(note))
    # A snapshot that covers less than the stored one is dropped: the log does not go back.
    stale = {
        "id": note,
        "since": 2,
        "snapshot": {"upTo": 2, "frame": b64(seal(phone.notebook, note, "snapshot", b"\x00\x00"))},
    }
    assert (await post_logs(empty_client, phone, [stale])).status_code == 200
    assert await stored_log(empty_client, note) == [(3, 1), (4, 0)]


async def test_concurrent_compactions_and_appends_lose_no_update(empty_client: Client) -> None:
    phone, _ = await new_attendee(empty_client)
    laptop, _ = await link(empty_client, phone)
    tablet, _ = await link(empty_client, phone)
    note = note_id()
    write(phone, note, "start ")
    await sync(empty_client, phone)
    for device in (laptop, tablet):
        await sync(empty_client, device)
    written = ["start"]
    for round_ in range(6):
        for device in (laptop, tablet):
            word = f"{(device is laptop and 'lap') or 'tab'}{round_}"
            write(device, note, f"{word} ")
            written.append(word)
        # The phone compacts what it has while both others append, all at once.
        snapshot = phone.snapshot_body(note)
        await asyncio.gather(
            empty_client.post("/api/me/sync", json={"keyId": 1, "logs": [snapshot]}, headers=phone.headers),
            sync(empty_client, laptop),
            sync(empty_client, tablet),
        )
        await sync(empty_client, phone)
    reader = phone.linked(phone.token)
    await sync(empty_client, reader)
    text = str(reader.text(note))
    assert [word for word in written if word not in text] == []
    assert sum(snapshot for _, snapshot in await stored_log(empty_client, note)) == 1


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["phone", "laptop"]), st.sampled_from(["write", "sync", "compact"])),
        min_size=1,
        max_size=25,
    )
)
async def test_any_order_of_writes_syncs_and_compactions_converges(
    tmp_path_factory: Any, database_url: str | None, steps: Any
) -> None:
    # A fresh SQLite file for each example; on PostgreSQL the test's database, where each example has its attendee.
    folder = tmp_path_factory.mktemp("vault")
    settings_ = Settings(db_path=folder / "kumpul.db", database_url=database_url, change_poll_seconds=0.05)
    async with app_client(create_app(settings_)) as client:
        phone, _ = await new_attendee(client)
        laptop, _ = await link(client, phone)
        devices = {"phone": phone, "laptop": laptop}
        note = note_id()
        words: list[str] = []
        for index, (name, action) in enumerate(steps):
            device = devices[name]
            if action == "write":
                words.append(f"w{index}")
                write(device, note, f"w{index} ")
            elif action == "sync":
                await sync(client, device)
            elif device.versions.get(note):
                await device.compact(client, note)
        for device in (phone, laptop, phone):
            await sync(client, device)
        reader = phone.linked(phone.token)
        await sync(client, reader)
        for device in (phone, laptop, reader):
            assert sorted(str(device.text(note)).split()) == sorted(words)


@pytest.mark.parametrize(
    ("log", "words"),
    [
        ({"id": "secrets", "append": []}, "unknown encrypted document id"),
        ({"id": "profile", "append": []}, "unknown encrypted document id"),
        ({"id": "NOTE", "append": [b64(b"\x01" * 40)]}, "unknown encrypted document id"),
        ({"id": "N", "append": [b64(b"\x01\x00\x00\x00\x01" + b"x" * 20)]}, "at least 33 bytes"),
        ({"id": "N", "append": [b64(b"\x02\x00\x00\x00\x01" + b"x" * 40)]}, "unknown frame format 2"),
        ({"id": "N", "append": [b64(b"\x01\x00\x00\x00\x00" + b"x" * 40)]}, "key id 0"),
        ({"id": "N", "since": -1}, "since"),
        ({"id": "N", "since": 1, "snapshot": {"upTo": 2, "frame": b64(b"\x01\x00\x00\x00\x01" + b"x" * 40)}}, "upTo"),
        ({"id": "N", "append": ["not base64!"]}, "base64"),
    ],
)
async def test_garbage_is_refused_with_400_naming_it(empty_client: Client, log: dict[str, Any], words: str) -> None:
    phone, _ = await new_attendee(empty_client)
    await register(empty_client, phone)
    note = note_id()
    if log["id"] == "N":
        log = {**log, "id": note}
    response = await post_logs(empty_client, phone, [log])
    assert response.status_code == 400, response.text
    assert words in response.text
    assert await stored_log(empty_client, note) == []


async def test_a_flood_of_tiny_frames_is_refused_whole(empty_client: Client) -> None:
    phone, _ = await new_attendee(empty_client)
    await register(empty_client, phone)
    note = note_id()
    tiny = b64(seal(phone.notebook, note, "update", b""))
    response = await post_logs(empty_client, phone, [{"id": note, "append": [tiny] * (MAX_FRAMES_PER_REQUEST + 1)}])
    assert response.status_code == 413
    assert "frames in one request" in response.json()["detail"]
    assert await stored_log(empty_client, note) == []


async def test_a_document_listed_twice_is_400(empty_client: Client) -> None:
    phone, _ = await new_attendee(empty_client)
    note = note_id()
    response = await post_logs(empty_client, phone, [{"id": note}, {"id": note}])
    assert response.status_code == 400
    assert "listed twice" in response.json()["detail"]


async def test_frames_under_a_key_that_is_not_the_current_one_are_409_and_nothing_is_written(
    empty_client: Client,
) -> None:
    phone, _ = await new_attendee(empty_client)
    note, other = note_id(), note_id()
    write(phone, note, "before any key")
    early = await empty_client.post("/api/me/sync", json=phone.request_body(), headers=phone.headers)
    assert early.status_code == 409
    assert early.json()["keyId"] == 0
    assert "register key 1" in early.json()["detail"]

    await register(empty_client, phone)
    phone.notebook.keys[2] = os.urandom(32)
    phone.notebook.key_id = 2
    write(phone, other, "under a key the server does not know")
    ahead = await empty_client.post("/api/me/sync", json=phone.request_body(), headers=phone.headers)
    assert ahead.status_code == 409
    assert ahead.json()["keyId"] == 1
    assert await stored_log(empty_client, note) == await stored_log(empty_client, other) == []


async def test_keys_are_registered_once_compare_and_set(empty_client: Client) -> None:
    phone, created = await new_attendee(empty_client)
    laptop, _ = await link(empty_client, phone)
    assert (await empty_client.get("/api/attendees/me", headers=phone.headers)).json()["keyId"] == 0
    wrapped = [{"deviceId": created["deviceId"], "key": b64(b"w" * 120)}]
    both = await asyncio.gather(
        *(
            empty_client.post("/api/attendees/me/keys", json={**KEY_1, "wrapped": wrapped}, headers=device.headers)
            for device in (phone, laptop)
        )
    )
    assert sorted(response.status_code for response in both) == [200, 409]
    assert (await empty_client.get("/api/attendees/me", headers=laptop.headers)).json()["keyId"] == 1
    skip = await empty_client.post(
        "/api/attendees/me/keys", json={**KEY_1, "keyId": 3, "previous": 1}, headers=phone.headers
    )
    assert skip.status_code == 400
    assert "must be 2" in skip.json()["detail"]
    strange = await empty_client.post(
        "/api/attendees/me/keys",
        json={"keyId": 2, "previous": 1, "wrapped": [{"deviceId": "dev_someone_else", "key": b64(b"k")}]},
        headers=phone.headers,
    )
    assert strange.status_code == 400
    assert "not a device of yours" in strange.json()["detail"]


async def test_devices_are_listed_named_and_last_seen(empty_client: Client) -> None:
    public = b"\x04" + os.urandom(64)
    phone, created = await new_attendee(empty_client, name="  Pixel   7 ", publicKey=b64(public))
    laptop, linked = await link(empty_client, phone, name="Office laptop", publicKey=b64(b"\x04" + os.urandom(64)))
    listed = (await empty_client.get("/api/attendees/me/devices", headers=phone.headers)).json()
    assert [(item["id"], item["name"], item["current"]) for item in listed] == [
        (created["deviceId"], "Pixel 7", True),
        (linked["deviceId"], "Office laptop", False),
    ]
    assert base64.b64decode(listed[0]["publicKey"]) == public
    assert all(item["linkedAt"] and item["lastSeenAt"] for item in listed)
    renamed = await empty_client.patch(
        "/api/attendees/me/device", json={"name": "Laptop at home", "proof": b64(b"p" * 36)}, headers=laptop.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Laptop at home"
    assert renamed.json()["current"] is True
    for bad, field in (
        ({"name": ""}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": "bell\x07name"}, "name"),
        ({"publicKey": b64(b"\x02" + os.urandom(32))}, "publicKey"),
        ({"proof": b64(b"p" * 65)}, "proof"),
        ({"colour": "red"}, "colour"),
    ):
        response = await empty_client.patch("/api/attendees/me/device", json=bad, headers=laptop.headers)
        assert response.status_code == 400, bad
        assert field in response.text


async def test_a_link_preview_shows_whose_notebook_without_using_the_code(empty_client: Client) -> None:
    owner, _ = await new_attendee(empty_client, name="Attacker's phone")
    await register(empty_client, owner)
    write(owner, note_id(), "attacker's bait")
    await sync(empty_client, owner)
    code = (await empty_client.post("/api/attendees/me/link-code", headers=owner.headers)).json()["code"]
    for _ in range(2):
        preview = await empty_client.post("/api/attendees/link/preview", json={"code": code})
        assert preview.status_code == 200, preview.text
        assert [device["name"] for device in preview.json()["devices"]] == ["Attacker's phone"]
        assert preview.json()["documents"] == 1
    assert (await empty_client.post("/api/attendees/link", json={"code": code})).status_code == 201
    used = await empty_client.post("/api/attendees/link/preview", json={"code": code})
    assert used.status_code == 400
    assert "not valid" in used.json()["detail"]


async def test_revoking_a_device_stops_its_token_at_once_and_moves_the_key_on(empty_client: Client) -> None:
    phone, created = await new_attendee(empty_client)
    await register(empty_client, phone)
    laptop, _ = await link(empty_client, phone)
    thief, stolen = await link(empty_client, phone)
    thief.notebook = Notebook(dict(phone.notebook.keys), registered=True)  # its own copy of key 1, as linked
    note = note_id()
    write(phone, note, "before the revocation ")
    await sync(empty_client, phone)
    await sync(empty_client, thief)
    assert "before the revocation" in str(thief.text(note))

    devices = (await empty_client.get("/api/attendees/me/devices", headers=phone.headers)).json()
    laptop_id = next(item["id"] for item in devices if not item["current"] and item["id"] != stolen["deviceId"])
    without = await empty_client.post(
        f"/api/attendees/me/devices/{stolen['deviceId']}/revoke", json={}, headers=phone.headers
    )
    assert without.status_code == 400, "the key must move on"
    assert "rotation" in without.json()["detail"]
    new_key = os.urandom(32)
    rotation = {
        "keyId": 2,
        "previous": 1,
        "keyring": b64(b"older keys, encrypted under key 2"),
        "wrapped": [
            {"deviceId": created["deviceId"], "key": b64(b"wrapped for the phone")},
            {"deviceId": laptop_id, "key": b64(b"wrapped for the laptop")},
        ],
    }
    revoked = await empty_client.post(
        f"/api/attendees/me/devices/{stolen['deviceId']}/revoke", json={"rotation": rotation}, headers=phone.headers
    )
    assert revoked.status_code == 204, revoked.text
    assert (await empty_client.get("/api/attendees/me", headers=thief.headers)).status_code == 401
    assert (await empty_client.post("/api/me/sync", json={}, headers=thief.headers)).status_code == 401
    again = await empty_client.post(
        f"/api/attendees/me/devices/{stolen['deviceId']}/revoke", json={"rotation": rotation}, headers=phone.headers
    )
    assert again.status_code == 404
    self_revoke = await empty_client.post(
        f"/api/attendees/me/devices/{created['deviceId']}/revoke", json={}, headers=phone.headers
    )
    assert self_revoke.status_code == 400

    # The laptop, still on key 1, gets its wrapped key 2 and the keyring in its next answer; writes under key 1 wait.
    write(laptop, note, "stale key ")
    stale = await empty_client.post("/api/me/sync", json=laptop.request_body(), headers=laptop.headers)
    assert stale.status_code == 409
    assert stale.json()["keyId"] == 2
    laptop.changed.clear()
    answer = (await empty_client.post("/api/me/sync", json={"keyId": 1}, headers=laptop.headers)).json()
    assert answer["keyId"] == 2
    assert base64.b64decode(answer["key"]["wrapped"]) == b"wrapped for the laptop"
    assert base64.b64decode(answer["key"]["keyring"]) == b"older keys, encrypted under key 2"

    # What is written after the revocation is under key 2, which the revoked device never had.
    phone.notebook.keys[2] = new_key
    phone.notebook.key_id = 2
    write(phone, note, "after the revocation")
    await sync(empty_client, phone)
    async with empty_client.app.state.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT frame FROM doc_log WHERE doc_id = ? AND version = 2", (note,))
    frame = bytes(rows[0][0])
    assert int.from_bytes(frame[1:5], "big") == 2
    revoked_keys = {1: thief.notebook.keys[1]}  # all the revoked device ever held
    with pytest.raises(KeyError):
        open_frame(revoked_keys, note, "update", frame)
    with pytest.raises(InvalidTag):
        open_frame({2: thief.notebook.keys[1]}, note, "update", frame)
    assert b"after the revocation" in open_frame(phone.notebook.keys, note, "update", frame)


async def test_a_device_behind_a_restored_server_gets_everything_again(empty_client: Client) -> None:
    phone, _ = await new_attendee(empty_client)
    note = note_id()
    write(phone, note, "kept")
    await sync(empty_client, phone)
    phone.versions[note] = 40  # the server's log ends at 1: it was restored from an older backup
    write(phone, note, " and more")
    reply = await sync(empty_client, phone)
    assert reply["logs"][0]["entries"], "the reply starts from the beginning"
    assert str(phone.text(note)) == "kept and more"


def database_bytes(folder: Path) -> bytes:
    """The database file and its write-ahead log, as they are on disk."""
    return b"".join(path.read_bytes() for path in folder.glob("kumpul.db*"))


LEGACY_SECRET = "Shelter at Jalan Kenanga 7, ask for Ibu Wulan"


async def encrypt_a_legacy_note(client: Client) -> tuple[Device, str]:
    """A note stored in plaintext from before notes were encrypted, which an upgraded device then encrypts."""
    phone, created = await new_attendee(client)
    note = note_id()
    legacy: Doc[Text] = Doc()
    legacy["body"] = Text(LEGACY_SECRET)
    async with client.app.state.db.write() as conn:
        await conn.execute(
            "INSERT INTO documents (attendee_id, doc_id, state, seq, updated_at) VALUES (?, ?, ?, 1, 'x')",
            (created["attendeeId"], note, legacy.get_update()),
        )
        await conn.execute("UPDATE attendees SET doc_seq = 1 WHERE id = ?", (created["attendeeId"],))
    # An upgraded device still receives it once (its first sync), merges, encrypts and uploads it.
    first = await sync(client, phone)
    assert [doc["id"] for doc in first["docs"]] == [note]
    assert str(phone.text(note)) == LEGACY_SECRET
    phone.edit(note)
    await sync(client, phone)
    return phone, note


async def test_a_plaintext_note_from_before_encryption_goes_when_its_log_arrives(empty_client: Client) -> None:
    phone, note = await encrypt_a_legacy_note(empty_client)
    async with empty_client.app.state.db.read() as conn:
        assert await conn.execute_fetchall("SELECT * FROM documents WHERE doc_id = ?", (note,)) == []
    other = phone.linked(phone.token)
    await sync(empty_client, other)
    assert str(other.text(note)) == LEGACY_SECRET


@pytest.mark.sqlite_only
async def test_a_plaintext_note_encrypted_on_arrival_leaves_the_file_at_once(tmp_path: Path) -> None:
    """``secure_delete`` overwrites the deleted row and the checkpoint that follows empties the write-ahead log."""
    async with app_client(create_app(Settings(db_path=tmp_path / "kumpul.db"))) as client:
        await encrypt_a_legacy_note(client)
        await client.app.state.db.wiped()
        raw = database_bytes(tmp_path)
    assert LEGACY_SECRET.encode() not in raw
    assert b"Jalan Kenanga" not in raw


async def test_a_small_edit_to_a_5_kb_note_costs_under_1_kb_each_way(empty_client: Client) -> None:
    phone, _ = await new_attendee(empty_client)
    laptop, _ = await link(empty_client, phone)
    note = note_id()
    write(phone, note, " ".join(f"word{index}" for index in range(800))[: 5 * 1024])
    await sync(empty_client, phone)
    await sync(empty_client, laptop)
    write(phone, note, " one more sentence.")
    await phone.ready(empty_client)
    request = json.dumps(phone.request_body()).encode()
    response = await empty_client.post(
        "/api/me/sync", content=request, headers={**phone.headers, "Content-Type": "application/json"}
    )
    phone.receive(response.json())
    answer = await empty_client.post(
        "/api/me/sync", json=laptop.request_body(), headers={**laptop.headers, "Accept-Encoding": "identity"}
    )
    laptop.receive(answer.json())
    assert str(laptop.text(note)).endswith("one more sentence.")
    assert len(request) < 1024
    assert len(answer.content) < 1024
