"""Property: applying /api/changes to an old /api/programme gives exactly the new /api/programme."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import Change, apply_changes
from tests.asgi import AppClient
from tests.conftest import Tokens

Client = AppClient
DAY_ONE = datetime(2024, 7, 23, 8, 0, tzinfo=timezone(timedelta(hours=8)))

operations = st.lists(
    st.one_of(
        st.tuples(st.just("create_session"), st.integers(0, 200), st.integers(0, 47)),
        st.tuples(st.just("move_session"), st.integers(0, 200), st.integers(0, 47)),
        st.tuples(st.just("rename_session"), st.integers(0, 200), st.text(min_size=1, max_size=20)),
        st.tuples(st.just("delete_session"), st.integers(0, 200), st.just(0)),
        st.tuples(st.just("create_speaker"), st.integers(0, 200), st.text(min_size=1, max_size=20)),
        st.tuples(st.just("delete_speaker"), st.integers(0, 200), st.just(0)),
        st.tuples(st.just("create_room"), st.integers(0, 200), st.integers(-5, 5)),
        st.tuples(st.just("delete_room"), st.integers(0, 200), st.just(0)),
        st.tuples(st.just("rename_event"), st.integers(0, 200), st.text(min_size=1, max_size=20)),
    ),
    max_size=12,
)


async def apply(client: Client, tokens: Tokens, op: tuple[str, int, Any]) -> None:
    """Perform one organiser write; refused writes (409, 400) are part of the property too."""
    name, pick, arg = op
    headers = tokens.header("admin")
    sessions = (await client.get("/api/sessions")).json()
    rooms = (await client.get("/api/rooms")).json()
    speakers = (await client.get("/api/speakers")).json()
    if name == "create_session":
        start = DAY_ONE + timedelta(minutes=30 * arg)
        await client.post(
            "/api/admin/sessions",
            json={
                "title": f"Generated {pick}",
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=20)).isoformat(),
                "roomId": rooms[pick % len(rooms)]["id"],
                "format": "plenary",
                "speakerIds": [speakers[pick % len(speakers)]["id"]] if speakers else [],
            },
            headers=headers,
        )
    elif name == "move_session" and sessions:
        target = sessions[pick % len(sessions)]
        await client.patch(
            f"/api/admin/sessions/{target['id']}", json={"roomId": rooms[arg % len(rooms)]["id"]}, headers=headers
        )
    elif name == "rename_session" and sessions:
        target = sessions[pick % len(sessions)]
        await client.patch(f"/api/admin/sessions/{target['id']}", json={"title": arg}, headers=headers)
    elif name == "delete_session" and sessions:
        await client.delete(f"/api/admin/sessions/{sessions[pick % len(sessions)]['id']}", headers=headers)
    elif name == "create_speaker":
        await client.post("/api/admin/speakers", json={"name": arg}, headers=headers)
    elif name == "delete_speaker" and speakers:
        await client.delete(f"/api/admin/speakers/{speakers[pick % len(speakers)]['id']}", headers=headers)
    elif name == "create_room":
        await client.post("/api/admin/rooms", json={"name": f"Room {pick}", "position": arg}, headers=headers)
    elif name == "delete_room" and rooms:
        await client.delete(f"/api/admin/rooms/{rooms[pick % len(rooms)]['id']}", headers=headers)
    elif name == "rename_event":
        event = (await client.get("/api/event")).json()
        await client.put("/api/admin/event", json={**event, "name": arg}, headers=headers)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, page_size=st.integers(1, 7))
async def test_changes_turn_the_old_programme_into_the_new(
    client: Client, tokens: Tokens, ops: list[tuple[str, int, Any]], page_size: int
) -> None:
    old = (await client.get("/api/programme")).json()
    for op in ops:
        await apply(client, tokens, op)
    new = (await client.get("/api/programme")).json()

    snapshot, cursor, more = old, old["cursor"], True
    while more:
        page = (await client.get("/api/changes", params={"since": cursor, "limit": page_size})).json()
        changes = msgspec.convert(page["changes"], list[Change])
        snapshot = apply_changes(snapshot, changes, page["cursor"])
        cursor, more = page["cursor"], page["more"]
    assert snapshot == new
