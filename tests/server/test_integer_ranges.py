"""Every integer a request can carry is range-checked: out of range is 400 naming it, never a 500.

Python's integers have no bounds and SQLite's are 64-bit, so an unchecked ``99999999999999999999999`` reached the
database as an OverflowError. The positions come from the app's OpenAPI document (path and query parameters, and
every integer inside a JSON body, however nested), so a route added later is checked without being listed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from server.app import create_app
from server.settings import Settings
from tests.asgi import AppClient
from tests.conftest import Tokens

#: Just past SQLite's INTEGER on either side, and far past it.
OUT_OF_RANGE = [2**63, -(2**63) - 1, 10**30]
Trail = tuple[str | int, ...]


@dataclass(frozen=True)
class Spot:
    """One integer a request can carry: in the path, the query, or the JSON body at ``trail``."""

    method: str
    path: str
    where: str
    trail: Trail

    @property
    def name(self) -> str:
        return next(str(step) for step in reversed(self.trail) if isinstance(step, str))

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where} {'.'.join(map(str, self.trail))}"


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def _is_integer(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    return kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)


def integers_in(schema: dict[str, Any], document: dict[str, Any], trail: Trail = (), seen: int = 0) -> Iterator[Trail]:
    """The trails to every integer that a value of ``schema`` can hold."""
    if seen > 8:  # a schema that contains itself: deep enough
        return
    schema = _resolve(schema, document)
    if _is_integer(schema):
        yield trail
    for option in schema.get("oneOf", []) + schema.get("anyOf", []) + schema.get("allOf", []):
        yield from integers_in(option, document, trail, seen + 1)
    for name, field in schema.get("properties", {}).items():
        yield from integers_in(field, document, (*trail, name), seen + 1)
    if isinstance(schema.get("items"), dict):
        yield from integers_in(schema["items"], document, (*trail, 0), seen + 1)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from integers_in(schema["additionalProperties"], document, (*trail, "en"), seen + 1)


def integer_spots(document: dict[str, Any]) -> list[Spot]:
    spots: set[Spot] = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if any(True for _ in integers_in(parameter["schema"], document)):
                    spots.add(Spot(method.upper(), path, parameter["in"], (parameter["name"],)))
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                for trail in integers_in(content["application/json"]["schema"], document):
                    spots.add(Spot(method.upper(), path, "body", trail))
    return sorted(spots, key=str)


DOCUMENT = create_app(Settings()).openapi_schema.to_schema()
SPOTS = integer_spots(DOCUMENT)


def required_query(method: str, path: str) -> dict[str, str]:
    """A value for each required query parameter: the range check is not hidden behind a missing one."""
    parameters = DOCUMENT["paths"][path][method.lower()].get("parameters", [])
    return {p["name"]: "1" for p in parameters if p["in"] == "query" and p.get("required")}


def placed(trail: Trail, value: int) -> Any:
    """``value`` at ``trail`` inside JSON objects and arrays."""
    placed_value: Any = value
    for step in reversed(trail):
        placed_value = [placed_value] if isinstance(step, int) else {step: placed_value}
    return placed_value


@pytest.fixture
async def attendee(empty_client: AppClient) -> dict[str, str]:
    token = (await empty_client.post("/api/attendees")).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_every_kind_of_integer_is_walked() -> None:
    wheres = {spot.where for spot in SPOTS}
    assert wheres == {"path", "query", "body"}
    assert Spot("DELETE", "/api/admin/organisers/{organiser_id}", "path", ("organiser_id",)) in SPOTS
    assert Spot("GET", "/api/admin/history", "query", ("before",)) in SPOTS
    assert Spot("POST", "/api/admin/rooms", "body", ("capacity",)) in SPOTS
    assert Spot("PUT", "/api/admin/room-status/{room_id}", "body", ("minutes",)) in SPOTS


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize("spot", SPOTS, ids=str)
async def test_an_integer_out_of_range_is_400_naming_it(
    empty_client: AppClient, tokens: Tokens, attendee: dict[str, str], spot: Spot, value: int
) -> None:
    path = spot.path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        path = path.replace(f"{{{name}}}", str(value) if (spot.where, spot.name) == ("path", name) else "1")
    headers = tokens.header("admin") if path.startswith("/api/admin") else attendee
    response = await empty_client.request(
        spot.method,
        path,
        params={**required_query(spot.method, spot.path), **({spot.name: str(value)} if spot.where == "query" else {})},
        json=placed(spot.trail, value) if spot.where == "body" else None,
        headers=headers,
    )
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert f"`{spot.name}`" in detail or f".{spot.name}`" in detail, detail


@pytest.mark.parametrize("rating", [0, 6])
async def test_a_session_rating_outside_1_to_5_is_400_naming_it(
    client: AppClient, attendee_of_demo: dict[str, str], rating: int
) -> None:
    session = (await client.get("/api/sessions")).json()[0]["id"]
    response = await client.put(f"/api/me/feedback/{session}", json={"rating": rating}, headers=attendee_of_demo)
    assert response.status_code == 400, response.text
    assert "`rating`" in response.json()["detail"]


@pytest.fixture
async def attendee_of_demo(client: AppClient) -> dict[str, str]:
    token = (await client.post("/api/attendees")).json()["token"]
    return {"Authorization": f"Bearer {token}"}
