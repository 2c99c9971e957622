"""Rooms, tracks and formats: reads, writes, and refusing to delete what sessions still use."""

from __future__ import annotations

import pytest

from tests.asgi import AppClient
from tests.conftest import Tokens

Client = AppClient

NEW = {
    "rooms": {"name": "Garden Terrace", "floor": "Ground", "capacity": 40, "accessibility": "Step-free"},
    "tracks": {"name": "Technology", "colour": "#22558a"},
    "formats": {"name": "Fireside chat"},
}
SESSION_FIELD = {"rooms": "roomId", "tracks": "trackId", "formats": "format"}


@pytest.mark.parametrize("plural", ["rooms", "tracks", "formats"])
async def test_create_read_update_delete(client: Client, tokens: Tokens, plural: str) -> None:
    created = await client.post(f"/api/admin/{plural}", json=NEW[plural], headers=tokens.header("editor"))
    assert created.status_code == 201
    entity = created.json()
    assert entity["id"]
    assert entity in (await client.get(f"/api/{plural}")).json()
    assert (await client.get(f"/api/{plural}/{entity['id']}")).json() == entity
    renamed = await client.patch(
        f"/api/admin/{plural}/{entity['id']}", json={"name": "Renamed"}, headers=tokens.header("editor")
    )
    assert renamed.json()["name"] == "Renamed"
    deleted = await client.delete(f"/api/admin/{plural}/{entity['id']}", headers=tokens.header("editor"))
    assert deleted.status_code == 204
    assert (await client.get(f"/api/{plural}/{entity['id']}")).status_code == 404


@pytest.mark.parametrize("plural", ["rooms", "tracks", "formats"])
async def test_cannot_delete_what_sessions_use(client: Client, tokens: Tokens, plural: str) -> None:
    field = SESSION_FIELD[plural]
    used = next(s[field] for s in (await client.get("/api/sessions")).json() if s[field])
    response = await client.delete(f"/api/admin/{plural}/{used}", headers=tokens.header("editor"))
    assert response.status_code == 409
    assert "session" in response.json()["detail"]
    assert (await client.get(f"/api/{plural}/{used}")).status_code == 200


async def test_rooms_in_position_order(client: Client) -> None:
    rooms = (await client.get("/api/rooms")).json()
    assert [r["position"] for r in rooms] == sorted(r["position"] for r in rooms)


@pytest.mark.parametrize(
    ("plural", "body", "words"),
    [
        ("rooms", {"name": ""}, "length"),
        ("rooms", {"name": "X", "capacity": "big"}, "Expected `int"),
        ("rooms", {"name": "X", "streamUrl": "ftp://x"}, "regex"),
        ("tracks", {"name": "X", "colour": "red"}, "regex"),
        ("formats", {}, "missing required field `name`"),
        ("rooms", {"name": "X", "id": "has space"}, "regex"),
    ],
)
async def test_bad_input_names_the_field(
    client: Client, tokens: Tokens, plural: str, body: dict[str, object], words: str
) -> None:
    response = await client.post(f"/api/admin/{plural}", json=body, headers=tokens.header("editor"))
    assert response.status_code == 400
    assert words in response.json()["detail"]


async def test_put_event(client: Client, tokens: Tokens) -> None:
    event = (await client.get("/api/event")).json()
    event["venueName"] = "Another venue"
    response = await client.put("/api/admin/event", json=event, headers=tokens.header("editor"))
    assert response.status_code == 200
    assert (await client.get("/api/programme")).json()["event"]["venueName"] == "Another venue"
    bad_zone = await client.put(
        "/api/admin/event", json={**event, "timeZone": "Mars/Olympus"}, headers=tokens.header("editor")
    )
    assert bad_zone.status_code == 400
    assert "timeZone" in bad_zone.json()["detail"]
    backwards = await client.put(
        "/api/admin/event", json={**event, "endDate": "2024-07-01"}, headers=tokens.header("editor")
    )
    assert backwards.status_code == 400
    assert "endDate" in backwards.json()["detail"]
    assert (await client.put("/api/admin/event", json=event, headers=tokens.header("announcer"))).status_code == 403
