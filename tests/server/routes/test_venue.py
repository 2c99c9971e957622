"""The venue: info pages and floor plans written by organisers, read by anyone; uploads checked by content;
open apps told when the pages change."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from PIL import Image

from server.app import create_app
from server.services.auth import Role
from server.services.venue import MAX_PLAN_BYTES
from server.settings import Settings
from tests.asgi import AppClient, app_client
from tests.conftest import Tokens
from tests.server.routes.test_room_status import Listening, events
from tests.server.services.test_live import another_node

Client = AppClient


def png(size: tuple[int, int] = (2400, 1600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#ffffff").save(out, format="PNG")
    return out.getvalue()


async def upload(client: Client, tokens: Tokens, body: bytes, floor: str = "Ground floor", role: str = "editor") -> Any:
    return await client.post(
        "/api/admin/floor-plans", params={"floor": floor}, content=body, headers=tokens.header(role)
    )


async def test_info_pages_are_written_by_editors_and_read_by_anyone(client: Client, tokens: Tokens) -> None:
    page = {
        "slug": "emergency",
        "title": "Emergency numbers",
        "body": "112 from any phone.",
        "position": 2,
        "translations": {"id": {"title": "Nomor darurat", "body": "112 dari telepon apa pun."}},
    }
    created = await client.post("/api/admin/info-pages", json=page, headers=tokens.header("editor"))
    assert created.status_code == 201
    page_id = created.json()["id"]
    await client.post(
        "/api/admin/info-pages", json={"slug": "wifi", "title": "Wifi", "position": 1}, headers=tokens.header("editor")
    )
    listed = (await client.get("/api/info-pages")).json()
    assert [p["slug"] for p in listed] == ["wifi", "emergency"]
    assert listed[1]["translations"]["id"]["title"] == "Nomor darurat"
    taken = await client.patch(
        f"/api/admin/info-pages/{page_id}", json={"slug": "wifi"}, headers=tokens.header("editor")
    )
    assert taken.status_code == 409
    assert "wifi" in taken.json()["detail"]
    changed = await client.patch(
        f"/api/admin/info-pages/{page_id}", json={"body": "Call 112."}, headers=tokens.header("admin")
    )
    assert changed.json()["body"] == "Call 112."
    assert changed.json()["title"] == "Emergency numbers"
    refused = await client.post("/api/admin/info-pages", json=page | {"slug": "x2"}, headers=tokens.header("announcer"))
    assert refused.status_code == 403
    bad = await client.post(
        "/api/admin/info-pages", json={"slug": "Not A Slug", "title": "x"}, headers=tokens.header("editor")
    )
    assert bad.status_code == 400
    assert "slug" in bad.text
    assert (await client.delete(f"/api/admin/info-pages/{page_id}", headers=tokens.header("editor"))).status_code == 204
    assert [p["slug"] for p in (await client.get("/api/info-pages")).json()] == ["wifi"]


async def test_a_floor_plan_is_stored_with_a_copy_for_phones_and_rooms_pinned_on_it(
    client: Client, tokens: Tokens
) -> None:
    response = await upload(client, tokens, png())
    assert response.status_code == 201, response.text
    plan = response.json()
    assert (plan["width"], plan["height"]) == (2400, 1600)
    assert (plan["smallWidth"], plan["smallHeight"]) == (1200, 800)
    small = await client.get(plan["smallUrl"])
    assert small.headers["content-type"] == "image/webp"
    assert "immutable" in small.headers["cache-control"]
    assert Image.open(io.BytesIO(small.content)).size == (1200, 800)
    full = await client.get(plan["url"])
    assert full.headers["content-type"] == "image/png"
    pinned = await client.put(
        f"/api/admin/floor-plans/{plan['id']}/pins/room-hall-a",
        json={"x": 0.25, "y": 0.5},
        headers=tokens.header("editor"),
    )
    assert pinned.status_code == 200
    venue = (await client.get("/api/venue")).json()
    assert venue["pins"] == [{"roomId": "room-hall-a", "planId": plan["id"], "x": 0.25, "y": 0.5}]
    # the same floor again replaces the image and keeps the pins; the addresses change
    again = (await upload(client, tokens, png((800, 600)))).json()
    assert again["id"] == plan["id"]
    assert again["version"] == plan["version"] + 1
    assert again["smallUrl"] != plan["smallUrl"]
    assert (await client.get("/api/venue")).json()["pins"][0]["roomId"] == "room-hall-a"
    outside = await client.put(
        f"/api/admin/floor-plans/{plan['id']}/pins/room-hall-a",
        json={"x": 1.5, "y": 0.5},
        headers=tokens.header("editor"),
    )
    assert outside.status_code == 400
    assert "x" in outside.text
    nowhere = await client.put(
        f"/api/admin/floor-plans/{plan['id']}/pins/no-such-room",
        json={"x": 0.5, "y": 0.5},
        headers=tokens.header("editor"),
    )
    assert nowhere.status_code == 404
    assert (
        await client.delete(f"/api/admin/floor-plans/{plan['id']}", headers=tokens.header("editor"))
    ).status_code == 204
    assert (await client.get("/api/venue")).json() == {"plans": [], "pins": []}


async def test_svg_is_refused_with_415_even_when_called_png(client: Client, tokens: Tokens) -> None:
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = await upload(client, tokens, svg)
    assert response.status_code == 415
    assert "SVG" in response.json()["detail"]
    assert (await client.get("/api/venue")).json()["plans"] == []


async def test_a_file_that_is_not_an_image_is_refused_with_415(client: Client, tokens: Tokens) -> None:
    response = await upload(client, tokens, b"%PDF-1.7\n" + b"x" * 1000)
    assert response.status_code == 415
    assert "PNG, JPEG or WebP" in response.json()["detail"]
    truncated = await upload(client, tokens, png()[:200])
    assert truncated.status_code == 415


async def test_a_plan_over_the_size_limits_is_refused_with_413(client: Client, tokens: Tokens) -> None:
    response = await upload(client, tokens, b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_PLAN_BYTES)
    assert response.status_code == 413
    assert "5120 KB" in response.json()["detail"]
    huge = await upload(client, tokens, png((8000, 6000)))
    assert huge.status_code == 413
    assert "million pixels" in huge.json()["detail"]
    assert (await client.get("/api/venue")).json()["plans"] == []


async def test_uploads_need_the_programme_permission(client: Client, tokens: Tokens) -> None:
    assert (await upload(client, tokens, png((10, 10)), role="announcer")).status_code == 403
    assert (
        await client.post("/api/admin/floor-plans", params={"floor": "x"}, content=png((10, 10)))
    ).status_code == 401


class InfoListening(Listening):
    async def info(self, count: int) -> None:
        """Wait until the stream carried ``count`` ``info`` events (a guard of 10 s against a hang)."""
        async with asyncio.timeout(10):
            while len(events(self.body, "info")) < count:
                self.grew.clear()
                await self.grew.wait()


async def test_open_apps_are_told_when_the_info_pages_change(client: Client, tokens: Tokens) -> None:
    stream = InfoListening(client.app, "203.0.113.9")
    await stream.until(bool)
    created = await client.post(
        "/api/admin/info-pages", json={"slug": "wifi", "title": "Wifi"}, headers=tokens.header("editor")
    )
    await stream.info(1)
    await client.patch(
        f"/api/admin/info-pages/{created.json()['id']}", json={"body": "ARAT"}, headers=tokens.header("editor")
    )
    await stream.info(2)
    await client.delete(f"/api/admin/info-pages/{created.json()['id']}", headers=tokens.header("editor"))
    await stream.info(3)
    await stream.leave()
    assert events(stream.body, "info") == ["{}"] * 3
    assert "event: info\nid:" not in stream.body.decode().replace("\r\n", "\n"), "it moves no programme cursor"


async def test_a_page_written_in_another_process_reaches_this_ones_streams(settings: Settings, tmp_path: Path) -> None:
    """Two apps on one database stand for two workers (or two nodes): a page one writes makes the other's apps read
    again."""
    async with (
        app_client(create_app(settings)) as first,
        app_client(create_app(another_node(settings, tmp_path))) as second,
    ):
        _, token = await first.app.state.auth.add_organiser("Editor", Role.EDITOR)
        stream = InfoListening(second.app, "203.0.113.10")
        await stream.until(bool)
        response = await first.post(
            "/api/admin/info-pages",
            json={"slug": "wifi", "title": "Wifi"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201
        await stream.info(1)
        assert [page["slug"] for page in (await second.get("/api/info-pages")).json()] == ["wifi"]
        await stream.leave()


def photo_with_location() -> bytes:
    """A JPEG as a phone takes it: EXIF with where it was taken and by which device, and a comment."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = 6  # Orientation: the picture is to be turned a quarter
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (8.0, 39.0, 0.0), "E", (115.0, 13.0, 0.0)  # a shelter's whereabouts
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "#ffffff").save(out, format="JPEG", exif=exif, comment=b"Shelter B, back entrance")
    return out.getvalue()


