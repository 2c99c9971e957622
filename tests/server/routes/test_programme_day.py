"""GET /api/programme/at/{cursor}/today and /day/{date}: one day's part of the programme, shown on a first visit
while the whole downloads."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.asgi import AppClient
from tests.conftest import Tokens
from tests.server.test_anonymous_speakers import SESSION, leaks, make_anonymous, public_speaker

#: The demo conference runs 23 to 25 July 2024 in Asia/Makassar.
ZONE = ZoneInfo("Asia/Makassar")
SECOND_DAY = date(2024, 7, 24)


def set_clock(client: AppClient, moment: datetime) -> None:
    client.app.state.feed.clock = lambda: moment


def during(client: AppClient, day: date, hour: int = 10) -> None:
    """Move the server's clock to ``hour`` o'clock on ``day`` at the event."""
    set_clock(client, datetime(day.year, day.month, day.day, hour, tzinfo=ZONE))


async def whole(client: AppClient) -> dict[str, Any]:
    redirect = await client.get("/api/programme/at/current")
    document: dict[str, Any] = json.loads(gzip.decompress((await client.get(redirect.headers["location"])).content))
    return document


async def today_part(client: AppClient) -> tuple[str, bytes, dict[str, Any]]:
    """``current/today``: the day's immutable address it names, the gzip bytes and the document."""
    answer = await client.get("/api/programme/at/current/today")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/gzip"
    assert answer.headers["cache-control"] == "no-store", "today moves at midnight and with every edit"
    assert "content-encoding" not in answer.headers
    address = answer.headers["content-location"]
    immutable = await client.get(address)
    assert immutable.status_code == 200, immutable.text
    assert "immutable" in immutable.headers["cache-control"]
    assert immutable.content == answer.content, "the same bytes at the day's own address"
    return address, answer.content, json.loads(gzip.decompress(answer.content))


def starts_on(session: dict[str, Any], day: date) -> bool:
    return datetime.fromisoformat(session["start"]).astimezone(ZONE).date() == day


async def test_today_is_the_whole_programme_filtered_to_the_sessions_starting_today(client: AppClient) -> None:
    during(client, SECOND_DAY)
    address, _, part = await today_part(client)
    document = await whole(client)
    assert address == f"/api/programme/at/{document['cursor']}/day/2024-07-24"
    sessions = [session for session in document["sessions"] if starts_on(session, SECOND_DAY)]
    assert 0 < len(sessions) < len(document["sessions"])
    named = {speaker_id for session in sessions for speaker_id in session["speakerIds"]}
    assert named, "the demo's second day has speakers"
    expected = {
        **document,
        "sessions": sessions,
        "speakers": [speaker for speaker in document["speakers"] if speaker["id"] in named],
    }
    assert part == expected
    assert len(part["speakers"]) < len(document["speakers"]), "only the speakers the day's sessions name"
    assert all("guid" not in session and "capacity" not in session for session in part["sessions"])


async def test_today_follows_the_event_zone_not_utc(client: AppClient) -> None:
    # 23:30 UTC on the 23rd is already 07:30 on the 24th in Makassar (UTC+8).
    set_clock(client, datetime(2024, 7, 23, 23, 30, tzinfo=UTC))
    address, _, _ = await today_part(client)
    assert address.endswith("/day/2024-07-24")


async def test_a_named_cursor_answers_its_own_day(client: AppClient) -> None:
    during(client, date(2024, 7, 25))
    cursor = (await whole(client))["cursor"]
    answer = await client.get(f"/api/programme/at/{cursor}/today")
    assert answer.status_code == 200
    assert answer.headers["content-location"] == f"/api/programme/at/{cursor}/day/2024-07-25"


async def test_outside_the_event_today_is_404_with_a_clear_message(client: AppClient) -> None:
    during(client, date(2024, 7, 26))
    answer = await client.get("/api/programme/at/current/today")
    assert answer.status_code == 404
    assert "not one of the event's days" in answer.json()["detail"]
    cursor = (await whole(client))["cursor"]
    other = await client.get(f"/api/programme/at/{cursor}/day/2024-07-22")
    assert other.status_code == 404
    assert "2024-07-23 to 2024-07-25" in other.json()["detail"]
    bad = await client.get(f"/api/programme/at/{cursor}/day/24-07-2024")
    assert bad.status_code == 400
    assert "day" in bad.json()["detail"]


async def test_no_event_means_no_day(empty_client: AppClient) -> None:
    answer = await empty_client.get("/api/programme/at/current/today")
    assert answer.status_code == 404
    assert "no event" in answer.json()["detail"]


async def test_an_unknown_cursor_is_410_and_a_bad_one_400(client: AppClient) -> None:
    during(client, SECOND_DAY)
    cursor = (await whole(client))["cursor"]
    epoch = cursor.split(".")[0]
    for address in (f"/api/programme/at/{epoch}.0/day/2024-07-24", f"/api/programme/at/{epoch}.0/today"):
        gone = await client.get(address)
        assert gone.status_code == 410
        assert "/api/programme/at/current/today" in gone.json()["detail"]
    assert (await client.get("/api/programme/at/not-a-cursor/day/2024-07-24")).status_code == 400


async def test_the_day_resumes_with_range_like_the_whole(client: AppClient) -> None:
    during(client, SECOND_DAY)
    address, body, _ = await today_part(client)
    etag = (await client.get(address)).headers["etag"]
    rest = await client.get(address, headers={"Range": "bytes=100-", "If-Range": etag})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes 100-{len(body) - 1}/{len(body)}"
    assert body[:100] + rest.content == body
    assert (await client.get(address, headers={"Range": f"bytes={len(body)}-"})).status_code == 416
    assert (await client.get(address, headers={"If-None-Match": etag})).status_code == 304


async def test_an_anonymous_speaker_stays_anonymous_in_the_day(client: AppClient, tokens: Tokens) -> None:
    speaker_id = await public_speaker(client, tokens)
    session = (await client.get(f"/api/sessions/{SESSION}")).json()
    day = datetime.fromisoformat(session["start"]).astimezone(ZONE).date()
    during(client, day)
    old_address, old_body, part = await today_part(client)
    assert speaker_id in {speaker["id"] for speaker in part["speakers"]}
    assert "quenzaleth" in leaks(gzip.decompress(old_body).decode())
    await make_anonymous(client, tokens, speaker_id)
    _, body, part = await today_part(client)
    assert leaks(gzip.decompress(body).decode()) == []
    speaker = next(speaker for speaker in part["speakers"] if speaker["id"] == speaker_id)
    assert speaker["anonymous"] is True
    old = await client.get(old_address)
    assert old.status_code == 410, "the day cut from older bytes that name them is not served either"
    assert leaks(old.text) == []


async def test_the_day_is_cut_once_per_cursor_not_per_request(client: AppClient) -> None:
    during(client, SECOND_DAY)
    address, body, _ = await today_part(client)
    started = time.perf_counter()
    for _ in range(50):
        assert (await client.get(address)).content == body
    per_request = (time.perf_counter() - started) / 50
    feed = client.app.state.feed
    assert list(feed._day_parts) == [((await whole(client))["cursor"], SECOND_DAY)]
    assert per_request < 0.05, f"{per_request * 1000:.1f} ms a request: the day is not kept"
