"""The schedule exports are built once per programme cursor and revalidate cheaply: strong ETag, 304, types."""

from __future__ import annotations

import pytest

from server.services.exports import ExportService
from tests.asgi import AppClient
from tests.conftest import Tokens

Client = AppClient
EXPORTS = {
    "/api/schedule.ics": ("text/calendar; charset=utf-8", "arat-2024.ics"),
    "/api/schedule.xml": ("application/xml", "arat-2024.xml"),
    "/api/schedule.json": ("application/json", "arat-2024.json"),
}


@pytest.mark.parametrize("path", sorted(EXPORTS))
async def test_type_file_name_and_revalidation(client: Client, path: str) -> None:
    media_type, filename = EXPORTS[path]
    first = await client.get(path)
    assert first.status_code == 200
    assert first.headers["content-type"] == media_type
    assert first.headers["content-disposition"] == f'inline; filename="{filename}"'
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]
    assert etag.startswith('"'), "a strong ETag"

    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert (await client.get(path)).content == first.content


@pytest.mark.parametrize("path", sorted(EXPORTS))
async def test_an_edit_changes_the_etag(client: Client, tokens: Tokens, path: str) -> None:
    before = await client.get(path)
    response = await client.patch(
        "/api/admin/sessions/plenary-opening",
        json={"title": "Opening plenary (new title)"},
        headers=tokens.header("editor"),
    )
    assert response.status_code == 200
    stale = await client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200
    assert stale.headers["etag"] != before.headers["etag"]
    assert "Opening plenary (new title)" in stale.text


async def test_compressed_forms_carry_their_own_etag_and_revalidate(client: Client) -> None:
    plain = await client.get("/api/schedule.ics", headers={"Accept-Encoding": "identity"})
    zipped = await client.get("/api/schedule.ics", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    assert zipped.headers["vary"] == "Accept-Encoding"
    raw = await client.get("/api/schedule.ics", headers={"Accept-Encoding": "br"})
    assert raw.headers["content-encoding"] == "br"
    assert zipped.content == plain.content == raw.content  # httpx decodes both
    revalidated = await client.get(
        "/api/schedule.ics", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
    )
    assert revalidated.status_code == 304


async def test_each_format_is_rendered_once_per_cursor(client: Client, tokens: Tokens) -> None:
    exports: ExportService = client.app.state.exports
    first = await exports.schedule("ics", "http://testserver.local")
    assert await exports.schedule("ics", "http://testserver.local") is first
    await client.patch(
        "/api/admin/sessions/plenary-opening", json={"title": "Moved on"}, headers=tokens.header("editor")
    )
    assert await exports.schedule("ics", "http://testserver.local") is not first


async def test_session_links_follow_the_address_the_app_was_reached_at(client: Client) -> None:
    here = await client.get("/api/schedule.ics")
    there = await client.get("/api/schedule.ics", headers={"Host": "kumpul.example"})
    assert "http://testserver.local/sessions/" in here.text
    assert "http://kumpul.example/sessions/" in there.text.replace("\r\n ", "")
    assert here.headers["etag"] != there.headers["etag"]
