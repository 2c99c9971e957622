"""Named schedule versions: POST /api/admin/releases, GET /api/releases, ``?version=`` on the exports."""

from __future__ import annotations

import pytest

from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.interchange.export_checks import calendar, valid_json, valid_xml
from tests.server.test_anonymous_speakers import PSEUDONYM, PUBLIC, SESSION, make_anonymous, public_speaker

Client = AppClient
EXPORTS = ("/api/schedule.xml", "/api/schedule.json", "/api/schedule.ics")


async def publish(client: Client, tokens: Tokens, body: dict[str, str] | None = None) -> dict[str, str]:
    answer = await client.post("/api/admin/releases", json=body or {}, headers=tokens.header("editor"))
    assert answer.status_code == 201, answer.text
    result: dict[str, str] = answer.json()
    return result


async def move(client: Client, tokens: Tokens) -> None:
    answer = await client.patch(
        "/api/admin/sessions/plenary-aml",
        json={"roomId": "room-hall-a", "title": "AML moved"},
        headers=tokens.header("editor"),
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("path", EXPORTS)
async def test_a_version_serves_the_programme_exactly_as_it_was_published(
    client: Client, tokens: Tokens, path: str
) -> None:
    published = (await client.get(path)).content
    assert (await publish(client, tokens, {"name": "v1.2"}))["name"] == "v1.2"
    await move(client, tokens)
    current = await client.get(path)
    assert b"AML moved" in current.content
    versioned = await client.get(path, params={"version": "v1.2"})
    assert versioned.status_code == 200
    assert versioned.content == published
    assert versioned.headers["etag"] != current.headers["etag"]
    assert "-v1-2." in versioned.headers["content-disposition"]
    again = await client.get(path, params={"version": "v1.2"}, headers={"If-None-Match": versioned.headers["etag"]})
    assert again.status_code == 304


async def test_versions_are_valid_for_the_schedule_tools(client: Client, tokens: Tokens) -> None:
    await publish(client, tokens, {"name": "before"})
    await move(client, tokens)
    valid_xml((await client.get("/api/schedule.xml", params={"version": "before"})).content)
    valid_json((await client.get("/api/schedule.json", params={"version": "before"})).content)
    calendar((await client.get("/api/schedule.ics", params={"version": "before"})).content)


@pytest.mark.parametrize("path", EXPORTS)
async def test_an_unknown_version_is_404_naming_it(client: Client, path: str) -> None:
    answer = await client.get(path, params={"version": "v9"})
    assert answer.status_code == 404
    assert "'v9'" in answer.json()["detail"]


async def test_releases_are_listed_newest_first_and_named_by_default(client: Client, tokens: Tokens) -> None:
    assert (await client.get("/api/releases")).json() == []
    first = await publish(client, tokens)
    second = await publish(client, tokens)
    named = await publish(client, tokens, {"name": "final"})
    assert (first["name"], second["name"]) == ("v1", "v2")
    listed = (await client.get("/api/releases")).json()
    assert [item["name"] for item in listed] == [named["name"], "v2", "v1"]
    assert all(item["createdAt"] for item in listed)


async def test_a_release_is_never_replaced_and_names_are_checked(client: Client, tokens: Tokens) -> None:
    await publish(client, tokens, {"name": "v1"})
    taken = await client.post("/api/admin/releases", json={"name": "v1"}, headers=tokens.header("editor"))
    assert taken.status_code == 409
    bad = await client.post("/api/admin/releases", json={"name": "../etc"}, headers=tokens.header("editor"))
    assert bad.status_code == 400
    assert bad.json()["extra"][0]["key"] == "name"
    refused = await client.post("/api/admin/releases", json={}, headers=tokens.header("announcer"))
    assert refused.status_code == 403
    assert (await client.post("/api/admin/releases", json={})).status_code == 401


async def test_an_old_version_never_names_a_speaker_who_became_anonymous(client: Client, tokens: Tokens) -> None:
    speaker_id = await public_speaker(client, tokens)
    await publish(client, tokens, {"name": "named"})
    old = (await client.get("/api/schedule.xml", params={"version": "named"})).text
    assert PUBLIC["name"] in old
    await make_anonymous(client, tokens, speaker_id)
    for path in EXPORTS:
        text = (await client.get(path, params={"version": "named"})).text
        assert PUBLIC["name"] not in text, path
        assert str(PUBLIC["organisation"]) not in text, path


async def test_an_old_version_never_calls_a_session_recordable_that_no_longer_is(
    client: Client, tokens: Tokens
) -> None:
    await publish(client, tokens, {"name": "open"})
    answer = await client.patch(
        f"/api/admin/sessions/{SESSION}", json={"recording": "off-the-record"}, headers=tokens.header("editor")
    )
    assert answer.status_code == 200
    document = valid_json((await client.get("/api/schedule.json", params={"version": "open"})).content)
    events = [
        event for day in document["schedule"]["conference"]["days"] for room in day["rooms"].values() for event in room
    ]
    ours = [event for event in events if event["url"].endswith(f"/sessions/{SESSION}")]
    assert ours
    assert ours[0]["do_not_record"] is True


async def test_no_stored_release_keeps_the_former_name_of_a_speaker_who_became_anonymous(
    client: Client, tokens: Tokens
) -> None:
    speaker_id = await public_speaker(client, tokens)
    await publish(client, tokens, {"name": "before"})
    await make_anonymous(client, tokens, speaker_id)
    await publish(client, tokens, {"name": "after"})
    async with client.app.state.db.read() as conn, conn.execute("SELECT name, programme FROM releases") as cur:
        stored = {row[0]: row[1] for row in await cur.fetchall()}
    assert set(stored) == {"before", "after"}
    for name, text in stored.items():
        assert PUBLIC["name"] not in text, name
        assert str(PUBLIC["organisation"]) not in text, name
        assert PSEUDONYM in text, name
    assert (await client.get("/api/schedule.xml", params={"version": "before"})).status_code == 200
