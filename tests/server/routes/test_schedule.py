"""The public schedule exports over HTTP: ``HEAD`` as link checkers and feed readers send it, and CORS for
schedule viewers on other sites, without opening any private route to other origins."""

from __future__ import annotations

import pytest

from server.headers import security_headers
from tests.asgi import AppClient
from tests.server.routes.test_calendar_feed import new_device, path_of, subscribe

Client = AppClient
PUBLIC = ["/api/schedule.ics", "/api/schedule.xml", "/api/schedule.json", "/api/programme"]
#: Headers a HEAD answer must share with the GET of the same resource.
SAME = ("content-type", "content-length", "etag", "cache-control", "vary", "content-disposition")


async def _assert_head_is_get_without_body(client: Client, path: str, headers: dict[str, str] | None = None) -> None:
    got = await client.get(path, headers=headers)
    head = await client.head(path, headers=headers)
    assert got.status_code == 200, got.text
    assert head.status_code == 200
    assert head.content == b""
    for name in SAME:
        assert head.headers.get(name) == got.headers.get(name), name


@pytest.mark.parametrize("path", PUBLIC)
async def test_head_answers_like_get_without_the_body(client: Client, path: str) -> None:
    await _assert_head_is_get_without_body(client, path)
    await _assert_head_is_get_without_body(client, path, {"Accept-Encoding": "identity"})
    await _assert_head_is_get_without_body(client, path, {"Accept-Encoding": "gzip"})


async def test_head_on_an_agenda_feed(client: Client) -> None:
    feed = await subscribe(client, await new_device(client))
    await _assert_head_is_get_without_body(client, path_of(feed["url"]))
    assert (await client.head("/api/calendar/not-a-key.ics")).status_code == 404


@pytest.mark.parametrize("path", PUBLIC)
async def test_public_exports_may_be_read_from_any_origin(client: Client, path: str) -> None:
    response = await client.get(path, headers={"Origin": "https://viewer.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    for name, value in security_headers({"type": "http", "path": path}, b"text/plain", trust_proxy=False):
        assert response.headers[name.decode()] == value.decode()


async def test_private_and_organiser_routes_send_no_cors_header(client: Client) -> None:
    device = await new_device(client)
    feed = await subscribe(client, device)
    origin = {"Origin": "https://viewer.example"}
    responses = [
        await client.get(path_of(feed["url"]), headers=origin),
        await client.get("/api/attendees/me", headers={**origin, **device.headers}),
        await client.get("/api/admin/organisers", headers=origin),
        await client.get("/api/changes?since=0", headers=origin),
        await client.post("/api/attendees/me/calendar", headers={**origin, **device.headers}),
    ]
    for response in responses:
        assert "access-control-allow-origin" not in response.headers, response.request.url
        assert "access-control-allow-credentials" not in response.headers


async def test_head_on_the_live_stream_ends_after_its_headers(client: Client) -> None:
    head = await client.head("/api/live")
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/event-stream")
    assert head.content == b""
