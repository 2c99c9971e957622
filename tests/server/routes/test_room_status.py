"""Room status: door staff set it, anyone reads it, the live stream carries it, and it lapses by itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from server.app import create_app
from server.demo import demo_programme
from server.services.auth import Role
from server.services.room_status import RoomStatusService
from server.settings import Settings
from tests.asgi import AppClient, app_client
from tests.conftest import Tokens
from tests.server.services.test_live import Stream, another_node


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


async def first_room(client: AppClient) -> str:
    room_id: str = (await client.get("/api/rooms")).json()[0]["id"]
    return room_id


async def session_in(client: AppClient, tokens: Tokens, room_id: str, start: datetime, end: datetime) -> str:
    format_id = (await client.get("/api/formats")).json()[0]["id"]
    body = {"title": "Running now", "start": stamp(start), "end": stamp(end), "roomId": room_id, "format": format_id}
    response = await client.post("/api/admin/sessions", json=body, headers=tokens.header("editor"))
    assert response.status_code == 201, response.text
    made: str = response.json()["id"]
    return made


async def test_a_volunteer_marks_a_room_full_until_the_running_session_ends(client: AppClient, tokens: Tokens) -> None:
    room_id = await first_room(client)
    now = datetime.now(UTC)
    end = (now + timedelta(minutes=25)).replace(microsecond=0)
    await session_in(client, tokens, room_id, now - timedelta(minutes=20), end)
    response = await client.put(
        f"/api/admin/room-status/{room_id}", json={"state": "full"}, headers=tokens.header("volunteer")
    )
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["roomId"] == room_id
    assert status["state"] == "full"
    assert datetime.fromisoformat(status["until"]) == end
    listed = (await client.get("/api/room-status")).json()
    assert [(item["roomId"], item["state"]) for item in listed] == [(room_id, "full")]
    history = (await client.get("/api/admin/history", headers=tokens.header("admin"))).json()
    assert (history[0]["actor"], history[0]["kind"], history[0]["entityId"], history[0]["summary"]) == (
        "volunteer organiser",
        "room",
        room_id,
        "full",
    )


async def test_with_nothing_running_it_lasts_the_minutes_asked(client: AppClient, tokens: Tokens) -> None:
    room_id = await first_room(client)
    before = datetime.now(UTC)
    body = {"state": "closed", "message": "Cleaning until 14:00", "minutes": 30}
    response = await client.put(f"/api/admin/room-status/{room_id}", json=body, headers=tokens.header("volunteer"))
    assert response.status_code == 200, response.text
    until = datetime.fromisoformat(response.json()["until"])
    assert before + timedelta(minutes=30) <= until <= datetime.now(UTC) + timedelta(minutes=30)
    assert response.json()["message"] == "Cleaning until 14:00"


async def test_a_lapsed_status_is_no_longer_listed(client: AppClient, tokens: Tokens) -> None:
    room_id = await first_room(client)
    service: RoomStatusService = client.app.state.room_status
    response = await client.put(
        f"/api/admin/room-status/{room_id}", json={"state": "full", "minutes": 5}, headers=tokens.header("admin")
    )
    assert response.status_code == 200
    real = service.clock
    service.clock = lambda: real() + timedelta(minutes=6)
    assert (await client.get("/api/room-status")).json() == []


async def test_bad_input_is_refused_with_what_was_wrong(client: AppClient, tokens: Tokens) -> None:
    room_id = await first_room(client)
    volunteer = tokens.header("volunteer")
    path = f"/api/admin/room-status/{room_id}"
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (path, {"state": "emergency"}, 400, "message"),
        (path, {"state": "emergency", "message": "   "}, 400, "message"),
        (path, {"state": "packed"}, 400, "state"),
        (path, {"state": "full", "message": "x" * 281}, 400, "message"),
        (path, {"state": "full", "message": "two\nlines"}, 400, "message"),
        (path, {"state": "full", "minutes": 4}, 400, "minutes"),
        (path, {"state": "full", "minutes": 721}, 400, "minutes"),
        (path, {"state": "full", "colour": "red"}, 400, "colour"),
        ("/api/admin/room-status/no-such-room", {"state": "full"}, 404, "no-such-room"),
    ]
    for where, body, status, named in cases:
        response = await client.put(where, json=body, headers=volunteer)
        assert response.status_code == status, (body, response.text)
        assert named in response.text, (body, response.text)
    assert (await client.get("/api/room-status")).json() == [], "nothing half-written"


async def test_an_emergency_message_is_kept_as_plain_text(client: AppClient, tokens: Tokens) -> None:
    room_id = await first_room(client)
    message = "<b>Leave</b> by the east stairs"
    body = {"state": "emergency", "message": message}
    response = await client.put(f"/api/admin/room-status/{room_id}", json=body, headers=tokens.header("volunteer"))
    assert response.status_code == 200
    assert (await client.get("/api/room-status")).json()[0]["message"] == message


async def test_too_many_changes_are_refused_with_retry_after(client: AppClient, tokens: Tokens) -> None:
    room_id = await first_room(client)
    volunteer = tokens.header("volunteer")
    statuses = []
    for _ in range(25):
        response = await client.put(f"/api/admin/room-status/{room_id}", json={"state": "full"}, headers=volunteer)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
            break
    assert statuses[-1] == 429
    assert statuses[:-1] == [200] * (len(statuses) - 1)


def events(body: bytes, name: str) -> list[str]:
    """The data of every ``name`` event in an SSE body."""
    found = []
    for block in body.decode().replace("\r\n", "\n").split("\n\n"):
        lines = block.splitlines()
        if f"event: {name}" in lines:
            found.extend(line.removeprefix("data: ") for line in lines if line.startswith("data: "))
    return found


class Listening(Stream):
    """A live stream that says when more of its body arrives."""

    def __init__(self, app: Any, address: str) -> None:
        self.grew = asyncio.Event()
        super().__init__(app, address)

    async def _send(self, message: dict[str, Any]) -> None:
        await super()._send(message)
        self.grew.set()

    async def until(self, condition: Callable[[list[str]], bool]) -> list[str]:
        """The ``room-status`` events once ``condition`` holds for them (a guard of 10 s against a hang)."""
        async with asyncio.timeout(10):
            while not condition(found := events(self.body, "room-status")):
                self.grew.clear()
                await self.grew.wait()
        return found


async def test_the_live_stream_carries_statuses_on_joining_and_when_they_change(
    client: AppClient, tokens: Tokens
) -> None:
    room_id = await first_room(client)
    stream = Listening(client.app, "203.0.113.7")
    assert await stream.until(bool) == ['{"rooms":[]}']
    response = await client.put(
        f"/api/admin/room-status/{room_id}", json={"state": "filling"}, headers=tokens.header("volunteer")
    )
    assert response.status_code == 200
    changed = await stream.until(lambda found: len(found) == 2)
    assert f'"roomId":"{room_id}","state":"filling"' in changed[1]
    await stream.leave()
    later = Listening(client.app, "203.0.113.7")
    assert '"state":"filling"' in (await later.until(bool))[0], "an app that joins later sees it"
    await later.leave()


async def test_a_status_set_in_another_process_reaches_this_ones_streams(settings: Settings, tmp_path: Path) -> None:
    """Two apps on one database stand for two workers (or two nodes): a status one stores reaches the other's
    streams."""
    async with (
        app_client(create_app(settings)) as first,
        app_client(create_app(another_node(settings, tmp_path))) as second,
    ):
        await first.app.state.programme.import_programme(demo_programme())
        _, token = await first.app.state.auth.add_organiser("Door", Role.VOLUNTEER)
        room_id = await first_room(first)
        stream = Listening(second.app, "203.0.113.8")
        await stream.until(bool)
        response = await first.put(
            f"/api/admin/room-status/{room_id}",
            json={"state": "closed"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        await stream.until(lambda found: any('"state":"closed"' in data for data in found))
        assert [item["state"] for item in (await second.get("/api/room-status")).json()] == ["closed"]
        await stream.leave()
