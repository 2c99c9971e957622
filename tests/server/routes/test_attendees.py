"""Anonymous attendees: creation, profile, device links, erasure."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from pycrdt import Doc, Text

from server.services.attendees import AttendeeService
from tests.asgi import AppClient
from tests.sync_devices import Notebook, seal

Client = AppClient


async def new_attendee(client: Client) -> tuple[str, dict[str, str]]:
    response = await client.post("/api/attendees")
    assert response.status_code == 201
    body = response.json()
    return body["attendeeId"], {"Authorization": f"Bearer {body['token']}"}


async def test_create_needs_no_personal_data(empty_client: Client) -> None:
    response = await empty_client.post("/api/attendees")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"attendeeId", "token", "deviceId"}
    assert body["token"].startswith("kpa_")
    me = await empty_client.get("/api/attendees/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == {"attendeeId": body["attendeeId"], "participation": None, "language": None, "keyId": 0}


async def test_profile_keeps_participation_and_language(empty_client: Client) -> None:
    _, auth = await new_attendee(empty_client)
    response = await empty_client.patch("/api/attendees/me", json={"participation": "online"}, headers=auth)
    assert response.json()["participation"] == "online"
    response = await empty_client.patch("/api/attendees/me", json={"language": "th"}, headers=auth)
    assert response.json() == {**response.json(), "participation": "online", "language": "th"}
    bad = await empty_client.patch("/api/attendees/me", json={"participation": "hybrid"}, headers=auth)
    assert bad.status_code == 400
    assert "participation" in bad.json()["detail"]


async def test_me_needs_a_valid_token(empty_client: Client) -> None:
    assert (await empty_client.get("/api/attendees/me")).status_code == 401
    assert (await empty_client.get("/api/attendees/me", headers={"Authorization": "Bearer kpa_x"})).status_code == 401
    assert (await empty_client.post("/api/me/sync", json={"docs": []})).status_code == 401


async def test_link_a_second_device(empty_client: Client) -> None:
    attendee_id, auth = await new_attendee(empty_client)
    made = await empty_client.post("/api/attendees/me/link-code", headers=auth)
    assert made.status_code == 201
    code = made.json()["code"]
    assert len(code.replace("-", "")) == 10
    expires = datetime.fromisoformat(made.json()["expiresAt"])
    assert 9 * 60 < (expires - datetime.now(UTC)).total_seconds() <= 10 * 60
    linked = await empty_client.post("/api/attendees/link", json={"code": code.lower().replace("-", " ")})
    assert linked.status_code == 201
    assert linked.json()["attendeeId"] == attendee_id
    assert linked.json()["token"] != auth["Authorization"].split()[1]
    second = {"Authorization": f"Bearer {linked.json()['token']}"}
    assert (await empty_client.get("/api/attendees/me", headers=second)).json()["attendeeId"] == attendee_id


async def test_a_link_code_works_once(empty_client: Client) -> None:
    _, auth = await new_attendee(empty_client)
    code = (await empty_client.post("/api/attendees/me/link-code", headers=auth)).json()["code"]
    assert (await empty_client.post("/api/attendees/link", json={"code": code})).status_code == 201
    again = await empty_client.post("/api/attendees/link", json={"code": code})
    assert again.status_code == 400
    assert "codes work once and for 10 minutes" in again.json()["detail"]


async def test_an_expired_link_code_is_refused(empty_client: Client) -> None:
    _, auth = await new_attendee(empty_client)
    code = (await empty_client.post("/api/attendees/me/link-code", headers=auth)).json()["code"]
    service: AttendeeService = empty_client.app.state.attendees
    async with service.db.write() as conn:
        await conn.execute("UPDATE link_codes SET expires_at = '2000-01-01T00:00:00.000000Z'")
    assert (await empty_client.post("/api/attendees/link", json={"code": code})).status_code == 400


async def test_guessing_link_codes_is_rate_limited(empty_client: Client) -> None:
    statuses = [
        (await empty_client.post("/api/attendees/link", json={"code": f"AAAAA-{i:05d}"})).status_code for i in range(25)
    ]
    assert statuses[0] == 400
    assert statuses[-1] == 429
    limited = await empty_client.post("/api/attendees/link", json={"code": "AAAAA-00000"})
    assert int(limited.headers["retry-after"]) >= 1
    assert "link attempts" in limited.json()["detail"]


async def test_link_codes_per_attendee_are_rate_limited(empty_client: Client) -> None:
    _, auth = await new_attendee(empty_client)
    statuses = [(await empty_client.post("/api/attendees/me/link-code", headers=auth)).status_code for _ in range(7)]
    assert statuses[:5] == [201] * 5
    assert statuses[-1] == 429


async def test_erase_removes_everything_and_the_token_stops_working(empty_client: Client) -> None:
    _, auth = await new_attendee(empty_client)
    code = (await empty_client.post("/api/attendees/me/link-code", headers=auth)).json()["code"]
    linked = (await empty_client.post("/api/attendees/link", json={"code": code})).json()
    second = {"Authorization": f"Bearer {linked['token']}"}
    doc: Doc[Text] = Doc()
    doc["body"] = Text("private words")
    notebook = Notebook.new()
    note = "note:00000000-0000-4000-8000-000000000001"
    key = {"keyId": 1, "previous": 0, "wrapped": []}
    assert (await empty_client.post("/api/attendees/me/keys", json=key, headers=auth)).status_code == 200
    frame = seal(notebook, note, "update", doc.get_update())
    body = {"keyId": 1, "logs": [{"id": note, "append": [base64.b64encode(frame).decode()]}]}
    assert (await empty_client.post("/api/me/sync", json=body, headers=auth)).status_code == 200
    assert (await empty_client.delete("/api/attendees/me", headers=auth)).status_code == 204
    for headers in (auth, second):
        assert (await empty_client.get("/api/attendees/me", headers=headers)).status_code == 401
        assert (await empty_client.post("/api/me/sync", json={"docs": []}, headers=headers)).status_code == 401
    service: AttendeeService = empty_client.app.state.attendees
    async with service.db.read() as conn:
        for table in ("attendees", "attendee_tokens", "link_codes", "documents", "doc_log", "wrapped_keys"):
            async with conn.execute(f"SELECT count(*) FROM {table}") as cur:  # noqa: S608 -- fixed table names
                assert (await cur.fetchone())[0] == 0, table
