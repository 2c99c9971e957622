"""Request body limits: every route that reads a body refuses one byte over its limit with 413 naming the limit.

The routes come from the app itself, so a route added later is checked without being listed here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from server.app import MAX_BODY_BYTES, create_app
from server.routes.interchange_import import MAX_IMPORT_BYTES
from server.settings import Settings
from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.app_routes import body_routes, concrete, credentials

#: Routes with a limit of their own; every other route reading a body has the app's.
OWN_LIMITS = {("POST", "/api/admin/import"): MAX_IMPORT_BYTES}


BODY_ROUTES = [(method, path) for method, path, _ in body_routes(create_app(Settings()))]


@pytest.fixture
async def attendee(empty_client: AppClient) -> dict[str, str]:
    token = (await empty_client.post("/api/attendees")).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_every_route_reading_a_body_is_checked() -> None:
    assert ("POST", "/api/me/sync") in BODY_ROUTES
    assert ("POST", "/api/admin/import") in BODY_ROUTES
    assert len(BODY_ROUTES) >= 20


async def test_limits_are_as_declared(empty_client: AppClient) -> None:
    handlers = body_routes(empty_client.app)
    limits = {(method, path): handler.resolve_request_max_body_size() for method, path, handler in handlers}
    assert limits == {route: OWN_LIMITS.get(route, MAX_BODY_BYTES) for route in BODY_ROUTES}


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_one_byte_over_the_limit_is_413_naming_it(
    empty_client: AppClient, tokens: Tokens, attendee: dict[str, str], method: str, path: str, streamed: bool
) -> None:
    [handler] = [h for m, p, h in body_routes(empty_client.app) if (m, p) == (method, path)]
    limit = OWN_LIMITS.get((method, path), MAX_BODY_BYTES)
    headers = {"Content-Type": "application/json", **credentials(handler, tokens, attendee)}
    body = b"x" * (limit + 1)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 256 * 1024):
            yield body[start : start + 256 * 1024]

    response = await empty_client.request(
        method, concrete(path), content=chunks() if streamed else body, headers=headers
    )
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == f"The request body is over the limit of {limit // 1024} KB"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_body_at_the_limit_is_read(
    empty_client: AppClient, tokens: Tokens, attendee: dict[str, str], method: str, path: str
) -> None:
    [handler] = [h for m, p, h in body_routes(empty_client.app) if (m, p) == (method, path)]
    limit = OWN_LIMITS.get((method, path), MAX_BODY_BYTES)
    headers = {"Content-Type": "application/json", **credentials(handler, tokens, attendee)}
    response = await empty_client.request(method, concrete(path), content=b" " * limit, headers=headers)
    assert response.status_code == 400, "read, then refused as no JSON (or no schedule file)"
