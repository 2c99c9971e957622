"""Re-importing a source of record: a room renamed there stays the same room here, matched by its guid."""

from __future__ import annotations

import json
import uuid
from collections import Counter

from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.interchange.test_import_api import kind, read, upload

Client = AppClient


async def _rooms_and_use(client: Client) -> tuple[dict[str, str], Counter[str]]:
    programme = (await client.get("/api/programme")).json()
    rooms = {room["id"]: room["name"] for room in programme["rooms"]}
    return rooms, Counter(session["roomId"] for session in programme["sessions"] if session["status"] == "scheduled")


async def test_a_room_renamed_in_a_frab_file_stays_the_same_room(empty_client: Client, tokens: Tokens) -> None:
    original = read("schedule.xml")
    await upload(empty_client, tokens, original)
    rooms_before, use_before = await _rooms_and_use(empty_client)
    (hall_id,) = [room_id for room_id, name in rooms_before.items() if name == "Main Hall"]

    renamed = original.replace(b'<room name="Main Hall"', b'<room name="Grand Ballroom"').replace(
        b"<room>Main Hall</room>", b"<room>Grand Ballroom</room>"
    )
    report = await upload(empty_client, tokens, renamed)

    rooms_after, use_after = await _rooms_and_use(empty_client)
    assert kind(report, "room")["added"] == []
    assert set(rooms_after) == set(rooms_before)
    assert rooms_after[hall_id] == "Grand Ballroom"
    assert use_after == use_before
    assert kind(report, "session")["changed"] == []


async def test_a_room_renamed_in_a_pretalx_file_stays_the_same_room(empty_client: Client, tokens: Tokens) -> None:
    document = json.loads(read("pretalx-democon.json"))
    conference = document["schedule"]["conference"]
    for room in conference["rooms"]:  # the demo export gives both rooms one guid; a real pretalx does not
        room["guid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, room["name"]))
    await upload(empty_client, tokens, json.dumps(document).encode())
    rooms_before, use_before = await _rooms_and_use(empty_client)
    (gray_id,) = [room_id for room_id, name in rooms_before.items() if name == "Gray Room"]

    for room in conference["rooms"]:
        if room["name"] == "Gray Room":
            room["name"] = "Silver Room"
    for day in conference["days"]:
        if "Gray Room" in day["rooms"]:
            day["rooms"]["Silver Room"] = day["rooms"].pop("Gray Room")
            for event in day["rooms"]["Silver Room"]:
                event["room"] = "Silver Room"
    report = await upload(empty_client, tokens, json.dumps(document).encode())

    rooms_after, use_after = await _rooms_and_use(empty_client)
    assert kind(report, "room")["added"] == []
    assert set(rooms_after) == set(rooms_before)
    assert rooms_after[gray_id] == "Silver Room"
    assert use_after == use_before
    assert use_after[gray_id] > 0


async def test_a_guid_shared_by_two_rooms_matches_neither(empty_client: Client, tokens: Tokens) -> None:
    """pretalx's demo export names both its rooms by one guid: they stay two rooms, matched by name."""
    report = await upload(empty_client, tokens, read("pretalx-democon.json"))
    assert sorted(kind(report, "room")["added"]) == ["Gray Room", "Tan Room"]
    again = await upload(empty_client, tokens, read("pretalx-democon.json"))
    assert kind(again, "room") == {"added": [], "changed": [], "removed": []}
