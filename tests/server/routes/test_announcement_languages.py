"""Announcements in each attendee's language: translations kept through every change, checked against the
event's languages, sent to each push subscription in its attendee's language, and reported by language."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from server.demo import demo_programme
from server.push.payloads import announcement_message
from server.services.announcements import AnnouncementService
from server.services.auth import AuthService, Role
from server.services.programme import ProgrammeService
from server.settings import Settings
from server.storage.db import Database
from tests.asgi import AppClient, app_client
from tests.push_service import BrowserSubscription

ADMIN = "/api/admin/announcements"
TEXTS = {
    "en": {"title": "Plenary moved to Hall B", "body": "The plenary starts in Hall B at 10:30."},
    "id": {"title": "Pleno pindah ke Aula B", "body": "Pleno dimulai di Aula B pukul 10.30."},
    "th": {"title": "ย้ายการประชุมใหญ่ไปห้องโถง B", "body": "การประชุมใหญ่เริ่มที่ห้องโถง B เวลา 10:30 น."},
}


@pytest.fixture
async def client(tmp_path: Path, database_url: str | None) -> AsyncIterator[AppClient]:
    """The demo conference (English, with Indonesian and Thai), accepting loopback push endpoints."""
    settings = Settings(
        db_path=tmp_path / "kumpul.db", database_url=database_url, allow_insecure_push=True, change_poll_seconds=0.05
    )
    async with app_client(create_app(settings)) as web:
        programme: ProgrammeService = web.app.state.programme
        await programme.import_programme(demo_programme())
        yield web


@pytest.fixture
async def announcer(client: AppClient) -> dict[str, str]:
    auth: AuthService = client.app.state.auth
    _, token = await auth.add_organiser("Ratna", Role.ANNOUNCER)
    return {"Authorization": f"Bearer {token}"}


def translated(**fields: Any) -> dict[str, Any]:
    return {**TEXTS["en"], "translations": {"id": TEXTS["id"], "th": TEXTS["th"]}, **fields}


async def payload_in(client: AppClient, announcement_id: str, lang: str | None) -> dict[str, Any] | None:
    db: Database = client.app.state.db
    async with db.read() as conn:
        message = await announcement_message(conn, announcement_id, lang)
    if message is None:
        return None
    result: dict[str, Any] = json.loads(message.payload)
    return result


async def query(client: AppClient, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    """Rows read straight from the app's database."""
    db: Database = client.app.state.db
    async with db.read() as conn:
        return [tuple(row) for row in await conn.execute_fetchall(sql, parameters)]


async def subscribe(client: AppClient, name: str, lang: str | None) -> BrowserSubscription:
    device = BrowserSubscription(f"http://127.0.0.1:9/push/{name}")
    body: dict[str, Any] = {**device.as_json(), "alertSessions": []}
    if lang is not None:
        body["lang"] = lang
    response = await client.post("/api/push/subscriptions", json=body)
    assert response.status_code == 201, response.text
    return device


async def test_translations_reach_the_feed_and_each_language_gets_its_text(
    client: AppClient, announcer: dict[str, str]
) -> None:
    response = await client.post(ADMIN, json=translated(), headers=announcer)
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["translations"] == {"id": TEXTS["id"], "th": TEXTS["th"]}
    [public] = (await client.get("/api/programme")).json()["announcements"]
    assert public["translations"]["th"]["title"] == TEXTS["th"]["title"]

    for lang, expected in (("th", "th"), ("id", "id"), ("id-ID", "id"), ("en", "en"), ("vi", "en"), (None, "en")):
        payload = await payload_in(client, record["id"], lang)
        assert payload is not None
        assert (payload["title"], payload["body"]) == (TEXTS[expected]["title"], TEXTS[expected]["body"]), lang


async def test_a_translation_in_a_language_the_event_does_not_offer_is_refused_by_name(
    client: AppClient, announcer: dict[str, str]
) -> None:
    body = translated(translations={"th": TEXTS["th"], "vi": {"title": "Hội nghị chuyển sang Hội trường B"}})
    response = await client.post(ADMIN, json=body, headers=announcer)
    assert response.status_code == 400
    assert "'vi'" in response.json()["detail"]
    assert "not one of the event's languages" in response.json()["detail"]
    assert (await client.get(ADMIN, headers=announcer)).json() == [], "nothing is half-written"

    main = await client.post(ADMIN, json=translated(translations={"en": TEXTS["en"]}), headers=announcer)
    assert main.status_code == 400
    assert "'en'" in main.json()["detail"]

    record = (await client.post(ADMIN, json=translated(), headers=announcer)).json()
    patched = await client.patch(
        f"{ADMIN}/{record['id']}", json={"translations": {"km": {"title": "x"}}}, headers=announcer
    )
    assert patched.status_code == 400
    assert "'km'" in patched.json()["detail"]
    stored = (await client.get(f"{ADMIN}/{record['id']}", headers=announcer)).json()
    assert stored["translations"] == record["translations"]


@pytest.mark.parametrize(
    ("text", "field"),
    [({"title": "x" * 141}, "title"), ({"title": "ok", "body": "x" * 5001}, "body"), ({"body": "no title"}, "title")],
)
async def test_each_translation_has_the_limits_of_the_original(
    client: AppClient, announcer: dict[str, str], text: dict[str, str], field: str
) -> None:
    response = await client.post(ADMIN, json=translated(translations={"th": text}), headers=announcer)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "translations" in detail
    assert field in detail
    assert (await client.get(ADMIN, headers=announcer)).json() == []


async def test_scheduling_and_corrections_keep_the_translations(client: AppClient, announcer: dict[str, str]) -> None:
    send_at = datetime.now(UTC) + timedelta(hours=1)
    record = (await client.post(ADMIN, json=translated(sendAt=send_at.isoformat()), headers=announcer)).json()
    assert record["state"] == "scheduled"
    corrected = await client.patch(f"{ADMIN}/{record['id']}", json={"body": "Hall C."}, headers=announcer)
    assert corrected.json()["translations"] == {"id": TEXTS["id"], "th": TEXTS["th"]}
    service: AnnouncementService = client.app.state.announcements
    assert await service.run_due(send_at + timedelta(seconds=1)) == 1
    [public] = (await client.get("/api/programme")).json()["announcements"]
    assert public["body"] == "Hall C."
    assert public["translations"]["id"] == TEXTS["id"]

    new_thai = {"title": "ห้องโถง C", "body": "เริ่ม 10:30 น."}
    await client.patch(f"{ADMIN}/{record['id']}", json={"translations": {"th": new_thai}}, headers=announcer)
    [public] = (await client.get("/api/programme")).json()["announcements"]
    assert public["translations"] == {"th": new_thai}, "a correction's translations replace the old ones"
    payload = await payload_in(client, record["id"], "th")
    assert payload is not None
    assert payload["title"] == new_thai["title"]
    indonesian = await payload_in(client, record["id"], "id")
    assert indonesian is not None
    assert indonesian["title"] == TEXTS["en"]["title"], "no Indonesian left: the original"


async def test_a_retraction_retracts_every_language(client: AppClient, announcer: dict[str, str]) -> None:
    for name, lang in (("en-phone", "en"), ("id-phone", "id"), ("th-phone", "th"), ("quiet-phone", None)):
        await subscribe(client, name, lang)
    await client.app.state.outbox.stop()  # nothing leaves: what is queued stays queued until the retraction
    send_at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    record = (await client.post(ADMIN, json=translated(sendAt=send_at), headers=announcer)).json()
    service: AnnouncementService = client.app.state.announcements
    await service.run_due(datetime.now(UTC) + timedelta(hours=2))
    assert (await client.delete(f"{ADMIN}/{record['id']}", headers=announcer)).status_code == 204
    assert (await client.get("/api/programme")).json()["announcements"] == []
    for lang in ("en", "id", "th", None):
        assert await payload_in(client, record["id"], lang) is None, lang
    rows = await query(client, "SELECT lang, state FROM push_outbox WHERE ref = ?", record["id"])
    assert sorted(rows, key=str) == sorted(
        [("en", "cancelled"), ("id", "cancelled"), ("th", "cancelled"), (None, "cancelled")], key=str
    )
    delivery = (await client.get(f"{ADMIN}/{record['id']}/delivery", headers=announcer)).json()
    assert delivery["pending"] == 0
    assert all(language["pending"] == 0 for language in delivery["languages"])


async def test_the_subscription_carries_its_language_and_delivery_breaks_down_by_it(
    client: AppClient, announcer: dict[str, str]
) -> None:
    await client.app.state.outbox.stop()  # the counts stay as queued
    devices = {}
    for name, lang in (("a", "id"), ("b", "id-ID"), ("c", "th"), ("d", "vi"), ("e", None)):
        devices[name] = await subscribe(client, name, lang)
    langs = dict(await query(client, "SELECT endpoint, lang FROM push_subscriptions"))
    assert langs[devices["b"].endpoint] == "id-ID"
    # The language changes: the same device says so again.
    again = {**devices["d"].as_json(), "alertSessions": [], "lang": "th"}
    assert (await client.post("/api/push/subscriptions", json=again)).status_code == 200
    bad = {**devices["e"].as_json(), "alertSessions": [], "lang": "not a language"}
    refused = await client.post("/api/push/subscriptions", json=bad)
    assert refused.status_code == 400
    assert "lang" in refused.json()["detail"]

    record = (await client.post(ADMIN, json=translated(), headers=announcer)).json()
    delivery = (await client.get(f"{ADMIN}/{record['id']}/delivery", headers=announcer)).json()
    assert delivery["targeted"] == 5
    by_language = {entry["language"]: entry["targeted"] for entry in delivery["languages"]}
    assert by_language == {"en": 1, "id": 2, "th": 2}
    assert delivery["languages"][0]["language"] == "en", "the event's own language first"
    assert sum(entry["targeted"] for entry in delivery["languages"]) == delivery["targeted"]
