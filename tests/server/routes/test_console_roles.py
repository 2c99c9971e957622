"""Which role may do what, the same whether the organiser sends a bearer token or the console cookie."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import count

import httpx
import pytest

from tests.asgi import AppClient
from tests.server.routes.test_console import browser, make_organiser, signed_in

Client = AppClient
Request = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]
_names = count()


async def programme_write(web: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    session_id = (await web.get("/api/sessions")).json()[0]["id"]
    return await web.patch(f"/api/admin/sessions/{session_id}", json={"subtitle": "Checked"}, headers=headers)


async def announcement_post(web: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await web.post("/api/admin/announcements", json={"title": "Tea", "body": "In the foyer"}, headers=headers)


async def organisers_list(web: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await web.get("/api/admin/organisers", headers=headers)


async def organisers_create(web: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    body = {"name": f"Made {next(_names)}", "role": "editor"}
    return await web.post("/api/admin/organisers", json=body, headers=headers)


async def history(web: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await web.get("/api/admin/history", headers=headers)


async def warnings(web: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await web.get("/api/admin/warnings", headers=headers)


async def room_status(web: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    room_id = (await web.get("/api/rooms")).json()[0]["id"]
    return await web.put(f"/api/admin/room-status/{room_id}", json={"state": "full"}, headers=headers)


ENDPOINTS: dict[str, Request] = {
    "programme write": programme_write,
    "announcement post": announcement_post,
    "organisers list": organisers_list,
    "organisers create": organisers_create,
    "history": history,
    "warnings": warnings,
    "room status": room_status,
}

#: The status each role gets from each endpoint.
EXPECTED: dict[str, dict[str, int]] = {
    "admin": {
        "programme write": 200,
        "announcement post": 201,
        "organisers list": 200,
        "organisers create": 201,
        "history": 200,
        "warnings": 200,
        "room status": 200,
    },
    "editor": {
        "programme write": 200,
        "announcement post": 403,
        "organisers list": 403,
        "organisers create": 403,
        "history": 200,
        "warnings": 200,
        "room status": 403,
    },
    "announcer": {
        "programme write": 403,
        "announcement post": 201,
        "organisers list": 403,
        "organisers create": 403,
        "history": 200,
        "warnings": 403,
        "room status": 403,
    },
    "volunteer": {
        "programme write": 403,
        "announcement post": 403,
        "organisers list": 403,
        "organisers create": 403,
        "history": 403,
        "warnings": 403,
        "room status": 200,
    },
}


@pytest.mark.parametrize("via", ["bearer", "cookie"])
@pytest.mark.parametrize("role", ["admin", "editor", "announcer", "volunteer"])
async def test_role_matrix(client: Client, role: str, via: str) -> None:
    made = await make_organiser(client, role)
    async with browser(client) as web:
        if via == "bearer":
            headers = {"Authorization": f"Bearer {made.token}"}
        else:
            headers = await signed_in(web, made)
        got = {name: (await request(web, headers)).status_code for name, request in ENDPOINTS.items()}
    assert got == EXPECTED[role]


async def test_no_credentials_is_401_everywhere(client: Client) -> None:
    async with browser(client) as web:
        for name, request in ENDPOINTS.items():
            response = await request(web, {})
            assert response.status_code == 401, name
            assert "sign in to the console" in response.json()["detail"], name


async def test_forbidden_names_the_missing_permission(client: Client) -> None:
    made = await make_organiser(client, "announcer")
    async with browser(client) as web:
        headers = await signed_in(web, made)
        response = await warnings(web, headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "the role 'announcer' may not do this (needs 'programme')"
