"""Announcements: posted, scheduled, corrected and retracted, carried by the programme feed."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from server.app import create_app
from server.services.announcements import AnnouncementService, iso
from server.services.auth import Role
from server.settings import Settings
from server.storage import announcements as announcements_store
from server.storage.db import Database
from tests.asgi import AppClient, app_client
from tests.conftest import Tokens
from tests.push_service import PushService
from tests.server.services.test_live import another_node

Client = AppClient


async def post(client: Client, tokens: Tokens, role: str = "announcer", **fields: Any) -> Any:
    body = {"title": "Plenary moved to Hall B", "body": "The AML plenary starts in Hall B at 10:30."} | fields
    return await client.post("/api/admin/announcements", json=body, headers=tokens.header(role))


async def test_posted_announcement_is_in_the_programme_and_the_change_feed(client: Client, tokens: Tokens) -> None:
    cursor = (await client.get("/api/programme")).json()["cursor"]
    response = await post(client, tokens, priority="urgent")
    assert response.status_code == 201
    record = response.json()
    assert record["state"] == "published"
    assert record["createdBy"] == "announcer organiser"
    programme = (await client.get("/api/programme")).json()
    assert [a["id"] for a in programme["announcements"]] == [record["id"]]
    public = programme["announcements"][0]
    assert public["priority"] == "urgent"
    assert "state" not in public
    assert "createdBy" not in public
    changes = (await client.get("/api/changes", params={"since": cursor})).json()["changes"]
    assert [(c["type"], c["id"]) for c in changes] == [("announcement", record["id"])]


async def test_announcements_newest_first(client: Client, tokens: Tokens) -> None:
    first = (await post(client, tokens, title="First")).json()["id"]
    second = (await post(client, tokens, title="Second")).json()["id"]
    ids = [a["id"] for a in (await client.get("/api/programme")).json()["announcements"]]
    assert ids == [second, first]


async def test_scheduled_announcement_waits_for_its_time(client: Client, tokens: Tokens) -> None:
    send_at = datetime.now(UTC) + timedelta(hours=2)
    record = (await post(client, tokens, sendAt=send_at.isoformat())).json()
    assert record["state"] == "scheduled"
    assert (await client.get("/api/programme")).json()["announcements"] == []
    service: AnnouncementService = client.app.state.announcements
    assert await service.run_due(send_at + timedelta(seconds=1)) == 1
    programme = (await client.get("/api/programme")).json()
    assert [a["id"] for a in programme["announcements"]] == [record["id"]]
    stored = (await client.get(f"/api/admin/announcements/{record['id']}", headers=tokens.header("admin"))).json()
    assert stored["state"] == "published"


async def test_expired_announcement_leaves_the_feed(client: Client, tokens: Tokens) -> None:
    expires = datetime.now(UTC) + timedelta(minutes=30)
    record = (await post(client, tokens, expiresAt=expires.isoformat())).json()
    service: AnnouncementService = client.app.state.announcements
    assert await service.run_due(expires + timedelta(seconds=1)) == 1
    assert (await client.get("/api/programme")).json()["announcements"] == []
    stored = (await client.get(f"/api/admin/announcements/{record['id']}", headers=tokens.header("admin"))).json()
    assert stored["state"] == "expired"


async def test_correction_replaces_the_text(client: Client, tokens: Tokens) -> None:
    record = (await post(client, tokens)).json()
    cursor = (await client.get("/api/programme")).json()["cursor"]
    response = await client.patch(
        f"/api/admin/announcements/{record['id']}", json={"body": "Hall C, not Hall B."}, headers=tokens.header("admin")
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    changes = (await client.get("/api/changes", params={"since": cursor})).json()["changes"]
    assert changes[0]["data"]["body"] == "Hall C, not Hall B."
    assert changes[0]["data"]["title"] == "Plenary moved to Hall B"


async def test_retraction_leaves_a_tombstone(client: Client, tokens: Tokens) -> None:
    record = (await post(client, tokens)).json()
    cursor = (await client.get("/api/programme")).json()["cursor"]
    assert (
        await client.delete(f"/api/admin/announcements/{record['id']}", headers=tokens.header("admin"))
    ).status_code == 204
    changes = (await client.get("/api/changes", params={"since": cursor})).json()["changes"]
    assert changes == [
        {"type": "announcement", "id": record["id"], "seq": changes[0]["seq"], "deleted": True, "data": None}
    ]
    again = await client.delete(f"/api/admin/announcements/{record['id']}", headers=tokens.header("admin"))
    assert again.status_code == 404
    patch = await client.patch(
        f"/api/admin/announcements/{record['id']}", json={"body": "x"}, headers=tokens.header("admin")
    )
    assert patch.status_code == 404


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"title": ""}, "length"),
        ({"title": "t" * 141}, "length"),
        ({"priority": "critical"}, "priority"),
        ({"audience": "vip"}, "audience"),
        ({"audience": "session"}, "sessionId"),
        ({"sessionId": "no-such-session"}, "no session"),
        ({"expiresAt": "2000-01-01T00:00:00+00:00"}, "expiresAt"),
        ({"sendAt": "tomorrow"}, "sendAt"),
        ({"body": "<b>x</b>" * 1000}, "length"),
        ({"html": "<b>x</b>"}, "unknown field `html`"),
    ],
)
async def test_bad_announcements_are_refused(
    client: Client, tokens: Tokens, fields: dict[str, Any], words: str
) -> None:
    response = await post(client, tokens, **fields)
    assert response.status_code == 400, response.text
    assert words in response.json()["detail"]
    assert (await client.get("/api/programme")).json()["announcements"] == []


async def test_roles(client: Client, tokens: Tokens) -> None:
    assert (await post(client, tokens, role="announcer")).status_code == 201
    assert (await post(client, tokens, role="admin")).status_code == 201
    assert (await post(client, tokens, role="editor")).status_code == 403
    assert (await client.post("/api/admin/announcements", json={"title": "x"})).status_code == 401
    assert (await client.get("/api/admin/announcements", headers=tokens.header("editor"))).status_code == 403


async def test_list_and_delivery_without_subscriptions(client: Client, tokens: Tokens) -> None:
    record = (await post(client, tokens)).json()
    listed = (await client.get("/api/admin/announcements", headers=tokens.header("announcer"))).json()
    assert [a["id"] for a in listed] == [record["id"]]
    delivery = await client.get(f"/api/admin/announcements/{record['id']}/delivery", headers=tokens.header("announcer"))
    assert delivery.json() == {"targeted": 0, "sent": 0, "failed": 0, "gone": 0, "pending": 0, "languages": []}
    missing = await client.get("/api/admin/announcements/ann-nope/delivery", headers=tokens.header("announcer"))
    assert missing.status_code == 404


async def test_push_key_is_a_p256_public_key(client: Client) -> None:
    key = (await client.get("/api/push/key")).json()["publicKey"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65
    assert raw[0] == 4
    pem = client.app.state.vapid_keys
    assert (await client.get("/api/push/key")).json()["publicKey"] == pem.application_server_key


async def test_two_nodes_publish_a_scheduled_announcement_once_and_each_device_gets_it_once(
    settings: Settings, tmp_path: Path
) -> None:
    """Two servers on one database (two nodes on PostgreSQL, two workers on one SQLite file) both find the
    announcement due at once: one of them publishes it, and one message per device is queued and sent."""
    settings = msgspec.structs.replace(settings, allow_insecure_push=True)
    async with (
        app_client(create_app(settings)) as first,
        app_client(create_app(another_node(settings, tmp_path))) as second,
    ):
        key = first.app.state.vapid_keys.application_server_key
        assert second.app.state.vapid_keys.application_server_key == key, "the nodes sign pushes with one key"
        services: list[AnnouncementService] = [first.app.state.announcements, second.app.state.announcements]
        for service in services:
            await service.stop()  # each node's scheduler is run by hand below, both at the same moment
        async with PushService(vapid_public_key=key) as push:
            devices = push.subscriptions(4)
            for device, node in zip(devices, [first, second] * 2, strict=True):
                body = {**device.as_json(), "alertSessions": []}
                assert (await node.post("/api/push/subscriptions", json=body)).status_code == 201
            _, token = await first.app.state.auth.add_organiser("Ratna", Role.ANNOUNCER)
            send_at = datetime.now(UTC) + timedelta(seconds=0.5)
            record = (
                await first.post(
                    "/api/admin/announcements",
                    json={"title": "Lunch is served", "body": "In the foyer.", "sendAt": send_at.isoformat()},
                    headers={"Authorization": f"Bearer {token}"},
                )
            ).json()
            assert record["state"] == "scheduled"
            await asyncio.sleep(max(0.0, (send_at - datetime.now(UTC)).total_seconds()) + 0.05)
            done = await asyncio.gather(*(service.run_due() for service in services))
            assert sorted(done) == [0, 1], "one node published it, the other found nothing due"
            await push.wait_for(len(devices))
            async with second.app.state.db.read() as conn:
                queued = await conn.execute_fetchall(
                    "SELECT subscription_id, version FROM push_outbox WHERE ref = ?", (record["id"],)
                )
            await asyncio.sleep(0.3)  # time for a second message, had one been queued
            assert sorted(push.counts().values()) == [1] * len(devices), "each device got it once"
        assert len(queued) == len(devices)
        assert {version for _, version in queued} == {1}
        for node in (first, second):
            announcements = (await node.get("/api/programme")).json()["announcements"]
            assert [item["id"] for item in announcements] == [record["id"]]


async def test_a_node_that_read_an_announcement_as_due_does_not_publish_it_after_another_did(
    client: Client, tokens: Tokens
) -> None:
    """Publication is one conditional write: a row read as due before another node published the announcement
    publishes nothing when written."""
    send_at = datetime.now(UTC) + timedelta(hours=1)
    record = (await post(client, tokens, sendAt=send_at.isoformat())).json()
    due = send_at + timedelta(seconds=1)
    db: Database = client.app.state.db
    async with db.read() as conn:
        [stale] = await announcements_store.due_to_publish(conn, iso(due))
    service: AnnouncementService = client.app.state.announcements
    assert await service.run_due(due) == 1
    async with db.write() as conn:
        assert not await announcements_store.publish(conn, stale)
    assert await service.run_due(due) == 0
    assert [a["id"] for a in (await client.get("/api/programme")).json()["announcements"]] == [record["id"]]
