"""Sessions: public reads, organiser writes, and every kind of bad input refused with nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.asgi import AppClient
from tests.conftest import Tokens

Client = AppClient


async def new_session(client: Client, **overrides: Any) -> dict[str, Any]:
    room = (await client.get("/api/rooms")).json()[0]
    fmt = (await client.get("/api/formats")).json()[0]
    body = {
        "title": "Evening briefing",
        "start": "2024-07-24T19:00:00+08:00",
        "end": "2024-07-24T20:00:00+08:00",
        "roomId": room["id"],
        "format": fmt["id"],
    }
    body.update(overrides)
    return body


async def cursor_of(client: Client) -> str:
    cursor: str = (await client.get("/healthz")).json()["cursor"]
    return cursor


async def test_list_and_get_sessions(client: Client) -> None:
    sessions = (await client.get("/api/sessions")).json()
    assert len(sessions) >= 60
    one = (await client.get(f"/api/sessions/{sessions[5]['id']}")).json()
    assert one == sessions[5]


async def test_unknown_session_is_404(client: Client) -> None:
    response = await client.get("/api/sessions/no-such-session")
    assert response.status_code == 404
    assert "no-such-session" in response.json()["detail"]


async def test_create_session_generates_id_and_guid(client: Client, tokens: Tokens) -> None:
    response = await client.post("/api/admin/sessions", json=await new_session(client), headers=tokens.header("editor"))
    assert response.status_code == 201
    created = response.json()
    assert created["id"] == "evening-briefing"
    assert len(created["guid"]) == 36
    assert (await client.get(f"/api/sessions/{created['id']}")).json() == created
    again = await client.post("/api/admin/sessions", json=await new_session(client), headers=tokens.header("editor"))
    assert again.json()["id"].startswith("evening-briefing-")


async def test_create_with_a_taken_id_is_409(client: Client, tokens: Tokens) -> None:
    existing = (await client.get("/api/sessions")).json()[0]["id"]
    response = await client.post(
        "/api/admin/sessions", json=await new_session(client, id=existing), headers=tokens.header("editor")
    )
    assert response.status_code == 409
    assert existing in response.json()["detail"]


async def test_patch_moves_a_session_and_keeps_the_rest(client: Client, tokens: Tokens) -> None:
    session = (await client.get("/api/sessions")).json()[10]
    rooms = [r["id"] for r in (await client.get("/api/rooms")).json() if r["id"] != session["roomId"]]
    response = await client.patch(
        f"/api/admin/sessions/{session['id']}", json={"roomId": rooms[0]}, headers=tokens.header("editor")
    )
    assert response.status_code == 200
    assert response.json() == {**session, "roomId": rooms[0]}


async def test_cancel_a_session(client: Client, tokens: Tokens) -> None:
    session = (await client.get("/api/sessions")).json()[3]
    response = await client.patch(
        f"/api/admin/sessions/{session['id']}", json={"status": "cancelled"}, headers=tokens.header("editor")
    )
    assert response.json()["status"] == "cancelled"


async def test_delete_session(client: Client, tokens: Tokens) -> None:
    session_id = (await client.get("/api/sessions")).json()[0]["id"]
    assert (await client.delete(f"/api/admin/sessions/{session_id}", headers=tokens.header("admin"))).status_code == 204
    assert (await client.get(f"/api/sessions/{session_id}")).status_code == 404
    again = await client.delete(f"/api/admin/sessions/{session_id}", headers=tokens.header("admin"))
    assert again.status_code == 404


async def test_patch_unknown_session_is_404(client: Client, tokens: Tokens) -> None:
    response = await client.patch("/api/admin/sessions/nope", json={"title": "x"}, headers=tokens.header("editor"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"title": 5}, "title", "Expected `str`"),
        ({"title": ""}, "title", "length"),
        ({"start": "tomorrow"}, "start", "datetime"),
        ({"start": "2024-07-24T19:00:00"}, "start", "timezone"),
        ({"capacity": -1}, "capacity", ">= 0"),
        ({"recording": "maybe"}, "recording", "enum value 'maybe'"),
        ({"speakerIds": "x"}, "speakerIds", "array"),
        ({"streamUrl": "javascript:alert(1)"}, "streamUrl", "regex"),
        ({"end": "2024-07-24T18:00:00+08:00"}, "end", "after start"),
        ({"end": "2024-07-24T19:00:00+08:00"}, "end", "after start"),
        ({"roomId": "the-moon"}, "roomId", "no room"),
        ({"trackId": "no-track"}, "trackId", "no track"),
        ({"format": "no-format"}, "format", "no format"),
        ({"speakerIds": ["ghost"]}, "speakerIds[0]", "no speaker"),
        ({"colour": "#fff"}, None, "unknown field `colour`"),
        ({"translations": {"id": {"titel": "x"}}}, None, "unknown field `titel`"),
    ],
)
async def test_bad_session_is_refused_and_nothing_written(
    client: Client, tokens: Tokens, overrides: dict[str, Any], field: str | None, words: str
) -> None:
    before = await cursor_of(client)
    response = await client.post(
        "/api/admin/sessions", json=await new_session(client, **overrides), headers=tokens.header("editor")
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert words in body["detail"]
    if field is not None:
        assert field in body["detail"] or any(e.get("key") == field for e in body.get("extra", []))
    assert await cursor_of(client) == before
    assert (await client.get("/api/changes", params={"since": before})).json()["changes"] == []


async def test_patch_that_breaks_a_rule_writes_nothing(client: Client, tokens: Tokens) -> None:
    session = (await client.get("/api/sessions")).json()[0]
    before = await cursor_of(client)
    response = await client.patch(
        f"/api/admin/sessions/{session['id']}", json={"end": session["start"]}, headers=tokens.header("editor")
    )
    assert response.status_code == 400
    assert (await client.get(f"/api/sessions/{session['id']}")).json() == session
    assert await cursor_of(client) == before


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[]", b'"text"', b'{"title": "x"', b"\xff\xfe"],
)
async def test_malformed_body_is_400(client: Client, tokens: Tokens, body: bytes) -> None:
    response = await client.post(
        "/api/admin/sessions", content=body, headers={**tokens.header("editor"), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"]


async def test_patch_cannot_change_id_or_guid(client: Client, tokens: Tokens) -> None:
    session = (await client.get("/api/sessions")).json()[0]
    for field in ("id", "guid"):
        response = await client.patch(
            f"/api/admin/sessions/{session['id']}", json={field: "other"}, headers=tokens.header("editor")
        )
        assert response.status_code == 400
        assert f"unknown field `{field}`" in response.json()["detail"]


async def test_writes_need_a_token(client: Client) -> None:
    body = await new_session(client)
    missing = await client.post("/api/admin/sessions", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = await client.post("/api/admin/sessions", json=body, headers={"Authorization": "Bearer kpo_nope"})
    assert wrong.status_code == 401
    basic = await client.post("/api/admin/sessions", json=body, headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401


async def test_announcer_may_not_edit_the_programme(client: Client, tokens: Tokens) -> None:
    session_id = (await client.get("/api/sessions")).json()[0]["id"]
    before = await cursor_of(client)
    for response in (
        await client.post("/api/admin/sessions", json=await new_session(client), headers=tokens.header("announcer")),
        await client.patch(
            f"/api/admin/sessions/{session_id}", json={"title": "x"}, headers=tokens.header("announcer")
        ),
        await client.delete(f"/api/admin/sessions/{session_id}", headers=tokens.header("announcer")),
    ):
        assert response.status_code == 403
        assert "announcer" in response.json()["detail"]
    assert await cursor_of(client) == before


async def test_editor_and_admin_may_edit(client: Client, tokens: Tokens) -> None:
    for role in ("editor", "admin"):
        response = await client.post(
            "/api/admin/sessions", json=await new_session(client, title=f"By {role}"), headers=tokens.header(role)
        )
        assert response.status_code == 201


async def test_oversized_body_is_413(client: Client, tokens: Tokens) -> None:
    body = await new_session(client, description="x" * (2 * 1024 * 1024))
    response = await client.post("/api/admin/sessions", json=body, headers=tokens.header("editor"))
    assert response.status_code == 413
