"""Bodies nested 100,000 deep: every route that reads one refuses it with 400 naming where, and writes nothing.

The routes come from the app itself, so a route added later is checked without being listed here.
"""

from __future__ import annotations

import pytest

from server.app import create_app
from server.settings import Settings
from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.app_routes import body_routes, concrete, credentials

DEPTH = 100_000
DEEP_BODIES = {
    "arrays": b"[" * DEPTH + b"]" * DEPTH,
    "objects": b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
    "arrays in an object": b'{"event":' + b"[" * DEPTH + b"]" * DEPTH + b"}",
}
JSON_ROUTES = [
    (method, path)
    for method, path, handler in body_routes(create_app(Settings()))
    if "data" in handler.parsed_fn_signature.parameters
]


@pytest.fixture
async def attendee(client: AppClient) -> dict[str, str]:
    token = (await client.post("/api/attendees")).json()["token"]
    return {"Authorization": f"Bearer {token}"}


async def cursor_of(client: AppClient) -> str:
    cursor: str = (await client.get("/healthz")).json()["cursor"]
    return cursor


def test_every_route_reading_json_is_checked() -> None:
    assert ("POST", "/api/me/sync") in JSON_ROUTES
    assert ("PATCH", "/api/attendees/me") in JSON_ROUTES
    assert ("POST", "/api/admin/announcements") in JSON_ROUTES
    assert len(JSON_ROUTES) >= 20


@pytest.mark.parametrize("shape", list(DEEP_BODIES))
@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
async def test_a_deeply_nested_json_body_is_400_naming_where(
    client: AppClient, tokens: Tokens, attendee: dict[str, str], method: str, path: str, shape: str
) -> None:
    [handler] = [h for m, p, h in body_routes(client.app) if (m, p) == (method, path)]
    headers = {"Content-Type": "application/json", **credentials(handler, tokens, attendee)}
    before = await cursor_of(client)
    response = await client.request(method, concrete(path), content=DEEP_BODIES[shape], headers=headers)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "nested too deeply" in detail
    assert "more than 256 arrays and objects inside each other" in detail
    assert "line 1, column " in detail
    assert await cursor_of(client) == before


@pytest.mark.parametrize("shape", ["objects", "arrays in an object"])
async def test_a_deeply_nested_json_file_to_import_is_400_naming_where(
    client: AppClient, tokens: Tokens, shape: str
) -> None:
    before = await cursor_of(client)
    response = await client.post("/api/admin/import", content=DEEP_BODIES[shape], headers=tokens.header("editor"))
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    column = 1 + 256 * len(b'{"a":') if shape == "objects" else len(b'{"event":') + 256
    assert detail.startswith(f"line 1, column {column} (byte {column - 1}): the file is nested too deeply"), detail
    assert await cursor_of(client) == before


async def test_a_deeply_nested_c3voc_schedule_is_400(client: AppClient, tokens: Tokens) -> None:
    inner = b"[" * DEPTH + b"]" * DEPTH
    data = b'{"schedule": {"conference": {"title": "Deep", "days": [' + inner + b"]}}}\n"
    response = await client.post("/api/admin/import", content=data, headers=tokens.header("editor"))
    assert response.status_code == 400, response.text
    assert "the file is nested too deeply" in response.json()["detail"]


async def test_deeply_nested_xml_is_400_naming_the_limit(client: AppClient, tokens: Tokens) -> None:
    before = await cursor_of(client)
    data = b"<schedule>" + b"<a>" * DEPTH + b"</a>" * DEPTH + b"</schedule>"
    response = await client.post("/api/admin/import", content=data, headers=tokens.header("editor"))
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail.startswith("line 1, column "), detail
    assert "elements are nested too deeply" in detail
    assert "XML_PARSE_HUGE" not in detail, "no advice meant for the programmer"
    assert await cursor_of(client) == before


async def test_nesting_a_schedule_could_have_is_read_as_usual(client: AppClient, tokens: Tokens) -> None:
    response = await client.post(
        "/api/admin/rooms", json={"id": "deep", "name": [[["Hall"]]]}, headers=tokens.header("editor")
    )
    assert response.status_code == 400
    assert "nested" not in response.json()["detail"]
