"""An attendee with something in every table that holds attendee data, made the way the PWA makes it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from server.services.feedback import rater_of
from server.storage import feedback as feedback_store
from server.storage import push as push_store
from server.storage.db import Connection, Database
from tests.asgi import AppClient
from tests.sync_devices import Device, b64

#: A session of the demo programme that attendees bookmark and ask alerts for.
SESSION = "wg-legal-route-1"
#: Far enough ahead that the push outbox never sends the planted messages during a test.
NEVER = "2999-01-01T00:00:00.000000Z"


@dataclass
class Planted:
    """What one attendee left on the server, and the secrets that reach it."""

    attendee_id: str
    devices: list[Device]
    note_text: str
    calendar_path: str
    endpoint: str
    subscription_id: int


async def _sync(client: AppClient, device: Device) -> None:
    await device.ready(client)
    response = await client.post("/api/me/sync", json=device.request_body(), headers=device.headers)
    assert response.status_code == 200, response.text
    device.receive(response.json())


async def plant_attendee(client: AppClient, name: str) -> Planted:
    """An attendee with two linked devices, an unused link code, a note, a bookmark, a calendar feed, a push
    subscription with alerts, push messages queued for it, and feedback on a session; ``name`` makes every value
    distinctive."""
    created = await client.post("/api/attendees")
    assert created.status_code == 201
    phone = Device(created.json()["token"])
    attendee_id: str = created.json()["attendeeId"]
    code = (await client.post("/api/attendees/me/link-code", headers=phone.headers)).json()["code"]
    linked = (await client.post("/api/attendees/link", json={"code": code})).json()
    laptop = phone.linked(linked["token"])
    # The notebook key, wrapped for the laptop (opaque bytes to the server).
    wrapped = [{"deviceId": linked["deviceId"], "key": b64(f"wrapped for {name}".encode())}]
    key = {"keyId": 1, "previous": 0, "keyring": None, "wrapped": wrapped}
    assert (await client.post("/api/attendees/me/keys", json=key, headers=phone.headers)).status_code == 200
    phone.notebook.registered = True
    unused = await client.post("/api/attendees/me/link-code", headers=laptop.headers)
    assert unused.status_code == 201

    note_text = f"Private note of {name}: met the delegate from the ministry after the session. " * 40
    note = f"note:{uuid.uuid4()}"
    phone.text(note).insert(0, note_text)
    phone.edit(note)
    phone.bookmarks()[SESSION] = True
    phone.edit("profile")
    await _sync(client, phone)

    feed = await client.post("/api/attendees/me/calendar", headers=laptop.headers)
    assert feed.status_code == 201
    endpoint = f"https://8.8.8.8/wpush/v2/{name}-{uuid.uuid4().hex}"
    keys = {"p256dh": "B" + name[:1].upper() * 86, "auth": name[:1].lower() * 22}
    subscribed = await client.post(
        "/api/push/subscriptions",
        json={"endpoint": endpoint, "keys": keys, "alertSessions": [SESSION]},
        headers=phone.headers,
    )
    assert subscribed.status_code == 201, subscribed.text
    rated = await client.put(
        f"/api/me/feedback/{SESSION}", json={"rating": 4, "comment": f"{name} found it useful"}, headers=phone.headers
    )
    # A database without the demo programme has no session to rate.
    programme_loaded = bool((await client.get("/api/sessions")).json())
    assert rated.status_code == (200 if programme_loaded else 404), rated.text
    db: Database = client.app.state.db
    async with db.write() as conn:
        subscription_id = await subscription_of(conn, endpoint)
        await push_store.enqueue(conn, "alert", SESSION, [subscription_id], NEVER, 1)
        await push_store.enqueue(conn, "announcement", f"ann-{name}", [subscription_id], NEVER, 1)
    return Planted(
        attendee_id, [phone, laptop], note_text, urlsplit(feed.json()["url"]).path, endpoint, subscription_id
    )


async def subscription_of(conn: Connection, endpoint: str) -> int:
    async with conn.execute("SELECT id FROM push_subscriptions WHERE endpoint = ?", (endpoint,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def rows_of(conn: Connection, planted: Planted) -> dict[str, int]:
    """How many rows of each table hold something of this attendee."""
    queries: dict[str, tuple[str, str | int | bytes]] = {
        "attendees": ("SELECT count(*) FROM attendees WHERE id = ?", planted.attendee_id),
        "attendees.calendar_key_hash": (
            "SELECT count(*) FROM attendees WHERE id = ? AND calendar_key_hash IS NOT NULL",
            planted.attendee_id,
        ),
        "attendee_tokens": ("SELECT count(*) FROM attendee_tokens WHERE attendee_id = ?", planted.attendee_id),
        "link_codes": ("SELECT count(*) FROM link_codes WHERE attendee_id = ?", planted.attendee_id),
        "documents": ("SELECT count(*) FROM documents WHERE attendee_id = ?", planted.attendee_id),
        "doc_log": ("SELECT count(*) FROM doc_log WHERE attendee_id = ?", planted.attendee_id),
        "wrapped_keys": ("SELECT count(*) FROM wrapped_keys WHERE attendee_id = ?", planted.attendee_id),
        "push_subscriptions": ("SELECT count(*) FROM push_subscriptions WHERE endpoint = ?", planted.endpoint),
        "push_outbox": ("SELECT count(*) FROM push_outbox WHERE subscription_id = ?", planted.subscription_id),
    }
    rater = rater_of(await feedback_store.rater_key(conn), planted.attendee_id)
    queries["session_feedback"] = ("SELECT count(*) FROM session_feedback WHERE rater = ?", rater)
    counts = {}
    for table, (query, value) in queries.items():
        async with conn.execute(query, (value,)) as cur:
            row = await cur.fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts
