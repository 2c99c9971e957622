"""A push subscription belongs to whoever made it: knowing its endpoint alone changes or removes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from server.app import create_app
from server.settings import Settings
from server.storage.db import Database
from tests.asgi import AppClient, app_client
from tests.push_service import BrowserSubscription

SUBSCRIPTIONS = "/api/push/subscriptions"


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AppClient]:
    async with app_client(create_app(msgspec.structs.replace(settings, allow_insecure_push=True))) as web:
        yield web


async def attendee(client: AppClient) -> dict[str, str]:
    response = await client.post("/api/attendees")
    return {"Authorization": f"Bearer {response.json()['token']}"}


def device(name: str) -> BrowserSubscription:
    return BrowserSubscription(f"http://127.0.0.1:9/push/{name}")


def body(browser: BrowserSubscription, **settings: Any) -> dict[str, Any]:
    return {**browser.as_json(), "alertSessions": [], **settings}


async def row_of(client: AppClient, sql: str, endpoint: str) -> tuple[Any, ...] | None:
    db: Database = client.app.state.db
    async with db.read() as conn:
        rows = list(await conn.execute_fetchall(sql, (endpoint,)))
    return tuple(rows[0]) if rows else None


async def stored(client: AppClient, endpoint: str) -> tuple[Any, ...] | None:
    return await row_of(
        client,
        "SELECT attendee_id, p256dh, auth, participation, alert_sessions FROM push_subscriptions WHERE endpoint = ?",
        endpoint,
    )


async def delete(
    client: AppClient, json: dict[str, Any] | None, headers: dict[str, str] | None = None, **kw: Any
) -> httpx.Response:
    return await client.request("DELETE", SUBSCRIPTIONS, json=json, headers=headers, **kw)


async def test_someone_elses_endpoint_reposted_changes_nothing(client: AppClient) -> None:
    owner, stranger = await attendee(client), await attendee(client)
    phone = device("owner-phone")
    assert (
        await client.post(SUBSCRIPTIONS, json=body(phone, participation="onsite"), headers=owner)
    ).status_code == 201
    before = await stored(client, phone.endpoint)
    impostor = device("impostor")  # other keys, the owner's endpoint
    hijack = {**body(impostor, participation="online", alertSessions=["s1"]), "endpoint": phone.endpoint}
    for headers in (stranger, None):
        refused = await client.post(SUBSCRIPTIONS, json=hijack, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "belongs to another device" in refused.json()["detail"]
    assert await stored(client, phone.endpoint) == before


async def test_the_owner_and_the_device_itself_may_update(client: AppClient) -> None:
    owner, linked = await attendee(client), await attendee(client)
    phone = device("phone")
    assert (await client.post(SUBSCRIPTIONS, json=body(phone), headers=owner)).status_code == 201
    assert (
        await client.post(SUBSCRIPTIONS, json=body(phone, participation="online"), headers=owner)
    ).status_code == 200
    # The same browser, without its token for a moment: it holds the subscription's secret, and keeps its owner.
    assert (await client.post(SUBSCRIPTIONS, json=body(phone, participation="onsite"))).status_code == 200
    row = await stored(client, phone.endpoint)
    assert row is not None
    assert row[3] == "onsite"
    owner_id = row[0]
    assert owner_id is not None
    # Linked to another attendee, the same browser moves its subscription along.
    assert (await client.post(SUBSCRIPTIONS, json=body(phone), headers=linked)).status_code == 200
    moved = await stored(client, phone.endpoint)
    assert moved is not None
    assert moved[0] != owner_id


async def test_an_endpoint_made_without_a_token_is_changed_only_by_its_browser(client: AppClient) -> None:
    phone = device("anonymous")
    assert (await client.post(SUBSCRIPTIONS, json=body(phone))).status_code == 201
    hijack = {**body(device("other"), participation="online"), "endpoint": phone.endpoint}
    assert (await client.post(SUBSCRIPTIONS, json=hijack, headers=await attendee(client))).status_code == 403
    assert (await delete(client, {"endpoint": phone.endpoint})).status_code == 403
    assert await stored(client, phone.endpoint) is not None
    assert (await delete(client, {"endpoint": phone.endpoint, "auth": phone.auth})).status_code == 204
    assert await stored(client, phone.endpoint) is None


async def test_unsubscribing_needs_the_owner(client: AppClient) -> None:
    owner, stranger = await attendee(client), await attendee(client)
    phone = device("to-forget")
    assert (await client.post(SUBSCRIPTIONS, json=body(phone), headers=owner)).status_code == 201
    wrong_auth = device("guess").auth
    for json, headers in (
        ({"endpoint": phone.endpoint}, None),
        ({"endpoint": phone.endpoint}, stranger),
        ({"endpoint": phone.endpoint, "auth": wrong_auth}, stranger),
    ):
        refused = await delete(client, json, headers)
        assert refused.status_code == 403, refused.text
    assert await stored(client, phone.endpoint) is not None
    assert (await delete(client, {"endpoint": phone.endpoint}, owner)).status_code == 204
    assert await stored(client, phone.endpoint) is None
    assert (await delete(client, {"endpoint": phone.endpoint}, owner)).status_code == 404


async def test_the_old_query_form_works_only_with_the_owners_token(client: AppClient) -> None:
    owner = await attendee(client)
    phone = device("old-app")
    assert (await client.post(SUBSCRIPTIONS, json=body(phone), headers=owner)).status_code == 201
    anonymous = await client.delete(SUBSCRIPTIONS, params={"endpoint": phone.endpoint})
    assert anonymous.status_code == 403
    assert await stored(client, phone.endpoint) is not None
    assert (await client.delete(SUBSCRIPTIONS, params={"endpoint": phone.endpoint}, headers=owner)).status_code == 204
    assert await stored(client, phone.endpoint) is None


async def test_an_unsubscribe_without_an_endpoint_says_what_to_send(client: AppClient) -> None:
    missing = await client.delete(SUBSCRIPTIONS)
    assert missing.status_code == 400
    assert "endpoint" in missing.json()["detail"]
    both = await delete(
        client, {"endpoint": "http://127.0.0.1:9/push/x"}, params={"endpoint": "http://127.0.0.1:9/push/x"}
    )
    assert both.status_code == 400


async def reminder_settings(client: AppClient, endpoint: str) -> tuple[Any, ...] | None:
    return await row_of(
        client, "SELECT reminder_minutes, change_alerts FROM push_subscriptions WHERE endpoint = ?", endpoint
    )


async def test_a_device_chooses_its_reminders_with_its_subscription(client: AppClient) -> None:
    phone = device("reminded-phone")
    response = await client.post(SUBSCRIPTIONS, json=body(phone, alertSessions=["s1"], reminderMinutes=10))
    assert response.status_code == 201, response.text
    assert await reminder_settings(client, phone.endpoint) == (10, 1)
    reminders_only = body(phone, alertSessions=["s1"], reminderMinutes=30, changeAlerts=False)
    assert (await client.post(SUBSCRIPTIONS, json=reminders_only)).status_code == 200
    assert await reminder_settings(client, phone.endpoint) == (30, 0)
    assert (await client.post(SUBSCRIPTIONS, json=body(phone))).status_code == 200
    assert await reminder_settings(client, phone.endpoint) == (None, 1), "absent: reminders off, alerts as before"


@pytest.mark.parametrize("minutes", [0, 7, 60, -5, "ten"])
async def test_a_lead_time_not_offered_is_refused_by_name(client: AppClient, minutes: Any) -> None:
    phone = device("odd-minutes")
    response = await client.post(SUBSCRIPTIONS, json=body(phone, reminderMinutes=minutes))
    assert response.status_code == 400, response.text
    assert "reminderMinutes" in response.text
    assert await reminder_settings(client, phone.endpoint) is None, "nothing stored"
