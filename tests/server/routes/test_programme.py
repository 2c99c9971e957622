"""GET /api/event, /api/programme (ETag, 304, compression) and /api/changes."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import brotli
import msgspec

from server.app import create_app
from server.services.feed import FeedService
from server.settings import Settings
from tests.asgi import AppClient, app_client
from tests.conftest import Tokens

Client = AppClient


async def programme_json(client: Client) -> dict[str, Any]:
    response = await client.get("/api/programme")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_event_is_the_demo_conference(client: Client) -> None:
    response = await client.get("/api/event")
    assert response.status_code == 200
    event = response.json()
    assert event["timeZone"] == "Asia/Makassar"
    assert event["startDate"] == "2024-07-23"
    assert event["endDate"] == "2024-07-25"
    assert "id" in event["languages"]


async def test_event_missing_is_404_with_a_hint(empty_client: Client) -> None:
    response = await empty_client.get("/api/event")
    assert response.status_code == 404
    assert "import a programme" in response.json()["detail"]


async def test_programme_holds_the_whole_demo(client: Client) -> None:
    programme = await programme_json(client)
    assert set(programme) == {"cursor", "event", "rooms", "tracks", "formats", "speakers", "sessions", "announcements"}
    assert len(programme["sessions"]) >= 60
    assert len(programme["speakers"]) >= 30
    assert len(programme["rooms"]) == 8
    assert [t["name"] for t in programme["tracks"]] == [
        "Organisational Development & Capacity Building",
        "Collaboration & Networking",
        "Current Trends & Research",
        "Survivor Inclusion",
    ]
    starts = [datetime.fromisoformat(s["start"]) for s in programme["sessions"]]
    assert starts == sorted(starts)
    off_record = [s for s in programme["sessions"] if s["recording"] == "off-the-record"]
    anonymous = {s["id"] for s in programme["speakers"] if s["anonymous"]}
    assert any(set(s["speakerIds"]) & anonymous for s in off_record)
    assert any(s["translations"].get("id", {}).get("title") for s in programme["sessions"])


async def test_programme_etag_and_304(client: Client) -> None:
    first = await client.get("/api/programme")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert first.headers["cache-control"] == "no-cache"
    again = await client.get("/api/programme", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


async def test_304_also_for_the_etag_of_another_encoding(client: Client) -> None:
    gz = await client.get("/api/programme", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["etag"].endswith('-gzip"')
    plain = await client.get(
        "/api/programme", headers={"If-None-Match": gz.headers["etag"], "Accept-Encoding": "identity"}
    )
    assert plain.status_code == 304


async def test_programme_etag_changes_after_a_write(client: Client, tokens: Tokens) -> None:
    etag = (await client.get("/api/programme")).headers["etag"]
    room = (await client.get("/api/rooms")).json()[0]
    response = await client.patch(
        f"/api/admin/rooms/{room['id']}", json={"floor": "Level 9"}, headers=tokens.header("editor")
    )
    assert response.status_code == 200
    after = await client.get("/api/programme", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert any(r["floor"] == "Level 9" for r in after.json()["rooms"])


async def test_programme_compressed_with_gzip_and_brotli(client: Client) -> None:
    plain = await client.get("/api/programme", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    for encoding, decompress in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        response = await client.get("/api/programme", headers={"Accept-Encoding": encoding})
        assert response.headers["content-encoding"] == encoding
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.content == plain.content
        assert decompress(await _raw_body(client, encoding)) == plain.content


async def _raw_body(client: Client, encoding: str) -> bytes:
    """The body as sent on the wire, before the HTTP client decodes it."""
    async with client.stream("GET", "/api/programme", headers={"Accept-Encoding": encoding}) as response:
        return b"".join([chunk async for chunk in response.aiter_raw()])


async def test_brotli_preferred_when_both_are_accepted(client: Client) -> None:
    await client.get("/api/programme")
    await client.app.state.feed.settled()  # brotli is made after the first phones got gzip
    response = await client.get("/api/programme", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["content-encoding"] == "br"
    refused = await client.get("/api/programme", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["content-encoding"] == "gzip"


async def test_unchanged_programme_is_served_from_memory(client: Client) -> None:
    feed: FeedService = client.app.state.feed
    first = await feed.programme()
    await client.get("/api/programme")
    assert await feed.programme() is first


async def test_every_node_gives_the_programme_the_same_etag_and_bytes(
    client: Client, tokens: Tokens, settings: Settings, tmp_path: Path
) -> None:
    """Nodes behind one load balancer share the database, not their local folders: a cursor's ETag and bytes are
    made from the database alone, so a revalidation or a resumed download may reach any node."""
    # On PostgreSQL a second node, with its own folder; on SQLite a second worker of the same file. Its watcher does
    # not look during the test: it learns of the write below from the cursor a client brings.
    node = settings.db_path if settings.database_url is None else tmp_path / "node-b" / "kumpul.db"
    other_settings = msgspec.structs.replace(settings, db_path=node, change_poll_seconds=3600)
    async with app_client(create_app(other_settings)) as other:
        assert (await other.get("/api/programme")).status_code == 200  # it holds the programme before the write
        room = (await client.get("/api/rooms")).json()[0]
        response = await client.patch(
            f"/api/admin/rooms/{room['id']}", json={"floor": "Level 9"}, headers=tokens.header("editor")
        )
        assert response.status_code == 200
        current = (await client.get("/api/programme/at/current")).headers["location"]
        downloads = [await node_client.get(current) for node_client in (other, client)]
        assert [download.status_code for download in downloads] == [200, 200], "the cursor is not gone elsewhere"
        assert downloads[0].headers["etag"] == downloads[1].headers["etag"]
        assert downloads[0].content == downloads[1].content
        resumed = await other.get(current, headers={"Range": "bytes=100-", "If-Range": downloads[1].headers["etag"]})
        assert resumed.status_code == 206
        assert resumed.content == downloads[1].content[100:]
        gzip_only = {"Accept-Encoding": "gzip"}  # brotli comes later, on one node first: each encoding has its ETag
        here, there = [await node_client.get("/api/programme", headers=gzip_only) for node_client in (client, other)]
        assert here.headers["etag"] == there.headers["etag"]
        assert here.content == there.content
        assert current.endswith(here.json()["cursor"])
        revalidated = await other.get("/api/programme", headers={"If-None-Match": here.headers["etag"]})
        assert revalidated.status_code == 304


async def test_changes_after_create_update_and_delete(client: Client, tokens: Tokens) -> None:
    cursor = (await programme_json(client))["cursor"]
    room = (await client.get("/api/rooms")).json()[0]
    fmt = (await client.get("/api/formats")).json()[0]
    created = await client.post(
        "/api/admin/sessions",
        json={
            "title": "Late addition",
            "start": "2024-07-24T19:00:00+08:00",
            "end": "2024-07-24T20:00:00+08:00",
            "roomId": room["id"],
            "format": fmt["id"],
        },
        headers=tokens.header("editor"),
    )
    assert created.status_code == 201
    session_id = created.json()["id"]
    patched = await client.patch(
        f"/api/admin/sessions/{session_id}", json={"title": "Later addition"}, headers=tokens.header("editor")
    )
    assert patched.status_code == 200
    deleted = await client.delete(f"/api/admin/sessions/{session_id}", headers=tokens.header("editor"))
    assert deleted.status_code == 204

    page = (await client.get("/api/changes", params={"since": cursor})).json()
    assert page["more"] is False
    assert page["changes"] == [
        {"type": "session", "id": session_id, "seq": page["changes"][0]["seq"], "deleted": True, "data": None}
    ]
    assert page["cursor"] == (await programme_json(client))["cursor"]


async def test_changes_carry_the_full_entity_in_order(client: Client, tokens: Tokens) -> None:
    cursor = (await programme_json(client))["cursor"]
    sessions = (await client.get("/api/sessions")).json()
    for session in sessions[:3]:
        await client.patch(
            f"/api/admin/sessions/{session['id']}", json={"capacity": 42}, headers=tokens.header("editor")
        )
    changes = (await client.get("/api/changes", params={"since": cursor})).json()["changes"]
    assert [c["id"] for c in changes] == [s["id"] for s in sessions[:3]]
    assert [c["seq"] for c in changes] == sorted(c["seq"] for c in changes)
    assert all(c["data"]["capacity"] == 42 and c["data"]["title"] for c in changes)


async def test_changes_page_with_limit_and_more(client: Client, tokens: Tokens) -> None:
    cursor = (await programme_json(client))["cursor"]
    for room in (await client.get("/api/rooms")).json()[:3]:
        await client.patch(f"/api/admin/rooms/{room['id']}", json={"capacity": 7}, headers=tokens.header("editor"))
    first = (await client.get("/api/changes", params={"since": cursor, "limit": 2})).json()
    assert len(first["changes"]) == 2
    assert first["more"] is True
    second = (await client.get("/api/changes", params={"since": first["cursor"], "limit": 2})).json()
    assert len(second["changes"]) == 1
    assert second["more"] is False


async def test_no_changes_returns_same_cursor(client: Client) -> None:
    cursor = (await programme_json(client))["cursor"]
    page = (await client.get("/api/changes", params={"since": cursor})).json()
    assert page == {"changes": [], "cursor": cursor, "more": False}


async def test_stale_cursor_gets_410(client: Client, tokens: Tokens) -> None:
    cursor = (await programme_json(client))["cursor"]
    session = (await client.get("/api/sessions")).json()[0]
    await client.delete(f"/api/admin/sessions/{session['id']}", headers=tokens.header("editor"))
    feed: FeedService = client.app.state.feed
    feed.retention = timedelta(seconds=-1)  # every tombstone is now past retention
    assert await feed.purge_tombstones() == 1
    response = await client.get("/api/changes", params={"since": cursor})
    assert response.status_code == 410
    assert "fetch /api/programme again" in response.json()["detail"]
    fresh = (await programme_json(client))["cursor"]
    assert (await client.get("/api/changes", params={"since": fresh})).status_code == 200


async def test_cursor_of_another_database_gets_410(client: Client) -> None:
    cursor = (await programme_json(client))["cursor"]
    seq = cursor.split(".")[1]
    other = f"000000000000.{seq}"
    assert other != cursor
    assert (await client.get("/api/changes", params={"since": other})).status_code == 410


async def test_malformed_cursor_and_limit_get_400(client: Client) -> None:
    for since in ("", "yesterday", "abc.1", "0123456789ab.-1", "0123456789ab.01"):
        response = await client.get("/api/changes", params={"since": since})
        assert response.status_code == 400, since
        assert "cursor" in response.json()["detail"]
    assert (await client.get("/api/changes")).status_code == 400
    cursor = (await programme_json(client))["cursor"]
    for limit in ("0", "1001", "ten"):
        response = await client.get("/api/changes", params={"since": cursor, "limit": limit})
        assert response.status_code == 400
        assert "limit" in response.text


async def test_healthz(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_openapi_document_describes_the_api(client: Client) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    for path in ("/api/programme", "/api/changes", "/api/sessions/{session_id}", "/api/admin/sessions"):
        assert path in doc["paths"], path
    assert "Session" in doc["components"]["schemas"]
    assert "roomId" in doc["components"]["schemas"]["Session"]["properties"]