async def test_a_plan_photographed_with_a_phone_is_served_without_where_and_by_what_it_was_taken(
    client: Client, tokens: Tokens
) -> None:
    body = photo_with_location()
    assert b"PhoneMaker" in body
    assert b"Shelter B" in body
    plan = (await upload(client, tokens, body)).json()
    # The orientation the phone recorded is applied to the pixels, since the tag that said so is gone.
    assert (plan["width"], plan["height"]) == (480, 640)
    for url in (plan["url"], plan["smallUrl"]):
        served = (await client.get(url)).content
        for written in (b"PhoneMaker", b"Model X", b"Shelter B"):
            assert written not in served, url
        image = Image.open(io.BytesIO(served))
        assert not image.getexif(), url
        assert image.size == (480, 640), url
    assert (await client.get(plan["url"])).headers["content-type"] == "image/jpeg"


async def test_the_history_says_who_changed_the_info_pages_and_floor_plans(client: Client, tokens: Tokens) -> None:
    editor = tokens.header("editor")
    page = await client.post(
        "/api/admin/info-pages", json={"slug": "safeguarding", "title": "Safeguarding contact"}, headers=editor
    )
    page_id = page.json()["id"]
    await client.patch(f"/api/admin/info-pages/{page_id}", json={"body": "Ask for Ayu at the desk."}, headers=editor)
    plan = (await upload(client, tokens, png((400, 300)), floor="Level 2")).json()
    await client.delete(f"/api/admin/floor-plans/{plan['id']}", headers=editor)
    await client.delete(f"/api/admin/info-pages/{page_id}", headers=editor)
    history = (await client.get("/api/admin/history", params={"limit": "10"}, headers=tokens.header("admin"))).json()
    lines = [(entry["action"], entry["kind"], entry["summary"]) for entry in history]
    assert lines[:5] == [
        ("deleted", "info page", "Safeguarding contact"),
        ("deleted", "floor plan", "Level 2"),
        ("updated", "floor plan", "Level 2"),
        ("updated", "info page", "Safeguarding contact"),
        ("created", "info page", "Safeguarding contact"),
    ]
    assert {entry["actor"] for entry in history[:5]} == {"editor organiser"}
