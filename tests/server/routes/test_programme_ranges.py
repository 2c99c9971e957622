"""GET /api/programme/at/{cursor}: the programme's immutable gzip bytes, resumable with Range and If-Range."""

from __future__ import annotations

import gzip
import json

from tests.asgi import AppClient
from tests.conftest import Tokens


async def _current(client: AppClient) -> tuple[str, bytes, str]:
    """The current cursor's address, its whole gzip body and its ETag."""
    redirect = await client.get("/api/programme/at/current")
    assert redirect.status_code == 307
    assert redirect.headers["cache-control"] == "no-store"
    address = redirect.headers["location"]
    whole = await client.get(address)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "application/gzip"
    assert whole.headers["accept-ranges"] == "bytes"
    assert "immutable" in whole.headers["cache-control"]
    assert "content-encoding" not in whole.headers, "the gzip bytes are the resource, not a transfer encoding"
    return address, whole.content, whole.headers["etag"]


async def test_the_bytes_are_the_programme_document_without_what_the_app_never_reads(client: AppClient) -> None:
    address, body, _ = await _current(client)
    document = json.loads(gzip.decompress(body))
    plain = (await client.get("/api/programme")).json()
    assert any("guid" in session and "capacity" in session for session in plain["sessions"])
    for session in plain["sessions"]:
        for field in ("guid", "tags", "capacity"):
            session.pop(field, None)
    assert document == plain
    assert address.endswith(plain["cursor"])


async def test_an_interrupted_download_resumes_where_it_stopped(client: AppClient) -> None:
    address, whole, etag = await _current(client)
    received = whole[:1000]  # the connection dropped after 1,000 bytes
    rest = await client.get(address, headers={"Range": f"bytes={len(received)}-", "If-Range": etag})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes 1000-{len(whole) - 1}/{len(whole)}"
    assert received + rest.content == whole
    middle = await client.get(address, headers={"Range": "bytes=10-19"})
    assert middle.status_code == 206
    assert middle.content == whole[10:20]
    tail = await client.get(address, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206
    assert tail.content == whole[-5:]
    past_end = await client.get(address, headers={"Range": f"bytes=0-{len(whole) + 100}"})
    assert past_end.status_code == 206
    assert past_end.content == whole


async def test_a_range_past_the_end_is_416_with_the_length(client: AppClient) -> None:
    address, whole, _ = await _current(client)
    answer = await client.get(address, headers={"Range": f"bytes={len(whole)}-"})
    assert answer.status_code == 416
    assert answer.headers["content-range"] == f"bytes */{len(whole)}"
    assert "past the end" in answer.json()["detail"]


async def test_if_range_with_another_etag_gets_the_whole_body(client: AppClient) -> None:
    address, whole, _ = await _current(client)
    answer = await client.get(address, headers={"Range": "bytes=100-", "If-Range": '"p1-something-else"'})
    assert answer.status_code == 200
    assert answer.content == whole
    several = await client.get(address, headers={"Range": "bytes=0-1,5-9"})
    assert several.status_code == 200
    assert several.content == whole, "several ranges: the whole body"
    revalidated = await client.get(address, headers={"If-None-Match": (await client.get(address)).headers["etag"]})
    assert revalidated.status_code == 304


async def test_an_old_cursor_stays_resumable_after_an_edit_and_a_bad_one_is_refused(
    client: AppClient, tokens: Tokens
) -> None:
    address, whole, etag = await _current(client)
    rooms = (await client.get("/api/rooms")).json()
    edited = await client.patch(
        f"/api/admin/rooms/{rooms[0]['id']}", json={"capacity": 9}, headers=tokens.header("editor")
    )
    assert edited.status_code == 200
    newer, _, _ = await _current(client)
    assert newer != address
    rest = await client.get(address, headers={"Range": "bytes=500-", "If-Range": etag})
    assert rest.status_code == 206
    assert rest.content == whole[500:], "the old cursor's bytes never change"
    assert (await client.get("/api/programme/at/not-a-cursor")).status_code == 400
    epoch = address.rsplit("/", 1)[1].split(".")[0]
    gone = await client.get(f"/api/programme/at/{epoch}.0")
    assert gone.status_code == 410
    assert "/api/programme/at/current" in gone.json()["detail"]


async def test_an_older_cursor_that_names_a_now_anonymous_speaker_is_not_served(
    client: AppClient, tokens: Tokens
) -> None:
    address, whole, etag = await _current(client)
    speaker = (await client.get("/api/speakers")).json()[0]
    assert speaker["name"].encode() in gzip.decompress(whole)
    anonymised = await client.patch(
        f"/api/admin/speakers/{speaker['id']}",
        json={"anonymous": True, "name": "A Pseudonym", "organisation": "", "role": "", "country": "", "links": []},
        headers=tokens.header("editor"),
    )
    assert anonymised.status_code == 200, anonymised.text
    for headers in ({}, {"Range": "bytes=100-", "If-Range": etag}):
        old = await client.get(address, headers=headers)
        assert old.status_code == 410, "the old bytes still name the speaker"
        assert speaker["name"] not in old.text
    _, now, _ = await _current(client)
    assert speaker["name"].encode() not in gzip.decompress(now)
    kept = client.app.state.feed.encoded.directory
    named = [path.name for path in kept.glob("*.json") if speaker["name"].encode() in path.read_bytes()]
    assert named == [], "no copy on the disk names them either"
