"""An attendee's agenda as a calendar feed at a secret address: bookmarks synced from devices, revocable, private."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.asgi import AppClient
from tests.server.interchange.export_checks import calendar, events_by_url
from tests.sync_devices import Device

Client = AppClient


async def new_device(client: Client) -> Device:
    response = await client.post("/api/attendees")
    assert response.status_code == 201
    return Device(response.json()["token"])


async def bookmark(client: Client, device: Device, *session_ids: str, saved: bool = True) -> None:
    """Change bookmarks in the device's profile document and sync it, as the PWA does."""
    for session_id in session_ids:
        device.bookmarks()[session_id] = saved
    device.edit("profile")
    await device.ready(client)
    response = await client.post("/api/me/sync", json=device.request_body(), headers=device.headers)
    assert response.status_code == 200, response.text
    device.receive(response.json())


async def subscribe(client: Client, device: Device) -> dict[str, str]:
    response = await client.post("/api/attendees/me/calendar", headers=device.headers)
    assert response.status_code == 201, response.text
    feed: dict[str, str] = response.json()
    return feed


def path_of(url: str) -> str:
    return urlsplit(url).path


async def agenda(client: Client, feed: dict[str, str]) -> dict[str, Any]:
    response = await client.get(path_of(feed["url"]))
    assert response.status_code == 200, response.text
    return events_by_url(calendar(response.content))


async def test_the_feed_lists_the_sessions_bookmarked_on_any_device(client: Client) -> None:
    phone = await new_device(client)
    await bookmark(client, phone, "plenary-opening", "d2-survivor-speakers")
    feed = await subscribe(client, phone)
    assert feed["url"].startswith("http://testserver.local/api/calendar/")
    assert feed["url"].endswith(".ics")
    assert feed["webcalUrl"] == "webcal://" + feed["url"].removeprefix("http://")

    response = await client.get(path_of(feed["url"]))
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == 'inline; filename="arat-2024-agenda.ics"'
    parsed = calendar(response.content)
    assert "my agenda" in str(parsed["X-WR-CALNAME"])
    events = events_by_url(parsed)
    assert set(events) == {"plenary-opening", "d2-survivor-speakers"}
    assert "Off the record" in str(events["d2-survivor-speakers"]["DESCRIPTION"])

    await bookmark(client, phone, "d2-survivor-speakers", saved=False)
    await bookmark(client, phone, "d1-registration")
    assert set(await agenda(client, feed)) == {"plenary-opening", "d1-registration"}


async def test_a_new_address_turns_the_old_one_off(client: Client) -> None:
    phone = await new_device(client)
    await bookmark(client, phone, "plenary-opening")
    old = await subscribe(client, phone)
    new = await subscribe(client, phone)
    assert new["url"] != old["url"]
    assert (await client.get(path_of(old["url"]))).status_code == 404
    assert set(await agenda(client, new)) == {"plenary-opening"}


async def test_turning_the_feed_off_makes_its_address_unknown(client: Client) -> None:
    phone = await new_device(client)
    feed = await subscribe(client, phone)
    assert (await client.get(path_of(feed["url"]))).status_code == 200
    response = await client.delete("/api/attendees/me/calendar", headers=phone.headers)
    assert response.status_code == 204
    gone = await client.get(path_of(feed["url"]))
    assert gone.status_code == 404
    assert "subscribe again" in gone.json()["detail"]


async def test_erasing_the_attendee_kills_the_feed(client: Client) -> None:
    phone = await new_device(client)
    await bookmark(client, phone, "plenary-opening")
    feed = await subscribe(client, phone)
    assert (await client.delete("/api/attendees/me", headers=phone.headers)).status_code == 204
    assert (await client.get(path_of(feed["url"]))).status_code == 404


async def test_one_attendees_feed_never_shows_anothers_bookmarks(client: Client) -> None:
    ana, budi = await new_device(client), await new_device(client)
    await bookmark(client, ana, "plenary-opening")
    await bookmark(client, budi, "d1-registration", "d2-survivor-speakers")
    ana_feed, budi_feed = await subscribe(client, ana), await subscribe(client, budi)
    assert set(await agenda(client, ana_feed)) == {"plenary-opening"}
    assert set(await agenda(client, budi_feed)) == {"d1-registration", "d2-survivor-speakers"}


async def test_an_empty_agenda_is_an_empty_calendar(client: Client) -> None:
    phone = await new_device(client)
    assert await agenda(client, await subscribe(client, phone)) == {}


async def test_unknown_and_malformed_addresses_are_404(client: Client) -> None:
    for path in ("/api/calendar/kpc_not-a-key.ics", "/api/calendar/kpc_not-a-key", "/api/calendar/.ics"):
        response = await client.get(path)
        assert response.status_code == 404, path


async def test_making_or_deleting_a_feed_needs_the_attendee_token(client: Client) -> None:
    assert (await client.post("/api/attendees/me/calendar")).status_code == 401
    assert (await client.delete("/api/attendees/me/calendar")).status_code == 401
    response = await client.post("/api/attendees/me/calendar", headers={"Authorization": "Bearer kpa_wrong"})
    assert response.status_code == 401
